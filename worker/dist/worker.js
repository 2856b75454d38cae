var __defProp = Object.defineProperty;
var __export = (target, all) => {
  for (var name in all)
    __defProp(target, name, { get: all[name], enumerable: true });
};

// ../../worker/src/contract.js
var SUBSCRIPTION_KEY_PREFIX = (
  /** @type {const} */
  "subscription:"
);
var USER_ID_PATTERN = new RegExp("^[A-Za-z0-9_-]{1,64}$");
var SUBSCRIPTION_STATUSES = (
  /** @type {const} */
  ["active", "trialing", "past_due", "canceled"]
);
var ACTIVE_STATUSES = (
  /** @type {const} */
  ["active", "trialing"]
);
var NEGATIVE_CACHE_TTL_S = (
  /** @type {const} */
  60
);
var SCOPES = (
  /** @type {const} */
  ["read", "usage", "write"]
);
var ROUTINE_OUTCOMES = (
  /** @type {const} */
  ["health", "tiers_get", "tiers_not_modified", "subscription_get_hit", "subscription_get_negative_hit", "entitlements_get_hit", "entitlements_get_negative_hit", "usage_post_allowed", "unauthorized", "not_found", "method_not_allowed", "client_rate_limited"]
);
var MAX_INDEX_BYTES = (
  /** @type {const} */
  96
);
var ROUTES = (
  /** @type {const} */
  { "/health": { "GET": null, "HEAD": null }, "/tiers": { "GET": "read", "HEAD": "read" }, "/subscriptions/{userId}": { "GET": "read", "HEAD": "read", "PUT": "write" }, "/entitlements/{userId}": { "GET": "read", "HEAD": "read" }, "/usage/{userId}": { "POST": "usage" } }
);
var OPERATION_IDS = (
  /** @type {const} */
  { "GET /health": "getHealth", "HEAD /health": "headHealth", "GET /tiers": "getTiers", "HEAD /tiers": "headTiers", "GET /subscriptions/{userId}": "getSubscription", "HEAD /subscriptions/{userId}": "headSubscription", "PUT /subscriptions/{userId}": "putSubscription", "GET /entitlements/{userId}": "getEntitlements", "HEAD /entitlements/{userId}": "headEntitlements", "POST /usage/{userId}": "postUsage" }
);
var API_VERSION = (
  /** @type {const} */
  "3.0.0"
);
var API_BASE_PATH = (
  /** @type {const} */
  "/v1"
);
var UNPREFIXED_HEADERS = (
  /** @type {const} */
  { "Deprecation": "@1796601600", "Sunset": "Wed, 30 Jun 2027 23:59:59 GMT" }
);
var VAR_DEFAULTS = (
  /** @type {const} */
  { "SUBSCRIPTION_TTL": 300, "TIERS_MAX_AGE": 3600, "USAGE_WINDOW_SECONDS": 86400, "USAGE_RETENTION_DAYS": 35, "ROUTINE_LOG_SAMPLE_RATE": 0.01, "ENTITLEMENTS_COUNT_MAX_AGE": 10, "BURST_RATE_LIMIT_LIMIT": 100, "BURST_RATE_LIMIT_PERIOD": 60, "CLIENT_RATE_LIMIT_PERIOD": 60, "IDEMPOTENCY_WINDOW_SECONDS": 86400 }
);

// ../../worker/src/state.js
var isolate = {
  /** The CLIENTS secret, parsed (again only when its text differs). */
  clients: (
    /** @type {{ text: string | undefined, parsed: import("./types.js").Client[] | null }} */
    {
      text: void 0,
      parsed: null
    }
  ),
  /** The CATALOG binding, validated (again only when the binding differs). */
  catalog: (
    /** @type {{ source: unknown, parsed: import("./types.js").Catalog | null }} */
    {
      source: void 0,
      parsed: null
    }
  ),
  /**
   * Today's count per user as this isolate last read it from D1 or counted it (POST /usage):
   * userId -> {windowStart, used, at (ms)}, in order of last use so the oldest goes first
   * (at most COUNT_CACHE_MAX_USERS). Another isolate's uses arrive once an entry is older than
   * ENTITLEMENTS_COUNT_MAX_AGE.
   * @type {Map<string, KeptCount>}
   */
  counts: /* @__PURE__ */ new Map(),
  /** Sampling rates parsed from their variables' text: "NAME=text" -> rate. @type {Map<string, number>} */
  rates: /* @__PURE__ */ new Map(),
  /** The current usage window and its end as text (made once per window). @type {UsageWindow | null} */
  window: null
};

// ../../worker/src/vars.js
function numericVar(env, name) {
  const parsed = Number.parseInt(env[name] ?? "", 10);
  return Number.isInteger(parsed) && parsed > 0 ? parsed : VAR_DEFAULTS[name];
}
function secondsVar(env, name) {
  const text = env[name];
  const parsed = Number(text);
  return text !== void 0 && text !== "" && Number.isInteger(parsed) && parsed >= 0 ? parsed : VAR_DEFAULTS[name];
}
function rateVar(env, name) {
  const text = env[name];
  const key = `${name}=${text}`;
  let rate = isolate.rates.get(key);
  if (rate === void 0) {
    const parsed = Number(text);
    rate = text !== void 0 && text !== "" && parsed >= 0 && parsed <= 1 ? parsed : VAR_DEFAULTS[name];
    isolate.rates.set(key, rate);
  }
  return rate;
}

