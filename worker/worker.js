// The cache Worker: subscriptions cached in KV in front of D1, the tier config and flags
// from a binding that changes with the deploy, daily usage counted in D1, and named clients
// with scopes. One ES module, no imports: the Pulumi program uploads this file as is
// (main_module "worker.js") and `wrangler dev` runs it on workerd. worker/openapi.yaml is
// its contract.
//
// Bindings (infra/plan/worker.py): KV, DB, RATE_LIMITER, METRICS (Analytics Engine, optional);
// vars ENVIRONMENT, SUBSCRIPTION_TTL, TIERS_MAX_AGE, USAGE_WINDOW_SECONDS, USAGE_RETENTION_DAYS,
// ROUTINE_LOG_SAMPLE_RATE, ENTITLEMENTS_COUNT_MAX_AGE, BURST_RATE_LIMIT_PERIOD; json CATALOG (tiers, flags, fallbackTier,
// version); secret CLIENTS (name -> {sha256, scopes}).
//
// Every request is counted, cheaply: one Analytics Engine data point (route, outcome, cache
// result, status, client, and the KV and D1 operations it performed, counted by wrappers
// around env.KV and env.DB). Its structured log line (JSON, the same fields and more) is
// written for every miss, error, denial and write; routine answers (ROUTINE_OUTCOMES: cache
// hits, /health, /tiers, a counted use) are logged at ROUTINE_LOG_SAMPLE_RATE, since each
// line is a billed Workers Logs event and the slowest part of the hit path.
// worker/operations.json lists, per outcome, the operations, the data point and whether the
// line is always written; the e2e tests compare it with what this file really does.

// Shared with the Python side (infra/worker_contract.py, same names): tests/test_worker_contract.py
// holds these equal to it.
const SUBSCRIPTION_KEY_PREFIX = "subscription:";
// Same rule as the settings' devSubscriptions: no id can spell another key (":", "/", "..").
const USER_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const SUBSCRIPTION_STATUSES = ["active", "trialing", "past_due", "canceled"];
// The statuses that entitle a user; others are "no active subscription" (404, cached negatively).
const ACTIVE_STATUSES = ["active", "trialing"];
const NEGATIVE_CACHE_TTL_S = 60; // KV's minimum expirationTtl
// The settings' defaults of the plain-text variables, used if one is missing.
const VAR_DEFAULTS = { SUBSCRIPTION_TTL: 300, TIERS_MAX_AGE: 3600, USAGE_WINDOW_SECONDS: 86400, USAGE_RETENTION_DAYS: 35, ROUTINE_LOG_SAMPLE_RATE: 0.01, ENTITLEMENTS_COUNT_MAX_AGE: 10, BURST_RATE_LIMIT_PERIOD: 60 };
const SCOPES = ["read", "usage", "write"];
// Every route: path template -> method -> the scope it needs (null: no token). The router
// below serves exactly these; worker/openapi.yaml describes exactly these.
const ROUTES = { "/health": { GET: null, HEAD: null }, "/tiers": { GET: "read" }, "/subscriptions/{userId}": { GET: "read", PUT: "write" }, "/usage/{userId}": { POST: "usage" }, "/entitlements/{userId}": { GET: "read" } };
// Answers on the hot path, whose log line is sampled (unless something unusual happened).
const ROUTINE_OUTCOMES = ["health", "tiers_get", "subscription_get_hit", "subscription_get_negative_hit", "entitlements_get_hit", "entitlements_get_negative_hit", "usage_post_allowed"];
// The Analytics Engine data point: the field that is its index, and the fields of its blobs and doubles, in order.
const METRICS_DATA_POINT = { index: "route", blobs: ["route", "outcome", "cache", "status", "client"], doubles: ["kv_reads", "kv_writes", "kv_deletes", "kv_lists", "d1_queries", "d1_rows_read", "d1_rows_written", "duration_ms"] };
const MAX_BODY_BYTES = 4096;
// Analytics Engine takes an index of at most 96 bytes.
const MAX_INDEX_BYTES = 96;
// Users whose count GET /entitlements may serve from memory; the least recently counted go first.
const COUNT_CACHE_MAX_USERS = 10000;
const SHA256_HEX = /^[0-9a-f]{64}$/;

