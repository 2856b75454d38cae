// @ts-check
// Cache-aside for subscriptions: KV first; on a miss D1, then a found subscription is cached in
// KV. An absent one is cached only in this data center's Workers Cache API (caches.default, for
// NEGATIVE_CACHE_TTL_S), never in KV: a KV write per unknown user id would let one client use
// up the account's daily KV writes (1,000 on the Free plan) by asking for ids that do not
// exist. Where the Cache API keeps nothing (Cloudflare says it may not on *.workers.dev), an
// unknown id costs a KV read and a D1 query that reads at most a row, each time, bounded by the
// client limiter. KV failing is not fatal: D1 answers (cache "bypass"). D1 failing is: 503.

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
    // {"subscription": null}, a negative entry an earlier version wrote, is a hit until it expires.
    if (cached && typeof cached === "object" && "subscription" in cached) {
      c.log.cache = "hit";
      return { subscription: /** @type {Lookup["subscription"]} */ (cached.subscription), cache: "hit" };
    }
  } catch (error) {
    kvWorks = false;
    c.log.kv_error = describe(error);
  }
  if (kvWorks && (await knownAbsent(userId, c))) {
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
      c.log.kv_error = describe(error); // the answer is still right; the next request is a miss again
    }
  } else if (kvWorks) {
    await rememberAbsent(userId, c);
  }
  return { subscription, cache };
}

/**
 * The Cache API's key for "this user has no active subscription": a URL on the Worker's own host
 * (the Cache API keys on URLs), under a path no route serves.
 * @param {string} userId
 * @param {import("./context.js").RequestContext} c
 */
function absentKey(userId, c) {
  return `${c.url.protocol}//${c.url.host}/.negative/${SUBSCRIPTION_KEY_PREFIX}${userId}`;
}

/**
 * Whether this data center's Cache API holds a negative entry for the user. A Cache API failure
 * is only a miss (D1 answers).
 * @param {string} userId
 * @param {import("./context.js").RequestContext} c
 */
async function knownAbsent(userId, c) {
  try {
    return (await caches.default.match(absentKey(userId, c))) !== undefined;
  } catch (error) {
    c.log.cache_api_error = describe(error);
    return false;
  }
}

/**
 * A negative entry in this data center's Cache API for NEGATIVE_CACHE_TTL_S. Free and not
 * replicated (another data center asks D1 once itself); no KV write.
 * @param {string} userId
 * @param {import("./context.js").RequestContext} c
 */
async function rememberAbsent(userId, c) {
  try {
    const entry = new Response(null, { headers: { "Cache-Control": `max-age=${NEGATIVE_CACHE_TTL_S}` } });
    await caches.default.put(absentKey(userId, c), entry);
  } catch (error) {
    c.log.cache_api_error = describe(error);
  }
}

/**
 * Drop this data center's negative entry for the user (a PUT just made them a subscriber).
 * Another data center's lives out its NEGATIVE_CACHE_TTL_S, as a KV entry would take up to
 * 60 s to disappear everywhere.
 * @param {string} userId
 * @param {import("./context.js").RequestContext} c
 */
export async function forgetAbsent(userId, c) {
  try {
    await caches.default.delete(absentKey(userId, c));
  } catch (error) {
    c.log.cache_api_error = describe(error);
  }
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
