"""`guruai-cache`: the project's command line (wrangler.toml, settings checks, the local Worker,
the cost estimate, post-deploy checks).

User mistakes end with a one-line reason and exit code 2, never a traceback. Each command
imports what only it needs inside its body, so `--help` and `settings check` stay fast
(bench/cli_startup.py measures them).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer

from infra import paths
from infra.tools.errors import UserError

app = typer.Typer(
    help="The guruai-cache stacks' command line: wrangler.toml, settings checks, the offline plan, "
    "the local Worker, the cost estimate, adopting existing resources, post-deploy checks and the Worker's metrics.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help text is plain: "[env.<stack>]" is wrangler's syntax, not markup to strip
)
wrangler_app = typer.Typer(
    help="Render and check wrangler.toml from the stacks' outputs.", no_args_is_help=True, rich_markup_mode=None
)
settings_app = typer.Typer(
    help="Validate the committed stack settings without Pulumi.", no_args_is_help=True, rich_markup_mode=None
)
worker_app = typer.Typer(
    help="Build the Worker: its generated sources and the bundle that deploys.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(wrangler_app, name="wrangler")
app.add_typer(settings_app, name="settings")
app.add_typer(worker_app, name="worker")
migrations_app = typer.Typer(
    help="Check the D1 migrations before they run, and write their integrity file.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(migrations_app, name="migrations")

DEFAULT_STACKS = ("dev", "prod")
DEFAULT_PORT = 8787  # as infra.tools.wrangler_dev, which this module does not import up front
DEFAULT_IP = "127.0.0.1"
# The option of every command that reads a deployed stack's outputs: a file instead of Pulumi.
OutputsFile = Annotated[
    Path | None,
    typer.Option(metavar="FILE", help="A file holding the stack's `pulumi stack output --json`, instead of Pulumi."),
]


def fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code=2)


def _api_token(needed: str) -> str:
    """CLOUDFLARE_API_TOKEN from the environment (never an option: it would land in shell history);
    `needed` ends the error when it is not set."""
    token = os.environ.get("CLOUDFLARE_API_TOKEN")
    if not token:
        raise UserError(f"CLOUDFLARE_API_TOKEN is not set: {needed}")
    return token


def _user_errors(*more: type[Exception]) -> tuple[type[Exception], ...]:
    """The exceptions a command reports in one line: user mistakes, invalid settings, and `more`."""
    from infra.settings import SettingsError, StackFileError

    return (UserError, SettingsError, StackFileError, *more)


def _parse_pairs(values: list[str], option: str, example: str) -> dict[str, str]:
    parsed = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key or not text:
            raise UserError(f"{option} {value!r}: expected {example}")
        parsed[key] = text
    return parsed


@wrangler_app.command("render")
def render_command(
    stack: Annotated[
        list[str] | None,
        typer.Option("--stack", "-s", metavar="STACK", help="Stack to add as [env.<stack>] (repeatable)."),
    ] = None,
    outputs: Annotated[
        list[str] | None,
        typer.Option(metavar="STACK=FILE", help="A saved `pulumi stack output --json` instead of asking Pulumi."),
    ] = None,
    local_only: Annotated[
        bool,
        typer.Option("--local-only", help="Re-render only the local (top-level) section; keep the [env.*] sections."),
    ] = False,
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 when the file on disk differs (for CI).")
    ] = False,
    output: Annotated[Path, typer.Option(help="Where to write.")] = paths.WRANGLER_TOML,
) -> None:
    """Render wrangler.toml (its only writer): local development at the top level, each stack's real ids in [env.<stack>]."""
    from infra.tools import render

    try:
        files = {name: Path(file) for name, file in _parse_pairs(outputs or [], "--outputs", "STACK=FILE").items()}
        stacks = list(stack or files or DEFAULT_STACKS)
        rendered = render.render_file(output, stacks, files, local_only)
    except _user_errors() as error:
        raise fail(str(error)) from None
    if check:
        diff = render.staleness(output, rendered)
        if diff is not None:
            typer.echo(diff)
            fix = render.fix_command(output, local_only)
            typer.secho(f"{output} is stale: run `{fix}`", err=True, fg=typer.colors.RED)
            raise typer.Exit(code=1)
        typer.echo(f"{output} is up to date")
        return
    render.write_atomically(output, rendered.text)
    typer.echo(f"wrote {output} (local{''.join(f', env.{name}' for name in rendered.sections)})")


