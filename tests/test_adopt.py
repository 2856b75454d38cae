"""Adopting existing namespaces and databases: the settings under strict mocks (Pulumi's
`import_`), and `guruai-cache adopt` with the official SDK against the local API stub."""

import json
import shutil

import pulumi
import pytest
import yaml
from cloudflare_stub import CloudflareStub, StubState
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
from typer.testing import CliRunner

from infra import paths
from infra.plan.imports import ImportIds, import_ids
from infra.settings import SettingsError, load_settings, stack_file_settings
from infra.settings.adopt import Adopt
from infra.tools import adopt, cli

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


# --- `guruai-cache adopt`: the official SDK against the local API stub ---------------------------

TOKEN = "stub-token-" + "a" * 29
GUIDE_KV = "5b1e0c7a9d2f4e6a8c0b1d3f5a7c9e2b"  # `wrangler kv namespace create guruai-cache`
GUIDE_KV_PREVIEW = "6c2f1d8b0e3a5f7b9d1c2e4a6b8d0f3c"  # ... --preview: title guruai-cache_preview
GUIDE_DB = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"  # a D1 database made by hand, named guruai-db


@pytest.fixture
def stack_files(tmp_path, monkeypatch):
    """Copies of the (tests' own) stack files, with the account id set as `pulumi config set` writes it."""
    for path in paths.STACKS_DIR.glob("Pulumi.*.yaml"):
        text = path.read_text()
        (tmp_path / path.name).write_text(text + f"  guruai-cache:accountId: {ACCOUNT_ID}\n")
    monkeypatch.setattr(paths, "STACKS_DIR", tmp_path)
    return tmp_path


def guide_account(**more) -> StubState:
    return StubState(
        account_id=ACCOUNT_ID,
        token=TOKEN,
        namespaces={},
        titles={GUIDE_KV: "guruai-cache", GUIDE_KV_PREVIEW: "guruai-cache_preview", **more.pop("titles", {})},
        databases={GUIDE_DB: "guruai-db", **more.pop("databases", {})},
        **more,
    )


def adopt_cli(stub, monkeypatch, *args, token=TOKEN):
    monkeypatch.setenv("CLOUDFLARE_BASE_URL", stub.base_url)
    if token is None:
        monkeypatch.delenv("CLOUDFLARE_API_TOKEN", raising=False)
    else:
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", token)
    return CliRunner().invoke(cli.app, ["adopt", *args])


def test_the_guides_hand_made_setup_is_matched_renamed_kept_or_created(stack_files, monkeypatch):
    with CloudflareStub(guide_account()) as stub:
        result = adopt_cli(stub, monkeypatch, "--stack", "prod")
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"adopt  kv          guruai-cache-prod <- 'guruai-cache' ({GUIDE_KV})," in out
    assert "the setup guide's hand-made KV namespace; rename it to 'guruai-cache-prod' first" in out
    assert f"npx wrangler kv namespace rename --namespace-id {GUIDE_KV} --new-name guruai-cache-prod" in out
    assert f"--namespace-id {GUIDE_KV_PREVIEW} --new-name guruai-cache-prod-preview" in out
    assert f"adopt  db          guruai-db-prod <- 'guruai-db' ({GUIDE_DB})," in out
    assert "kept under its name (a D1 database cannot be renamed)" in out
    assert "create db-preview  guruai-db-prod-preview: none named" in out and "`pulumi up` creates it" in out
    assert "pulumi config set --path adopt.databaseName guruai-db --stack prod" in out
    assert "Pulumi.prod.yaml" in out and not (stack_files / "Pulumi.prod.yaml").read_text().count("adopt")


