"""The real Worker under `wrangler dev` (workerd), for the e2e tests.

The local environment is prepared by the same code as `guruai-cache local`
(infra.tools.local), in a temporary folder with its own config rendered from the
test's settings: the developer's wrangler.toml, .dev.vars and .wrangler/ state are
never touched. The tests run the Worker's bundle (worker/dist/worker.js) behind tests/e2e/recording_worker.js, which
records its Analytics Engine data points (wrangler's local binding keeps none). The load
benchmarks (bench/) use this module too, on the Worker alone.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import tomlkit

from infra import paths
from infra.plan import wrangler_toml
from infra.plan.api import base_path
from infra.settings import Settings, stack_file_settings
from infra.tools import local, wrangler_dev
from infra.tools.render import LOCAL_SETTINGS_STACK

ROOT = paths.ROOT
LOG_WAIT_S = 15.0
API_BASE_PATH = base_path()  # "/v1": every request goes there unless `legacy`
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")

# Small limits, so the limit tests need few requests: a tier whose daily limit is reached
# by a few concurrent requests, and a burst limit above that (so the two never mix).
SMALL_TIER = {"name": "starter", "monthlyPrice": 1, "dailyRequestLimit": 10, "features": ["basic-search"]}
BURST_LIMIT = 40
# The client limiter: out of the way of the shared Worker's tests (they send thousands of requests
# as `tester` within a minute); the limiter's own tests run a Worker with CLIENT_LIMIT_SMALL.
CLIENT_LIMIT = 100_000
CLIENT_LIMIT_SMALL = 20
# Configured clients, as a stack's `clients` setting holds them (their tokens known only to the
# tests, as an app keeps its own): `tester` has every scope (most tests call as it); `app-a` and
# `app-b` count usage for the same users (the per-client burst limit).
CLIENT_TOKENS = {
    "tester": "e2e-tester-" + "t" * 40,
    "app-a": "e2e-app-a-" + "a" * 40,
    "app-b": "e2e-app-b-" + "b" * 40,
}
CLIENT_SCOPES = {"tester": ["read", "usage", "write"], "app-a": ["read", "usage"], "app-b": ["read", "usage"]}


# Flags beside the dev stack's: one for a single tier, one switched off (entitlements).
EXTRA_FLAGS = {"starter-tour": {"enabled": True, "tiers": ["starter"]}, "retired-search": False}
# Every routine log line written, so a test can find any request's line (tests set the rate
# per request with `worker_env` to see the sampling itself).
ROUTINE_LOG_SAMPLE_RATE = 1
# Short, so a test sees a count in memory expire.
ENTITLEMENTS_COUNT_MAX_AGE = 2


def worker_env(**variables: object) -> dict[str, str]:
    """Headers that override the Worker's variables for one request (tests/e2e/recording_worker.js)."""
    return {"X-Test-Env": json.dumps({name: str(value) for name, value in variables.items()})}


def sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def e2e_settings(client_limit: int = CLIENT_LIMIT) -> Settings:
    """The tests' dev stack (tests/stacks, as `guruai-cache local` uses the team's), plus the small tier,
    burst limit, client limit and clients."""
    base = stack_file_settings(LOCAL_SETTINGS_STACK).model_dump(by_alias=True, mode="json")
    base["tiers"] = [*base["tiers"], SMALL_TIER]
    base["burstRateLimit"] = {**base["burstRateLimit"], "limit": BURST_LIMIT, "period": 60}
    base["clientRateLimit"] = {**base.get("clientRateLimit", {}), "limit": client_limit, "period": 60}
    base["featureFlags"] = {**base["featureFlags"], **EXTRA_FLAGS}
    base["clients"] = {
        name: {"scopes": CLIENT_SCOPES[name], "tokenSha256": sha256(token)} for name, token in CLIENT_TOKENS.items()
    }
    base["requestLog"] = {"routineSampleRate": ROUTINE_LOG_SAMPLE_RATE}
    base["entitlementsCountMaxAge"] = ENTITLEMENTS_COUNT_MAX_AGE
    return Settings.model_validate(base, context={"require_account": False, "stack": "dev"})