@worker_app.command("build")
def worker_build_command(
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 when a generated file is stale (for CI).")
    ] = False,
) -> None:
    """Write the Worker's generated files (their one writer): worker/src/contract.js and
    worker/src/env.d.ts from infra/, then worker/dist/worker.js, the modules of worker/src bundled
    by the pinned wrangler: the one file `pulumi up` uploads and `wrangler dev` runs."""
    from infra.tools import worker_build

    echo = lambda message: typer.echo(message, err=True)  # noqa: E731 (progress, on stderr)
    try:
        if check:
            found = worker_build.stale(echo)
            if found:
                names = ", ".join(paths.relative(path) for path in found)
                typer.secho(f"stale: {names}: run `guruai-cache worker build`", err=True, fg=typer.colors.RED)
                raise typer.Exit(code=1)
            typer.echo("the Worker's generated files are up to date")
            return
        written = worker_build.build(echo)
    except _user_errors() as error:
        raise fail(str(error)) from None
    typer.echo(f"wrote {', '.join(paths.relative(p) for p in written)}" if written else "nothing to write: up to date")


@settings_app.command("check")
def settings_check(
    stack: Annotated[
        list[str] | None, typer.Option("--stack", "-s", metavar="STACK", help="Stack to check (repeatable).")
    ] = None,
) -> None:
    """Validate Pulumi.<stack>.yaml as the program would (the account id and a production stack's
    clients may come later: said, not failed), and across the committed stacks (no two share a
    rate-limiter namespace)."""
    from infra.settings import (
        SettingsError,
        committed_stack_settings,
        shared_limiter_issues,
        stack_file_deprecations,
        stack_file_settings,
        stack_file_token_issues,
    )
    from infra.settings.secrets import missing_production_clients

    failed = False
    committed = committed_stack_settings()  # each file read once; a stack is never compared with itself
    for name in stack or DEFAULT_STACKS:
        try:
            settings = committed[name] if name in committed else stack_file_settings(name)  # else: its error
            found = shared_limiter_issues(name, settings, committed)
            # "No clients yet" leaves a file valid: it only blocks a deploy (said below).
            token_issues = stack_file_token_issues(name, settings)
            missing = missing_production_clients(name)
            found += [issue for issue in token_issues if issue != missing]
            if found:
                raise SettingsError(name, found)
        except _user_errors() as error:
            typer.secho(str(error), err=True, fg=typer.colors.RED)
            failed = True
            continue
        typer.echo(f"{name}: settings valid")
        # Valid, but not deployable until the team makes its clients: preflight, preview and up stop on it.
        if missing in token_issues:
            typer.secho(f"  before deploying: {missing}", err=True, fg=typer.colors.YELLOW)
        for deprecation in stack_file_deprecations(name, settings):
            typer.secho(f"  warning: deprecated setting {deprecation}", err=True, fg=typer.colors.YELLOW)
    if failed:
        raise typer.Exit(code=2)


@app.command("openapi")
def openapi_command(
    stack: Annotated[str, typer.Option("--stack", "-s", help="The stack whose committed settings (its tiers) to use.")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="FILE", help="Write the spec to FILE instead of printing it."),
    ] = None,
) -> None:
    """The Worker's contract (worker/openapi.yaml) as STACK's Worker serves it: its configured
    tiers as the enum of the request fields that name one, so that a request valid for this spec
    is one that Worker accepts (for code generators, schemathesis, API explorers). Offline: reads
    Pulumi.<stack>.yaml only. Exit 2 on a stack without valid settings."""
    import yaml

    from infra.plan.api import stack_spec
    from infra.settings import stack_file_settings

    try:
        settings = stack_file_settings(stack)
    except _user_errors() as error:
        raise fail(str(error)) from None

    class Plain(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True  # each shared node written out in full: no &id001 anchors for a reader to chase

    document = stack_spec(tier.name for tier in settings.tiers)
    text = yaml.dump(document, Dumper=Plain, sort_keys=False, allow_unicode=True)
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text)
    except OSError as error:
        raise fail(f"--output {str(output)!r}: cannot write it ({error.strerror}); name a writable file") from None
    typer.echo(
        f"wrote {output} (the contract with the {stack} stack's tiers: {', '.join(t.name for t in settings.tiers)})"
    )


