"""Usage calls with an Idempotency-Key: the Python client (0.2.0+) sends one with every use, so the
estimate prices POST /usage as worker/operations.json's keyed entries (one D1 batch of four
statements), stores each key's row in usage_keys until the cron deletes it, and counts that delete."""

import sqlite3
import uuid

import pytest
from cost_cases import DAY_S, daily, meter, settings_with, small_app

from infra import paths
from infra.cost import estimate as cost
from infra.cost import operations

CALLS = 1_000 * 3  # small_app(3): 1,000 users, 3 usage calls each a day
PAID = {**small_app(3), "workersPlan": "paid"}


def test_by_default_a_usage_call_costs_the_keyed_batch_and_its_keys_cleanup(table):
    keyed = table["usage_post_allowed_keyed"]
    plain = table["usage_post_allowed"]
    assert keyed["d1_rows_written"] > plain["d1_rows_written"]  # the key's row, its index entry, its answer
    default = cost.estimate(settings_with(PAID), table)
    unkeyed = cost.estimate(settings_with({**PAID, "keyedUsageShare": 0}), table)
    per_key = table[operations.PER_DELETED_ROW]
    for kind in ("d1_rows_read", "d1_rows_written"):
        # Each call: the keyed batch instead of the single upsert (hit or miss alike), and the
        # cron's delete of its key a day later.
        expected = CALLS * (keyed[kind] - plain[kind] + per_key[kind])
        assert daily(default, kind) - daily(unkeyed, kind) == pytest.approx(expected), kind
    queries = CALLS * (keyed["d1_queries"] - plain["d1_queries"])  # the cron's one DELETE takes them all
    assert default.d1_queries_daily - unkeyed.d1_queries_daily == pytest.approx(queries)
    assert default.requests["usage_post_allowed_keyed"] == pytest.approx(CALLS * 0.99)
    assert default.requests["usage_post_allowed_keyed_cache_miss"] == pytest.approx(CALLS * 0.01)
    assert default.requests["usage_post_allowed"] == 0


def test_a_refused_keyed_call_costs_the_keyed_refusal(table):
    denied = {**PAID, "usageDeniedShare": 1}
    keyed = cost.estimate(settings_with(denied), table)
    unkeyed = cost.estimate(settings_with({**denied, "keyedUsageShare": 0}), table)
    per_key = table[operations.PER_DELETED_ROW]["d1_rows_written"]
    expected = CALLS * (
        table["usage_post_denied_keyed"]["d1_rows_written"] - table["usage_post_denied"]["d1_rows_written"] + per_key
    )
    assert daily(keyed, "d1_rows_written") - daily(unkeyed, "d1_rows_written") == pytest.approx(expected)


def test_keys_take_d1_space_for_their_window_and_until_the_next_cleanup(table):
    def d1_bytes(**raw):
        return meter(cost.estimate(settings_with(PAID, **raw), table), "d1_storage_bytes").bytes

    # A key lives idempotencyWindowSeconds, then until the daily cron's next run deletes it.
    week = d1_bytes(idempotencyWindowSeconds=7 * DAY_S)
    day = d1_bytes(idempotencyWindowSeconds=DAY_S)
    assert week - day == pytest.approx(CALLS * 6 * cost.KEY_ROW_BYTES)
    # With a cleanup every hour a key outlives its window by an hour, not a day.
    hourly = d1_bytes(idempotencyWindowSeconds=DAY_S, cron="0 * * * *")
    assert day - hourly == pytest.approx(CALLS * (23 / 24) * cost.KEY_ROW_BYTES)
    unkeyed = meter(cost.estimate(settings_with({**PAID, "keyedUsageShare": 0}), table), "d1_storage_bytes").bytes
    assert day - unkeyed == pytest.approx(CALLS * 2 * cost.KEY_ROW_BYTES)


def test_the_guides_kv_counter_knows_no_keys(table):
    """The seed guide's KV counter is the design without keys: keyed or not, a call costs the same."""
    keyed, unkeyed = (
        cost.estimate(settings_with({**PAID, "keyedUsageShare": share}), table, usage_store="kv-counter")
        for share in (1, 0)
    )
    for quantity in keyed.meters:
        assert quantity.daily == pytest.approx(daily(unkeyed, quantity.key)), quantity.key
    assert meter(keyed, "d1_storage_bytes").bytes == meter(unkeyed, "d1_storage_bytes").bytes


def test_on_free_the_keyed_hits_turn_into_keyed_misses_once_kv_writes_run_out(table):
    """Out of KV writes the Worker caches nothing: a keyed call's lookup reads D1 as a miss does."""
    busy = {"activeUsers": 10_000, "subscriptionChecksPerUserPerDay": 10, "usageCallsPerUserPerDay": 10}
    result = cost.estimate(settings_with(busy), table)
    fallback = result.kv_fallback
    assert fallback is not None
    hits = result.requests["usage_post_allowed_keyed"] + result.requests["subscription_get_hit"]
    miss_adds = table["subscription_get_miss"]["d1_rows_read"] - table["subscription_get_hit"]["d1_rows_read"]
    served = fallback.after_s / DAY_S
    assert fallback.extra["d1_rows_read"] == pytest.approx((1 - served) * hits * miss_adds)


def key_row_bytes_in_sqlite(rows: int = 2_000) -> float:
    """Bytes one Idempotency-Key adds to the database: the real migrations applied in SQLite (D1's
    engine), then rows as the Worker writes them (a UUID key and owner, `client:user` fingerprint)."""
    db = sqlite3.connect(":memory:")
    for migration in sorted(paths.ROOT.joinpath("worker", "migrations").glob("*.sql")):
        db.executescript(migration.read_text())

    def used() -> int:
        pages, free = (db.execute(f"PRAGMA {name}").fetchone()[0] for name in ("page_count", "freelist_count"))
        return int((pages - free) * db.execute("PRAGMA page_size").fetchone()[0])

    before = used()
    db.executemany(
        "INSERT INTO usage_keys (key, fingerprint, owner, created_at, window_start, used_before, used, "
        "limit_value, tier, effective_tier) VALUES (?, ?, ?, 1765000000, 1764979200, 41, 42, 1000, 'pro', 'pro')",
        [(str(uuid.uuid4()), f"python-client:user-{n:08d}", str(uuid.uuid4())) for n in range(rows)],
    )
    db.commit()
    return (used() - before) / rows


def test_the_key_row_size_the_estimate_assumes_is_measured_on_the_real_schema():
    measured = key_row_bytes_in_sqlite()
    assert measured <= cost.KEY_ROW_BYTES <= 1.25 * measured, measured
