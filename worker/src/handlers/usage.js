// @ts-check
// POST /usage/{userId}: count one use against the tier's daily limit, atomically in D1, after
// a per-client burst limit (the ratelimit binding).

import { effectiveTier, readCatalog } from "../catalog.js";
import { d1 } from "../database.js";
import { HttpError, errorJson, json } from "../http.js";
import { describe } from "../observe.js";
import { COUNT_USE } from "../sql.js";
import { lookupSubscription } from "../subscription_cache.js";
import { forgetCount, rememberCount, usageWindow } from "../usage_counts.js";
import { numericVar } from "../vars.js";

/** @type {import("../types.js").Handler} */
export async function postUsage(_request, c, { userId }) {
  const catalog = readCatalog(c.env);
  if (!(await underBurstLimit(userId, c))) {
    // The binding says only "no", not when its window ends: a whole period is the most to wait.
    const period = numericVar(c.env, "BURST_RATE_LIMIT_PERIOD");
    throw new HttpError(429, "burst_limited", `too many requests by this client for this user in a short time; retry within ${period} s`, {
      outcome: "usage_post_burst_limited",
      headers: { "Retry-After": String(period) },
    });
  }
  const { subscription, cache } = await lookupSubscription(userId, c);
  const suffix = cache === "hit" ? "" : cache === "miss" ? "_cache_miss" : "_degraded";
  if (!subscription) {
    throw new HttpError(403, "no_active_subscription", `user ${userId} has no active subscription`, {
      outcome: `usage_post_no_subscription${suffix}`,
    });
  }
  const tier = effectiveTier(subscription, catalog, c);
  const limit = catalog.tiers[tier].dailyRequestLimit;
  const { windowStart, resetsAt, resetsAtText } = usageWindow(c.env);
  const { results } = await d1(c, () => c.db.prepare(COUNT_USE).bind(windowStart, userId, limit).run());
  const used = results.length ? Number(results[0].count) : null;
  /** @type {Record<string, string>} */
  const headers = { "X-RateLimit-Limit": String(limit), "X-RateLimit-Reset": String(resetsAt) };
  const usage = { limit, resetsAt: resetsAtText };
  if (used === null) {
    forgetCount(userId); // at or over the limit: the next GET /entitlements reads the exact count
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

/**
 * Burst limit per client and user: one client's calls never use up another's budget for the same
 * user. If the binding itself fails, let the request through: the daily quota in D1 still bounds it.
 * @param {string} userId
 * @param {import("../context.js").RequestContext} c
 */
async function underBurstLimit(userId, c) {
  try {
    const { success } = await c.env.RATE_LIMITER.limit({ key: `usage:${c.caller.name}:${userId}` });
    return success;
  } catch (error) {
    c.log.ratelimiter_error = describe(error);
    return true;
  }
}
