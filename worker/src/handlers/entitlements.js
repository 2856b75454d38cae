// @ts-check
// GET /entitlements/{userId}: what the app asks on each request, at a cache hit's cost. The
// subscription comes from its cache entry (shared with GET /subscriptions, so a PUT invalidates
// both), the tier's limit and features from the in-memory catalog, and today's count from this
// isolate's memory when read or counted within ENTITLEMENTS_COUNT_MAX_AGE seconds, else from D1
// (one row by primary key). `usageAsOf` says when the count was read; POST /usage stays the
// exact check.

import { effectiveTier, featuresOf, readCatalog } from "../catalog.js";
import { errorJson, json } from "../http.js";
import { dailyFields } from "../ratelimit_fields.js";
import { lookupOutcome, lookupSubscription } from "../subscription_cache.js";
import { todaysCount, usageWindow } from "../usage_counts.js";

/** @type {import("../types.js").Handler} */
export async function getEntitlements(_request, c, { userId }) {
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
      features: featuresOf(catalog, tier),
    },
    200,
    { ...headers, ...dailyFields(c.env, limit, remaining, resetsAt, windowSeconds) },
  );
}