const SUBSCRIPTION_COLUMNS = "user_id, tier, status, created_at, updated_at";
const SELECT_ACTIVE_SUBSCRIPTION =
  `SELECT ${SUBSCRIPTION_COLUMNS} FROM subscriptions ` +
  `WHERE user_id = ?1 AND status IN (${ACTIVE_STATUSES.map((s) => `'${s}'`).join(", ")})`;
const UPSERT_SUBSCRIPTION =
  "INSERT INTO subscriptions (user_id, tier, status, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4) " +
  "ON CONFLICT (user_id) DO UPDATE SET tier = excluded.tier, status = excluded.status, " +
  `updated_at = excluded.updated_at RETURNING ${SUBSCRIPTION_COLUMNS}`;
// Today's count, by primary key (GET /entitlements).
const SELECT_USED = "SELECT count FROM usage WHERE window_start = ?1 AND user_id = ?2";
// Atomic: the increment happens only while under the limit, so a denied request changes
// nothing and returns no row; concurrent requests can neither over- nor under-count.
const COUNT_USE =
  "INSERT INTO usage (window_start, user_id, count) VALUES (?1, ?2, 1) " +
  "ON CONFLICT (window_start, user_id) DO UPDATE SET count = count + 1 WHERE count < ?3 " +
  "RETURNING count";
const DELETE_OLD_USAGE = "DELETE FROM usage WHERE window_start < ?1";

// The hot path (a cache hit, /health) is kept lean, measured by bench/guide_comparison.py:
// no log line (sampled), routes matched on a table split once per isolate, KV and D1 counted by
// classes rather than per-request closures (wrangler's bundle wraps every closure it creates), D1's
// wrapper made only when a request queries it, the data point's arrays written out, and each
// answer made once with all its headers (json()), never patched afterwards.
export default {
  async fetch(request, env) {
    const started = Date.now();
    const ops = newOps();
    const url = new URL(request.url);
    const log = { event: "request", request_id: crypto.randomUUID(), method: request.method, route: null, outcome: null };
    const c = new RequestContext(env, log, ops, url);
    let response;
    try {
      response = await handle(request, c);
    } catch (error) {
      response = errorResponse(error, c);
    }
    log.status = response.status;
    log.ops = ops;
    log.duration_ms = Date.now() - started;
    writeDataPoint(env, log, ops);
    if (routine(log)) {
      const rate = rateVar(env, "ROUTINE_LOG_SAMPLE_RATE");
      if (!(Math.random() < rate)) return response;
      log.sample_rate = rate; // this line stands for 1/rate like it
    }
    // Error level for 5xx, so they stand out in Workers Logs.
    (response.status >= 500 ? console.error : console.log)(JSON.stringify(log));
    return response;
  },

  // The cron job: delete usage rows older than the retention window. KV expires its keys by
  // itself (every cached entry has a TTL); D1 keeps rows until something deletes them.
  async scheduled(event, env) {
    const ops = newOps();
    const db = new CountingDB(env.DB, ops);
    const now = event.scheduledTime ?? Date.now();
    const retentionDays = numericVar(env, "USAGE_RETENTION_DAYS");
    const cutoff = Math.floor(now / 1000) - retentionDays * 86400;
    const log = { event: "scheduled", outcome: "scheduled_cleanup", cron: event.cron, cutoff: new Date(cutoff * 1000).toISOString() };
    try {
      const result = await db.prepare(DELETE_OLD_USAGE).bind(cutoff).run();
      log.deleted = result.meta.changes ?? 0;
    } catch (error) {
      Object.assign(log, { outcome: "scheduled_cleanup_failed", error: String(error?.message ?? error), ops });
      console.error(JSON.stringify(log));
      throw error; // the cron run shows as failed in Cloudflare's dashboard
    }
    console.log(JSON.stringify({ ...log, ops }));
  },
};

// --- routing ---------------------------------------------------------------------------

