"""Adopting existing namespaces and databases by id (Pulumi's `import_`), under strict mocks."""

import pulumi
import pytest
from pulumi_mocks import (
    ACCOUNT_ID,
    D1,
    KV_NAMESPACE,
    ROOT,
    SCRIPT,
    ProviderRejected,
    StrictCloudflareMocks,
    run_program,
    unwrap,
)

from infra.plan.imports import ImportIds, import_ids
from infra.settings import SettingsError, load_settings
from infra.settings.adopt import Adopt

KV_ID = "0f2a6c4e8b1d3f5a7c9e0b2d4f6a8c0e"
KV_PREVIEW_ID = "1e3b5d7f9a0c2e4b6d8f0a1c3e5b7d9f"
DB_ID = "6c1f0b4e-2a3d-4e5f-8a9b-0c1d2e3f4a5b"
DB_PREVIEW_ID = "7d2a1c5f-3b4e-4f6a-9b0c-1d2e3f4a5b6c"
ALL = {
    "kvNamespaceId": KV_ID,
    "kvPreviewNamespaceId": KV_PREVIEW_ID,
    "databaseId": DB_ID,
    "previewDatabaseId": DB_PREVIEW_ID,
}


def test_nothing_is_imported_unless_asked(dev_run):
    assert all(not r.import_id for r in dev_run.resources)


def test_adopted_resources_are_imported_by_the_ids_pulumi_import_takes():
    run = run_program("prod", {"adopt": ALL})
    expected = {"kv": KV_ID, "kv-preview": KV_PREVIEW_ID, "db": DB_ID, "db-preview": DB_PREVIEW_ID}
    for name, resource_id in expected.items():
        resource = next(r for r in run.resources if r.name == name)
        assert resource.import_id == f"{ACCOUNT_ID}/{resource_id}"
        assert resource.id == resource_id
        assert resource.protect and resource.retain_on_delete  # adoption keeps prod's protection
    assert (run.outputs["kvNamespaceId"], run.outputs["d1DatabaseId"]) == (KV_ID, DB_ID)
    bindings, _ = unwrap(run.one(SCRIPT).inputs["bindings"])
    by_name = {b["name"]: b for b in bindings}
    assert by_name["KV"]["namespaceId"] == KV_ID and by_name["DB"]["id"] == DB_ID
    assert run.outputs["wrangler"]["kv_namespaces"][0] == {"binding": "KV", "id": KV_ID, "preview_id": KV_PREVIEW_ID}


def test_only_the_named_resources_are_adopted():
    run = run_program("dev", {"adopt": {"kvNamespaceId": KV_ID}})
    assert run.one(KV_NAMESPACE, "kv").import_id == f"{ACCOUNT_ID}/{KV_ID}"
    assert not run.one(KV_NAMESPACE, "kv-preview").import_id
    assert not any(r.import_id for r in run.of_type(D1))


@pytest.mark.parametrize(
    ("adopt", "key", "fix"),
    [
        ({"kvNamespaceId": "guruai-cache"}, "adopt.kvNamespaceId", "wrangler kv namespace list"),
        ({"databaseId": KV_ID}, "adopt.databaseId", "wrangler d1 list --json"),
        ({"kvNamespaceId": KV_ID, "kvPreviewNamespaceId": KV_ID}, "adopt", "separate preview"),
        ({"databaseid": DB_ID}, "adopt.databaseid", "did you mean 'adopt.databaseId'"),
    ],
)
def test_bad_adoption_settings_name_key_value_and_fix(adopt, key, fix):
    with pytest.raises(SettingsError) as caught:
        load_settings({"accountId": ACCOUNT_ID, "adopt": adopt}, stack="dev", env={})
    issue = caught.value.issues[0]
    assert issue.key == key and fix in issue.fix
    assert str(list(adopt.values())[-1]) in str(caught.value)


def test_bad_adoption_stops_the_program_before_any_resource(monkeypatch):
    registered = []
    original = StrictCloudflareMocks.new_resource
    monkeypatch.setattr(
        StrictCloudflareMocks, "new_resource", lambda self, args: registered.append(args.typ) or original(self, args)
    )
    with pytest.raises(pulumi.RunError, match=r"adopt\.databaseId"):
        run_program("dev", {"adopt": {"databaseId": "not-a-uuid"}})
    assert registered == []


def test_import_ids_are_account_slash_id():
    ids = import_ids(Adopt(database_id=DB_ID), ACCOUNT_ID)
    assert ids == ImportIds(database=f"{ACCOUNT_ID}/{DB_ID}")


def test_mocks_refuse_an_import_id_the_provider_would():
    mocks = StrictCloudflareMocks()
    args = pulumi.runtime.MockResourceArgs(
        typ=KV_NAMESPACE, name="kv", inputs={"accountId": ACCOUNT_ID, "title": "t"}, custom=True, resource_id=KV_ID
    )
    with pytest.raises(ProviderRejected, match="not <account_id>/<id>"):
        mocks.new_resource(args)


def test_the_docs_give_the_equivalent_pulumi_import_commands():
    readme = (ROOT / "docs" / "deploying.md").read_text()
    for token in (
        "pulumi import cloudflare:index/workersKvNamespace:WorkersKvNamespace",
        "pulumi import cloudflare:index/d1Database:D1Database",
        "<account_id>/<namespace_id>",
        "<account_id>/<database_id>",
    ):
        assert token in readme