def free_port(ip: str = wrangler_dev.DEFAULT_IP) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((ip, 0))
        port: int = probe.getsockname()[1]
        return port


def make_project(directory: Path, persist_to: Path, settings: Settings | None = None) -> local.LocalProject:
    """A throwaway project folder: the repository's worker/ (linked), its own state, and, given
    settings, its own config rendered from them (as `guruai-cache wrangler render` would)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "worker").symlink_to(paths.WORKER_DIR, target_is_directory=True)
    project = local.LocalProject(config=directory / "wrangler.toml", persist_to=persist_to)
    if settings is not None:
        project.config.write_text(wrangler_toml.render(settings, {}))
    return project


@dataclass
class RunningWorker:
    url: str
    local_tokens: dict[str, str]  # scope -> the local client `local-<scope>`'s token
    project: local.LocalProject
    settings: Settings
    log_path: Path
    process: subprocess.Popen[str]
    client: httpx.Client = field(init=False)
    # Sent with every request (see `sending`), under each request's own.
    extra_headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.client = httpx.Client(base_url=self.url, timeout=30)

    @property
    def api_url(self) -> str:
        """The API's base URL: the Worker's, under /v1 (the servers' URLs in worker/openapi.yaml)."""
        return self.url + API_BASE_PATH

    @property
    def token(self) -> str:
        """The configured client `tester`'s token: every scope."""
        return CLIENT_TOKENS["tester"]

    @contextlib.contextmanager
    def sending(self, headers: dict[str, str]) -> Any:
        """Add `headers` to every request made within (e.g. `worker_env(...)`)."""
        before = dict(self.extra_headers)
        self.extra_headers.update(headers)
        try:
            yield self
        finally:
            self.extra_headers = before

    def request(
        self, method: str, path: str, *, token: str | None = "default", legacy: bool = False, **kwargs: Any
    ) -> httpx.Response:
        """`path` under the API's base path (/v1), or as is with `legacy` (API 2.0.0's paths)."""
        headers = {**self.extra_headers, **kwargs.pop("headers", {})}
        if token == "default":
            token = self.token
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return self.client.request(method, path if legacy else API_BASE_PATH + path, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def put(self, path: str, body: Any, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", path, json=body, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def log_lines(self) -> list[dict[str, Any]]:
        """The Worker's structured log lines (wrangler prints them verbatim among its own output)."""
        lines = []
        for raw in self.log_path.read_text(errors="replace").splitlines():
            line = ANSI_ESCAPE.sub("", raw)  # console.error lines come as "✘ [ERROR] {...}", coloured
            start = line.find('{"event"')
            if start >= 0:
                with contextlib.suppress(json.JSONDecodeError):
                    lines.append(json.loads(line[start:]))
        return lines

    def log_for(self, response: httpx.Response) -> dict[str, Any]:
        """The log line of one request, found by its X-Request-Id (polled: wrangler flushes asynchronously)."""
        request_id = response.headers["X-Request-Id"]
        return self.wait_for_log(
            lambda line: line.get("event") == "request" and line.get("request_id") == request_id,
            f"request {request_id}",
        )

    def data_points_for(self, response: httpx.Response) -> dict[str, Any]:
        """What recording_worker.js printed for one request: the data points it wrote (printed
        after the response, so after the request's own log line, if any)."""
        request_id = response.headers["X-Request-Id"]
        return self.wait_for_log(
            lambda line: line.get("event") == "data_points" and line.get("request_id") == request_id,
            f"the data points of request {request_id}",
        )

    def has_log_for(self, response: httpx.Response) -> bool:
        """Whether the request wrote its log line: asked once its data points are in (printed after)."""
        self.data_points_for(response)
        request_id = response.headers["X-Request-Id"]
        return any(line.get("event") == "request" and line.get("request_id") == request_id for line in self.log_lines())

    def wait_for_log(self, matches: Any, what: str, after: int = 0) -> dict[str, Any]:
        """The last log line (from the `after`-th on) that `matches`, polled until it appears."""
        deadline = time.monotonic() + LOG_WAIT_S
        while True:
            found = [line for line in self.log_lines()[after:] if matches(line)]
            if found:
                return found[-1]
            if time.monotonic() > deadline:
                raise AssertionError(f"no log line for {what} in {self.log_path}")
            time.sleep(0.05)

    def wrangler(self, *args: str) -> subprocess.CompletedProcess[str]:
        """A wrangler command against this Worker's local stores."""
        return local.run_wrangler(
            self.project, [*args, "--local", "--persist-to", str(self.project.persist_to)], " ".join(args[:3])
        )

    def d1(self, sql: str) -> list[dict[str, Any]]:
        result = self.wrangler("d1", "execute", "DB", "--command", sql, "--json")
        return json.loads(result.stdout)[0]["results"]

    def close(self) -> None:
        self.client.close()


def start_worker(
    project: local.LocalProject,
    settings: Settings,
    local_tokens: dict[str, str],
    log_path: Path,
    main: str | None = None,
) -> RunningWorker:
    """`wrangler dev` on the project's config, or with `main` (a wrapper in tests/e2e, e.g.
    recording_worker.js) in its place; the project stays the one prepared and seeded."""
    served = wrapped_config(project, log_path.parent / f"served-{Path(main).stem}", main) if main else project
    port = free_port()
    log = log_path.open("w")
    # An inspector port of its own too: wrangler's default, 9229, is taken by any other `wrangler dev`
    # on the machine (another test session), and workerd then exits ("Address already in use").
    inspector = ("--inspector-port", str(free_port()))
    process = wrangler_dev.start(
        served.config, served.persist_to, port, output=log, extra_args=inspector, test_scheduled=True
    )
    log.close()  # the child holds its own descriptor
    worker = RunningWorker(f"http://127.0.0.1:{port}", local_tokens, project, settings, log_path, process)
    try:
        wrangler_dev.wait_until_ready(worker.url, process)
    except (wrangler_dev.WranglerDevError, OSError):
        wrangler_dev.stop(process)
        raise AssertionError(f"wrangler dev did not start:\n{log_path.read_text()[-3000:]}") from None
    return worker


@contextlib.contextmanager
def own_worker(root: Path, settings: Settings) -> Iterator[RunningWorker]:
    """A Worker of its own on `settings`, in `root` (project, state, log), prepared as
    `guruai-cache local` prepares it; stopped on exit."""
    project = make_project(root / "project", root / "state", settings)
    running = start_worker(project, settings, local.prepare(settings, project), root / "wrangler-dev.log")
    try:
        yield running
    finally:
        running.close()
        wrangler_dev.stop(running.process)


def wrapped_config(project: local.LocalProject, directory: Path, main: str) -> local.LocalProject:
    """The same config and local stores, with a test wrapper of tests/e2e (around the real Worker) as main."""
    directory.mkdir(parents=True, exist_ok=True)
    document = tomlkit.parse(project.config.read_text())
    document["main"] = str(ROOT / "tests" / "e2e" / main)
    document["no_bundle"] = False  # the wrapper imports the Worker's bundle: wrangler bundles the two
    wrapped = local.LocalProject(config=directory / "wrangler.toml", persist_to=project.persist_to)
    wrapped.config.write_text(tomlkit.dumps(document))
    wrapped.dev_vars.write_text(project.dev_vars.read_text())
    wrapped.dev_vars.chmod(0o600)
    return wrapped


def fault_config(project: local.LocalProject, directory: Path) -> local.LocalProject:
    """tests/e2e/fault_worker.js as main: the real Worker with a binding failing on request."""
    return wrapped_config(project, directory, "fault_worker.js")