async function handle(request, c) {
  const match = matchRoute(c.url.pathname);
  const route = match?.route;
  c.log.route = route?.template ?? null; // known before the token is: a 401 is counted on its route
  if (route?.open) {
    allow(request, route.methodNames, c);
    return health(c);
  }
  const client = await authenticate(request, c);
  if (!route) {
    c.log.outcome = "not_found";
    throw new HttpError(404, "not_found", `no route for ${request.method} ${c.url.pathname}`);
  }
  allow(request, route.methodNames, c);
  requireScope(client, route.methods[request.method], c);
  const { userId } = match.params;
  if (userId !== undefined) checkUserId(userId, c);
  c.client = client;
  switch (`${request.method} ${route.template}`) {
    case "GET /tiers":
      return getTiers(c);
    case "GET /subscriptions/{userId}":
      return getSubscription(userId, c);
    case "PUT /subscriptions/{userId}":
      return putSubscription(request, userId, c);
    case "POST /usage/{userId}":
      return postUsage(userId, c);
    case "GET /entitlements/{userId}":
      return getEntitlements(userId, c);
  }
  throw new Error(`ROUTES lists ${request.method} ${route.template} but no handler serves it`);
}

// ROUTES, split once per isolate: each template's segments ("{name}" as a parameter), its
// methods, and whether it is open (no method needs a token).
const ROUTE_TABLE = Object.entries(ROUTES).map(([template, methods]) => ({
  template,
  methods,
  methodNames: Object.keys(methods),
  open: Object.values(methods).every((scope) => scope === null),
  parts: template.split("/").map((part) => (part.startsWith("{") ? { param: part.slice(1, -1) } : part)),
}));

// {route, params}: the route whose template has as many segments as the path, "{name}" matching
// any one segment (raw, still percent-encoded: the user-id check refuses "%"); null when none does.
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

function allow(request, methods, c) {
  if (!methods.includes(request.method)) {
    c.log.outcome = "method_not_allowed";
    throw new HttpError(405, "method_not_allowed", `${request.method} is not allowed here; use ${methods.join(" or ")}`, {
      Allow: methods.join(", "),
    });
  }
}

function health(c) {
  c.log.outcome = "health";
  const catalog = catalogOrNull(c.env);
  return json(c, { status: "ok", environment: c.env.ENVIRONMENT ?? null, catalogVersion: catalog?.version ?? null });
}

// --- clients and scopes ----------------------------------------------------------------

async function authenticate(request, c) {
  const clients = readClients(c);
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get("Authorization") ?? "");
  const client = match ? await identify(match[1], clients) : null;
  if (!client) {
    c.log.outcome = "unauthorized";
    throw new HttpError(401, "unauthorized", "send Authorization: Bearer <your client's token>", { "WWW-Authenticate": "Bearer" });
  }
  c.log.client = client.name; // the name, never the token
  return client;
}

// The presented token is hashed once; its digest is compared with every client's, each in
// constant time, and the loop never stops early: how long it takes tells neither how much of
// a digest matched nor which client did.
const encoder = new TextEncoder();

async function identify(token, clients) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(token)));
  let found = null;
  for (const client of clients) {
    const same = crypto.subtle.timingSafeEqual(digest, client.digest);
    found = same && found === null ? client : found;
  }
  return found;
}

function requireScope(client, scope, c) {
  if (scope && !client.scopes.includes(scope)) {
    c.log.outcome = "forbidden";
    throw new HttpError(
      403,
      "insufficient_scope",
      `client ${JSON.stringify(client.name)} lacks the scope ${JSON.stringify(scope)} this route needs`,
      { "WWW-Authenticate": `Bearer error="insufficient_scope", scope="${scope}"` },
      { requiredScope: scope },
    );
  }
}

// CLIENTS, parsed once per isolate (and again only when the binding's text differs).
let clientsCache = { text: undefined, clients: null };

function readClients(c) {
  const text = c.env.CLIENTS;
  if (text !== clientsCache.text) clientsCache = { text, clients: parseClients(text) };
  const fix = "set it with `pulumi up` (the `clients` setting), or `guruai-cache local` (.dev.vars)";
  if (!text) {
    c.log.outcome = "misconfigured";
    throw new HttpError(503, "clients_unset", `the Worker has no CLIENTS secret: ${fix}`);
  }
  if (!clientsCache.clients) {
    c.log.outcome = "misconfigured";
    throw new HttpError(503, "clients_invalid", `the CLIENTS secret is not a JSON object of clients (name -> {"sha256": <hex>, "scopes": [...]}): ${fix}`);
  }
  return clientsCache.clients;
}

