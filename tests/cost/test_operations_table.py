"""The Worker's operations table (worker/operations.json): complete, read strictly, its log policy
the Worker's, and the cache-miss variants the model derives."""

import json

import pytest

from infra import paths, worker_contract
from infra.cost import operations


def test_the_real_operations_table_covers_every_outcome():
    table = operations.load_operations()
    assert set(operations.OUTCOMES) <= set(table)
    assert all(set(ops) == {*operations.OPERATION_KINDS, operations.LOG_SAMPLED} for ops in table.values())
    assert table["subscription_get_hit"]["d1_queries"] == 0  # a hit never reaches D1
    assert table["health"] == {**dict.fromkeys(operations.OPERATION_KINDS, 0), operations.LOG_SAMPLED: 1}


def test_the_table_samples_the_log_lines_of_exactly_the_workers_routine_outcomes():
    """`log: sampled` where the Worker's ROUTINE_OUTCOMES say so (the e2e tests watch the Worker do it)."""
    document = the_real_document()["routes"]
    for key, entry in document.items():
        routine = entry.get("outcome", key) in worker_contract.ROUTINE_OUTCOMES
        assert entry["log"] == ("sampled" if routine else "always"), key
    assert {entry.get("outcome", key) for key, entry in document.items()} >= set(worker_contract.ROUTINE_OUTCOMES)


def the_real_document():
    return json.loads(paths.OPERATIONS_TABLE.read_text())


def test_an_unknown_log_policy_is_refused(tmp_path):
    document = the_real_document()
    document["routes"]["tiers_get"]["log"] = "sometimes"
    path = tmp_path / "operations.json"
    path.write_text(json.dumps(document))
    with pytest.raises(operations.OperationsTableError, match=r'routes\.tiers_get\.log must be "always" or "sampled"'):
        operations.load_operations(path)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("not json", "not readable JSON"),
        ('{"routes": []}', '"routes"'),
        ('{"routes": {"health": {}}}', "no entry for subscription_get_hit"),
    ],
)
def test_a_broken_operations_table_is_named(tmp_path, document, message):
    path = tmp_path / "operations.json"
    path.write_text(document)
    with pytest.raises(operations.OperationsTableError, match=message):
        operations.load_operations(path)


def test_a_negative_operation_count_is_refused(tmp_path):
    document = the_real_document()
    document["routes"]["tiers_get"]["kv_reads"] = -1
    path = tmp_path / "operations.json"
    path.write_text(json.dumps(document))
    with pytest.raises(
        operations.OperationsTableError, match=r"routes\.tiers_get\.kv_reads must be a number >= 0, got -1"
    ):
        operations.load_operations(path)


def test_the_tables_usage_miss_outcomes_are_its_hit_path_plus_what_a_lookup_miss_adds(table):
    # The model's assumption, checked on the Worker's measured table wherever it lists a miss outcome.
    stripped = {outcome: ops for outcome, ops in table.items() if "_cache_miss" not in outcome}
    derived = operations.with_cache_miss_variants(stripped)
    listed = [
        f"{outcome}{suffix}" for outcome, _, _, suffix in operations.USAGE_LOOKUPS if f"{outcome}{suffix}" in table
    ]
    # Every unkeyed usage outcome's miss is measured; the keyed ones' misses are derived the same way.
    assert len(listed) == len([lookup for lookup in operations.USAGE_LOOKUPS if "_keyed" not in lookup[0]])
    for variant in listed:
        assert derived[variant] == table[variant], variant  # the counts, and a line every time


def test_a_cache_miss_variant_listed_in_the_table_is_used_as_listed(tmp_path):
    document = the_real_document()
    listed = {kind: 7 for kind in operations.OPERATION_KINDS}
    document["routes"]["usage_post_allowed_cache_miss"] = listed
    path = tmp_path / "operations.json"
    path.write_text(json.dumps(document))
    table = operations.with_cache_miss_variants(operations.load_operations(path))
    assert table["usage_post_allowed_cache_miss"] == {**listed, operations.LOG_SAMPLED: 0}  # "log" unsaid: always
    routes = document["routes"]
    document["routes"].pop("usage_post_denied_cache_miss", None)
    path.write_text(json.dumps(document))
    table = operations.with_cache_miss_variants(operations.load_operations(path))
    assert table["usage_post_denied_cache_miss"]["kv_writes"] == (
        routes["usage_post_denied"]["kv_writes"]
        + routes["subscription_get_miss"]["kv_writes"]
        - routes["subscription_get_hit"]["kv_writes"]
    )
