// @ts-check
// GET /subscriptions/{userId}: the active subscription, cached; PUT: write D1, then invalidate.

import { readJsonObject } from "../body.js";
import { readCatalog } from "../catalog.js";
import { SUBSCRIPTION_KEY_PREFIX, SUBSCRIPTION_STATUSES } from "../contract.js";
import { d1 } from "../database.js";
import { HttpError, errorJson, json } from "../http.js";
import { describe } from "../observe.js";
import { UPSERT_SUBSCRIPTION } from "../sql.js";
import { forgetAbsent, lookupOutcome, lookupSubscription, subscriptionRecord } from "../subscription_cache.js";

/** @type {import("../types.js").Handler} */
export async function getSubscription(_request, c, { userId }) {
  const lookup = await lookupSubscription(userId, c);
  c.log.outcome = lookupOutcome("subscription_get", lookup);
  const headers = { "X-Cache": lookup.cache.toUpperCase() };
  if (!lookup.subscription) {
    return errorJson(c, 404, "subscription_not_found", `user ${userId} has no active subscription`, headers);
  }
  return json(c, lookup.subscription, 200, headers);
}

/** @type {import("../types.js").Handler} */
export async function putSubscription(request, c, { userId }) {
  const body = await readJsonObject(request);
  const unknown = Object.keys(body).filter((field) => field !== "tier" && field !== "status");
  // Absent means "active"; present, it must be a status (null is not one: the contract says so).
  const status = Object.hasOwn(body, "status") ? body.status : "active";
  const problem =
    unknown.length > 0
      ? `unknown field ${JSON.stringify(unknown[0])}; send {"tier": ..., "status": ...}`
      : typeof body.tier !== "string"
        ? 'field "tier" is required: the name of a configured tier'
        : !SUBSCRIPTION_STATUSES.includes(/** @type {any} */ (status))
          ? `field "status" must be one of ${SUBSCRIPTION_STATUSES.join(", ")}`
          : null;
  if (problem || typeof body.tier !== "string") {
    throw new HttpError(400, "invalid_body", problem ?? "", { outcome: "invalid_request" });
  }
  const tier = body.tier;
  const { tiers } = readCatalog(c.env);
  if (!Object.hasOwn(tiers, tier)) {
    throw new HttpError(400, "unknown_tier", `tier ${JSON.stringify(tier)} is not configured; use one of ${Object.keys(tiers).join(", ")}`, {
      outcome: "subscription_put_unknown_tier",
    });
  }
  const { results } = await d1(c, () => c.db.prepare(UPSERT_SUBSCRIPTION).bind(userId, tier, status, new Date().toISOString()).run());
  const record = subscriptionRecord(results[0]);
  // A new user's upsert inserts (D1 reads one row fewer than for an update): its own outcome.
  const outcome = record.createdAt === record.updatedAt ? "subscription_put_new" : "subscription_put";
  // Invalidate after the write (the guide's step 7): the next read fills the cache from D1.
  await forgetAbsent(userId, c);
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
