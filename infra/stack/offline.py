"""The Pulumi program run offline: under the project's strict mocks (infra/stack/mocks.py), with
no credentials, no Pulumi CLI and no network.

The tests run the program through `run_program` (tests/pulumi_mocks.py imports it from here), and
`guruai-cache plan` through `python -m infra.stack.offline` (`main`, below), which prints the
stack's resource graph as a plan document (infra/stack/plan_document.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import runpy
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import yaml

from infra import paths
from infra.plan.migrations import TOKEN_ENV as API_TOKEN_ENV
from infra.settings import load_settings, parse_config_values
from infra.settings.model import ACCOUNT_ID_ENV
from infra.settings.sources import stack_text_entries
from infra.stack.mocks import (
    ACCOUNT_ID,
    ACCOUNT_SUBDOMAIN,
    API_TOKEN,
    PROJECT,
    ROOT,
    ProgramRun,
    ProviderRejected,
    RecordingMonitor,
    Registered,
    StrictCloudflareMocks,
)
from infra.stack.plan_document import checked, plan_document, secrets_of


class _Warnings(logging.Handler):
    """What the program tells `pulumi preview`'s reader (pulumi.log.warn), kept in order."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def stack_config(stack: str) -> dict[str, Any]:
    """The stack file the program's readers read (paths.stack_file), as plain config values."""
    document = yaml.safe_load(paths.stack_file(stack).read_text()) or {}
    return dict(document.get("config") or {})


def as_engine_config(config: dict[str, Any]) -> dict[str, str]:
    """What the Pulumi engine hands the program: strings, structured values as JSON."""
    return {
        key if ":" in key else f"{PROJECT}:{key}": value if isinstance(value, str) else json.dumps(value)
        for key, value in config.items()
    }


def run_program(
    stack: str,
    overrides: dict[str, Any] | None = None,
    secrets: dict[str, str] | None = None,
    *,
    account_id: str | None = ACCOUNT_ID,
    api_token: str | None = API_TOKEN,
    dry_run: bool = False,
    config: dict[str, Any] | None = None,
) -> ProgramRun:
    """Run infra/__main__.py for `stack` with its stack file's config plus `overrides` (or with
    `config` instead of the file's), `secrets` handed over as Pulumi secrets."""
    config = {**(stack_config(stack) if config is None else config), **(overrides or {})}
    if account_id is not None:
        config.setdefault(f"{PROJECT}:accountId", account_id)
    secrets = dict(secrets or {})
    if api_token is not None:
        secrets.setdefault("cloudflare:apiToken", api_token)
    engine_config = as_engine_config({**config, **secrets})
    secret_keys = [key if ":" in key else f"{PROJECT}:{key}" for key in secrets]

    mocks = StrictCloudflareMocks()
    monitor = RecordingMonitor(mocks)
    warnings = _Warnings()
    logger = logging.getLogger(f"{__name__}.program")
    logger.propagate = False
    logger.handlers = [warnings]
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=dry_run, monitor=monitor, logger=logger)
    pulumi.runtime.set_all_config(engine_config, secret_keys=secret_keys)

    run = ProgramRun()
    exports: dict[str, Any] = {}
    real_export = pulumi.export

    async def capture(name: str, value: Any) -> None:
        # As the engine gets a stack output: massaged as Pulumi's Stack does, not lifted level by
        # level with Output.from_input (a task per nested value: the catalog made that 10x slower).
        massaged = pulumi.runtime.stack.massage(value, [])
        output = massaged if isinstance(massaged, pulumi.Output) else pulumi.Output.from_input(massaged)
        run.outputs[name] = await output.future()
        if await output.is_secret():
            run.secret_outputs.add(name)

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def program() -> Any:
        pulumi.export = exports.__setitem__  # type: ignore[assignment]
        try:
            runpy.run_path(str(ROOT / "infra" / "__main__.py"), run_name="__main__")
        finally:
            pulumi.export = real_export
        return asyncio.gather(*(capture(name, value) for name, value in exports.items()))

    program()
    run.invokes = mocks.invokes
    run.warnings = warnings.messages

    for urn, registration in monitor.resources.items():
        request = monitor.requests[urn]
        run.resources.append(
            Registered(
                type=urn.split("::")[2].split("$")[-1],
                name=urn.split("::")[-1],
                urn=urn,
                parent=request.parent,
                inputs=_inputs_of(request),
                id=registration.id,
                state=registration.state,
                protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete),
                dependencies=list(request.dependencies),
                import_id=request.importId,
                delete_before_replace=bool(request.deleteBeforeReplace),
            )
        )
    return run


def _inputs_of(request: Any) -> dict[str, Any]:
    inputs: dict[str, Any] = pulumi.runtime.rpc.deserialize_properties(request.object, keep_unknowns=True)
    return inputs