@app.command("plan")
def plan_command(
    stack: Annotated[str, typer.Option("--stack", "-s", help="The stack whose committed settings to plan.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan (or the difference) as JSON.")] = False,
    against: Annotated[
        str | None,
        typer.Option(metavar="REF", help="A git ref (e.g. origin/main): print what changes from its plan to this one."),
    ] = None,
) -> None:
    """The stack's resource graph as the program registers it, under its own strict mocks: no
    credentials, no Pulumi CLI, no network. Each resource's type, name, protect and retainOnDelete,
    the Worker's bindings (secret values hidden), the seeded keys and the outputs. With --against,
    the difference from the plan at REF (protection changes first). Exit 0 with or without
    differences; exit 2 on invalid settings."""
    from infra.tools import plan, plan_diff, plan_report

    try:
        if against is None:
            document = plan.current_plan(stack)
            typer.echo(json.dumps(document, indent=2) if as_json else plan_report.plan_text(document))
            return
        before = plan.plan_at(against, stack)  # first: a ref that cannot be planned fails fast
        difference = plan_diff.diff(before, plan.current_plan(stack))
    except _user_errors(ValueError) as error:
        raise fail(str(error)) from None
    typer.echo(json.dumps(difference, indent=2) if as_json else plan_report.diff_text(difference, against, "this tree"))


@migrations_app.command("check")
def migrations_check_command(
    against: Annotated[
        str | None,
        typer.Option(
            metavar="REF",
            help="The base the migrations are compared with (default: origin/main when this clone has it; "
            "without one, the checks that need a base are skipped and the output says so).",
        ),
    ] = None,
) -> None:
    """Offline: the integrity file (worker/migrations/migrations.sum) and the sequence; no merged
    migration edited, renamed or deleted; no statement remote D1 refuses; no lost column without
    `-- guruai: destructive: <why>`; the base's Worker statements still prepare on the migrated
    schema; no statement of the Worker reads a table row by row. One line per finding; exit 1 on a
    finding, 2 on a mistake (an unknown ref)."""
    from infra.tools import migrations_check

    try:
        report = migrations_check.check(paths.ROOT, against)
    except _user_errors() as error:
        raise fail(str(error)) from None
    for note in report.notes:
        typer.secho(f"note: {note}", err=True, fg=typer.colors.YELLOW)
    for finding in report.findings:
        typer.secho(finding.line(), err=True, fg=typer.colors.RED)
    if report.findings:
        raise typer.Exit(code=1)
    typer.echo("migrations check: ok")


@migrations_app.command("hash")
def migrations_hash_command(
    edited: Annotated[
        str | None,
        typer.Option(metavar="FILE", help="Record a reviewed edit of this merged migration (needs --reason)."),
    ] = None,
    reason: Annotated[str | None, typer.Option(help="Why the edit is safe for databases that applied it.")] = None,
    against: Annotated[
        str | None, typer.Option(metavar="REF", help="The base for --edited (default: origin/main).")
    ] = None,
) -> None:
    """Write worker/migrations/migrations.sum (its one writer): one hash per migration and a sum
    over them, keeping the recorded edits."""
    from infra.tools import migrations_check

    try:
        written = migrations_check.write_sum(paths.ROOT, edited, reason, against)
    except _user_errors() as error:
        raise fail(str(error)) from None
    typer.echo(f"wrote {written.relative_to(paths.ROOT)}")