def test_write_puts_the_settings_in_the_stack_file_and_the_program_imports_them(stack_files, monkeypatch):
    before = (stack_files / "Pulumi.prod.yaml").read_text()
    with CloudflareStub(guide_account()) as stub:
        result = adopt_cli(stub, monkeypatch, "--stack", "prod", "--write")
    assert result.exit_code == 0, result.output
    after = (stack_files / "Pulumi.prod.yaml").read_text()
    assert after.startswith(before.rstrip("\n").rsplit("\n  guruai-cache:accountId", 1)[0])  # comments kept
    written = yaml.safe_load(after)["config"]["guruai-cache:adopt"]
    assert written == {
        "kvNamespaceId": GUIDE_KV,
        "kvPreviewNamespaceId": GUIDE_KV_PREVIEW,
        "databaseId": GUIDE_DB,
        "databaseName": "guruai-db",
    }
    assert stack_file_settings("prod").adopt.database_name == "guruai-db"

    run = run_program("prod", {"adopt": written})
    db = run.one(D1, "db")
    assert (db.import_id, db.plain("name")) == (f"{ACCOUNT_ID}/{GUIDE_DB}", "guruai-db")  # declared as it is
    assert run.one(KV_NAMESPACE, "kv").import_id == f"{ACCOUNT_ID}/{GUIDE_KV}"
    assert not run.one(D1, "db-preview").import_id  # created
    assert run.outputs["wrangler"]["d1_databases"][0]["database_name"] == "guruai-db"
    assert db.protect and db.retain_on_delete


def test_after_destroy_the_retained_resources_are_adopted_under_their_own_names(stack_files, monkeypatch):
    own = {
        "titles": {KV_ID: "guruai-cache-prod", KV_PREVIEW_ID: "guruai-cache-prod-preview"},
        "databases": {DB_ID: "guruai-db-prod", DB_PREVIEW_ID: "guruai-db-prod-preview"},
    }
    with CloudflareStub(guide_account(**own)) as stub:
        result = adopt_cli(stub, monkeypatch, "--stack", "prod", "--write")
    assert result.exit_code == 0, result.output
    assert "rename" not in result.output and result.output.count("its own name") == 4
    written = yaml.safe_load((stack_files / "Pulumi.prod.yaml").read_text())["config"]["guruai-cache:adopt"]
    assert written == ALL  # the program's names: no databaseName needed


@pytest.mark.parametrize("jurisdiction", ["eu", "fedramp"])
def test_a_database_in_a_jurisdiction_is_adopted_and_declared_with_it(stack_files, monkeypatch, jurisdiction):
    """The provider reads `jurisdiction` back on import and replaces a database declared without it."""
    state = guide_account(
        databases={DB_PREVIEW_ID: "guruai-db-preview"}, jurisdictions={GUIDE_DB: jurisdiction, DB_PREVIEW_ID: "eu"}
    )
    with CloudflareStub(state) as stub:
        result = adopt_cli(stub, monkeypatch, "--stack", "prod", "--write")
    assert result.exit_code == 0, result.output
    assert f"({GUIDE_DB}, jurisdiction {jurisdiction}, declared with it)" in result.output
    assert f"pulumi config set --path adopt.jurisdiction {jurisdiction} --stack prod" in result.output
    read = {path for method, path, _ in state.requests if method == "GET" and "/d1/database/" in path}
    assert read == {f"/client/v4/accounts/{ACCOUNT_ID}/d1/database/{u}" for u in (GUIDE_DB, DB_PREVIEW_ID)}
    written = yaml.safe_load((stack_files / "Pulumi.prod.yaml").read_text())["config"]["guruai-cache:adopt"]
    assert (written["jurisdiction"], written["previewJurisdiction"]) == (jurisdiction, "eu")

    run = run_program("prod", {"adopt": written})
    assert run.one(D1, "db").plain("jurisdiction") == jurisdiction
    assert run.one(D1, "db-preview").plain("jurisdiction") == "eu"


def test_a_database_without_a_jurisdiction_is_declared_without_one(stack_files, monkeypatch):
    with CloudflareStub(guide_account()) as stub:
        result = adopt_cli(stub, monkeypatch, "--stack", "prod", "--write")
    assert result.exit_code == 0, result.output
    written = yaml.safe_load((stack_files / "Pulumi.prod.yaml").read_text())["config"]["guruai-cache:adopt"]
    assert "jurisdiction" not in written
    assert run_program("prod", {"adopt": written}).one(D1, "db").plain("jurisdiction") is None