// [{name, digest (32 bytes), scopes}], or null when the text is not a valid clients object.
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
    const valid =
      entry && typeof entry.sha256 === "string" && SHA256_HEX.test(entry.sha256) &&
      Array.isArray(entry.scopes) && entry.scopes.every((scope) => SCOPES.includes(scope));
    if (!valid) return null;
    const digest = new Uint8Array(32);
    for (let i = 0; i < 32; i += 1) digest[i] = Number.parseInt(entry.sha256.slice(2 * i, 2 * i + 2), 16);
    clients.push({ name, digest, scopes: entry.scopes });
  }
  return clients.length > 0 ? clients : null;
}

function checkUserId(userId, c) {
  if (!USER_ID_PATTERN.test(userId)) {
    c.log.outcome = "invalid_request";
    throw new HttpError(400, "invalid_user_id", "a user id is 1 to 64 characters among A-Z a-z 0-9 _ -");
  }
}

// --- subscriptions ---------------------------------------------------------------------

async function getSubscription(userId, c) {
  const { subscription, cache } = await lookupSubscription(userId, c);
  c.log.outcome = subscriptionOutcome("subscription_get", subscription, cache);
  const headers = { "X-Cache": cache.toUpperCase() };
  if (!subscription) {
    return errorJson(c, 404, "subscription_not_found", `user ${userId} has no active subscription`, headers);
  }
  return json(c, subscription, 200, headers);
}

function subscriptionOutcome(prefix, subscription, cache) {
  const found = subscription ? (cache === "hit" ? "hit" : "miss") : cache === "hit" ? "negative_hit" : "not_found";
  return `${prefix}_${found}${cache === "bypass" ? "_degraded" : ""}`;
}

// Cache-aside: KV first; on a miss D1, then the answer is cached, an absent subscription
// too (negatively, for KV's minimum TTL), so a miss never queries D1 twice in a row.
// KV failing is not fatal: D1 answers (cache "bypass"). D1 failing is: 503.
async function lookupSubscription(userId, c) {
  const key = SUBSCRIPTION_KEY_PREFIX + userId;
  let kvWorks = true;
  try {
    const cached = await c.kv.get(key, "json");
    if (cached && typeof cached === "object" && "subscription" in cached) {
      c.log.cache = "hit";
      return { subscription: cached.subscription, cache: "hit" };
    }
  } catch (error) {
    kvWorks = false;
    c.log.kv_error = describe(error);
  }
  const subscription = await readSubscriptionFromD1(userId, c);
  c.log.cache = kvWorks ? "miss" : "bypass";
  if (kvWorks) {
    const ttl = subscription ? numericVar(c.env, "SUBSCRIPTION_TTL") : NEGATIVE_CACHE_TTL_S;
    try {
      await c.kv.put(key, JSON.stringify({ subscription }), { expirationTtl: Math.max(ttl, NEGATIVE_CACHE_TTL_S) });
    } catch (error) {
      c.log.kv_error = describe(error); // the answer is still right; the next request is a miss again
    }
  }
  return { subscription, cache: c.log.cache };
}

async function readSubscriptionFromD1(userId, c) {
  const { results } = await d1(c, () => c.db.prepare(SELECT_ACTIVE_SUBSCRIPTION).bind(userId).run());
  return results.length ? subscriptionRecord(results[0]) : null;
}

function subscriptionRecord(row) {
  return { userId: row.user_id, tier: row.tier, status: row.status, createdAt: row.created_at, updatedAt: row.updated_at };
}

async function putSubscription(request, userId, c) {
  const body = await readJsonObject(request, c);
  const unknown = Object.keys(body).filter((field) => field !== "tier" && field !== "status");
  // Absent means "active"; present, it must be a status (null is not one: the contract says so).
  const status = Object.hasOwn(body, "status") ? body.status : "active";
  const problem =
    unknown.length > 0
      ? `unknown field ${JSON.stringify(unknown[0])}; send {"tier": ..., "status": ...}`
      : typeof body.tier !== "string"
        ? 'field "tier" is required: the name of a configured tier'
        : !SUBSCRIPTION_STATUSES.includes(status)
          ? `field "status" must be one of ${SUBSCRIPTION_STATUSES.join(", ")}`
          : null;
  if (problem) {
    c.log.outcome = "invalid_request";
    throw new HttpError(400, "invalid_body", problem);
  }
  const { tiers } = readCatalog(c);
  if (!Object.hasOwn(tiers, body.tier)) {
    c.log.outcome = "subscription_put_unknown_tier";
    throw new HttpError(400, "unknown_tier", `tier ${JSON.stringify(body.tier)} is not configured; use one of ${Object.keys(tiers).join(", ")}`);
  }
  const { results } = await d1(c, () =>
    c.db.prepare(UPSERT_SUBSCRIPTION).bind(userId, body.tier, status, new Date().toISOString()).run(),
  );
  const record = subscriptionRecord(results[0]);
  // A new user's upsert inserts (D1 reads one row fewer than for an update): its own outcome.
  const outcome = record.createdAt === record.updatedAt ? "subscription_put_new" : "subscription_put";
  // Invalidate after the write (the guide's step 7): the next read fills the cache from D1.
  try {
    await c.kv.delete(SUBSCRIPTION_KEY_PREFIX + userId);
    c.log.outcome = outcome;
  } catch (error) {
    // D1 has the new record; the stale cache entry expires within SUBSCRIPTION_TTL.
    c.log.kv_error = describe(error);
    c.log.outcome = `${outcome}_degraded`;
  }
  return json(c, record);
}

