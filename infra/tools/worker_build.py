"""`guruai-cache worker build`: the one writer of the Worker's generated files.

1. worker/src/contract.js and worker/src/env.d.ts, rendered from the Python side
   (infra/plan/worker_source.py), and the route table of docs/worker-api.md, from the API's
   contract (infra/plan/api.py);
2. worker/dist/worker.js: the modules of worker/src bundled into one ES module by the pinned
   wrangler (`wrangler deploy --dry-run --outdir`, esbuild underneath). `pulumi up` uploads this
   file as the script's main module and wrangler.toml runs it as is (`no_bundle`), so local runs,
   the tests and deploys run the same bytes.

`--check` writes nothing and reports what is stale (the test suite runs it). The bundle is made
from a throwaway config at a fixed depth inside the repository (.wrangler/bundle-<pid>/), so the
paths esbuild writes into it are the same on every machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from infra import paths
from infra.plan import api
from infra.plan.worker_source import contract_module, env_declaration
from infra.tools.errors import UserError
from infra.tools.pinned_wrangler import wrangler_env, wrangler_path
from infra.tools.render import write_atomically

# The bundle does not depend on it (no nodejs_compat, no polyfills), but wrangler requires one.
BUNDLE_COMPATIBILITY_DATE = "2026-04-01"
# esbuild's pointer to a source map the upload does not carry: dropped from the bundle.
SOURCE_MAP_COMMENT = "//# sourceMappingURL="

Echo = Callable[[str], None]


@dataclass(frozen=True)
class Generated:
    path: Path
    text: str

    @property
    def current(self) -> bool:
        return self.path.exists() and self.path.read_text() == self.text


def generated_sources() -> list[Generated]:
    """The sources rendered from the Python side, as they should be on disk."""
    docs = paths.WORKER_API_DOCS.read_text()
    return [
        Generated(paths.WORKER_CONTRACT_MODULE, contract_module()),
        Generated(paths.WORKER_ENV_TYPES, env_declaration()),
        Generated(paths.WORKER_API_DOCS, api.with_docs_route_table(docs, api.docs_route_table())),
    ]


def bundle(root: Path = paths.ROOT) -> str:
    """The Worker's modules bundled by the pinned wrangler: the text of one ES module."""
    work = root / ".wrangler" / f"bundle-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        entry = Path("..", "..", paths.relative(paths.WORKER_ENTRY)).as_posix()
        (work / "wrangler.toml").write_text(
            f'name = "bundle"\nmain = "{entry}"\ncompatibility_date = "{BUNDLE_COMPATIBILITY_DATE}"\n'
            # No `__name(fn, "fn")` wrapper around every function and class (esbuild's keepNames,
            # wrangler's default): the Worker never reads a function's name, and the hit path paid for them.
            "keep_names = false\n"
        )
        command = [wrangler_path(), "deploy", "--dry-run", "--outdir", "out", "--config", "wrangler.toml"]
        result = subprocess.run(command, cwd=work, env=wrangler_env(), capture_output=True, text=True, timeout=180)
        if result.returncode != 0:
            detail = "\n".join((result.stderr.strip() or result.stdout.strip()).splitlines()[-20:])
            raise UserError(f"bundling the Worker failed (wrangler deploy --dry-run):\n{detail}")
        text = (work / "out" / paths.WORKER_ENTRY.name).read_text()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    kept = [line for line in text.splitlines() if not line.startswith(SOURCE_MAP_COMMENT)]
    return "\n".join(kept) + "\n"


def _bundled(echo: Echo) -> Generated:
    echo("bundling worker/src with the pinned wrangler...")
    return Generated(paths.WORKER_BUNDLE, bundle())


def stale(echo: Echo = lambda message: None) -> list[Path]:
    """The generated files that differ from what `build` would write (nothing is written)."""
    found = [item.path for item in generated_sources() if not item.current]
    if found:
        return found  # the bundle is made from the sources: it is stale too, whatever its bytes
    return [] if _bundled(echo).current else [paths.WORKER_BUNDLE]


def build(echo: Echo = lambda message: None) -> list[Path]:
    """Write every generated file that changed; returns those written. Each is replaced in one
    step: a running `wrangler dev` watches the bundle and must never read half of it."""
    written = [_write(item) for item in generated_sources() if not item.current]
    bundled = _bundled(echo)  # after the sources are written: it is made of them
    return [*written, *([_write(bundled)] if not bundled.current else [])]


def _write(item: Generated) -> Path:
    item.path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(item.path, item.text)
    return item.path
