"""The restore point and `guruai-cache restore`: the pinned wrangler's `d1 time-travel info|restore`
(its own argument handling and API calls) against the local API stub. Only the remote call's
effect on a real database is not tested here."""

import datetime as dt
import json
import os

import pytest
from cloudflare_stub import CloudflareStub, StubState
from pulumi_mocks import COMMAND, StrictCloudflareMocks, run_program, unwrap
from typer.testing import CliRunner

from infra import paths
from infra.plan.migrations import restore_point, restore_point_line
from infra.stack import offline
from infra.stack.mocks import SECRET_SIG, SECRET_VALUE
from infra.tools import apply_migrations, cli, restore

TOKEN = "stub-token-" + "r" * 29
ACCOUNT = "a" * 32
DB_ID = "11111111-2222-3333-4444-555555555555"
BOOKMARK = "00000085-0000024c-00004c6d-8e61117bf38d7adb71b934ebbf891683"


def outputs_file(tmp_path, name, **extra):
    exported = {"accountId": ACCOUNT, "d1DatabaseName": "guruai-db", "d1DatabaseId": DB_ID, **extra}
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(exported))
    return path


def stub_state(**overrides) -> StubState:
    overrides.setdefault("databases", {DB_ID: "guruai-db"})
    overrides.setdefault(
        "bookmarks", {DB_ID: [BOOKMARK, "00000086-00000000-00004c6d-8e61117bf38d7adb71b934ebbf891683"]}
    )
    return StubState(account_id=ACCOUNT, token=TOKEN, namespaces={}, **overrides)


def run_cli(stub, monkeypatch, *args):
    monkeypatch.setenv("CLOUDFLARE_API_BASE_URL", stub.base_url)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", TOKEN)
    return CliRunner().invoke(cli.app, ["restore", *args])


def wrangler_environment(stub) -> dict[str, str]:
    base = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}
    return apply_migrations.allowed_environment(
        {
            **base,
            "CLOUDFLARE_API_TOKEN": TOKEN,
            "CLOUDFLARE_ACCOUNT_ID": ACCOUNT,
            "CLOUDFLARE_API_BASE_URL": stub.base_url,
        }
    )


def test_the_restore_point_line_is_read_back_from_the_migrations_output():
    stdout = "==> guruai-db (remote): 1 migration file(s)\n" + restore_point_line("guruai-db", BOOKMARK) + "\nok\n"
    assert restore_point(stdout) == BOOKMARK
    assert restore_point("==> guruai-db (local): nothing\n") is None
    assert restore_point(None) is None


def test_the_stack_exports_the_restore_point_its_migrations_printed(monkeypatch):
    """pulumi-command keeps a Command's stdout as its `stdout` output, a secret when an input is
    one (pulumi/pulumi-command#256), as the token from cloudflare:apiToken is here. The mocks
    answer what apply_migrations prints; the stack output is the main database's bookmark alone,
    in plain text."""
    printed = {"db-migrations": BOOKMARK, "db-preview-migrations": "00000009-00000000-00004c6d-0123456789abcdef"}

    class CommandsThatPrint(StrictCloudflareMocks):
        def new_resource(self, args):
            resource_id, state = super().new_resource(args)
            if args.typ == COMMAND:
                line = restore_point_line("guruai-db", printed[args.name])
                stdout = f"==> guruai-db (remote): 1 migration file(s)\n{line}\nMigrations applied"
                secret = unwrap(args.inputs)[1]
                state = {**state, "stdout": {SECRET_SIG: SECRET_VALUE, "value": stdout} if secret else stdout}
            return resource_id, state

    monkeypatch.setattr(offline, "StrictCloudflareMocks", CommandsThatPrint)
    run = run_program("dev")
    assert run.outputs["d1RestorePoint"] == BOOKMARK
    assert "d1RestorePoint" not in run.secret_outputs


def test_before_any_migrations_ran_the_restore_point_is_empty(dev_run):
    assert dev_run.outputs["d1RestorePoint"] is None


def test_a_remote_migration_records_and_prints_the_bookmark_first(capfd):
    with CloudflareStub(stub_state()) as stub:
        code = apply_migrations.apply("guruai-db", DB_ID, env=wrangler_environment(stub))
        paths = [path for _, path, _ in stub.state.requests]
    out = capfd.readouterr().out
    assert restore_point(out) == "00000086-00000000-00004c6d-8e61117bf38d7adb71b934ebbf891683"
    # The stub runs no SQL: the table check after the bookmark fails there, and the bookmark came first.
    assert code == 1
    bookmark_at = next(i for i, p in enumerate(paths) if p.endswith("/time_travel/bookmark"))
    assert all(not p.endswith(("/query", "/raw")) for p in paths[:bookmark_at])