async function readJsonObject(request, c) {
  const fail = (status, code, message) => {
    c.log.outcome = "invalid_request";
    return new HttpError(status, code, message);
  };
  // Refuse a declared oversize body before reading it; check the real size after.
  if (Number(request.headers.get("Content-Length") ?? 0) > MAX_BODY_BYTES) {
    throw fail(413, "body_too_large", `the body is over ${MAX_BODY_BYTES} bytes`);
  }
  const text = await request.text();
  if (encoder.encode(text).length > MAX_BODY_BYTES) {
    throw fail(413, "body_too_large", `the body is over ${MAX_BODY_BYTES} bytes`);
  }
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw fail(400, "invalid_json", "the body is not JSON");
  }
  if (!body || typeof body !== "object" || Array.isArray(body)) {
    throw fail(400, "invalid_body", 'the body must be a JSON object, e.g. {"tier": "pro", "status": "active"}');
  }
  return body;
}

// --- tiers, flags and entitlements ------------------------------------------------------

function getTiers(c) {
  const { tiers } = readCatalog(c);
  c.log.outcome = "tiers_get";
  // The same for every client, and it changes only with a deploy: the caller's own cache may
  // keep it (private: no shared cache) for TIERS_MAX_AGE seconds (0: revalidate every time).
  return json(c, tiers, 200, { "Cache-Control": `private, max-age=${secondsVar(c.env, "TIERS_MAX_AGE")}` });
}

// The CATALOG binding ({version, tiers, flags, fallbackTier}) changes with the script upload,
// atomically, and rolls back with it: no KV read, no edge cache to wait for. Validated once
// per isolate. Taken as an object (wrangler's form) or as JSON text (a provider that sends the
// binding's value as a string).
let catalogCache = { source: undefined, catalog: null };

function catalogOrNull(env) {
  if (env.CATALOG !== catalogCache.source) catalogCache = { source: env.CATALOG, catalog: parseCatalog(env.CATALOG) };
  return catalogCache.catalog;
}

