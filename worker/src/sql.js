// @ts-check
// Every SQL statement the Worker runs, in one place: the schema they need is
// worker/migrations/, and the tests prepare each of them against it.

import { ACTIVE_STATUSES } from "./contract.js";

const SUBSCRIPTION_COLUMNS = "user_id, tier, status, created_at, updated_at";

/** A user's subscription, if it entitles them (by primary key). */
export const SELECT_ACTIVE_SUBSCRIPTION =
  `SELECT ${SUBSCRIPTION_COLUMNS} FROM subscriptions ` +
  `WHERE user_id = ?1 AND status IN (${ACTIVE_STATUSES.map((s) => `'${s}'`).join(", ")})`;

/** PUT /subscriptions: insert or update, returning the record. */
export const UPSERT_SUBSCRIPTION =
  "INSERT INTO subscriptions (user_id, tier, status, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4) " +
  "ON CONFLICT (user_id) DO UPDATE SET tier = excluded.tier, status = excluded.status, " +
  `updated_at = excluded.updated_at RETURNING ${SUBSCRIPTION_COLUMNS}`;

/** Today's count, by primary key (GET /entitlements). */
export const SELECT_USED = "SELECT count FROM usage WHERE window_start = ?1 AND user_id = ?2";

/**
 * Atomic: the increment happens only while under the limit, so a denied request changes nothing
 * and returns no row; concurrent requests can neither over- nor under-count.
 */
export const COUNT_USE =
  "INSERT INTO usage (window_start, user_id, count) VALUES (?1, ?2, 1) " +
  "ON CONFLICT (window_start, user_id) DO UPDATE SET count = count + 1 WHERE count < ?3 " +
  "RETURNING count";

/** The cron's cleanup: a range over the usage key's first column. */
export const DELETE_OLD_USAGE = "DELETE FROM usage WHERE window_start < ?1";