def test_a_database_in_a_jurisdiction_the_program_cannot_declare_is_refused_in_one_line(stack_files, monkeypatch):
    with CloudflareStub(guide_account(jurisdictions={GUIDE_DB: "moon"})) as stub:
        result = adopt_cli(stub, monkeypatch, "--stack", "prod", "--write")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "is in the jurisdiction 'moon', which this program cannot declare" in result.output
    assert "guruai-cache:adopt" not in (stack_files / "Pulumi.prod.yaml").read_text()


def test_a_bad_jurisdiction_setting_names_the_accepted_values():
    with pytest.raises(SettingsError) as caught:
        load_settings({"accountId": ACCOUNT_ID, "adopt": {"jurisdiction": "EU!"}}, stack="dev", env={})
    issue = caught.value.issues[0]
    assert issue.key == "adopt.jurisdiction" and "'eu', 'fedramp' or 'us'" in issue.fix


def test_a_resource_another_stack_adopted_is_not_offered_twice(stack_files, monkeypatch):
    dev = stack_files / "Pulumi.dev.yaml"
    dev.write_text(dev.read_text() + f"  guruai-cache:adopt:\n    kvNamespaceId: '{GUIDE_KV}'\n")
    with CloudflareStub(guide_account()) as stub:
        result = adopt_cli(stub, monkeypatch, "--stack", "prod")
    assert result.exit_code == 0, result.output
    assert "create kv          guruai-cache-prod: 'guruai-cache' is adopted by stack 'dev'" in result.output


def test_every_page_of_the_accounts_namespaces_is_read(stack_files, monkeypatch):
    decoys = {f"{i:032x}": f"other-{i:03}" for i in range(1, 251)}  # 250 namespaces sort before the guide's
    state = guide_account(titles=decoys)
    with CloudflareStub(state) as stub:
        result = adopt_cli(stub, monkeypatch, "--stack", "prod")
    assert result.exit_code == 0, result.output
    assert f"<- 'guruai-cache' ({GUIDE_KV})" in result.output
    pages = [q.get("page") for method, path, q in state.requests if path.endswith("/storage/kv/namespaces")]
    assert len(pages) >= 3


def test_named_hand_made_resources_are_used(stack_files, monkeypatch):
    with CloudflareStub(guide_account(titles={KV_ID: "my-cache"}, databases={DB_ID: "subscriptions-db"})) as stub:
        result = adopt_cli(
            stub, monkeypatch, "--stack", "dev", "--kv-namespace", "my-cache", "--database", "subscriptions-db"
        )
    assert result.exit_code == 0, result.output
    assert f"<- 'my-cache' ({KV_ID})" in result.output and f"<- 'subscriptions-db' ({DB_ID})" in result.output


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (None, "CLOUDFLARE_API_TOKEN is not set"),
        ("wrong-token", "the API token was refused (HTTP 401, code 10000)"),
        (
            "read-only",
            "the API token may not do this (HTTP 403, code 10000): give it Workers KV Storage: Read and D1: Read",
        ),
    ],
)
def test_user_mistakes_are_one_line_without_traceback(stack_files, monkeypatch, token, message):
    with CloudflareStub(guide_account(read_only_token="read-only")) as stub:
        result = adopt_cli(stub, monkeypatch, "--stack", "prod", token=token)
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    assert TOKEN not in result.output and "wrong-token" not in result.output