// ../../worker/src/observe.js
function describe(error) {
  const message = error instanceof Error ? error.message : error;
  return String(message).slice(0, 500);
}
var CountingKV = class {
  /**
   * @param {KVNamespace} kv
   * @param {import("./types.js").Ops} ops
   */
  constructor(kv, ops) {
    this.kv = kv;
    this.ops = ops;
  }
  /** @param {string} key */
  getJson(key) {
    this.ops.kv_reads += 1;
    return this.kv.get(key, "json");
  }
  /**
   * @param {string} key
   * @param {string} value
   * @param {KVNamespacePutOptions} [options]
   */
  put(key, value, options) {
    this.ops.kv_writes += 1;
    return this.kv.put(key, value, options);
  }
  /** @param {string} key */
  delete(key) {
    this.ops.kv_deletes += 1;
    return this.kv.delete(key);
  }
};
var CountingDB = class {
  /**
   * @param {D1Database} db
   * @param {import("./types.js").Ops} ops
   */
  constructor(db, ops) {
    this.db = db;
    this.ops = ops;
  }
  /** @param {string} sql */
  prepare(sql) {
    return new CountingStatement(this.db.prepare(sql), this.ops);
  }
  /**
   * D1's batch: one transaction, each statement a query.
   * @param {CountingStatement[]} statements
   */
  async batch(statements) {
    this.ops.d1_queries += statements.length;
    const results = await this.db.batch(statements.map((s) => s.inner));
    for (const result of results) {
      this.ops.d1_rows_read += result.meta?.rows_read ?? 0;
      this.ops.d1_rows_written += result.meta?.rows_written ?? 0;
    }
    return results;
  }
};
var CountingStatement = class _CountingStatement {
  /**
   * @param {D1PreparedStatement} inner
   * @param {import("./types.js").Ops} ops
   */
  constructor(inner, ops) {
    this.inner = inner;
    this.ops = ops;
  }
  /** @param {unknown[]} values */
  bind(...values) {
    return new _CountingStatement(this.inner.bind(...values), this.ops);
  }
  /**
   * @template {Record<string, unknown>} [Row=Record<string, unknown>]
   * @returns {Promise<D1Result<Row>>}
   */
  async run() {
    this.ops.d1_queries += 1;
    const result = await this.inner.run();
    this.ops.d1_rows_read += result.meta?.rows_read ?? 0;
    this.ops.d1_rows_written += result.meta?.rows_written ?? 0;
    return (
      /** @type {D1Result<Row>} */
      result
    );
  }
};
var ROUTE_METHODS = new Set(Object.values(ROUTES).flatMap((methods) => Object.keys(methods)));
function writeDataPoint(env, log, ops) {
  if (!env.METRICS) return;
  const method = ROUTE_METHODS.has(log.method) ? log.method : "OTHER";
  const route = `${method} ${log.route ?? "(no route)"}`;
  const blobs = [route, log.outcome ?? "", log.cache ?? "", String(log.status), log.client ?? ""];
  const doubles = [
    ops.kv_reads,
    ops.kv_writes,
    ops.kv_deletes,
    ops.kv_lists,
    ops.d1_queries,
    ops.d1_rows_read,
    ops.d1_rows_written,
    log.duration_ms ?? 0
  ];
  try {
    env.METRICS.writeDataPoint({ indexes: [route.slice(0, MAX_INDEX_BYTES)], blobs, doubles });
  } catch (error) {
    log.metrics_error = describe(error);
  }
}
var ROUTINE = new Set(ROUTINE_OUTCOMES);
function routine(log) {
  return log.outcome !== null && ROUTINE.has(log.outcome) && (log.status ?? 500) < 500 && !(log.kv_error || log.d1_error || log.cache_api_error || log.ratelimiter_error || log.metrics_error || log.tier_fallback);
}
function emit(env, log, status) {
  if (routine(log)) {
    const rate = rateVar(env, "ROUTINE_LOG_SAMPLE_RATE");
    if (!(Math.random() < rate)) return;
    log.sample_rate = rate;
  }
  (status >= 500 ? console.error : console.log)(JSON.stringify(log));
}

// ../../worker/src/http.js
var HttpError = class extends Error {
  /**
   * @param {number} status
   * @param {import("./contract.js").ErrorCode} code
   * @param {string} message
   * @param {{ outcome: string, headers?: Record<string, string>, extra?: Record<string, unknown> }} details
   */
  constructor(status, code, message, { outcome, headers = {}, extra = {} }) {
    super(message);
    this.status = status;
    this.code = code;
    this.outcome = outcome;
    this.headers = headers;
    this.extra = extra;
  }
};
function json(c, body, status = 200, headers = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      "Content-Type": "application/json",
      "X-Request-Id": c.log.request_id,
      "X-Content-Type-Options": "nosniff",
      "Cache-Control": "no-store",
      ...headers
    }
  });
}
function errorJson(c, status, code, message, headers = {}, extra = {}) {
  return json(c, { error: { code, message, requestId: c.log.request_id, ...extra } }, status, headers);
}
function errorResponse(error, c) {
  if (error instanceof HttpError) {
    c.log.outcome = error.outcome;
    return errorJson(c, error.status, error.code, error.message, error.headers, error.extra);
  }
  c.log.outcome = "internal_error";
  c.log.error = describe(error);
  return errorJson(c, 500, "internal_error", `unexpected error; the Worker's logs have it under request id ${c.log.request_id}`);
}
function notModified(c, headers) {
  return new Response(null, {
    status: 304,
    headers: { "X-Request-Id": c.log.request_id, "X-Content-Type-Options": "nosniff", ...headers }
  });
}

// ../../worker/src/body.js
var MAX_BODY_BYTES = 4096;
var DRAIN_MAX_BYTES = 64 * 1024;
var decoder = new TextDecoder();
var invalid = (status, code, message) => new HttpError(status, code, message, { outcome: "invalid_request" });
var tooLarge = () => invalid(413, "body_too_large", `the body is over ${MAX_BODY_BYTES} bytes`);
async function readJsonObject(request) {
  if (Number(request.headers.get("Content-Length") ?? 0) > MAX_BODY_BYTES) throw tooLarge();
  const text = request.body ? await readBounded(request.body.getReader(), MAX_BODY_BYTES) : "";
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw invalid(400, "invalid_json", "the body is not JSON");
  }
  if (!body || typeof body !== "object" || Array.isArray(body)) {
    throw invalid(400, "invalid_body", 'the body must be a JSON object, e.g. {"tier": "pro", "status": "active"}');
  }
  return body;
}
async function readBounded(reader, max) {
  const buffer = new Uint8Array(max);
  let length = 0;
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    if (length + chunk.value.byteLength > max) {
      await discard(reader, length + chunk.value.byteLength);
      throw tooLarge();
    }
    buffer.set(chunk.value, length);
    length += chunk.value.byteLength;
  }
  return decoder.decode(buffer.subarray(0, length));
}
async function drainUnreadBody(body) {
  try {
    await discard(body.getReader(), 0);
  } catch {
  }
}
async function discard(reader, read) {
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    read += chunk.value.byteLength;
    if (read > DRAIN_MAX_BYTES) {
      await reader.cancel();
      return;
    }
  }
}

