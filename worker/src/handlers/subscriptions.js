// @ts-check
// GET /subscriptions/{userId}: the active subscription, cached, with its ETag; PUT: write D1
// (conditionally with If-Match / If-None-Match, decided in the write's own statement), then invalidate.

import { readJsonObject } from "../body.js";
import { readCatalog } from "../catalog.js";
import { subscriptionEtag, writeConditions } from "../conditions.js";
import { SUBSCRIPTION_KEY_PREFIX, SUBSCRIPTION_STATUSES } from "../contract.js";
import { d1 } from "../database.js";
import { HttpError, errorJson, json } from "../http.js";
import { describe } from "../observe.js";
import { CONDITIONAL_UPSERT_SUBSCRIPTION, SELECT_SUBSCRIPTION, UPSERT_SUBSCRIPTION } from "../sql.js";
import { forgetAbsent, lookupOutcome, lookupSubscription, subscriptionRecord } from "../subscription_cache.js";

/** @type {import("../types.js").Handler} */
export async function getSubscription(_request, c, { userId }) {
  const lookup = await lookupSubscription(userId, c);
  c.log.outcome = lookupOutcome("subscription_get", lookup);
  const headers = { "X-Cache": lookup.cache.toUpperCase() };
  if (!lookup.subscription) {
    return errorJson(c, 404, "no_active_subscription", `user ${userId} has no active subscription`, headers);
  }
  return json(c, lookup.subscription, 200, { ...headers, ETag: subscriptionEtag(lookup.subscription) });
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
  const now = new Date().toISOString();
  const conditions = writeConditions(request);
  const { results } = await d1(c, () =>
    conditions === null
      ? c.db.prepare(UPSERT_SUBSCRIPTION).bind(userId, tier, status, now).run()
      : c.db
          .prepare(CONDITIONAL_UPSERT_SUBSCRIPTION)
          .bind(userId, tier, status, now, conditions.mayCreate, conditions.mayUpdate, conditions.matchOneOf, conditions.matchNoneOf)
          .run(),
  );
  if (!results.length) return preconditionFailed(userId, c);
  const record = subscriptionRecord(results[0]);
  // A new user's upsert inserts (D1 reads one row fewer than for an update): its own outcome.
  const created = record.createdAt === record.updatedAt;
  const outcome = `${created ? "subscription_put_new" : "subscription_put"}${conditions === null ? "" : "_conditional"}`;
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
  const etag = subscriptionEtag(record);
  // The record whatever its status (a canceled one too: D1 keeps it; reads answer 404).
  return created ? json(c, record, 201, { ETag: etag, Location: `/v1/subscriptions/${userId}` }) : json(c, record, 200, { ETag: etag });
}

/**
 * 412: the PUT's If-Match or If-None-Match did not hold, so nothing was written. The answer
 * carries the current record's ETag (read from D1, not the cache, which may be older) when there
 * is one: the caller reads, decides again, and retries with it.
 * @param {string} userId
 * @param {import("../context.js").RequestContext} c
 */
async function preconditionFailed(userId, c) {
  const { results } = await d1(c, () => c.db.prepare(SELECT_SUBSCRIPTION).bind(userId).run());
  const current = results.length ? subscriptionRecord(results[0]) : null;
  c.log.outcome = "subscription_put_precondition_failed";
  const message = current
    ? `user ${userId}'s subscription is not the version the request names (If-Match / If-None-Match); the current one's ETag is in the ETag header`
    : `user ${userId} has no subscription, and If-Match needs one; send the PUT without If-Match (or with If-None-Match: *) to create it`;
  return errorJson(c, 412, "precondition_failed", message, current ? { ETag: subscriptionEtag(current) } : {});
}