function readCatalog(c) {
  const catalog = catalogOrNull(c.env);
  const fix = "deploy with `pulumi up`, or re-run `guruai-cache local`";
  if (c.env.CATALOG === undefined) {
    c.log.outcome = "tiers_missing";
    throw new HttpError(503, "tier_config_missing", `the Worker has no CATALOG binding (tiers and flags): ${fix}`);
  }
  if (!catalog) {
    c.log.outcome = "tiers_invalid";
    throw new HttpError(503, "tier_config_invalid", `the CATALOG binding is not {tiers: {name: {dailyRequestLimit: n >= 1, ...}}, flags, fallbackTier}: ${fix}`);
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
  const validTiers =
    tiers.length > 0 &&
    tiers.every((t) => isObject(t) && Number.isInteger(t.dailyRequestLimit) && t.dailyRequestLimit >= 1 && isStringList(t.features ?? []));
  const validFlags = Object.values(catalog.flags ?? {}).every((f) => isObject(f) && (f.tiers == null || isStringList(f.tiers)));
  if (!validTiers || !validFlags || !Object.hasOwn(catalog.tiers, catalog.fallbackTier)) return null;
  const parsed = { version: String(catalog.version ?? ""), tiers: catalog.tiers, flags: catalog.flags ?? {}, fallbackTier: catalog.fallbackTier };
  return { ...parsed, features: new Map() }; // tier -> its features, filled on first use (featuresOf)
}

function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function isStringList(value) {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}

// The tier whose limit and features apply: the subscription's own, or, when that tier is no
// longer configured, the catalog's fallbackTier (never a 503 for everyone on a removed tier).
function effectiveTier(subscription, catalog, c) {
  if (Object.hasOwn(catalog.tiers, subscription.tier)) return subscription.tier;
  c.log.tier_fallback = { tier: subscription.tier, applied: catalog.fallbackTier };
  return catalog.fallbackTier;
}

// Worked out once per tier and catalog (the catalog changes only with a deploy).
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

// What the app asks on each request. The subscription comes from its cache entry (shared
// with GET /subscriptions, so a PUT invalidates both), the tier's limit and features from
// the in-memory catalog, and today's count from this isolate's memory when it read or
// counted it within ENTITLEMENTS_COUNT_MAX_AGE seconds, else from D1 (one row by primary
// key). `usageAsOf` says when the count was read; POST /usage stays the exact check.
async function getEntitlements(userId, c) {
  const catalog = readCatalog(c);
  const { subscription, cache } = await lookupSubscription(userId, c);
  c.log.outcome = subscriptionOutcome("entitlements_get", subscription, cache);
  const headers = { "X-Cache": cache.toUpperCase() };
  if (!subscription) {
    return errorJson(c, 404, "subscription_not_found", `user ${userId} has no active subscription`, headers);
  }
  const tier = effectiveTier(subscription, catalog, c);
  const limit = catalog.tiers[tier].dailyRequestLimit;
  const { windowStart, resetsAtText } = usageWindow(c);
  const { used, at } = await todaysCount(userId, windowStart, c);
  return json(
    c,
    {
      userId,
      tier: subscription.tier,
      effectiveTier: tier,
      limit,
      used,
      remaining: Math.max(0, limit - used),
      resetsAt: resetsAtText,
      usageAsOf: new Date(at).toISOString(),
      features: featuresOf(catalog, tier),
    },
    200,
    headers,
  );
}

// Today's count per user, as this isolate last read it from D1 or counted it (POST /usage):
// userId -> {windowStart, used, at (ms)}, in order of last use so the oldest goes first.
// Per isolate: another isolate's uses arrive here when the entry is older than the max age.
const counts = new Map();

async function todaysCount(userId, windowStart, c) {
  const maxAgeMs = secondsVar(c.env, "ENTITLEMENTS_COUNT_MAX_AGE") * 1000;
  const known = counts.get(userId);
  if (known && known.windowStart === windowStart && Date.now() - known.at <= maxAgeMs) {
    c.log.usage_count = "memory";
    return known;
  }
  const { results } = await d1(c, () => c.db.prepare(SELECT_USED).bind(windowStart, userId).run());
  c.log.usage_count = "d1";
  return rememberCount(userId, windowStart, results.length ? results[0].count : 0);
}

function rememberCount(userId, windowStart, used) {
  const entry = { windowStart, used, at: Date.now() };
  counts.delete(userId);
  counts.set(userId, entry);
  if (counts.size > COUNT_CACHE_MAX_USERS) counts.delete(counts.keys().next().value);
  return entry;
}

// The current usage window, with its end as text (made once per window).
let lastWindow = { windowStart: null, windowSeconds: null };

function usageWindow(c) {
  const windowSeconds = numericVar(c.env, "USAGE_WINDOW_SECONDS");
  const windowStart = Math.floor(Date.now() / 1000 / windowSeconds) * windowSeconds;
  if (lastWindow.windowStart !== windowStart || lastWindow.windowSeconds !== windowSeconds) {
    const resetsAt = windowStart + windowSeconds;
    lastWindow = { windowStart, windowSeconds, resetsAt, resetsAtText: new Date(resetsAt * 1000).toISOString() };
  }
  return lastWindow;
}

// --- usage -----------------------------------------------------------------------------

async function postUsage(userId, c) {
  const catalog = readCatalog(c);
  if (!(await underBurstLimit(userId, c))) {
    c.log.outcome = "usage_post_burst_limited";
    // The binding says only "no", not when its window ends: a whole period is the most to wait.
    const period = numericVar(c.env, "BURST_RATE_LIMIT_PERIOD");
    throw new HttpError(429, "burst_limited", `too many requests by this client for this user in a short time; retry within ${period} s`, {
      "Retry-After": String(period),
    });
  }
  const { subscription, cache } = await lookupSubscription(userId, c);
  const suffix = cache === "hit" ? "" : cache === "miss" ? "_cache_miss" : "_degraded";
  if (!subscription) {
    c.log.outcome = `usage_post_no_subscription${suffix}`;
    throw new HttpError(403, "no_active_subscription", `user ${userId} has no active subscription`);
  }
  const tier = effectiveTier(subscription, catalog, c);
  const limit = catalog.tiers[tier].dailyRequestLimit;
  const { windowStart, resetsAt, resetsAtText } = usageWindow(c);
  const { results } = await d1(c, () => c.db.prepare(COUNT_USE).bind(windowStart, userId, limit).run());
  const used = results.length ? results[0].count : null;
  const headers = { "X-RateLimit-Limit": String(limit), "X-RateLimit-Reset": String(resetsAt) };
  const usage = { limit, resetsAt: resetsAtText };
  if (used === null) {
    counts.delete(userId); // at or over the limit: the next GET /entitlements reads the exact count
    c.log.outcome = `usage_post_denied${suffix}`;
    headers["X-RateLimit-Remaining"] = "0";
    headers["Retry-After"] = String(Math.max(1, resetsAt - Math.floor(Date.now() / 1000)));
    return errorJson(c, 429, "daily_limit_exceeded", `user ${userId} used all ${limit} requests of tier ${tier} for this window`, headers, {
      allowed: false,
      remaining: 0,
      ...usage,
    });
  }
  rememberCount(userId, windowStart, used);
  c.log.outcome = `usage_post_allowed${suffix}`;
  headers["X-RateLimit-Remaining"] = String(limit - used);
  return json(c, { allowed: true, used, remaining: limit - used, ...usage, tier: subscription.tier, effectiveTier: tier }, 200, headers);
}

// Burst limit per client and user (the ratelimit binding): one client's calls never use up
// another's budget for the same user. If the binding itself fails, let the request through:
// the daily quota in D1 still bounds it.
async function underBurstLimit(userId, c) {
  try {
    const { success } = await c.env.RATE_LIMITER.limit({ key: `usage:${c.client.name}:${userId}` });
    return success;
  } catch (error) {
    c.log.ratelimiter_error = describe(error);
    return true;
  }
}

// --- D1, KV, errors ----------------------------------------------------------------------

async function d1(c, query) {
  try {
    return await query();
  } catch (error) {
    c.log.d1_error = describe(error);
    c.log.outcome = "d1_unavailable";
    throw new HttpError(503, "database_unavailable", "the database is unavailable; retry later");
  }
}

// A routine answer: its log line may be sampled. Anything unusual on the way (an error from a
// binding, a tier fallback) makes it worth a line every time.
function routine(log) {
  return (
    ROUTINE_OUTCOMES.includes(log.outcome) && log.status < 500 &&
    !(log.kv_error || log.d1_error || log.ratelimiter_error || log.metrics_error || log.tier_fallback)
  );
}

// One Analytics Engine data point per request (METRICS_DATA_POINT). writeDataPoint returns at
// once and never fails the request; without the binding (metrics off) nothing is written.
function writeDataPoint(env, log, ops) {
  if (!env.METRICS) return;
  const route = `${log.method} ${log.route ?? "(no route)"}`;
  // METRICS_DATA_POINT's fields in its order, written out (a loop over the names cost the hit
  // measurably); tests/e2e/test_operations.py checks every outcome's point against it.
  const blobs = [route, log.outcome ?? "", log.cache ?? "", String(log.status), log.client ?? ""];
  const doubles = [ops.kv_reads, ops.kv_writes, ops.kv_deletes, ops.kv_lists, ops.d1_queries, ops.d1_rows_read, ops.d1_rows_written, log.duration_ms];
  try {
    env.METRICS.writeDataPoint({ indexes: [route.slice(0, MAX_INDEX_BYTES)], blobs, doubles });
  } catch (error) {
    log.metrics_error = describe(error);
  }
}

function newOps() {
  return { kv_reads: 0, kv_writes: 0, kv_deletes: 0, kv_lists: 0, d1_queries: 0, d1_rows_read: 0, d1_rows_written: 0 };
}

// One request's context: its bindings, counted (D1's wrapper made on first use: a cache hit
// never queries D1), its log line, and the client once authenticated.
class RequestContext {
  constructor(env, log, ops, url) {
    this.env = env;
    this.log = log;
    this.ops = ops;
    this.url = url;
    this.kv = new CountingKV(env.KV, ops);
    this.client = null;
    this.countingDB = null;
  }
  get db() {
    this.countingDB ??= new CountingDB(this.env.DB, this.ops);
    return this.countingDB;
  }
}

// Counting wrappers: every KV and D1 call goes through them, so the log line and the data
// point report what the request really cost (KV bills per operation, D1 per row read and written).
class CountingKV {
  constructor(kv, ops) {
    this.kv = kv;
    this.ops = ops;
  }
  get(key, options) {
    this.ops.kv_reads += 1;
    return this.kv.get(key, options);
  }
  put(key, value, options) {
    this.ops.kv_writes += 1;
    return this.kv.put(key, value, options);
  }
  delete(key) {
    this.ops.kv_deletes += 1;
    return this.kv.delete(key);
  }
  list(options) {
    this.ops.kv_lists += 1;
    return this.kv.list(options);
  }
}

class CountingDB {
  constructor(db, ops) {
    this.db = db;
    this.ops = ops;
  }
  prepare(sql) {
    return new CountingStatement(this.db.prepare(sql), this.ops);
  }
}

class CountingStatement {
  constructor(inner, ops) {
    this.inner = inner;
    this.ops = ops;
  }
  bind(...values) {
    return new CountingStatement(this.inner.bind(...values), this.ops);
  }
  async run() {
    this.ops.d1_queries += 1;
    const result = await this.inner.run();
    this.ops.d1_rows_read += result.meta?.rows_read ?? 0;
    this.ops.d1_rows_written += result.meta?.rows_written ?? 0;
    return result;
  }
}

class HttpError extends Error {
  constructor(status, code, message, headers = {}, extra = {}) {
    super(message);
    Object.assign(this, { status, code, headers, extra });
  }
}

// Every answer, with the headers each carries: its request id (the log line's), and, as it is
// about one user and one client, no-store (no shared cache keeps it) and nosniff; `headers`
// may add or override (GET /tiers may be kept privately).
function json(c, body, status = 200, headers = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      "Content-Type": "application/json",
      "X-Request-Id": c.log.request_id,
      "X-Content-Type-Options": "nosniff",
      "Cache-Control": "no-store",
      ...headers,
    },
  });
}