@app.command("local")
def local_command(
    port: Annotated[int, typer.Option("--port", "-p", min=1, max=65535, help="Port for the Worker.")] = DEFAULT_PORT,
    ip: Annotated[
        str, typer.Option(help="Address to listen on; loopback by default, as the local tokens are no real secrets.")
    ] = DEFAULT_IP,
    no_start: Annotated[
        bool, typer.Option("--no-start", help="Prepare everything (tokens, migrations, seeds), then exit.")
    ] = False,
    reset: Annotated[
        bool, typer.Option("--reset", help="Delete the local KV and D1 data first (the local tokens stay).")
    ] = False,
    persist_to: Annotated[
        Path | None, typer.Option(help="Where local KV and D1 live (default: .wrangler/state, wrangler's own).")
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            help="The wrangler.toml to run (default: the project's); .dev.vars and .dev.tokens.json go next to it."
        ),
    ] = None,
) -> None:
    """Run the Worker locally on workerd: build the Worker (worker/dist); check wrangler.toml; keep one token per scope in
    .dev.tokens.json (made when missing) and write their digests, with the dev stack's clients, as
    the CLIENTS secret in .dev.vars; apply the D1 migrations; seed KV (config:tiers, config:catalog) and D1
    (devSubscriptions) from the dev stack's settings; then `wrangler dev`. Safe to re-run; Ctrl-C
    stops everything."""
    from infra.tools import local
    from infra.tools.render import LOCAL_SETTINGS_STACK

    default = local.default_project()
    project = local.LocalProject(
        config=(config or default.config).resolve(), persist_to=(persist_to or default.persist_to).resolve()
    )
    try:
        local.run(project, ip, port, start=not no_start, reset=reset, settings_stack=LOCAL_SETTINGS_STACK)
    except _user_errors() as error:
        raise fail(str(error)) from None


@app.command("estimate")
def estimate_command(
    stack: Annotated[str, typer.Option("--stack", "-s", help="Stack whose `traffic` settings to price.")] = "dev",
    as_json: Annotated[bool, typer.Option("--json", help="Print the estimate as JSON.")] = False,
    kv_counter: Annotated[
        bool,
        typer.Option("--kv-counter", help="Price the seed guide's KV-counter rate limiter instead of D1 counting."),
    ] = False,
    traffic: Annotated[
        list[str] | None,
        typer.Option("--traffic", "-t", help="KEY=VALUE: try another `traffic.<KEY>` than the stack's (repeatable)."),
    ] = None,
    account: Annotated[
        bool,
        typer.Option("--account", help="Also sum the committed stacks on the same account against its Free limits."),
    ] = False,
    finops: Annotated[
        bool,
        typer.Option(
            "--finops", help="Also the bill against hit ratio and users, month by month, and other designs in full."
        ),
    ] = False,
    from_metrics: Annotated[
        bool,
        typer.Option(
            "--from-metrics",
            help="Also price the KV and D1 operations the deployed Worker's data points recorded "
            "(Analytics Engine; as `metrics`, needs CLOUDFLARE_API_TOKEN), naming each setting they "
            "contradict and what the cache saves in time.",
        ),
    ] = False,
    since: Annotated[str, typer.Option(help="With --from-metrics: how far back, e.g. 24h or 7d.")] = "7d",
    picture: Annotated[
        bool, typer.Option("--picture", help="Also draw the bill as users grow and the Free plan's day.")
    ] = False,
    svg_file: Annotated[
        Path | None,
        typer.Option("--svg", help="Write that picture to FILE as a self-contained SVG (for a PR or a budget review)."),
    ] = None,
) -> None:
    """Estimate daily and monthly use, free-plan headroom and the Workers Paid bill from the stack's traffic."""
    from infra.cost.estimate import estimate, with_traffic
    from infra.cost.operations import OperationsTableError
    from infra.settings import SettingsError, stack_file_settings
    from infra.tools import traffic_option
    from infra.tools.estimate_report import print_estimate, print_lines

    try:
        settings = stack_file_settings(stack)
        try:
            settings = with_traffic(settings, traffic_option.parse(traffic or []), stack)
        except SettingsError as error:
            raise traffic_option.option_error(error, settings.traffic) from None
        result = estimate(settings, usage_store="kv-counter" if kv_counter else "d1")
        shared = _account_view(stack, settings, result) if account else None
        views = _finops_views(settings, result) if finops else None
        measured = _measured_view(stack, settings, result, since) if from_metrics else None
    except _user_errors(OperationsTableError) as error:
        raise fail(str(error)) from None
    extra_views = {"account": shared, "finops": views, "fromMetrics": measured}
    if as_json:
        extra = {key: view[1] for key, view in extra_views.items() if view is not None}
        typer.echo(json.dumps({"stack": stack, **result.to_json(), **extra}, indent=2))
        return
    print_estimate(result, stack)
    for view in extra_views.values():
        if view is not None:
            print_lines(view[0])
    if picture or svg_file is not None:
        from infra.cost.operations import load_operations
        from infra.tools import estimate_picture

        drawing = estimate_picture.picture(settings, result, load_operations(), stack)
        if picture:
            estimate_picture.print_picture(drawing)
        if svg_file is not None:
            try:
                svg_file.write_text(estimate_picture.svg(drawing, f"guruai-cache estimate --stack {stack}"))
            except OSError as error:
                raise fail(f"--svg {svg_file}: cannot write it ({error.strerror})") from None
            typer.echo(f"picture written to {svg_file}")