// ../../worker/src/context.js
var VERSIONED = `${API_BASE_PATH}/`;
function newOps() {
  return { kv_reads: 0, kv_writes: 0, kv_deletes: 0, kv_lists: 0, d1_queries: 0, d1_rows_read: 0, d1_rows_written: 0 };
}
var RequestContext = class {
  /**
   * @param {Env} env
   * @param {Request} request
   * @param {import("./types.js").Ops} ops
   */
  constructor(env, request, ops) {
    this.env = env;
    this.ops = ops;
    this.url = new URL(request.url);
    const { pathname } = this.url;
    this.legacy = !pathname.startsWith(VERSIONED);
    this.path = this.legacy ? pathname : pathname.slice(API_BASE_PATH.length);
    this.log = { event: "request", request_id: crypto.randomUUID(), method: request.method, route: null, outcome: null };
    this.kv = new CountingKV(env.KV, ops);
    this.client = null;
    this.countingDB = null;
  }
  get db() {
    this.countingDB ??= new CountingDB(this.env.DB, this.ops);
    return this.countingDB;
  }
  /** The authenticated client (routes that need a token run only after authentication). */
  get caller() {
    if (!this.client) throw new Error("no authenticated client on this request");
    return this.client;
  }
};

// ../../worker/src/legacy.js
var V1_ERROR_FIELDS = /* @__PURE__ */ new Set(["code", "message", "requestId"]);
async function toLegacy(response, method, c) {
  c.log.deprecated_path = true;
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(UNPREFIXED_HEADERS)) headers.set(name, value);
  if (c.log.route !== null) headers.set("Link", `<${API_BASE_PATH}${c.url.pathname}${c.url.search}>; rel="successor-version"`);
  let status = response.status;
  if (status === 201 && method === "PUT") status = 200;
  if (status < 400 || !headers.get("Content-Type")?.startsWith("application/json")) {
    return new Response(response.body, { status, headers });
  }
  const body = (
    /** @type {{ error: Record<string, unknown> }} */
    await response.json()
  );
  const { error } = body;
  if (status === 404 && error.code === "no_active_subscription") {
    if (method === "POST") status = 403;
    else error.code = "subscription_not_found";
  }
  const extras = Object.fromEntries(Object.entries(error).filter(([name]) => !V1_ERROR_FIELDS.has(name)));
  headers.delete("Content-Length");
  return new Response(JSON.stringify({ ...extras, error }), { status, headers });
}

