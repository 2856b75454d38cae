"""worker/operations.json against what the Worker really does on workerd.

Each outcome in the table is driven by a real request, with the routine log lines turned off
(ROUTINE_LOG_SAMPLE_RATE 0, set per request by `worker_env`). Its Analytics Engine data point (recorded by
tests/e2e/recording_worker.js) reports the KV and D1 operations it performed (counting
wrappers, D1's own rows_read/rows_written), its route, cache result, status and client, and
must equal the table; its log line must be there exactly when the table says `log: always`,
and report the same operations. The cost estimator (infra/cost/) reads the same table.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable

import pytest
from local_worker import BURST_LIMIT, CLIENT_LIMIT_SMALL, SMALL_TIER, RunningWorker, worker_env

from infra import paths, platform
from infra.worker_contract import METRICS_DATA_POINT

pytestmark = pytest.mark.e2e

TABLE_PATH = paths.OPERATIONS_TABLE
TABLE = json.loads(TABLE_PATH.read_text())["routes"]
COUNTS = ("kv_reads", "kv_writes", "kv_deletes", "kv_lists", "d1_queries", "d1_rows_read", "d1_rows_written")
REQUIRED = {
    "health", "subscription_get_hit", "subscription_get_miss", "subscription_get_not_found",
    "subscription_get_negative_hit", "subscription_put", "tiers_get", "usage_post_allowed",
    "usage_post_denied", "scheduled_cleanup", "entitlements_get_hit", "entitlements_get_miss",
    "entitlements_get_not_found", "entitlements_get_negative_hit", "forbidden",
}  # fmt: skip


def subscribe(worker: RunningWorker, user_id: str, tier: str = "pro") -> None:
    assert worker.put(f"/subscriptions/{user_id}", {"tier": tier}).status_code in (200, 201)


def cached(worker: RunningWorker, user_id: str, tier: str = "pro") -> None:
    subscribe(worker, user_id, tier)
    assert worker.get(f"/subscriptions/{user_id}").headers["X-Cache"] == "MISS"


def lapse(worker: RunningWorker, user_id: str, status: str = "canceled") -> None:
    """A subscription that exists in D1 but no longer entitles: canceled (or past_due)."""
    assert worker.put(f"/subscriptions/{user_id}", {"tier": "pro", "status": status}).status_code in (200, 201)


def counted_elsewhere(worker: RunningWorker, user_id: str) -> None:
    """A use counted today by another isolate (written straight into D1): this one has no count in memory."""
    window = int(time.time()) // worker.settings.usage_window_seconds * worker.settings.usage_window_seconds
    worker.d1(f"INSERT INTO usage (window_start, user_id, count) VALUES ({window}, '{user_id}', 1)")


def exhaust(worker: RunningWorker, user_id: str) -> None:
    for _ in range(SMALL_TIER["dailyRequestLimit"]):
        assert worker.post(f"/usage/{user_id}").status_code == 200


def over_client_limit(worker: RunningWorker, user_id: str) -> object:
    """Requests as `tester` until the client limiter refuses one (a window that turns over
    mid-way starts the count again: at most two windows' worth)."""
    for _ in range(2 * CLIENT_LIMIT_SMALL + 2):
        response = worker.get(f"/subscriptions/{user_id}")
        if response.status_code == 429:
            return response
    raise AssertionError(f"no 429 after {2 * CLIENT_LIMIT_SMALL + 2} requests at a limit of {CLIENT_LIMIT_SMALL}")


def keyed_use(worker: RunningWorker, user_id: str, key: str | None = None) -> object:
    """POST /usage with an Idempotency-Key (a new one unless given), as the Python client sends it."""
    return worker.post(f"/usage/{user_id}", headers={"Idempotency-Key": key or str(uuid.uuid4())})


def replayed(worker: RunningWorker, user_id: str) -> object:
    key = str(uuid.uuid4())
    keyed_use(worker, user_id, key)
    return keyed_use(worker, user_id, key)


# Outcomes measured on the Worker with a small client limit (the `limited_worker` fixture).
ON_LIMITED_WORKER = {"client_rate_limited"}

# outcome -> what leads to it: the last request made is the one measured.
DRIVERS: dict[str, Callable[[RunningWorker, str], object]] = {
    "health": lambda w, u: w.get("/health", token=None),
    "unauthorized": lambda w, u: w.get("/tiers", token="wrong"),
    "not_found": lambda w, u: w.get("/nowhere"),
    "method_not_allowed": lambda w, u: w.request("DELETE", "/tiers"),
    "client_rate_limited": over_client_limit,
    "invalid_request": lambda w, u: w.get("/subscriptions/a:b"),
    "forbidden": lambda w, u: w.put(f"/subscriptions/{u}", {"tier": "pro"}, token=w.local_tokens["read"]),
    "tiers_get": lambda w, u: w.get("/tiers"),
    "tiers_not_modified": lambda w, u: w.get("/tiers", headers={"If-None-Match": w.get("/tiers").headers["ETag"]}),
    "subscription_get_miss": lambda w, u: (subscribe(w, u), w.get(f"/subscriptions/{u}"))[-1],
    "subscription_get_hit": lambda w, u: (cached(w, u), w.get(f"/subscriptions/{u}"))[-1],
    "subscription_get_not_found": lambda w, u: w.get(f"/subscriptions/{u}"),
    "subscription_get_negative_hit": lambda w, u: (w.get(f"/subscriptions/{u}"), w.get(f"/subscriptions/{u}"))[-1],
    "subscription_put": lambda w, u: (subscribe(w, u), w.put(f"/subscriptions/{u}", {"tier": "premium"}))[-1],
    "subscription_put_new": lambda w, u: w.put(f"/subscriptions/{u}", {"tier": "pro"}),
    "subscription_put_conditional": lambda w, u: w.put(
        f"/subscriptions/{u}",
        {"tier": "premium"},
        headers={"If-Match": w.put(f"/subscriptions/{u}", {"tier": "pro"}).headers["ETag"]},
    ),
    "subscription_put_new_conditional": lambda w, u: w.put(
        f"/subscriptions/{u}", {"tier": "pro"}, headers={"If-None-Match": "*"}
    ),
    "subscription_put_precondition_failed": lambda w, u: (
        subscribe(w, u),
        w.put(f"/subscriptions/{u}", {"tier": "premium"}, headers={"If-None-Match": "*"}),
    )[-1],
    "subscription_put_unknown_tier": lambda w, u: w.put(f"/subscriptions/{u}", {"tier": "gold"}),
    # The isolate counted the use itself: the count comes from its memory.
    "entitlements_get_hit": lambda w, u: (cached(w, u), w.post(f"/usage/{u}"), w.get(f"/entitlements/{u}"))[-1],
    "entitlements_get_hit_count_read": lambda w, u: (
        cached(w, u),
        counted_elsewhere(w, u),
        w.get(f"/entitlements/{u}"),
    )[-1],
    "entitlements_get_miss": lambda w, u: (
        subscribe(w, u),
        w.post(f"/usage/{u}"),
        subscribe(w, u),
        w.get(f"/entitlements/{u}"),
    )[-1],
    "entitlements_get_miss_count_read": lambda w, u: (
        subscribe(w, u),
        counted_elsewhere(w, u),
        w.get(f"/entitlements/{u}"),
    )[-1],
    "entitlements_get_not_found": lambda w, u: w.get(f"/entitlements/{u}"),
    "entitlements_get_not_found_lapsed": lambda w, u: (lapse(w, u), w.get(f"/entitlements/{u}"))[-1],
    "entitlements_get_negative_hit": lambda w, u: (w.get(f"/entitlements/{u}"), w.get(f"/entitlements/{u}"))[-1],
    "usage_post_allowed": lambda w, u: (cached(w, u), w.post(f"/usage/{u}"), w.post(f"/usage/{u}"))[-1],
    "usage_post_allowed_cache_miss": lambda w, u: (subscribe(w, u), w.post(f"/usage/{u}"))[-1],
    "usage_post_denied": lambda w, u: (cached(w, u, "starter"), exhaust(w, u), w.post(f"/usage/{u}"))[-1],
    "usage_post_denied_cache_miss": lambda w, u: (
        cached(w, u, "starter"),
        exhaust(w, u),
        subscribe(w, u, "starter"),
        w.post(f"/usage/{u}"),
    )[-1],
    # With an Idempotency-Key: the count and its stored answer in one D1 batch; a replay reads it.
    "usage_post_allowed_keyed": lambda w, u: (cached(w, u), keyed_use(w, u), keyed_use(w, u))[-1],
    "usage_post_allowed_replayed": lambda w, u: (cached(w, u), replayed(w, u))[-1],
    "usage_post_denied_keyed": lambda w, u: (cached(w, u, "starter"), exhaust(w, u), keyed_use(w, u))[-1],
    "usage_post_denied_replayed": lambda w, u: (cached(w, u, "starter"), exhaust(w, u), replayed(w, u))[-1],
    "usage_post_idempotency_key_reused": lambda w, u: (
        cached(w, u),
        cached(w, f"{u}-b"),
        keyed_use(w, f"{u}-b", f"{u}-key"),
        keyed_use(w, u, f"{u}-key"),
    )[-1],
    "usage_post_invalid_idempotency_key": lambda w, u: keyed_use(w, u, "not a key"),
    "usage_post_no_subscription": lambda w, u: (w.get(f"/subscriptions/{u}"), w.post(f"/usage/{u}"))[-1],
    "usage_post_no_subscription_cache_miss": lambda w, u: w.post(f"/usage/{u}"),
    # A lapsed user: the row exists with an inactive status, so D1 reads it before filtering it out.
    "subscription_get_not_found_lapsed": lambda w, u: (lapse(w, u), w.get(f"/subscriptions/{u}"))[-1],
    "usage_post_no_subscription_cache_miss_lapsed": lambda w, u: (lapse(w, u), w.post(f"/usage/{u}"))[-1],
    "usage_post_burst_limited": lambda w, u: (
        cached(w, u, "premium"),
        [w.post(f"/usage/{u}") for _ in range(BURST_LIMIT)],
        w.post(f"/usage/{u}"),
    )[-1],
}


def test_the_table_lists_every_required_outcome_with_every_count():
    assert set(TABLE) >= REQUIRED
    for outcome, entry in TABLE.items():
        assert all(isinstance(entry[count], int) and entry[count] >= 0 for count in COUNTS), outcome
        assert entry["description"].strip(), outcome
        assert entry["log"] in ("always", "sampled"), outcome
    assert set(TABLE) == set(DRIVERS) | {"scheduled_cleanup"}  # every outcome in the table is measured below


def client_of(outcome: str) -> str:
    """Who the driver's last request came as: no token, the read-only local client, or `tester`."""
    return {"health": "", "unauthorized": "", "forbidden": "local-read"}.get(outcome, "tester")


@pytest.mark.parametrize("outcome", sorted(DRIVERS))
def test_observed_operations_data_point_and_log_line_equal_the_table(request, user_id, outcome):
    worker = request.getfixturevalue("limited_worker" if outcome in ON_LIMITED_WORKER else "worker")
    entry = TABLE[outcome]
    with worker.sending(worker_env(ROUTINE_LOG_SAMPLE_RATE=0)):  # no routine line: a line means "log: always"
        response = DRIVERS[outcome](worker, user_id)
        if outcome == "usage_post_burst_limited" and response.status_code != 429:
            response = worker.post(f"/usage/{user_id}")  # the burst window turned over mid-way: one more fills it
    counts = {count: entry[count] for count in COUNTS}

    recorded = worker.data_points_for(response)
    assert recorded["bound"], "wrangler.toml binds no METRICS dataset locally"
    [point] = recorded["points"]  # one writeDataPoint per request
    fields = {
        **entry["data_point"],
        "outcome": entry.get("outcome", outcome),
        "client": client_of(outcome),
        "status": str(response.status_code),
        **counts,
    }
    assert fields["status"] == entry["data_point"]["status"]
    assert point["indexes"] == [fields[METRICS_DATA_POINT["index"]]]
    assert point["blobs"] == [fields[name] for name in METRICS_DATA_POINT["blobs"]], point
    *operations, duration = point["doubles"]
    assert operations == [fields[name] for name in METRICS_DATA_POINT["doubles"][:-1]], point
    assert duration >= 0
    assert len(point["indexes"][0].encode()) <= platform.AE_MAX_INDEX_BYTES
    assert sum(len(blob.encode()) for blob in point["blobs"]) <= platform.AE_MAX_BLOB_BYTES

    assert worker.has_log_for(response) == (entry["log"] == "always"), outcome
    if entry["log"] == "always":
        line = worker.log_for(response)
        assert line["outcome"] == fields["outcome"], line
        assert line["ops"] == counts, line


def keep_a_current_row_in_each_table_the_cleanup_scans(worker, user_id):
    """operations.json's scheduled_cleanup is a run that deletes nothing on tables that hold rows:
    each DELETE then reads the one index entry past its cutoff (on an empty table it reads none).
    Whatever other tests ran before, that is the state this sets."""
    now = int(time.time())
    worker.d1(f"INSERT OR REPLACE INTO usage (window_start, user_id, count) VALUES ({now}, '{user_id}-current', 1)")
    worker.d1(
        "INSERT OR REPLACE INTO usage_keys (key, fingerprint, owner, created_at, window_start, used_before, used, "
        f"limit_value, tier, effective_tier) VALUES ('{user_id}-current', '{user_id}', 'r', {now}, {now}, 0, 1, 10, 'pro', 'pro')"
    )


def test_scheduled_cleanup_operations_per_deleted_row(worker, user_id):
    entry = TABLE["scheduled_cleanup"]
    per_row = entry["per_deleted_row"]
    old = int(time.time()) - (worker.settings.usage_retention_days + 3) * 86400
    deleted = 3
    # Rows older than any other test's, so this run deletes exactly these (the cleanup runs once per trigger).
    worker.d1(
        f"DELETE FROM usage WHERE window_start < {int(time.time()) - worker.settings.usage_retention_days * 86400}"
    )
    worker.d1(
        "INSERT INTO usage (window_start, user_id, count) VALUES "
        + ", ".join(f"({old}, '{user_id}-{n}', 1)" for n in range(deleted))
    )
    keep_a_current_row_in_each_table_the_cleanup_scans(worker, user_id)
    before = len(worker.log_lines())
    worker.get("/__scheduled?cron=0+3+*+*+*", token=None, legacy=True)
    line = worker.wait_for_log(lambda line: line.get("event") == "scheduled", "the cleanup", after=before)
    assert line["deleted"] == deleted
    assert line["outcome"] == "scheduled_cleanup"
    expected = {count: entry[count] + deleted * per_row.get(count, 0) for count in COUNTS}
    assert line["ops"] == expected, line


def test_scheduled_cleanup_deletes_each_expired_idempotency_key_at_per_deleted_row(worker, user_id):
    """The cost model prices each expired Idempotency-Key the cron deletes at per_deleted_row
    (infra/cost/operations.py): exactly what each deleted key costs."""
    entry = TABLE["scheduled_cleanup"]
    per_row = entry["per_deleted_row"]
    now = int(time.time())
    expired = now - worker.settings.idempotency_window_seconds - 3600
    worker.d1(f"DELETE FROM usage WHERE window_start < {now - worker.settings.usage_retention_days * 86400}")
    worker.d1(f"DELETE FROM usage_keys WHERE created_at < {now - worker.settings.idempotency_window_seconds}")
    deleted = 4
    worker.d1(
        "INSERT INTO usage_keys (key, fingerprint, owner, created_at, window_start, used_before, used, limit_value, "
        "tier, effective_tier) VALUES "
        + ", ".join(
            f"('{user_id}-key-{n}', '{user_id}', 'r', {expired}, {expired}, 0, 1, 10, 'pro', 'pro')"
            for n in range(deleted)
        )
    )
    keep_a_current_row_in_each_table_the_cleanup_scans(worker, user_id)
    before = len(worker.log_lines())
    worker.get("/__scheduled?cron=0+3+*+*+*", token=None, legacy=True)
    line = worker.wait_for_log(lambda line: line.get("event") == "scheduled", "the cleanup", after=before)
    assert (line["deleted"], line["deleted_keys"]) == (0, deleted)
    ops = line["ops"]
    assert ops["d1_rows_written"] == entry["d1_rows_written"] + deleted * per_row["d1_rows_written"], ops
    assert ops["d1_rows_read"] == entry["d1_rows_read"] + deleted * per_row["d1_rows_read"], ops