def _measured_view(stack: str, settings: Any, result: Any, since: str) -> tuple[list[str], dict[str, Any]]:
    """The traffic the deployed Worker's data points show (the `metrics` query), priced beside the settings'."""
    import datetime as dt

    from infra.tools import estimate_report, metrics

    span = metrics.parse_since(since)
    token = _api_token(f"export a token allowed {metrics.TOKEN_PERMISSION} on the account")
    account_id = settings.account_id or os.environ.get("CLOUDFLARE_ACCOUNT_ID")
    if account_id is None:
        raise UserError(
            f"stack {stack!r} has no account id: `pulumi config set accountId <32-hex id> --stack {stack}`, "
            "or export CLOUDFLARE_ACCOUNT_ID"
        )
    if not settings.metrics.enabled:
        raise UserError(f"stack {stack!r} sets metrics.enabled: false, so its Worker writes no data points")
    rows = metrics.run_operations(
        account_id,
        settings.names(stack).metrics_dataset,
        token,
        metrics.window_back_from(dt.datetime.now(dt.UTC), span),
        base_url=os.environ.get(metrics.BASE_URL_ENV) or metrics.DEFAULT_BASE_URL,
    )
    return estimate_report.measured_view(settings, result, rows, span)


def _finops_views(settings: Any, result: Any) -> tuple[list[str], dict[str, Any]]:
    from infra.cost import views
    from infra.cost.operations import load_operations
    from infra.tools.estimate_report import design_table_lines

    table = load_operations()
    grid = views.sensitivity(settings, result, table)
    months = views.growth(settings, table)
    options = views.designs(settings, table)
    lines = [
        *views.sensitivity_lines(grid),
        *views.growth_lines(months, result),
        *design_table_lines(options),
    ]
    as_json = {
        "sensitivity": {
            "hitRatios": list(grid.hit_ratios),
            "activeUsers": list(grid.users),
            "paidUsd": [[round(bill, 2) for bill in row] for row in grid.bills],
        },
        "growth": [{"month": m.month, "activeUsers": m.active_users, "paidUsd": round(m.paid_usd, 2)} for m in months],
        "designs": [
            {
                "design": d.name,
                "paidUsd": round(d.paid_usd, 2),
                "lookupsFromD1PerDay": round(d.lookups_from_d1, 2),
                "perDayOnPaid": {m.key: round(m.daily, 2) for m in d.paid.meters},
                "firstFreeLimit": _first_free(d.free),
            }
            for d in options
        ],
    }
    return lines, as_json


def _first_free(free: Any) -> dict[str, Any] | None:
    """The Free allowance a design's day uses up first, and when (JSON)."""
    from infra.cost.estimate import utc_clock

    first = free.first_used_up
    return None if first is None else {"limit": first.label, "usedUpAtUtc": utc_clock(first.exhausted_after_s)}


def _account_view(stack: str, settings: Any, result: Any) -> tuple[list[str], dict[str, Any]]:
    """The committed stacks on `stack`'s account (same accountId, or both unset), summed."""
    from infra.cost.account import account_estimate, account_lines
    from infra.cost.estimate import estimate
    from infra.plan.seeds import seed_entries
    from infra.settings.sources import committed_stacks, stack_file_settings

    stacks = {stack: (result, len(seed_entries(settings)))}
    for other in committed_stacks():
        if other == stack:
            continue
        other_settings = stack_file_settings(other)
        if other_settings.account_id == settings.account_id:
            stacks[other] = (estimate(other_settings), len(seed_entries(other_settings)))
    shared = account_estimate(stacks)
    as_json = {
        "accountId": settings.account_id,
        "stacks": list(shared.stacks),
        "seedWritesPerDeploy": shared.seed_writes,
        "limits": [
            {"limit": x.label, "amount": round(x.amount, 2), "freeLimit": x.limit, "per": x.per, "over": x.over}
            for x in shared.limits
        ],
    }
    return account_lines(shared, settings.account_id), as_json


