"""A local HTTP stand-in for the Cloudflare API endpoints `guruai-cache verify`, `guruai-cache
adopt`, `guruai-cache metrics` and `guruai-cache preflight` call, and a Worker's /health.

It answers as the real API does (envelopes, status codes, error codes): 401/10000 for an
unknown token, 403/10000 for a token without KV permission or for another account,
404/10013 for an unknown namespace, 404/10009 for a missing key, 400 for an expiration
TTL under 60 s; a D1 database is read by its uuid (with its `jurisdiction` when it has one); the
KV namespace and D1 database lists page by `page`/`per_page` with a `result_info`, as the SDK's V4PagePaginationArray expects (it asks for the next page until
one comes back empty). It binds a free port on 127.0.0.1 and records every request.

D1 Time Travel (`guruai-cache restore`, the restore point the migrations record) answers the
bookmark and restore endpoints wrangler calls (`StubState.bookmarks`, `StubState.restores`).

For `preflight`: a token verifies at `/user/tokens/verify` (a user token) or only at
`/accounts/<id>/tokens/verify` (an account-owned one; the user endpoint answers it 401/1000, as it
does an unknown token); `StubState.denied` names the families the token may not read (403/10000);
an account without a workers.dev subdomain answers 404/10007 (wrangler's "not found"); and the
Analytics Engine SQL API answers 403 on an account where Analytics Engine is not enabled.

Analytics Engine's SQL API (`POST /accounts/<id>/analytics_engine/sql`) really runs the SQL it
is sent, in SQLite, over the data points loaded with `StubState.load_data_points` (the Worker's
own, as tests/e2e/recording_worker.js captured them), in a table per dataset with Analytics
Engine's columns: dataset, timestamp, _sample_interval, index1, blob1..blob20, double1..double20.
Analytics Engine's `toDateTime(<unix seconds>)` and `now()` are SQLite functions here, and the
`FORMAT` clause picks the answer's shape as Analytics Engine's does (JSON by default: meta, data,
rows; 64-bit integers quoted, as ClickHouse's JSON format does). SQL that SQLite cannot run is a
400 with the error as text, as a query Analytics Engine cannot run is.
"""

from __future__ import annotations

import datetime as dt
import email.parser
import json
import re
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

API_PREFIX = "/client/v4"
AE_BLOBS = AE_DOUBLES = 20
AE_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
FORMAT_CLAUSE = re.compile(r"\s+FORMAT\s+(\w+)\s*;?\s*$", re.I)


def _ae_time(value: Any) -> str:
    """Analytics Engine's toDateTime: unix seconds (number or digits) or 'YYYY-MM-DD hh:mm:ss'."""
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.isdigit()):
        return dt.datetime.fromtimestamp(int(value), dt.UTC).strftime(AE_TIME_FORMAT)
    return dt.datetime.strptime(str(value), AE_TIME_FORMAT).strftime(AE_TIME_FORMAT)


class AnalyticsEngine:
    """Datasets as SQLite tables with Analytics Engine's columns; thread-safe (the server is threaded)."""

    def __init__(self) -> None:
        self.db = sqlite3.connect(":memory:", check_same_thread=False)
        self.db.create_function("toDateTime", 1, _ae_time, deterministic=True)
        self.db.create_function("now", 0, lambda: dt.datetime.now(dt.UTC).strftime(AE_TIME_FORMAT))
        self.lock = threading.Lock()
        self.queries: list[str] = []

    def load(
        self, dataset: str, points: Iterable[Mapping[str, Any]], timestamp: dt.datetime, sample_interval: int
    ) -> None:
        columns = [f"blob{i}" for i in range(1, AE_BLOBS + 1)] + [f"double{i}" for i in range(1, AE_DOUBLES + 1)]
        with self.lock:
            self.db.execute(
                f'CREATE TABLE IF NOT EXISTS "{dataset}" (dataset TEXT, timestamp TEXT, _sample_interval INTEGER, '
                f"index1 TEXT, {', '.join(f'{c} TEXT' if c.startswith('blob') else f'{c} REAL' for c in columns)})"
            )
            for point in points:
                blobs, doubles = list(point.get("blobs") or []), list(point.get("doubles") or [])
                row = [dataset, timestamp.strftime(AE_TIME_FORMAT), sample_interval, (point.get("indexes") or [""])[0]]
                row += [*(str(b) for b in blobs), *[""] * (AE_BLOBS - len(blobs))]
                row += [*(float(d) for d in doubles), *[0.0] * (AE_DOUBLES - len(doubles))]
                self.db.execute(f'INSERT INTO "{dataset}" VALUES ({", ".join("?" * len(row))})', row)

    def run(self, sql: str) -> tuple[int, bytes, str]:
        """(status, body, content type) for one query, in the FORMAT it asks for."""
        self.queries.append(sql)
        match = FORMAT_CLAUSE.search(sql)
        output = (match.group(1) if match else "JSON").lower()
        statement = sql[: match.start()] if match else sql
        try:
            with self.lock:
                cursor = self.db.execute(statement)
                names = [column[0] for column in cursor.description or ()]
                rows = cursor.fetchall()
        except sqlite3.Error as error:
            return 400, f"error in query: {error}".encode(), "text/plain"
        if output == "tabseparated":
            text = "".join("\t".join(str(v) for v in row) + "\n" for row in rows)
            return 200, text.encode(), "text/tab-separated-values"
        records = [dict(zip(names, (self._json(v) for v in row), strict=True)) for row in rows]
        if output == "jsoneachrow":
            return 200, "".join(json.dumps(r) + "\n" for r in records).encode(), "application/x-ndjson"
        if output != "json":
            return 400, f"error in query: unknown format {match.group(1) if match else output}".encode(), "text/plain"
        meta = [{"name": n, "type": self._type([row[i] for row in rows])} for i, n in enumerate(names)]
        body = {"meta": meta, "data": records, "rows": len(records), "rows_before_limit_at_least": len(records)}
        return 200, json.dumps(body).encode(), "application/json"

    @staticmethod
    def _json(value: Any) -> Any:
        return str(value) if isinstance(value, int) else value  # ClickHouse quotes 64-bit integers

    @staticmethod
    def _type(values: list[Any]) -> str:
        kinds = {type(v) for v in values if v is not None}
        return "UInt64" if kinds == {int} else "Float64" if kinds <= {int, float} and kinds else "String"