// ../../worker/src/auth.js
var SHA256_HEX = /^[0-9a-f]{64}$/;
var BEARER = /^Bearer\s+(\S+)\s*$/i;
var REALM = 'Bearer realm="guruai-cache"';
var CLIENTS_FIX = "set it with `pulumi up` (the `clients` setting), or `guruai-cache local` (.dev.vars)";
var encoder = new TextEncoder();
async function authenticate(request, c) {
  const clients = readClients(c.env);
  const match = BEARER.exec(request.headers.get("Authorization") ?? "");
  const client = match ? await identify(match[1], clients) : null;
  if (!client) {
    throw new HttpError(401, "unauthorized", "send Authorization: Bearer <your client's token>", {
      outcome: "unauthorized",
      headers: { "WWW-Authenticate": match ? `${REALM}, error="invalid_token"` : REALM }
    });
  }
  c.log.client = client.name;
  return client;
}
async function identify(token, clients) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(token)));
  let found = null;
  for (const client of clients) {
    const same = crypto.subtle.timingSafeEqual(digest, client.digest);
    found = same && found === null ? client : found;
  }
  return found;
}
function requireScope(client, scope) {
  if (scope && !client.scopes.includes(scope)) {
    throw new HttpError(403, "insufficient_scope", `client ${JSON.stringify(client.name)} lacks the scope ${JSON.stringify(scope)} this route needs`, {
      outcome: "forbidden",
      headers: { "WWW-Authenticate": `${REALM}, error="insufficient_scope", scope="${scope}"` },
      extra: { requiredScope: scope }
    });
  }
}
function checkUserId(userId) {
  if (!USER_ID_PATTERN.test(userId)) {
    throw new HttpError(400, "invalid_user_id", "a user id is 1 to 64 characters among A-Z a-z 0-9 _ -", { outcome: "invalid_request" });
  }
}
function readClients(env) {
  const text = env.CLIENTS;
  if (text !== isolate.clients.text) isolate.clients = { text, parsed: parseClients(text) };
  if (!text) {
    throw new HttpError(503, "clients_unset", `the Worker has no CLIENTS secret: ${CLIENTS_FIX}`, { outcome: "misconfigured" });
  }
  if (!isolate.clients.parsed) {
    throw new HttpError(
      503,
      "clients_invalid",
      `the CLIENTS secret is not a JSON object of clients (name -> {"sha256": <hex>, "scopes": [...]}): ${CLIENTS_FIX}`,
      { outcome: "misconfigured" }
    );
  }
  return isolate.clients.parsed;
}
function parseClients(text) {
  let parsed;
  try {
    parsed = JSON.parse(text ?? "");
  } catch {
    return null;
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return null;
  const clients = [];
  for (const [name, entry] of Object.entries(parsed)) {
    const valid = entry && typeof entry.sha256 === "string" && SHA256_HEX.test(entry.sha256) && Array.isArray(entry.scopes) && entry.scopes.every((scope) => SCOPES.includes(
      /** @type {any} */
      scope
    ));
    if (!valid) return null;
    const digest = new Uint8Array(32);
    for (let i = 0; i < 32; i += 1) digest[i] = Number.parseInt(entry.sha256.slice(2 * i, 2 * i + 2), 16);
    clients.push({ name, digest, scopes: entry.scopes });
  }
  return clients.length > 0 ? clients : null;
}

// ../../worker/src/client_limit.js
async function passesLimiter(limiter, key, c) {
  try {
    const { success } = await limiter.limit({ key });
    return success;
  } catch (error) {
    c.log.ratelimiter_error = describe(error);
    return true;
  }
}
async function limitClient(c) {
  if (!await passesLimiter(c.env.CLIENT_LIMITER, c.caller.name, c)) {
    const period = numericVar(c.env, "CLIENT_RATE_LIMIT_PERIOD");
    throw new HttpError(429, "client_rate_limited", `too many requests by client ${JSON.stringify(c.caller.name)}; retry within ${period} s`, {
      outcome: "client_rate_limited",
      headers: { "Retry-After": String(period) }
    });
  }
}

// ../../worker/src/handlers/entitlements.js
var entitlements_exports = {};
__export(entitlements_exports, {
  getEntitlements: () => getEntitlements
});

// ../../worker/src/catalog.js
var CATALOG_FIX = "deploy with `pulumi up`, or re-run `guruai-cache local`";
function catalogOrNull(env) {
  if (env.CATALOG !== isolate.catalog.source) isolate.catalog = { source: env.CATALOG, parsed: parseCatalog(joined(env)) };
  return isolate.catalog.parsed;
}
function joined(env) {
  let header = env.CATALOG;
  if (typeof header === "string") {
    try {
      header = JSON.parse(header);
    } catch {
      return header;
    }
  }
  if (!isObject(header) || header.parts === void 0) return header;
  if (!Number.isInteger(header.parts) || header.parts < 1) return null;
  let text = "";
  for (let n = 1; n <= header.parts; n += 1) {
    const part = env[`CATALOG_PART_${n}`];
    if (typeof part !== "string") return null;
    text += part;
  }
  try {
    const document = JSON.parse(text);
    return isObject(document) && document.version === header.version ? document : null;
  } catch {
    return null;
  }
}
function readCatalog(env) {
  const catalog = catalogOrNull(env);
  if (env.CATALOG === void 0) {
    throw new HttpError(503, "tier_config_missing", `the Worker has no CATALOG binding (tiers and flags): ${CATALOG_FIX}`, {
      outcome: "tiers_missing"
    });
  }
  if (!catalog) {
    throw new HttpError(
      503,
      "tier_config_invalid",
      `the CATALOG binding is not {tiers: {name: {dailyRequestLimit: n >= 1, ...}}, flags, fallbackTier}: ${CATALOG_FIX}`,
      { outcome: "tiers_invalid" }
    );
  }
  return catalog;
}
function parseCatalog(source) {
  let catalog = source;
  if (typeof source === "string") {
    try {
      catalog = JSON.parse(source);
    } catch {
      return null;
    }
  }
  if (!isObject(catalog) || !isObject(catalog.tiers) || !isObject(catalog.flags ?? {})) return null;
  const tiers = Object.values(catalog.tiers);
  const validTiers = tiers.length > 0 && tiers.every((t) => isObject(t) && Number.isInteger(t.dailyRequestLimit) && t.dailyRequestLimit >= 1 && isStringList(t.features ?? []));
  const validFlags = Object.values(catalog.flags ?? {}).every((f) => isObject(f) && (f.tiers == null || isStringList(f.tiers)));
  if (!validTiers || !validFlags || !Object.hasOwn(catalog.tiers, catalog.fallbackTier)) return null;
  return {
    version: String(catalog.version ?? ""),
    tiers: catalog.tiers,
    flags: catalog.flags ?? {},
    fallbackTier: catalog.fallbackTier,
    features: /* @__PURE__ */ new Map()
    // tier -> its features, filled on first use (featuresOf)
  };
}
function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
function isStringList(value) {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}
function effectiveTier(subscription, catalog, c) {
  if (Object.hasOwn(catalog.tiers, subscription.tier)) return subscription.tier;
  c.log.tier_fallback = { tier: subscription.tier, applied: catalog.fallbackTier };
  return catalog.fallbackTier;
}
function featuresOf(catalog, tier) {
  let features = catalog.features.get(tier);
  if (!features) {
    const found = new Set(catalog.tiers[tier].features ?? []);
    for (const [name, flag] of Object.entries(catalog.flags)) {
      if (flag.enabled !== false && (flag.tiers == null || flag.tiers.includes(tier))) found.add(name);
    }
    features = [...found].sort();
    catalog.features.set(tier, features);
  }
  return features;
}

// ../../worker/src/ratelimit_fields.js
function dailyFields(env, limit, remaining, resetsAt, windowSeconds) {
  const untilReset = Math.max(0, resetsAt - Math.floor(Date.now() / 1e3));
  return {
    "RateLimit-Policy": `${burstPolicy(env)}, "daily";q=${limit};w=${windowSeconds}`,
    RateLimit: `"daily";r=${remaining};t=${untilReset}`
  };
}
function burstFields(env) {
  return { "RateLimit-Policy": burstPolicy(env), RateLimit: '"burst";r=0' };
}
function burstPolicy(env) {
  return `"burst";q=${numericVar(env, "BURST_RATE_LIMIT_LIMIT")};w=${numericVar(env, "BURST_RATE_LIMIT_PERIOD")}`;
}

// ../../worker/src/database.js
async function d1(c, query) {
  try {
    return await query();
  } catch (error) {
    c.log.d1_error = describe(error);
    throw new HttpError(503, "database_unavailable", "the database is unavailable; retry later", { outcome: "d1_unavailable" });
  }
}

// ../../worker/src/sql.js
var SUBSCRIPTION_COLUMNS = "user_id, tier, status, created_at, updated_at";
var SELECT_ACTIVE_SUBSCRIPTION = `SELECT ${SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE user_id = ?1 AND status IN (${ACTIVE_STATUSES.map((s) => `'${s}'`).join(", ")})`;
var UPSERT_SUBSCRIPTION = `INSERT INTO subscriptions (user_id, tier, status, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (user_id) DO UPDATE SET tier = excluded.tier, status = excluded.status, updated_at = excluded.updated_at RETURNING ${SUBSCRIPTION_COLUMNS}`;
var SUBSCRIPTION_VERSION = "(subscriptions.updated_at || ' ' || subscriptions.tier || ' ' || subscriptions.status)";
var CONDITIONAL_UPSERT_SUBSCRIPTION = `INSERT INTO subscriptions (user_id, tier, status, created_at, updated_at) SELECT ?1, ?2, ?3, ?4, ?4 WHERE ?5 = 1 OR EXISTS (SELECT 1 FROM subscriptions WHERE user_id = ?1) ON CONFLICT (user_id) DO UPDATE SET tier = excluded.tier, status = excluded.status, updated_at = excluded.updated_at WHERE ?6 = 1 AND (?7 IS NULL OR ${SUBSCRIPTION_VERSION} IN (SELECT value FROM json_each(?7))) AND (?8 IS NULL OR ${SUBSCRIPTION_VERSION} NOT IN (SELECT value FROM json_each(?8))) RETURNING ${SUBSCRIPTION_COLUMNS}`;
var SELECT_SUBSCRIPTION = `SELECT ${SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE user_id = ?1`;
var SELECT_USED = "SELECT count FROM usage WHERE window_start = ?1 AND user_id = ?2";
var COUNT_USE = "INSERT INTO usage (window_start, user_id, count) VALUES (?1, ?2, 1) ON CONFLICT (window_start, user_id) DO UPDATE SET count = count + 1 WHERE count < ?3 RETURNING count";
var DELETE_OLD_USAGE = "DELETE FROM usage WHERE window_start < ?1";
var CLAIM_KEY = "INSERT INTO usage_keys (key, fingerprint, owner, created_at, window_start, used_before, used, limit_value, tier, effective_tier) VALUES (?1, ?2, ?3, ?4, ?5, coalesce((SELECT count FROM usage WHERE window_start = ?5 AND user_id = ?6), 0), NULL, ?7, ?8, ?9) ON CONFLICT (key) DO UPDATE SET fingerprint = excluded.fingerprint, owner = excluded.owner, created_at = excluded.created_at, window_start = excluded.window_start, used_before = excluded.used_before, used = NULL, limit_value = excluded.limit_value, tier = excluded.tier, effective_tier = excluded.effective_tier WHERE usage_keys.created_at < ?10";
var COUNT_KEYED_USE = "INSERT INTO usage (window_start, user_id, count) SELECT ?1, ?2, 1 WHERE EXISTS (SELECT 1 FROM usage_keys WHERE key = ?4 AND owner = ?5) ON CONFLICT (window_start, user_id) DO UPDATE SET count = count + 1 WHERE count < ?3";
var STORE_KEYED_ANSWER = "UPDATE usage_keys SET used = coalesce((SELECT count FROM usage WHERE window_start = ?1 AND user_id = ?2), 0) WHERE key = ?3 AND owner = ?4";
var READ_KEY = "SELECT fingerprint, owner, window_start, used_before, used, limit_value, tier, effective_tier FROM usage_keys WHERE key = ?1";
var DELETE_OLD_KEYS = "DELETE FROM usage_keys WHERE created_at < ?1";

// ../../worker/src/subscription_cache.js
async function lookupSubscription(userId, c) {
  const key = SUBSCRIPTION_KEY_PREFIX + userId;
  let kvWorks = true;
  try {
    const cached = (
      /** @type {unknown} */
      await c.kv.getJson(key)
    );
    if (cached && typeof cached === "object" && "subscription" in cached) {
      c.log.cache = "hit";
      return { subscription: (
        /** @type {Lookup["subscription"]} */
        cached.subscription
      ), cache: "hit" };
    }
  } catch (error) {
    kvWorks = false;
    c.log.kv_error = describe(error);
  }
  if (kvWorks && await knownAbsent(userId, c)) {
    c.log.cache = "hit";
    return { subscription: null, cache: "hit" };
  }
  const subscription = await readSubscription(userId, c);
  const cache = kvWorks ? "miss" : "bypass";
  c.log.cache = cache;
  if (kvWorks && subscription) {
    try {
      await c.kv.put(key, JSON.stringify({ subscription }), { expirationTtl: Math.max(numericVar(c.env, "SUBSCRIPTION_TTL"), NEGATIVE_CACHE_TTL_S) });
    } catch (error) {
      c.log.kv_error = describe(error);
    }
  } else if (kvWorks) {
    await rememberAbsent(userId, c);
  }
  return { subscription, cache };
}
function absentKey(userId, c) {
  return `${c.url.protocol}//${c.url.host}/.negative/${SUBSCRIPTION_KEY_PREFIX}${userId}`;
}
async function knownAbsent(userId, c) {
  try {
    return await caches.default.match(absentKey(userId, c)) !== void 0;
  } catch (error) {
    c.log.cache_api_error = describe(error);
    return false;
  }
}
async function rememberAbsent(userId, c) {
  try {
    const entry = new Response(null, { headers: { "Cache-Control": `max-age=${NEGATIVE_CACHE_TTL_S}` } });
    await caches.default.put(absentKey(userId, c), entry);
  } catch (error) {
    c.log.cache_api_error = describe(error);
  }
}
async function forgetAbsent(userId, c) {
  try {
    await caches.default.delete(absentKey(userId, c));
  } catch (error) {
    c.log.cache_api_error = describe(error);
  }
}
async function readSubscription(userId, c) {
  const { results } = await d1(c, () => c.db.prepare(SELECT_ACTIVE_SUBSCRIPTION).bind(userId).run());
  return results.length ? subscriptionRecord(results[0]) : null;
}
function subscriptionRecord(row) {
  return (
    /** @type {import("./types.js").Subscription} */
    {
      userId: row.user_id,
      tier: row.tier,
      status: row.status,
      createdAt: row.created_at,
      updatedAt: row.updated_at
    }
  );
}
function lookupOutcome(prefix, { subscription, cache }) {
  const found = subscription ? cache === "hit" ? "hit" : "miss" : cache === "hit" ? "negative_hit" : "not_found";
  return `${prefix}_${found}${cache === "bypass" ? "_degraded" : ""}`;
}

// ../../worker/src/usage_counts.js
var COUNT_CACHE_MAX_USERS = 1e4;
function usageWindow(env) {
  const windowSeconds = numericVar(env, "USAGE_WINDOW_SECONDS");
  const windowStart = Math.floor(Date.now() / 1e3 / windowSeconds) * windowSeconds;
  const last = isolate.window;
  if (last && last.windowStart === windowStart && last.windowSeconds === windowSeconds) return last;
  const resetsAt = windowStart + windowSeconds;
  isolate.window = { windowStart, windowSeconds, resetsAt, resetsAtText: new Date(resetsAt * 1e3).toISOString() };
  return isolate.window;
}
async function todaysCount(userId, windowStart, c) {
  const maxAgeMs = secondsVar(c.env, "ENTITLEMENTS_COUNT_MAX_AGE") * 1e3;
  const known = isolate.counts.get(userId);
  if (known && known.windowStart === windowStart && Date.now() - known.at <= maxAgeMs) {
    c.log.usage_count = "memory";
    return known;
  }
  const { results } = await d1(c, () => c.db.prepare(SELECT_USED).bind(windowStart, userId).run());
  c.log.usage_count = "d1";
  return rememberCount(userId, windowStart, results.length ? Number(results[0].count) : 0);
}
function rememberCount(userId, windowStart, used) {
  const entry = { windowStart, used, at: Date.now() };
  const { counts } = isolate;
  counts.delete(userId);
  counts.set(userId, entry);
  if (counts.size > COUNT_CACHE_MAX_USERS) {
    const oldest = counts.keys().next();
    if (!oldest.done) counts.delete(oldest.value);
  }
  return entry;
}
function forgetCount(userId) {
  isolate.counts.delete(userId);
}

// ../../worker/src/handlers/entitlements.js
async function getEntitlements(_request, c, { userId }) {
  const catalog = readCatalog(c.env);
  const lookup = await lookupSubscription(userId, c);
  c.log.outcome = lookupOutcome("entitlements_get", lookup);
  const headers = { "X-Cache": lookup.cache.toUpperCase() };
  const { subscription } = lookup;
  if (!subscription) {
    return errorJson(c, 404, "no_active_subscription", `user ${userId} has no active subscription`, headers);
  }
  const tier = effectiveTier(subscription, catalog, c);
  const limit = catalog.tiers[tier].dailyRequestLimit;
  const { windowStart, windowSeconds, resetsAt, resetsAtText } = usageWindow(c.env);
  const { used, at } = await todaysCount(userId, windowStart, c);
  const remaining = Math.max(0, limit - used);
  return json(
    c,
    {
      userId,
      tier: subscription.tier,
      effectiveTier: tier,
      limit,
      used,
      remaining,
      resetsAt: resetsAtText,
      usageAsOf: new Date(at).toISOString(),
      features: featuresOf(catalog, tier)
    },
    200,
    { ...headers, ...dailyFields(c.env, limit, remaining, resetsAt, windowSeconds) }
  );
}

// ../../worker/src/handlers/health.js
var health_exports = {};
__export(health_exports, {
  getHealth: () => getHealth
});
function getHealth(_request, c) {
  c.log.outcome = "health";
  const catalog = catalogOrNull(c.env);
  return json(c, { status: "ok", apiVersion: API_VERSION, environment: c.env.ENVIRONMENT ?? null, catalogVersion: catalog?.version ?? null });
}

// ../../worker/src/handlers/subscriptions.js
var subscriptions_exports = {};
__export(subscriptions_exports, {
  getSubscription: () => getSubscription,
  putSubscription: () => putSubscription
});

// ../../worker/src/conditions.js
var encoder2 = new TextEncoder();
var decoder2 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
function subscriptionVersion({ updatedAt, tier, status }) {
  return `${updatedAt} ${tier} ${status}`;
}
function subscriptionEtag(subscription) {
  const bytes = encoder2.encode(subscriptionVersion(subscription));
  const base64 = btoa(String.fromCharCode(...bytes));
  return `"${base64.replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "")}"`;
}
function versionOf(opaque) {
  if (!/^[A-Za-z0-9_-]+$/.test(opaque)) return null;
  try {
    const binary = atob(opaque.replaceAll("-", "+").replaceAll("_", "/"));
    return decoder2.decode(Uint8Array.from(binary, (ch) => ch.charCodeAt(0)));
  } catch {
    return null;
  }
}
function entityTags(value) {
  if (value === null) return null;
  if (value.trim() === "*") return "*";
  const tags = [];
  for (const member of value.matchAll(/(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"/g)) {
    tags.push({ tag: member[2], weak: member[1] !== void 0 });
  }
  return tags;
}
function writeConditions(request) {
  const ifMatch = entityTags(request.headers.get("If-Match"));
  const ifNoneMatch = entityTags(request.headers.get("If-None-Match"));
  if (ifMatch === null && ifNoneMatch === null) return null;
  const versions = (tags) => JSON.stringify(tags.map(({ tag }) => versionOf(tag)).filter((v) => v !== null));
  return {
    // If-Match (any form) holds only for a subscription that exists.
    mayCreate: ifMatch === null ? 1 : 0,
    // If-None-Match: * holds only for one that does not.
    mayUpdate: ifNoneMatch === "*" ? 0 : 1,
    matchOneOf: ifMatch === null || ifMatch === "*" ? null : versions(ifMatch.filter(({ weak }) => !weak)),
    matchNoneOf: ifNoneMatch === null || ifNoneMatch === "*" ? null : versions(ifNoneMatch)
  };
}
function callerHasCurrent(request, etag) {
  const tags = entityTags(request.headers.get("If-None-Match"));
  if (tags === null) return false;
  return tags === "*" || tags.some(({ tag }) => `"${tag}"` === etag);
}

// ../../worker/src/handlers/subscriptions.js
async function getSubscription(_request, c, { userId }) {
  const lookup = await lookupSubscription(userId, c);
  c.log.outcome = lookupOutcome("subscription_get", lookup);
  const headers = { "X-Cache": lookup.cache.toUpperCase() };
  if (!lookup.subscription) {
    return errorJson(c, 404, "no_active_subscription", `user ${userId} has no active subscription`, headers);
  }
  return json(c, lookup.subscription, 200, { ...headers, ETag: subscriptionEtag(lookup.subscription) });
}
async function putSubscription(request, c, { userId }) {
  const body = await readJsonObject(request);
  const unknown = Object.keys(body).filter((field) => field !== "tier" && field !== "status");
  const status = Object.hasOwn(body, "status") ? body.status : "active";
  const problem = unknown.length > 0 ? `unknown field ${JSON.stringify(unknown[0])}; send {"tier": ..., "status": ...}` : typeof body.tier !== "string" ? 'field "tier" is required: the name of a configured tier' : !SUBSCRIPTION_STATUSES.includes(
    /** @type {any} */
    status
  ) ? `field "status" must be one of ${SUBSCRIPTION_STATUSES.join(", ")}` : null;
  if (problem || typeof body.tier !== "string") {
    throw new HttpError(400, "invalid_body", problem ?? "", { outcome: "invalid_request" });
  }
  const tier = body.tier;
  const { tiers } = readCatalog(c.env);
  if (!Object.hasOwn(tiers, tier)) {
    throw new HttpError(400, "unknown_tier", `tier ${JSON.stringify(tier)} is not configured; use one of ${Object.keys(tiers).join(", ")}`, {
      outcome: "subscription_put_unknown_tier"
    });
  }
  const now = (/* @__PURE__ */ new Date()).toISOString();
  const conditions = writeConditions(request);
  const { results } = await d1(
    c,
    () => conditions === null ? c.db.prepare(UPSERT_SUBSCRIPTION).bind(userId, tier, status, now).run() : c.db.prepare(CONDITIONAL_UPSERT_SUBSCRIPTION).bind(userId, tier, status, now, conditions.mayCreate, conditions.mayUpdate, conditions.matchOneOf, conditions.matchNoneOf).run()
  );
  if (!results.length) return preconditionFailed(userId, c);
  const record = subscriptionRecord(results[0]);
  const created = record.createdAt === record.updatedAt;
  const outcome = `${created ? "subscription_put_new" : "subscription_put"}${conditions === null ? "" : "_conditional"}`;
  await forgetAbsent(userId, c);
  try {
    await c.kv.delete(SUBSCRIPTION_KEY_PREFIX + userId);
    c.log.outcome = outcome;
  } catch (error) {
    c.log.kv_error = describe(error);
    c.log.outcome = `${outcome}_degraded`;
  }
  const etag = subscriptionEtag(record);
  return created ? json(c, record, 201, { ETag: etag, Location: `/v1/subscriptions/${userId}` }) : json(c, record, 200, { ETag: etag });
}
async function preconditionFailed(userId, c) {
  const { results } = await d1(c, () => c.db.prepare(SELECT_SUBSCRIPTION).bind(userId).run());
  const current = results.length ? subscriptionRecord(results[0]) : null;
  c.log.outcome = "subscription_put_precondition_failed";
  const message = current ? `user ${userId}'s subscription is not the version the request names (If-Match / If-None-Match); the current one's ETag is in the ETag header` : `user ${userId} has no subscription, and If-Match needs one; send the PUT without If-Match (or with If-None-Match: *) to create it`;
  return errorJson(c, 412, "precondition_failed", message, current ? { ETag: subscriptionEtag(current) } : {});
}

// ../../worker/src/handlers/tiers.js
var tiers_exports = {};
__export(tiers_exports, {
  getTiers: () => getTiers
});
function getTiers(request, c) {
  const { tiers, version } = readCatalog(c.env);
  const headers = { "Cache-Control": `private, max-age=${secondsVar(c.env, "TIERS_MAX_AGE")}`, ETag: `"${version}"` };
  if (callerHasCurrent(request, headers.ETag)) {
    c.log.outcome = "tiers_not_modified";
    return notModified(c, headers);
  }
  c.log.outcome = "tiers_get";
  return json(c, tiers, 200, headers);
}

// ../../worker/src/handlers/usage.js
var usage_exports = {};
__export(usage_exports, {
  postUsage: () => postUsage
});
var IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
async function postUsage(request, c, { userId }) {
  const key = idempotencyKey(request);
  const catalog = readCatalog(c.env);
  if (!await underBurstLimit(userId, c)) {
    const period = numericVar(c.env, "BURST_RATE_LIMIT_PERIOD");
    throw new HttpError(429, "burst_limited", `too many requests by this client for this user in a short time; retry within ${period} s`, {
      outcome: "usage_post_burst_limited",
      headers: { "Retry-After": String(period), ...burstFields(c.env) }
    });
  }
  const { subscription, cache } = await lookupSubscription(userId, c);
  const suffix = cache === "hit" ? "" : cache === "miss" ? "_cache_miss" : "_degraded";
  if (!subscription) {
    throw new HttpError(404, "no_active_subscription", `user ${userId} has no active subscription`, {
      outcome: `usage_post_no_subscription${suffix}`
    });
  }
  const tier = effectiveTier(subscription, catalog, c);
  const limit = catalog.tiers[tier].dailyRequestLimit;
  if (key !== null) return countKeyedUse(key, userId, limit, tier, subscription.tier, suffix, c);
  const { windowStart } = usageWindow(c.env);
  const { results } = await d1(c, () => c.db.prepare(COUNT_USE).bind(windowStart, userId, limit).run());
  const used = results.length ? Number(results[0].count) : null;
  const answer = { windowStart, limit, tier: subscription.tier, effectiveTier: tier, allowed: used !== null, used: used ?? limit };
  return usageAnswer(answer, userId, suffix, c, true);
}
function idempotencyKey(request) {
  const key = request.headers.get("Idempotency-Key");
  if (key === null) return null;
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new HttpError(400, "invalid_idempotency_key", "Idempotency-Key must be 1 to 255 printable ASCII characters (a UUID, say)", {
      outcome: "usage_post_invalid_idempotency_key"
    });
  }
  return key;
}
async function countKeyedUse(key, userId, limit, effectiveTier2, subscribedTier, suffix, c) {
  const { windowStart } = usageWindow(c.env);
  const owner = crypto.randomUUID();
  const now = Math.floor(Date.now() / 1e3);
  const expiredBefore = now - numericVar(c.env, "IDEMPOTENCY_WINDOW_SECONDS");
  const fingerprint = `${c.caller.name}:${userId}`;
  const batch = await d1(
    c,
    () => c.db.batch([
      c.db.prepare(CLAIM_KEY).bind(key, fingerprint, owner, now, windowStart, userId, limit, subscribedTier, effectiveTier2, expiredBefore),
      c.db.prepare(COUNT_KEYED_USE).bind(windowStart, userId, limit, key, owner),
      c.db.prepare(STORE_KEYED_ANSWER).bind(windowStart, userId, key, owner),
      c.db.prepare(READ_KEY).bind(key)
    ])
  );
  const row = (
    /** @type {Record<string, unknown>} */
    batch[3].results[0]
  );
  if (row.fingerprint !== fingerprint) {
    throw new HttpError(422, "idempotency_key_reused", `this Idempotency-Key was used for another request (another user or client) within ${numericVar(c.env, "IDEMPOTENCY_WINDOW_SECONDS")} s; use a new key for a new request`, {
      outcome: "usage_post_idempotency_key_reused"
    });
  }
  const fresh = row.owner === owner;
  const used = Number(row.used);
  const answer = {
    windowStart: Number(row.window_start),
    limit: Number(row.limit_value),
    tier: String(row.tier),
    effectiveTier: String(row.effective_tier),
    allowed: used > Number(row.used_before),
    used
  };
  if (!fresh) suffix = `_replayed${suffix}`;
  const response = usageAnswer(answer, userId, suffix, c, fresh);
  if (!fresh) response.headers.set("Idempotent-Replayed", "true");
  return response;
}
function usageAnswer(answer, userId, suffix, c, counted) {
  const { windowStart, limit, tier, used } = answer;
  const current = usageWindow(c.env);
  const resetsAt = windowStart + current.windowSeconds;
  const resetsAtText = windowStart === current.windowStart ? current.resetsAtText : new Date(resetsAt * 1e3).toISOString();
  const remaining = answer.allowed ? limit - used : 0;
  const headers = { "X-RateLimit-Limit": String(limit), "X-RateLimit-Remaining": String(remaining), "X-RateLimit-Reset": String(resetsAt) };
  const usage = { limit, resetsAt: resetsAtText };
  Object.assign(headers, dailyFields(c.env, limit, remaining, resetsAt, current.windowSeconds));
  if (!answer.allowed) {
    if (counted) forgetCount(userId);
    c.log.outcome = `usage_post_denied${suffix}`;
    headers["Retry-After"] = String(Math.max(1, resetsAt - Math.floor(Date.now() / 1e3)));
    return errorJson(c, 429, "daily_limit_exceeded", `user ${userId} used all ${limit} requests of tier ${answer.effectiveTier} for this window`, headers, {
      allowed: false,
      remaining: 0,
      ...usage
    });
  }
  if (counted) rememberCount(userId, windowStart, used);
  c.log.outcome = `usage_post_allowed${suffix}`;
  return json(c, { allowed: true, used, remaining, ...usage, tier, effectiveTier: answer.effectiveTier }, 200, headers);
}
function underBurstLimit(userId, c) {
  return passesLimiter(c.env.RATE_LIMITER, `usage:${c.caller.name}:${userId}`, c);
}

// ../../worker/src/routes.js
var BY_OPERATION_ID = { ...entitlements_exports, ...health_exports, ...subscriptions_exports, ...tiers_exports, ...usage_exports };
for (const [key, id] of Object.entries(OPERATION_IDS)) {
  const get = OPERATION_IDS[
    /** @type {keyof typeof OPERATION_IDS} */
    key.replace(/^HEAD /, "GET ")
  ];
  if (key.startsWith("HEAD ") && !(id in BY_OPERATION_ID) && get && get in BY_OPERATION_ID) BY_OPERATION_ID[id] = BY_OPERATION_ID[get];
}
function handlerMismatch(operations, handlers) {
  const named = Object.values(operations);
  return {
    unserved: Object.entries(operations).filter(([, id]) => typeof handlers[id] !== "function").map(([key, id]) => `${key} (${id})`),
    unrouted: Object.keys(handlers).filter((id) => !named.includes(id))
  };
}
var mismatch = handlerMismatch(OPERATION_IDS, BY_OPERATION_ID);
if (mismatch.unserved.length || mismatch.unrouted.length) {
  throw new Error(
    `the handlers do not match worker/openapi.yaml: no handler for ${mismatch.unserved.join(", ") || "-"}; no operation for ${mismatch.unrouted.join(", ") || "-"}`
  );
}
var ROUTE_TABLE = Object.entries(ROUTES).map(([template, methods]) => {
  const scopes = methods;
  return {
    template,
    methods: scopes,
    methodNames: Object.keys(scopes),
    handlers: Object.fromEntries(
      Object.keys(scopes).map((method) => [method, BY_OPERATION_ID[OPERATION_IDS[
        /** @type {keyof typeof OPERATION_IDS} */
        `${method} ${template}`
      ]]])
    ),
    open: Object.values(scopes).every((scope) => scope === null),
    parts: template.split("/").map((part) => part.startsWith("{") ? { param: part.slice(1, -1) } : part)
  };
});
function matchRoute(pathname) {
  const segments = pathname.split("/");
  for (const route of ROUTE_TABLE) {
    if (route.parts.length !== segments.length) continue;
    const params = {};
    let matches = true;
    for (let i = 0; i < segments.length && matches; i += 1) {
      const part = route.parts[i];
      if (typeof part === "string") matches = part === segments[i];
      else params[part.param] = segments[i];
    }
    if (matches) return { route, params };
  }
  return null;
}
function allow(request, route) {
  if (!route.methodNames.includes(request.method)) {
    const methods = route.methodNames;
    throw new HttpError(405, "method_not_allowed", `${request.method} is not allowed here; use ${methods.join(" or ")}`, {
      outcome: "method_not_allowed",
      headers: { Allow: methods.join(", ") }
    });
  }
}
async function handle(request, c) {
  const match = matchRoute(c.path);
  const route = match?.route;
  c.log.route = route?.template ?? null;
  if (route?.open) {
    allow(request, route);
    return route.handlers[request.method](request, c, {});
  }
  c.client = await authenticate(request, c);
  await limitClient(c);
  if (!match || !route) {
    throw new HttpError(404, "not_found", `no route for ${request.method} ${c.url.pathname}`, { outcome: "not_found" });
  }
  allow(request, route);
  requireScope(c.client, route.methods[request.method]);
  const { userId } = match.params;
  if (userId !== void 0) checkUserId(userId);
  return route.handlers[request.method](request, c, match.params);
}

// ../../worker/src/scheduled.js
function cronTime(event) {
  const now = Date.now();
  const scheduled = Number(event.scheduledTime);
  return Number.isFinite(scheduled) ? Math.min(scheduled, now) : now;
}
async function cleanUp(event, env) {
  const ops = newOps();
  const db = new CountingDB(env.DB, ops);
  const now = cronTime(event);
  const retentionDays = numericVar(env, "USAGE_RETENTION_DAYS");
  const cutoff = Math.floor(now / 1e3) - retentionDays * 86400;
  const log = { event: "scheduled", outcome: "scheduled_cleanup", cron: event.cron, cutoff: new Date(cutoff * 1e3).toISOString() };
  try {
    const result = await db.prepare(DELETE_OLD_USAGE).bind(cutoff).run();
    log.deleted = result.meta.changes ?? 0;
    const keys = await db.prepare(DELETE_OLD_KEYS).bind(Math.floor(now / 1e3) - numericVar(env, "IDEMPOTENCY_WINDOW_SECONDS")).run();
    log.deleted_keys = keys.meta.changes ?? 0;
  } catch (error) {
    Object.assign(log, { outcome: "scheduled_cleanup_failed", error: describe(error), ops });
    console.error(JSON.stringify(log));
    throw error;
  }
  console.log(JSON.stringify({ ...log, ops }));
}

// ../../worker/src/index.js
var index_default = {
  async fetch(request, env) {
    const started = Date.now();
    const c = new RequestContext(env, request, newOps());
    let response;
    try {
      response = await handle(request, c);
    } catch (error) {
      response = errorResponse(error, c);
    }
    if (c.legacy) response = await toLegacy(response, request.method, c);
    c.log.status = response.status;
    c.log.ops = c.ops;
    c.log.duration_ms = Date.now() - started;
    writeDataPoint(env, c.log, c.ops);
    emit(env, c.log, response.status);
    if (request.body !== null && !request.bodyUsed) await drainUnreadBody(request.body);
    return response;
  },
  async scheduled(event, env) {
    await cleanUp(event, env);
  }
};
export {
  index_default as default
};