@app.command("adopt")
def adopt_command(
    stack: Annotated[str, typer.Option("--stack", "-s", help="The stack that takes the resources over.")],
    write: Annotated[
        bool, typer.Option("--write", help="Put the adopt.* settings into Pulumi.<stack>.yaml (else only print them).")
    ] = False,
    kv_namespace: Annotated[
        str | None,
        typer.Option(help="Title of a hand-made namespace to adopt (default: the guide's `<appName>-cache`)."),
    ] = None,
    database: Annotated[
        str | None, typer.Option(help="Name of a hand-made D1 database to adopt (default: `<appName>-db`).")
    ] = None,
    settle: Annotated[
        bool,
        typer.Option(
            "--settle",
            help="After the `pulumi up` that imported them: remove from Pulumi.<stack>.yaml the adopt.* ids the "
            "stack's outputs show it manages (refused, nothing written, when one names another resource).",
        ),
    ] = False,
    outputs: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="With --settle: a file holding the stack's `pulumi stack output --json`, instead of asking Pulumi.",
        ),
    ] = None,
) -> None:
    """Find the account's namespaces and databases this stack should take over (the setup guide's
    hand-made ones, or the stack's own left by `pulumi destroy`) and print or write adopt.*.

    Needs CLOUDFLARE_API_TOKEN in the environment (Workers KV Storage: Read, D1: Read); `--settle`
    needs none.
    """
    from infra.tools import adopt

    try:
        if settle:
            adopt.run_settle(stack, outputs, echo=typer.echo)
            return
        token = _api_token("export a token that may read the account's KV and D1")
        adopt.run(stack, token, write_file=write, kv_title=kv_namespace, database=database, echo=typer.echo)
    except _user_errors() as error:
        raise fail(str(error)) from None


@app.command("preflight")
def preflight_command(
    stack: Annotated[str, typer.Option("--stack", "-s", help="The stack about to be deployed.")],
) -> None:
    """Before a stack's first `pulumi up`: the token is valid and may read what the deploy manages,
    the account has a workers.dev subdomain (when workersDev is on) and Analytics Engine enabled
    (when metrics.enabled), each a line: ok, or FAIL with the fix.

    Needs CLOUDFLARE_API_TOKEN in the environment (the token `pulumi up` will use) and the stack's
    account id (its `accountId` setting or CLOUDFLARE_ACCOUNT_ID). Reads only. Exit 1 when a check
    fails, 2 for a missing token, account id or invalid settings.
    """
    import cloudflare

    from infra.settings import SettingsError, stack_file_settings, stack_file_token_issues
    from infra.tools import preflight

    try:
        settings = stack_file_settings(stack)
        blockers = stack_file_token_issues(stack, settings)
        if blockers:
            raise SettingsError(stack, blockers)
        token = _api_token("export the token `pulumi up` will use")
        if settings.account_id is None:
            raise UserError(
                f"stack {stack!r} has no account id: `pulumi config set accountId <32-hex id> --stack {stack}`, "
                "or export CLOUDFLARE_ACCOUNT_ID"
            )
        plan = preflight.Plan.from_settings(stack, settings, settings.account_id)
    except _user_errors() as error:
        raise fail(str(error)) from None
    typer.echo(f"preflight of stack {stack} (account {plan.account_id})")
    with cloudflare.Cloudflare(api_token=token, max_retries=1) as client:
        checks = preflight.run(plan, client, progress=lambda check: typer.echo(preflight.line(check)))
    failed = sum(not check.ok for check in checks)
    if failed:
        typer.secho(f"{failed} check(s) failed: fix them before `pulumi up --stack {stack}`", err=True, fg="red")
        raise typer.Exit(code=1)
    typer.echo(f"ready for `pulumi up --stack {stack}`")


