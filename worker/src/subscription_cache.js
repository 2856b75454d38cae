// @ts-check
// Cache-aside for subscriptions: KV first; on a miss D1, then the answer is cached, an absent
// subscription too (negatively, for KV's minimum TTL), so a miss never queries D1 twice in a
// row. KV failing is not fatal: D1 answers (cache "bypass"). D1 failing is: 503.

import { NEGATIVE_CACHE_TTL_S, SUBSCRIPTION_KEY_PREFIX } from "./contract.js";
import { d1 } from "./database.js";
import { describe } from "./observe.js";
import { SELECT_ACTIVE_SUBSCRIPTION } from "./sql.js";
import { numericVar } from "./vars.js";

/**
 * @typedef {{ subscription: import("./types.js").Subscription | null, cache: "hit" | "miss" | "bypass" }} Lookup
 */

/**
 * @param {string} userId
 * @param {import("./context.js").RequestContext} c
 * @returns {Promise<Lookup>}
 */
export async function lookupSubscription(userId, c) {
  const key = SUBSCRIPTION_KEY_PREFIX + userId;
  let kvWorks = true;
  try {
    const cached = /** @type {unknown} */ (await c.kv.getJson(key));
    if (cached && typeof cached === "object" && "subscription" in cached) {
      c.log.cache = "hit";
      return { subscription: /** @type {Lookup["subscription"]} */ (cached.subscription), cache: "hit" };
    }
  } catch (error) {
    kvWorks = false;
    c.log.kv_error = describe(error);
  }
  const subscription = await readSubscription(userId, c);
  const cache = kvWorks ? "miss" : "bypass";
  c.log.cache = cache;
  if (kvWorks) {
    const ttl = subscription ? numericVar(c.env, "SUBSCRIPTION_TTL") : NEGATIVE_CACHE_TTL_S;
    try {
      await c.kv.put(key, JSON.stringify({ subscription }), { expirationTtl: Math.max(ttl, NEGATIVE_CACHE_TTL_S) });
    } catch (error) {
      c.log.kv_error = describe(error); // the answer is still right; the next request is a miss again
    }
  }
  return { subscription, cache };
}

/**
 * @param {string} userId
 * @param {import("./context.js").RequestContext} c
 */
async function readSubscription(userId, c) {
  const { results } = await d1(c, () => c.db.prepare(SELECT_ACTIVE_SUBSCRIPTION).bind(userId).run());
  return results.length ? subscriptionRecord(results[0]) : null;
}

/**
 * @param {Record<string, unknown>} row
 * @returns {import("./types.js").Subscription}
 */
export function subscriptionRecord(row) {
  return /** @type {import("./types.js").Subscription} */ ({
    userId: row.user_id,
    tier: row.tier,
    status: row.status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
}

/**
 * The outcome of a lookup: `<prefix>_hit`, `_miss`, `_negative_hit` or `_not_found`, and
 * `_degraded` when KV failed.
 * @param {string} prefix
 * @param {Lookup} lookup
 */
export function lookupOutcome(prefix, { subscription, cache }) {
  const found = subscription ? (cache === "hit" ? "hit" : "miss") : cache === "hit" ? "negative_hit" : "not_found";
  return `${prefix}_${found}${cache === "bypass" ? "_degraded" : ""}`;
}
