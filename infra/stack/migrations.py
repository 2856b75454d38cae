"""D1 migrations on deploy: one `command:local:Command` per database runs
infra/tools/apply_migrations.py, which runs `wrangler d1 migrations apply <db> --remote`.

The Command re-runs when a migration file changes (their content hash is its trigger) or
the database does; re-running is harmless, as wrangler applies only files its
`d1_migrations` table lacks. The API token reaches wrangler through the Command's
environment, a secret, never through its command line.
"""

from __future__ import annotations

import pulumi
import pulumi_cloudflare as cloudflare
from pulumi_command import local as command

from infra import paths
from infra.plan import migrations as plan

# Pulumi.yaml's `virtualenv: .venv`: the interpreter that runs the program runs the migrations too.
APPLY_COMMAND = f".venv/bin/python -m {plan.APPLY_MODULE}"


def apply_on_deploy(
    name: str,
    database: cloudflare.D1Database,
    account_id: str,
    token: pulumi.Input[str],
    parent: pulumi.Resource,
) -> command.Command:
    """Run the migrations against `database` whenever it or a migration file changes."""
    environment: dict[str, pulumi.Input[str]] = {
        plan.NAME_ENV: database.name,
        plan.ID_ENV: database.id,
        plan.ACCOUNT_ENV: account_id,
        plan.TOKEN_ENV: pulumi.Output.secret(token),
    }
    return command.Command(
        name,
        create=APPLY_COMMAND,
        # No `update`: on a change the provider runs `create` again, which is idempotent.
        dir=str(paths.ROOT),
        environment=environment,
        triggers=[plan.migrations_hash()],
        add_previous_output_in_env=False,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[database]),
    )