@app.command("verify")
def verify_command(
    stack: Annotated[str, typer.Option("--stack", "-s", help="Deployed stack to check.")] = "dev",
    url: Annotated[
        str | None,
        typer.Option(help="The Worker's base URL; default: the stack's `workerUrl` output (where it answers)."),
    ] = None,
    outputs: OutputsFile = None,
) -> None:
    """Check a deployed stack: seeded keys, a KV round trip in the preview namespace, the Worker's /health
    serving the catalog (tiers and flags) the stack's settings give.

    Needs CLOUDFLARE_API_TOKEN in the environment (never an option: it would land in shell history).
    Exit 1 when a check fails.
    """
    import cloudflare
    import httpx

    from infra.plan.catalog import catalog_document
    from infra.plan.seeds import seed_entries
    from infra.settings import stack_file_settings
    from infra.tools import verify
    from infra.tools.stack_outputs import stack_outputs

    try:
        token = _api_token("export the token the stack was deployed with")
        settings = stack_file_settings(stack)
        target = verify.target_from_outputs(
            stack,
            stack_outputs(stack, outputs, per_stack_option=False),
            seed_entries(settings),
            catalog_document(settings)["version"],
        )
    except _user_errors(ValueError) as error:
        raise fail(str(error)) from None
    typer.echo(f"verifying stack {stack} (account {target.account_id})")
    with cloudflare.Cloudflare(api_token=token) as client, httpx.Client(timeout=15, follow_redirects=True) as http:
        checks = verify.run(
            target,
            client,
            http,
            url,
            progress=lambda c: typer.echo(f"  {'ok  ' if c.ok else 'FAIL'} {c.name}"),
            note=lambda message: typer.echo(f"  ..   {message}"),
        )
    typer.echo("\n" + verify.table(checks))
    if not all(check.ok for check in checks):
        raise typer.Exit(code=1)


