"""Where things live in the repository: the one place that computes the root."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The Worker: its source modules, the bundle `guruai-cache worker build` makes of them (the one
# file `pulumi up` uploads and `wrangler dev` runs), its D1 schema, its contract, and the
# operations it performs per request.
WORKER_DIR = ROOT / "worker"
WORKER_SRC = WORKER_DIR / "src"
WORKER_ENTRY = WORKER_SRC / "index.js"
WORKER_CONTRACT_MODULE = WORKER_SRC / "contract.js"  # generated from infra/worker_contract.py
WORKER_ENV_TYPES = WORKER_SRC / "env.d.ts"  # generated from infra/plan/bindings.py
WORKER_BUNDLE = WORKER_DIR / "dist" / "worker.js"  # generated: the modules bundled by wrangler
OPENAPI_SPEC = WORKER_DIR / "openapi.yaml"
# The API's reference page: its route table is generated from OPENAPI_SPEC.
WORKER_API_DOCS = ROOT / "docs" / "worker-api.md"
MIGRATIONS_DIR = WORKER_DIR / "migrations"
OPERATIONS_TABLE = WORKER_DIR / "operations.json"

# The one rendered template, and the file rendered from it.
WRANGLER_TEMPLATE = ROOT / "templates" / "wrangler.toml"
WRANGLER_TOML = ROOT / "wrangler.toml"

# The pinned wrangler (package-lock.json), installed by scripts/setup.sh.
WRANGLER = ROOT / "node_modules" / ".bin" / "wrangler"


# The folder of the stack files (Pulumi.<stack>.yaml): the root, beside Pulumi.yaml. Every reader
# of stack files goes through here, so the tests point it at settings of their own (tests/stacks).
STACKS_DIR: Path = ROOT


def stack_file(stack: str) -> Path:
    """A stack's committed settings, Pulumi.<stack>.yaml."""
    return STACKS_DIR / f"Pulumi.{stack}.yaml"


def relative(path: Path) -> str:
    """A repository path as wrangler.toml spells it (relative to the root, forward slashes)."""
    return path.relative_to(ROOT).as_posix()
