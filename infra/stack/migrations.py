"""D1 migrations on deploy: one `command:local:Command` per database runs
infra/tools/apply_migrations.py, which checks the database's tables and then runs
`wrangler d1 migrations apply <db> --remote`.

The Command re-runs when its inputs change: the migration files (their content hash is its
trigger) or the database. So its inputs hold nothing that varies between machines or
runs. `dir` is the checkout relative to the working directory Pulumi gives the program and
its providers (with `main: infra/`, the checkout's `infra/`: so `..`), not an absolute path
that differs per clone. The API token is an input only when it comes from stack config
(`cloudflare:apiToken`, then a secret in the state); from the environment,
`CLOUDFLARE_API_TOKEN` reaches the command through the provider's own environment, which
pulumi-command's local provider passes on, so rotating the token re-runs nothing.
"""

from __future__ import annotations

import os

import pulumi
import pulumi_cloudflare as cloudflare
from pulumi_command import local as command

from infra import paths
from infra.plan import migrations as plan

# Pulumi.yaml's `virtualenv: .venv`: the interpreter that runs the program runs the migrations too.
APPLY_COMMAND = f".venv/bin/python -m {plan.APPLY_MODULE}"


def checkout_dir() -> str:
    """The checkout, relative to the working directory the program (and so the provider) runs in."""
    return os.path.relpath(paths.ROOT)


def apply_on_deploy(
    name: str,
    database: cloudflare.D1Database,
    account_id: str,
    token: pulumi.Input[str] | None,
    parent: pulumi.Resource,
) -> command.Command:
    """Run the migrations against `database` whenever it or a migration file changes.

    `token`: the API token from stack config, or None when the environment carries it.
    """
    environment: dict[str, pulumi.Input[str]] = {
        plan.NAME_ENV: database.name,
        plan.ID_ENV: database.id,
        plan.ACCOUNT_ENV: account_id,
    }
    if token is not None:
        environment[plan.TOKEN_ENV] = pulumi.Output.secret(token)
    return command.Command(
        name,
        create=APPLY_COMMAND,
        # No `update`: on a change the provider runs `create` again, which is idempotent.
        dir=checkout_dir(),
        environment=environment,
        triggers=[plan.migrations_hash()],
        add_previous_output_in_env=False,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[database]),
    )


def restore_point(migrations: command.Command) -> pulumi.Output[str | None]:
    """The bookmark the migrations printed before changing the database (its stdout is kept in
    the state until they run again). Only the bookmark is read, so it is a plain output even when
    the Command's inputs carry the token as a secret."""
    return pulumi.Output.unsecret(migrations.stdout.apply(plan.restore_point))
