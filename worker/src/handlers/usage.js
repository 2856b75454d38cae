// @ts-check
// POST /usage/{userId}: count one use against the tier's daily limit, atomically in D1, after
// a per-client burst limit (the ratelimit binding).

import { effectiveTier, readCatalog } from "../catalog.js";
import { d1 } from "../database.js";
import { HttpError, errorJson, json } from "../http.js";
import { passesLimiter } from "../client_limit.js";
import { burstFields, dailyFields } from "../ratelimit_fields.js";
import { CLAIM_KEY, COUNT_KEYED_USE, COUNT_USE, READ_KEY, STORE_KEYED_ANSWER } from "../sql.js";
import { lookupSubscription } from "../subscription_cache.js";
import { forgetCount, rememberCount, usageWindow } from "../usage_counts.js";
import { numericVar } from "../vars.js";

// Stripe's format: any printable ASCII (a UUID v4 is what the client sends), at most 255 characters.
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** @type {import("../types.js").Handler} */
export async function postUsage(request, c, { userId }) {
  const key = idempotencyKey(request);
  const catalog = readCatalog(c.env);
  if (!(await underBurstLimit(userId, c))) {
    // The binding says only "no", not when its window ends: a whole period is the most to wait.
    const period = numericVar(c.env, "BURST_RATE_LIMIT_PERIOD");
    throw new HttpError(429, "burst_limited", `too many requests by this client for this user in a short time; retry within ${period} s`, {
      outcome: "usage_post_burst_limited",
      headers: { "Retry-After": String(period), ...burstFields(c.env) },
    });
  }
  const { subscription, cache } = await lookupSubscription(userId, c);
  const suffix = cache === "hit" ? "" : cache === "miss" ? "_cache_miss" : "_degraded";
  if (!subscription) {
    throw new HttpError(404, "no_active_subscription", `user ${userId} has no active subscription`, {
      outcome: `usage_post_no_subscription${suffix}`,
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

/**
 * The Idempotency-Key header, or null without one; a malformed one is refused before anything counts.
 * @param {Request} request
 */
function idempotencyKey(request) {
  const key = request.headers.get("Idempotency-Key");
  if (key === null) return null;
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new HttpError(400, "invalid_idempotency_key", "Idempotency-Key must be 1 to 255 printable ASCII characters (a UUID, say)", {
      outcome: "usage_post_invalid_idempotency_key",
    });
  }
  return key;
}

/**
 * Count one use under an Idempotency-Key: claim, count, store the answer and read it back in one
 * D1 batch, which D1 runs as one transaction (sql.js CLAIM_KEY says why that counts once).
 * @param {string} key
 * @param {string} userId
 * @param {number} limit
 * @param {string} effectiveTier
 * @param {string} subscribedTier
 * @param {string} suffix
 * @param {import("../context.js").RequestContext} c
 */
async function countKeyedUse(key, userId, limit, effectiveTier, subscribedTier, suffix, c) {
  const { windowStart } = usageWindow(c.env);
  const owner = crypto.randomUUID();
  const now = Math.floor(Date.now() / 1000);
  const expiredBefore = now - numericVar(c.env, "IDEMPOTENCY_WINDOW_SECONDS");
  const fingerprint = `${c.caller.name}:${userId}`;
  const batch = await d1(c, () =>
    c.db.batch([
      c.db.prepare(CLAIM_KEY).bind(key, fingerprint, owner, now, windowStart, userId, limit, subscribedTier, effectiveTier, expiredBefore),
      c.db.prepare(COUNT_KEYED_USE).bind(windowStart, userId, limit, key, owner),
      c.db.prepare(STORE_KEYED_ANSWER).bind(windowStart, userId, key, owner),
      c.db.prepare(READ_KEY).bind(key),
    ]),
  );
  const row = /** @type {Record<string, unknown>} */ (batch[3].results[0]);
  if (row.fingerprint !== fingerprint) {
    throw new HttpError(422, "idempotency_key_reused", `this Idempotency-Key was used for another request (another user or client) within ${numericVar(c.env, "IDEMPOTENCY_WINDOW_SECONDS")} s; use a new key for a new request`, {
      outcome: "usage_post_idempotency_key_reused",
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
    used,
  };
  if (!fresh) suffix = `_replayed${suffix}`;
  const response = usageAnswer(answer, userId, suffix, c, fresh);
  if (!fresh) response.headers.set("Idempotent-Replayed", "true");
  return response;
}

/**
 * POST /usage's answer from what was counted: the same for a request and for a replay of its key.
 * @param {{windowStart: number, limit: number, tier: string, effectiveTier: string, allowed: boolean, used: number}} answer
 * @param {string} userId
 * @param {string} suffix
 * @param {import("../context.js").RequestContext} c
 * @param {boolean} counted this request counted (a replay did not: the isolate's memory stays)
 */
function usageAnswer(answer, userId, suffix, c, counted) {
  const { windowStart, limit, tier, used } = answer;
  const current = usageWindow(c.env); // made once per window; a replay may be of an earlier one
  const resetsAt = windowStart + current.windowSeconds;
  const resetsAtText = windowStart === current.windowStart ? current.resetsAtText : new Date(resetsAt * 1000).toISOString();
  const remaining = answer.allowed ? limit - used : 0;
  /** @type {Record<string, string>} */
  const headers = { "X-RateLimit-Limit": String(limit), "X-RateLimit-Remaining": String(remaining), "X-RateLimit-Reset": String(resetsAt) };
  const usage = { limit, resetsAt: resetsAtText };
  Object.assign(headers, dailyFields(c.env, limit, remaining, resetsAt, current.windowSeconds));
  if (!answer.allowed) {
    if (counted) forgetCount(userId); // at or over the limit: the next GET /entitlements reads the exact count
    c.log.outcome = `usage_post_denied${suffix}`;
    headers["Retry-After"] = String(Math.max(1, resetsAt - Math.floor(Date.now() / 1000)));
    return errorJson(c, 429, "daily_limit_exceeded", `user ${userId} used all ${limit} requests of tier ${answer.effectiveTier} for this window`, headers, {
      allowed: false,
      remaining: 0,
      ...usage,
    });
  }
  if (counted) rememberCount(userId, windowStart, used);
  c.log.outcome = `usage_post_allowed${suffix}`;
  return json(c, { allowed: true, used, remaining, ...usage, tier, effectiveTier: answer.effectiveTier }, 200, headers);
}

/**
 * Burst limit per client and user: one client's calls never use up another's budget for the same
 * user (a failing binding lets the request through: the daily quota in D1 still bounds it).
 * @param {string} userId
 * @param {import("../context.js").RequestContext} c
 */
function underBurstLimit(userId, c) {
  return passesLimiter(c.env.RATE_LIMITER, `usage:${c.caller.name}:${userId}`, c);
}