def test_no_bookmark_no_migrations(capfd):
    with CloudflareStub(stub_state(databases={})) as stub:
        code = apply_migrations.apply("guruai-db", DB_ID, env=wrangler_environment(stub))
        paths = [path for _, path, _ in stub.state.requests]
    assert code == 1
    assert "guruai-db: no restore point, so no migrations" in capfd.readouterr().err
    assert not any(p.endswith(("/query", "/raw", "/import")) for p in paths)


def test_restore_to_a_bookmark_prints_the_one_that_undoes_it(tmp_path, monkeypatch):
    with CloudflareStub(stub_state()) as stub:
        result = run_cli(
            stub,
            monkeypatch,
            "--stack",
            "dev",
            "--bookmark",
            BOOKMARK,
            "--yes",
            "--outputs",
            str(outputs_file(tmp_path, "dev")),
        )
        assert stub.state.restores == [(DB_ID, BOOKMARK)]
    assert result.exit_code == 0, result.output
    assert f"to bookmark {BOOKMARK}" in result.output
    undo = "guruai-cache restore --stack dev --bookmark 00000086-00000000-00004c6d-8e61117bf38d7adb71b934ebbf891683"
    assert undo in result.output


def test_before_last_deploy_restores_the_recorded_restore_point(tmp_path, monkeypatch):
    path = outputs_file(tmp_path, "dev", d1RestorePoint=BOOKMARK)
    with CloudflareStub(stub_state()) as stub:
        result = run_cli(stub, monkeypatch, "--stack", "dev", "--before-last-deploy", "--yes", "--outputs", str(path))
        assert stub.state.restores == [(DB_ID, BOOKMARK)]
    assert result.exit_code == 0, result.output


def test_before_last_deploy_without_a_restore_point_says_what_to_do(tmp_path, monkeypatch):
    with CloudflareStub(stub_state()) as stub:
        result = run_cli(
            stub,
            monkeypatch,
            "--stack",
            "dev",
            "--before-last-deploy",
            "--yes",
            "--outputs",
            str(outputs_file(tmp_path, "dev")),
        )
        assert stub.state.requests == []
    assert result.exit_code == 2
    assert "no d1RestorePoint output" in result.output and "--timestamp T" in result.output


def test_a_production_stack_needs_its_name_again(tmp_path, monkeypatch):
    path = outputs_file(tmp_path, "prod")
    with CloudflareStub(stub_state()) as stub:
        refused = run_cli(stub, monkeypatch, "--stack", "prod", "--bookmark", BOOKMARK, "--yes", "--outputs", str(path))
        assert stub.state.requests == []
        wrong = run_cli(
            stub, monkeypatch, "--stack", "prod", "--bookmark", BOOKMARK, "--yes", "--outputs", str(path),
            "--production-stack", "dev",
        )  # fmt: skip
        assert stub.state.requests == []
        named = run_cli(
            stub, monkeypatch, "--stack", "prod", "--bookmark", BOOKMARK, "--yes", "--outputs", str(path),
            "--production-stack", "prod",
        )  # fmt: skip
        assert stub.state.restores == [(DB_ID, BOOKMARK)]
    assert refused.exit_code == 2 and "add --production-stack prod" in refused.output
    assert wrong.exit_code == 2 and "add --production-stack prod" in wrong.output
    assert named.exit_code == 0, named.output
    assert "--production-stack prod" in named.output.splitlines()[-1]  # the undo command keeps the guard


def test_without_a_terminal_or_yes_it_shows_the_plan_and_restores_nothing(tmp_path, monkeypatch):
    with CloudflareStub(stub_state()) as stub:
        result = run_cli(
            stub, monkeypatch, "--stack", "dev", "--bookmark", BOOKMARK, "--outputs", str(outputs_file(tmp_path, "dev"))
        )
        assert stub.state.requests == []
    assert result.exit_code == 2
    assert (
        f"restore stack dev's D1 database guruai-db ({DB_ID}, account {ACCOUNT}) to bookmark {BOOKMARK}"
        in result.output
    )
    assert "add --yes" in result.output