def test_a_stack_without_account_id_is_told_how_to_set_it(tmp_path, monkeypatch):
    for path in paths.STACKS_DIR.glob("Pulumi.*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    monkeypatch.setattr(paths, "STACKS_DIR", tmp_path)
    monkeypatch.delenv("CLOUDFLARE_ACCOUNT_ID", raising=False)
    with CloudflareStub(guide_account()) as stub:
        result = adopt_cli(stub, monkeypatch, "--stack", "prod")
    assert result.exit_code == 2 and "accountId: missing" in result.output and "Traceback" not in result.output


def test_the_adopt_block_replaces_an_earlier_one_and_keeps_everything_else():
    text = (
        "# header\nconfig:\n  a:b: 1\n  guruai-cache:adopt:\n    databaseId: old\n  # a comment\n  c:d: 2\n# trailer\n"
    )
    updated = adopt.with_adopt_block(text, {"databaseId": DB_ID})
    assert yaml.safe_load(updated)["config"] == {"a:b": 1, "c:d": 2, "guruai-cache:adopt": {"databaseId": DB_ID}}
    assert updated.startswith("# header\n") and "  # a comment\n" in updated and updated.endswith("# trailer\n")


# --- after the first `pulumi up`: `guruai-cache adopt --settle` -----------------------------------


def settle_cli(stack, outputs_file):
    return CliRunner().invoke(cli.app, ["adopt", "--stack", stack, "--settle", "--outputs", str(outputs_file)])


def with_adopt(stack_files, adopt_block):
    path = stack_files / "Pulumi.prod.yaml"
    path.write_text(
        path.read_text() + "  guruai-cache:adopt:\n" + "".join(f"    {k}: '{v}'\n" for k, v in adopt_block.items())
    )
    return path


def test_settle_clears_the_ids_the_stack_now_manages_and_keeps_names_and_jurisdictions(stack_files, tmp_path):
    adopted = {**ALL, "databaseName": "guruai-db", "jurisdiction": "eu"}
    path = with_adopt(stack_files, adopted)
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(run_program("prod", {"adopt": adopted}).outputs))  # what `pulumi up` exported
    result = settle_cli("prod", outputs)
    assert result.exit_code == 0, result.output
    assert f"adopt.databaseId: {DB_ID} is the stack's now, the id goes" in result.output
    assert yaml.safe_load(path.read_text())["config"]["guruai-cache:adopt"] == {
        "databaseName": "guruai-db",
        "jurisdiction": "eu",
    }
    run = run_program("prod", {"adopt": stack_file_settings("prod").adopt.model_dump(by_alias=True, exclude_none=True)})
    assert not any(r.import_id for r in run.resources)  # nothing left to import again
    db = run.one(D1, "db")
    assert (db.plain("name"), db.plain("jurisdiction")) == ("guruai-db", "eu")  # declared as before: no replace


def test_settle_refuses_an_id_that_names_another_resource_and_writes_nothing(stack_files, tmp_path):
    path = with_adopt(stack_files, {"databaseId": DB_PREVIEW_ID, "kvNamespaceId": KV_ID})
    before = path.read_text()
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(run_program("prod", {"adopt": ALL}).outputs))  # the stack manages DB_ID
    result = settle_cli("prod", outputs)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"adopt.databaseId is {DB_PREVIEW_ID}, but the stack manages {DB_ID}" in result.output
    assert "pulumi config rm --path adopt.databaseId" in result.output
    assert path.read_text() == before


def test_settle_keeps_an_id_the_outputs_do_not_show_yet(stack_files, tmp_path):
    path = with_adopt(stack_files, {"databaseId": DB_ID})
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"accountId": ACCOUNT_ID}))  # a stack whose first up failed early
    result = settle_cli("prod", outputs)
    assert result.exit_code == 0, result.output
    assert "adopt.databaseId: not in the stack's outputs yet" in result.output and "nothing to settle" in result.output
    assert yaml.safe_load(path.read_text())["config"]["guruai-cache:adopt"] == {"databaseId": DB_ID}


def test_preview_reminds_to_settle_while_ids_are_set(monkeypatch):
    warnings = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *args, **kwargs: warnings.append(message))
    run_program("prod", {"adopt": {"databaseId": DB_ID}})
    assert any("adopt.databaseId set" in w and "guruai-cache adopt --stack prod --settle" in w for w in warnings)
    warnings.clear()
    run_program("prod")
    assert not any("--settle" in w for w in warnings)