@app.command("metrics")
def metrics_command(
    stack: Annotated[str, typer.Option("--stack", "-s", help="Deployed stack whose Worker to report on.")],
    since: Annotated[
        str, typer.Option(help="How far back from now: a duration such as 30m, 24h or 7d (at most 90d).")
    ] = "24h",
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Requests, cache hit ratio, misses, denials and errors per route of a deployed stack's Worker,
    from its Analytics Engine data points (one per request).

    Needs CLOUDFLARE_API_TOKEN in the environment (Account Analytics: Read; never an option: it
    would land in shell history) and the stack's account id (its `accountId` setting or
    CLOUDFLARE_ACCOUNT_ID). Each run is one Analytics Engine read query.
    """
    from rich.console import Console

    from infra.settings import stack_file_settings
    from infra.tools import metrics

    try:
        span = metrics.parse_since(since)
        settings = stack_file_settings(stack)
        token = _api_token(f"export a token allowed {metrics.TOKEN_PERMISSION} on the account")
        if settings.account_id is None:
            raise UserError(
                f"stack {stack!r} has no account id: `pulumi config set accountId <32-hex id> --stack {stack}`, "
                "or export CLOUDFLARE_ACCOUNT_ID"
            )
        if not settings.metrics.enabled:
            raise UserError(f"stack {stack!r} sets metrics.enabled: false, so its Worker writes no data points")
        report = metrics.run(
            stack,
            settings.account_id,
            settings.names(stack).metrics_dataset,
            token,
            span,
            base_url=os.environ.get(metrics.BASE_URL_ENV) or metrics.DEFAULT_BASE_URL,
        )
    except _user_errors() as error:
        raise fail(str(error)) from None
    if as_json:
        typer.echo(json.dumps(report.to_json(), indent=2))
        return
    if not report.routes:
        typer.echo(
            f"stack {stack}: no data points from {report.window.label} in dataset {report.dataset} "
            "(the Worker writes one per request once deployed with metrics.enabled)"
        )
        return
    Console().print(metrics.table(report))


# --- restore and backup (issue 19): D1 Time Travel and exports ---------------------------------


@app.command("restore")
def restore_command(
    stack: Annotated[str, typer.Option("--stack", "-s", help="The stack whose D1 database to restore.")],
    bookmark: Annotated[str | None, typer.Option(help="The Time Travel bookmark to go back to.")] = None,
    before_last_deploy: Annotated[
        bool,
        typer.Option(
            "--before-last-deploy", help="Go back to the bookmark the last migrating deploy recorded (d1RestorePoint)."
        ),
    ] = False,
    timestamp: Annotated[
        str | None,
        typer.Option(help="Go back to this time: Unix seconds or RFC 3339 (e.g. a deploy's start, in its summary)."),
    ] = None,
    production_stack: Annotated[
        str | None, typer.Option(metavar="STACK", help="Required for a production stack: its name again.")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask (for scripts).")] = False,
    outputs: OutputsFile = None,
) -> None:
    """Restore a stack's D1 database to a Time Travel bookmark (`wrangler d1 time-travel restore`):
    shows what it will do, asks, then prints the bookmark that undoes it. Time Travel reaches back
    7 days on the Workers Free plan, 30 on Paid. Needs CLOUDFLARE_API_TOKEN (D1: Edit) and, unless
    --outputs, Pulumi (the stack's database and restore point are its outputs)."""
    from infra.settings import stack_file_settings
    from infra.tools import restore
    from infra.tools.apply_migrations import allowed_environment
    from infra.tools.stack_outputs import stack_outputs

    try:
        production = stack_file_settings(stack).is_production
        restore.production_guard(stack, production, production_stack)
        _api_token(f"export a token allowed {restore.PERMISSIONS} on the stack's account")
        target = restore.Target.from_outputs(stack, stack_outputs(stack, outputs, per_stack_option=False))
        env = allowed_environment(os.environ)
        chosen = restore.chosen_bookmark(target, bookmark, before_last_deploy, timestamp, env)
        if not yes and not typer.get_text_stream("stdin").isatty():
            typer.echo(restore.plan_text(target, chosen))
            raise UserError("no terminal to confirm on, nothing restored: add --yes if the plan above is what you want")
        restore.run(
            target,
            chosen,
            production=production,
            env=env,
            confirm=(lambda _: True) if yes else (lambda question: typer.confirm(question, default=False)),
            echo=typer.echo,
        )
    except _user_errors(restore.TimeTravelError) as error:
        raise fail(str(error)) from None


@app.command("backup")
def backup_command(
    stack: Annotated[str | None, typer.Option("--stack", "-s", help="The stack whose D1 database to export.")] = None,
    output: Annotated[
        Path | None,
        typer.Option(help="The SQL file to write (default: <database>-<UTC time>.sql here); never overwritten."),
    ] = None,
    local: Annotated[
        bool, typer.Option("--local", help="Export the local database `guruai-cache local` runs, not a stack's.")
    ] = False,
    config: Annotated[
        Path, typer.Option(help="With --local: the wrangler.toml whose local state to export.")
    ] = paths.WRANGLER_TOML,
    outputs: OutputsFile = None,
) -> None:
    """Export a D1 database, schema and rows, to a SQL file (`wrangler d1 export`): a copy beyond
    Time Travel's 7 (Free) or 30 (Paid) days. The remote database serves no queries while it is
    exported. Needs CLOUDFLARE_API_TOKEN (D1: Edit) unless --local."""
    import datetime as dt

    from infra.tools import backup, restore
    from infra.tools.apply_migrations import allowed_environment
    from infra.tools.stack_outputs import stack_outputs

    try:
        env = allowed_environment(os.environ)
        now = dt.datetime.now(dt.UTC)
        if local:
            written = backup.export_local(
                config.resolve(), backup.check_output(output or backup.default_output("local", now)), env
            )
        elif stack is None:
            raise UserError("give --stack STACK (a deployed stack's database) or --local")
        else:
            _api_token(f"export a token allowed {restore.PERMISSIONS} on the stack's account")
            target = restore.Target.from_outputs(stack, stack_outputs(stack, outputs, per_stack_option=False))
            written = backup.export_remote(
                target, backup.check_output(output or backup.default_output(target.database_name, now)), env
            )
    except _user_errors(backup.BackupError) as error:
        raise fail(str(error)) from None
    typer.echo(f"wrote {written} ({written.stat().st_size} bytes)")


if __name__ == "__main__":
    app()