# --- `guruai-cache plan`: the program run here for a stack's committed settings --------------

# Always secret, even if a stack file holds one in plain text.
SECRET_KEYS = {f"{PROJECT}:serviceToken", "cloudflare:apiToken"}
# What stands in for an encrypted setting: a plan never decrypts one (it has no key to).
SECRET_PLACEHOLDER = "placeholder-for-an-encrypted-setting-" + "x" * 27


@dataclass(frozen=True)
class PlanConfig:
    plain: dict[str, Any]  # full key -> value, as the stack file holds it
    secrets: dict[str, str]  # full key -> the value the program gets (a placeholder when encrypted)
    notes: list[str]  # what the plan stood in for, in words


def _without_secure(value: Any) -> tuple[Any, bool]:
    """`value` with each `{secure: ...}` inside it replaced by the placeholder; whether there was one."""
    if isinstance(value, dict) and set(value) == {"secure"}:
        return SECRET_PLACEHOLDER, True
    if isinstance(value, dict):
        pairs = {key: _without_secure(item) for key, item in value.items()}
        return {key: pair[0] for key, pair in pairs.items()}, any(pair[1] for pair in pairs.values())
    if isinstance(value, list):
        items = [_without_secure(item) for item in value]
        return [item[0] for item in items], any(item[1] for item in items)
    return value, False


def plan_config(stack: str) -> PlanConfig:
    """The stack file's settings as the engine would hand them over, read as Pulumi reads the file.

    Encrypted values are never read: each is a placeholder, held as a secret. The account id, when
    the file has none, is the mocks' account (so ids and names can be formed), and said so.
    """
    path = paths.stack_file(stack)
    if not path.exists():
        raise FileNotFoundError(f"{path.name} not found: create the stack with `pulumi stack init {stack}`")
    plain: dict[str, Any] = {}
    secrets: dict[str, str] = {}
    notes: list[str] = []
    for key, raw in stack_text_entries(path.read_text(), path.name).items():
        value, encrypted = _without_secure(raw)
        if encrypted:
            notes.append(f"{key}: encrypted in {path.name}, not read (a placeholder stands in)")
        if encrypted or key in SECRET_KEYS:
            secrets[key] = value if isinstance(value, str) else json.dumps(value)
        else:
            plain[key] = value
    if f"{PROJECT}:accountId" not in plain:
        plain[f"{PROJECT}:accountId"] = ACCOUNT_ID
        notes.append(f"accountId: not in {path.name}; the plan uses {ACCOUNT_ID}")
    notes.append(
        f"ids and the workers.dev subdomain ({ACCOUNT_SUBDOMAIN}) are the mocks'; `${{name.id}}` is the id of the resource `name`"
    )
    if "cloudflare:apiToken" not in secrets:
        notes.append(f"{API_TOKEN_ENV}: a placeholder (the plan reaches no account)")
    return PlanConfig(plain, secrets, notes)


def plan(stack: str) -> str:
    """The plan document of `stack` (its file in paths.STACKS_DIR), as JSON text."""
    config = plan_config(stack)
    # As CI deploys: the provider's token from the environment, never the real one, no account id there.
    os.environ.pop(ACCOUNT_ID_ENV, None)
    os.environ[API_TOKEN_ENV] = API_TOKEN
    run = run_program(stack, config=config.plain, secrets=config.secrets, account_id=None, api_token=None)
    settings = load_settings(parse_config_values(as_engine_config(config.plain)), stack=stack, env={})
    document = plan_document(run, stack=stack, production=settings.is_production, notes=config.notes)
    return checked(document, secrets_of(run, [*config.secrets.values(), API_TOKEN]))


def main(argv: list[str] | None = None) -> int:
    """`python -m infra.stack.offline --stack S [--stacks-dir D]`: the plan document on stdout.

    Exit 2 with the program's own error list (invalid settings) or what the provider would
    refuse, on stderr; nothing else is printed there.
    """
    parser = argparse.ArgumentParser(prog="python -m infra.stack.offline", description=main.__doc__)
    parser.add_argument("--stack", required=True)
    parser.add_argument("--stacks-dir", type=Path, default=paths.STACKS_DIR, help="where Pulumi.<stack>.yaml is")
    args = parser.parse_args(argv)
    paths.STACKS_DIR = args.stacks_dir.resolve()
    try:
        text = plan(args.stack)
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 2
    except pulumi.RunError as error:  # the program's own: invalid settings, listed
        print(error, file=sys.stderr)
        return 2
    except ProviderRejected as error:
        print(f"the provider would refuse it: {error}", file=sys.stderr)
        return 2
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