@dataclass
class StubState:
    account_id: str
    token: str
    namespaces: dict[str, dict[str, bytes]]
    subdomain: str | None = "acme"  # None: the account never made one
    titles: dict[str, str] = field(default_factory=dict)  # namespace id -> title (the list endpoint)
    databases: dict[str, str] = field(default_factory=dict)  # D1 uuid -> name
    jurisdictions: dict[str, str] = field(default_factory=dict)  # D1 uuid -> "eu", "fedramp" (else none)
    read_only_token: str | None = None  # valid, but without Workers KV Storage permission
    # The Worker's /health answer; a list is answered in turn, its last answer repeated.
    health: tuple[int, dict | str] | list[tuple[int, dict | str]] = (200, {"status": "ok", "environment": "dev"})
    list_lag: int = 0  # how many list calls miss a fresh key (KV lists are eventually consistent)
    # KV reads are eventually consistent too: (namespace id, key) -> what the next reads answer, in
    # turn, before the stored value (None: 404/10009, a key this location has not seen yet).
    stale: dict[tuple[str, str], list[bytes | None]] = field(default_factory=dict)
    # preflight: the token's kind and status, what it may not read (of "account", "kv", "d1",
    # "scripts", "subdomain", "analytics", "zone:<id>"), Analytics Engine on the account.
    account_owned_token: bool = False
    token_status: str = "active"
    denied: set[str] = field(default_factory=set)
    analytics_engine_enabled: bool = True
    scripts: dict[str, list[dict]] = field(default_factory=dict)  # deployed Worker name -> its bindings
    requests: list[tuple[str, str, dict]] = field(default_factory=list)
    analytics: AnalyticsEngine = field(default_factory=AnalyticsEngine)
    _unlisted: dict[str, int] = field(default_factory=dict)
    # D1 Time Travel (`wrangler d1 time-travel info|restore`): each database's bookmarks, oldest
    # first, its last the current one; a restore to one of them makes a new current bookmark.
    bookmarks: dict[str, list[str]] = field(default_factory=dict)
    restores: list[tuple[str, str]] = field(default_factory=list)  # (database uuid, bookmark restored to)

    def load_data_points(
        self,
        dataset: str,
        points: Iterable[Mapping[str, Any]],
        timestamp: dt.datetime | None = None,
        sample_interval: int = 1,
    ) -> None:
        """Data points as the Worker writes them ({indexes, blobs, doubles}), received at `timestamp`
        (default now) and each standing for `sample_interval` of its kind (Analytics Engine's sampling)."""
        self.analytics.load(dataset, points, timestamp or dt.datetime.now(dt.UTC), sample_interval)