def test_a_declined_confirmation_restores_nothing():
    target = restore.Target("dev", ACCOUNT, "guruai-db", DB_ID, None)
    echoed: list[str] = []
    with CloudflareStub(stub_state()) as stub:
        previous = restore.run(
            target,
            BOOKMARK,
            production=False,
            env=wrangler_environment(stub),
            confirm=lambda _: False,
            echo=echoed.append,
        )
        assert stub.state.requests == []
    assert previous is None and echoed[-1] == "nothing restored"


@pytest.mark.parametrize("bookmark", ["latest", "--timestamp=1", "0000-zz"])
def test_a_malformed_bookmark_is_refused_with_its_value(tmp_path, monkeypatch, bookmark):
    with CloudflareStub(stub_state()) as stub:
        result = run_cli(
            stub,
            monkeypatch,
            "--stack",
            "dev",
            f"--bookmark={bookmark}",
            "--yes",
            "--outputs",
            str(outputs_file(tmp_path, "dev")),
        )
        assert stub.state.requests == []
    assert result.exit_code == 2
    assert f"--bookmark {bookmark!r} is not a D1 bookmark" in result.output


def test_a_bookmark_d1_does_not_know_ends_with_wranglers_error(tmp_path, monkeypatch):
    unknown = "00000001-00000000-00000000-00000000000000000000000000000000"
    with CloudflareStub(stub_state()) as stub:
        result = run_cli(
            stub,
            monkeypatch,
            "--stack",
            "dev",
            "--bookmark",
            unknown,
            "--yes",
            "--outputs",
            str(outputs_file(tmp_path, "dev")),
        )
        assert stub.state.restores == []
    assert result.exit_code == 2
    assert "wrangler d1 time-travel restore failed" in result.output and f"Invalid bookmark: {unknown}" in result.output
    assert "Traceback" not in result.output


def test_a_timestamp_is_turned_into_its_bookmark_by_d1_then_restored(tmp_path, monkeypatch):
    an_hour_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    path = outputs_file(tmp_path, "dev")
    with CloudflareStub(stub_state()) as stub:
        result = run_cli(
            stub, monkeypatch, "--stack", "dev", "--timestamp", an_hour_ago, "--yes", "--outputs", str(path)
        )
        asked = [query for _, p, query in stub.state.requests if p.endswith("/time_travel/bookmark")]
        assert stub.state.restores == [(DB_ID, BOOKMARK)]
    assert result.exit_code == 0, result.output
    assert [query["timestamp"][:19] for query in asked] == [an_hour_ago[:19]]  # wrangler sends it as ISO 8601


def test_wrangler_refuses_a_timestamp_time_travel_cannot_reach(tmp_path, monkeypatch):
    with CloudflareStub(stub_state()) as stub:
        result = run_cli(
            stub,
            monkeypatch,
            "--stack",
            "dev",
            "--timestamp",
            "2001-01-01T00:00:00Z",
            "--yes",
            "--outputs",
            str(outputs_file(tmp_path, "dev")),
        )
        assert stub.state.restores == []
    assert result.exit_code == 2
    assert (
        "Invalid timestamp '2001-01-01T00:00:00Z'. Please provide a timestamp within the last 30 days" in result.output
    )


def test_one_way_to_name_the_point(tmp_path, monkeypatch):
    path = outputs_file(tmp_path, "dev", d1RestorePoint=BOOKMARK)
    with CloudflareStub(stub_state()) as stub:
        both = run_cli(
            stub,
            monkeypatch,
            "--stack",
            "dev",
            "--bookmark",
            BOOKMARK,
            "--before-last-deploy",
            "--yes",
            "--outputs",
            str(path),
        )
        none = run_cli(stub, monkeypatch, "--stack", "dev", "--yes", "--outputs", str(path))
        assert stub.state.requests == []
    for result in (both, none):
        assert (
            result.exit_code == 2 and "give one of --bookmark B, --before-last-deploy or --timestamp T" in result.output
        )


def test_deploying_lists_the_permission_the_commands_ask_for():
    rows = dict(
        (row.split("|")[1].strip(), row.split("|")[2].strip())
        for row in (paths.ROOT / "docs" / "deploying.md").read_text().splitlines()
        if row.startswith("| `guruai-cache ")
    )
    assert rows["`guruai-cache restore`"] == rows["`guruai-cache backup`"] == restore.PERMISSIONS