// Errors have one shape: {"error": {"code", "message"}} (plus the usage figures on a 429).
function errorJson(c, status, code, message, headers = {}, extra = {}) {
  return json(c, { error: { code, message }, ...extra }, status, headers);
}

function errorResponse(error, c) {
  if (error instanceof HttpError) {
    return errorJson(c, error.status, error.code, error.message, error.headers, error.extra);
  }
  // Never a stack trace to the client: the log line has the detail, the client the request id.
  c.log.outcome = "internal_error";
  c.log.error = describe(error);
  return errorJson(c, 500, "internal_error", `unexpected error; the Worker's logs have it under request id ${c.log.request_id}`);
}

function describe(error) {
  return String(error?.message ?? error).slice(0, 500);
}

// A plain-text variable as a positive integer, or its default when missing or malformed.
function numericVar(env, name) {
  const parsed = Number.parseInt(env[name], 10);
  return Number.isInteger(parsed) && parsed > 0 ? parsed : VAR_DEFAULTS[name];
}

// A plain-text variable as a number from 0 to 1, or its default (parsed once per value).
const rates = new Map();

function rateVar(env, name) {
  const text = env[name];
  const key = `${name}=${text}`;
  let rate = rates.get(key);
  if (rate === undefined) {
    const parsed = Number(text);
    rate = text !== undefined && text !== "" && parsed >= 0 && parsed <= 1 ? parsed : VAR_DEFAULTS[name];
    rates.set(key, rate);
  }
  return rate;
}

// A plain-text variable as a whole number of seconds, 0 included, or its default.
function secondsVar(env, name) {
  const parsed = Number(env[name]);
  return env[name] !== undefined && env[name] !== "" && Number.isInteger(parsed) && parsed >= 0 ? parsed : VAR_DEFAULTS[name];
}