class _Handler(BaseHTTPRequestHandler):
    state: StubState

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass

    # --- plumbing -------------------------------------------------------------

    def _send(self, status: int, body: bytes | dict, content_type: str = "application/json") -> None:
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _ok(self, result, **extra) -> None:
        self._send(200, {"success": True, "errors": [], "messages": [], "result": result, **extra})

    def _error(self, status: int, code: int, message: str) -> None:
        self._send(
            status, {"success": False, "errors": [{"code": code, "message": message}], "messages": [], "result": None}
        )

    def _route(self, method: str) -> None:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.state.requests.append((method, parts.path, query))
        if parts.path in ("/worker/health", "/worker/v1/health"):  # the Worker answers both until 2027-06-30
            health = self.state.health
            status, payload = (health.pop(0) if len(health) > 1 else health[0]) if isinstance(health, list) else health
            return self._send(status, payload if isinstance(payload, dict) else payload.encode(), "application/json")
        if not parts.path.startswith(API_PREFIX + "/"):
            return self._send(404, b"not found", "text/plain")
        segments = [unquote(s) for s in parts.path[len(API_PREFIX) + 1 :].split("/")]
        token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
        if token not in (self.state.token, self.state.read_only_token):
            return self._error(401, 10000, "Authentication error")
        if segments == ["user", "tokens", "verify"] and method == "GET":
            if self.state.account_owned_token:
                return self._error(401, 1000, "Invalid API Token")
            return self._verified()
        if segments[:1] == ["zones"] and segments[2:] == ["workers", "routes"] and method == "GET":
            if f"zone:{segments[1]}" in self.state.denied:
                return self._error(403, 10000, "Authentication error")
            return self._ok([])
        if segments[:2] != ["accounts", self.state.account_id]:
            return self._error(403, 10000, "Authentication error")
        rest = segments[2:]
        family = self._family(rest)
        if family in self.state.denied:
            return self._error(403, 10000, "Authentication error")
        if rest == [] and method == "GET":
            return self._ok({"id": self.state.account_id, "name": "Acme", "settings": {}})
        if rest == ["tokens", "verify"] and method == "GET":
            if not self.state.account_owned_token:
                return self._error(401, 1000, "Invalid API Token")
            return self._verified()
        if rest == ["workers", "scripts"] and method == "GET":
            return self._ok([{"id": name} for name in sorted(self.state.scripts)])
        if rest[:2] == ["workers", "scripts"] and rest[3:] == ["settings"] and method == "GET":
            if rest[2] not in self.state.scripts:
                return self._error(404, 10007, "workers.api.error.script_not_found")
            return self._ok({"bindings": self.state.scripts[rest[2]]})
        if rest == ["analytics_engine", "sql"] and method == "POST":
            if not self.state.analytics_engine_enabled:
                return self._error(403, 10000, "Authentication error")
            status, payload, content_type = self.state.analytics.run(body.decode())
            return self._send(status, payload, content_type)
        if rest == ["workers", "subdomain"] and method == "GET":
            if self.state.subdomain is None:
                return self._error(404, 10007, "workers.api.error.not_found")
            return self._ok({"subdomain": self.state.subdomain})
        if rest == ["storage", "kv", "namespaces"] and method == "GET":
            if token == self.state.read_only_token:
                return self._error(403, 10000, "Authentication error")
            items = [{"id": i, "title": t, "supports_url_encoding": True} for i, t in sorted(self.state.titles.items())]
            return self._page(items, query, default_size=20, max_size=1000)
        if rest == ["d1", "database"] and method == "GET":
            items = [self._database(u) for u in sorted(self.state.databases)]
            return self._page(items, query, default_size=1000, max_size=10000)
        if rest[:2] == ["d1", "database"] and rest[3:4] == ["time_travel"] and len(rest) == 5:
            return self._time_travel(method, rest[2], rest[4], query)
        if rest[:2] == ["d1", "database"] and len(rest) == 3 and method == "GET":
            if rest[2] not in self.state.databases:  # the code is this stub's guess; the status is what matters
                return self._error(404, 7404, f"The database {rest[2]} could not be found")
            return self._ok(self._database(rest[2]))
        if rest[:3] == ["storage", "kv", "namespaces"] and len(rest) >= 5:
            if token == self.state.read_only_token:
                return self._error(403, 10000, "Authentication error")
            return self._kv(method, rest[3], rest[4:], query, body)
        return self._error(404, 7003, "Could not route to the requested resource")

    def _time_travel(self, method: str, uuid: str, action: str, query: dict) -> None:
        """D1 Time Travel as workers-sdk's src/d1/timeTravel/{utils,restore}.ts call it:
        GET .../time_travel/bookmark -> {bookmark}; POST .../time_travel/restore?bookmark=B ->
        {bookmark, previous_bookmark, message}. Error codes for an unknown bookmark are this stub's guess."""
        if uuid not in self.state.databases:
            return self._error(404, 7404, f"The database {uuid} could not be found")
        history = self.state.bookmarks.setdefault(uuid, [f"00000001-00000000-00004e4f-{uuid.replace('-', '')[:32]}"])
        if action == "bookmark" and method == "GET":  # with a `timestamp`: the oldest (the stub keeps no times)
            return self._ok({"bookmark": history[0] if "timestamp" in query else history[-1]})
        if action == "restore" and method == "POST":
            target = query.get("bookmark", "")
            if target not in history:
                return self._error(400, 7500, f"Invalid bookmark: {target}")
            previous = history[-1]
            history.append(f"{len(history) + 1:08x}-00000000-00004e4f-{uuid.replace('-', '')[:32]}")
            self.state.restores.append((uuid, target))
            return self._ok(
                {"bookmark": target, "previous_bookmark": previous, "message": "Database restored successfully"}
            )
        return self._error(404, 7003, "Could not route to the requested resource")

    def _verified(self) -> None:
        return self._ok({"id": "0" * 32, "status": self.state.token_status})

    @staticmethod
    def _family(rest: list[str]) -> str | None:
        """Which permission family an account path belongs to (StubState.denied)."""
        if not rest:
            return "account"
        if rest[:1] == ["storage"]:
            return "kv"
        if rest[:1] == ["d1"]:
            return "d1"
        if rest[:2] == ["workers", "scripts"]:
            return "scripts"
        if rest[:2] == ["workers", "subdomain"]:
            return "subdomain"
        if rest[:1] == ["analytics_engine"]:
            return "analytics"
        return None

    def _database(self, uuid: str) -> dict:
        """A D1 database object (the SDK's D1 / DatabaseListResponse); `jurisdiction` only when it has one."""
        found = {"uuid": uuid, "name": self.state.databases[uuid], "version": "production"}
        found["created_at"] = "2026-01-01T00:00:00Z"
        if uuid in self.state.jurisdictions:
            found["jurisdiction"] = self.state.jurisdictions[uuid]
        return found

    def _page(self, items: list[dict], query: dict, *, default_size: int, max_size: int) -> None:
        page, size = int(query.get("page", 1)), int(float(query.get("per_page", default_size)))
        if page < 1 or not 1 <= size <= max_size:
            return self._error(400, 10001, f"invalid page or per_page (per_page at most {max_size})")
        chunk = items[(page - 1) * size : page * size]
        info = {"page": page, "per_page": size, "count": len(chunk), "total_count": len(items)}
        return self._ok(chunk, result_info=info)

    def _kv(self, method: str, namespace_id: str, rest: list[str], query: dict, body: bytes) -> None:
        store = self.state.namespaces.get(namespace_id)
        if store is None:
            return self._error(404, 10013, f"{method.lower()}: 'namespace not found'")
        if rest == ["keys"] and method == "GET":
            names = sorted(k for k in store if k.startswith(query.get("prefix", "")))
            visible = []
            for name in names:
                if self.state._unlisted.get(name, 0) > 0:
                    self.state._unlisted[name] -= 1
                    continue
                visible.append({"name": name})
            return self._ok(visible, result_info={"count": len(visible), "cursor": ""})
        if len(rest) != 2 or rest[0] != "values":
            return self._error(404, 7003, "Could not route to the requested resource")
        key = rest[1]
        if len(key.encode()) > 512:
            return self._error(414, 10033, "key too long")
        if method == "GET":
            lagging = self.state.stale.get((namespace_id, key))
            if lagging:
                answer = lagging.pop(0)
                if answer is None:
                    return self._error(404, 10009, "get: 'key not found'")
                return self._send(200, answer, "application/octet-stream")
            if key not in store:
                return self._error(404, 10009, "get: 'key not found'")
            return self._send(200, store[key], "application/octet-stream")
        if method == "PUT":
            ttl = query.get("expiration_ttl")
            if ttl is not None and float(ttl) < 60:
                return self._error(400, 10034, f"Invalid expiration_ttl of {ttl}. Expiration TTL must be at least 60.")
            store[key] = self._multipart_value(body)
            self.state._unlisted[key] = self.state.list_lag
            return self._ok({})
        if method == "DELETE":
            store.pop(key, None)
            return self._ok({})
        return self._error(405, 10000, "method not allowed")

    def _multipart_value(self, body: bytes) -> bytes:
        content_type = self.headers.get("Content-Type", "")
        if not content_type.startswith("multipart/form-data"):
            return body
        message = email.parser.BytesParser().parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
        for part in message.get_payload():
            if part.get_param("name", header="content-disposition") == "value":
                return part.get_payload(decode=True)
        raise ValueError("multipart body without a `value` part")

    def do_GET(self) -> None:
        self._route("GET")

    def do_PUT(self) -> None:
        self._route("PUT")

    def do_DELETE(self) -> None:
        self._route("DELETE")

    def do_POST(self) -> None:
        self._route("POST")


class CloudflareStub:
    def __init__(self, state: StubState) -> None:
        handler = type("Handler", (_Handler,), {"state": state})
        self.state = state
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}{API_PREFIX}"

    @property
    def worker_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/worker"

    def __enter__(self) -> CloudflareStub:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()
