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

/**
 * A subscription row's version, as its ETag spells it (conditions.js: subscriptionVersion): the
 * columns a write changes, so two versions of one user's record never spell the same.
 */
const SUBSCRIPTION_VERSION = "(subscriptions.updated_at || ' ' || subscriptions.tier || ' ' || subscriptions.status)";

/**
 * PUT /subscriptions with If-Match or If-None-Match: the preconditions are decided in this one
 * statement, with the write, so two concurrent writers with the same ETag cannot both pass (D1
 * runs one statement at a time per database). No row returned: a precondition failed (412).
 * ?1 user, ?2 tier, ?3 status, ?4 now, ?5 may create (no If-Match), ?6 may update (not
 * If-None-Match: *), ?7 the versions the current one must be one of (JSON array; NULL: any),
 * ?8 the versions it must be none of (JSON array; NULL: none). The SELECT yields the row when it
 * may be created or already exists (the conflict then decides), by primary key.
 */
export const CONDITIONAL_UPSERT_SUBSCRIPTION =
  "INSERT INTO subscriptions (user_id, tier, status, created_at, updated_at) SELECT ?1, ?2, ?3, ?4, ?4 " +
  "WHERE ?5 = 1 OR EXISTS (SELECT 1 FROM subscriptions WHERE user_id = ?1) " +
  "ON CONFLICT (user_id) DO UPDATE SET tier = excluded.tier, status = excluded.status, updated_at = excluded.updated_at " +
  `WHERE ?6 = 1 AND (?7 IS NULL OR ${SUBSCRIPTION_VERSION} IN (SELECT value FROM json_each(?7))) ` +
  `AND (?8 IS NULL OR ${SUBSCRIPTION_VERSION} NOT IN (SELECT value FROM json_each(?8))) ` +
  `RETURNING ${SUBSCRIPTION_COLUMNS}`;

/** A user's subscription whatever its status (a 412's current ETag), by primary key. */
export const SELECT_SUBSCRIPTION = `SELECT ${SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE user_id = ?1`;

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

// POST /usage with an Idempotency-Key: one D1 batch (one transaction) of CLAIM_KEY, COUNT_KEYED_USE,
// STORE_KEYED_ANSWER and READ_KEY. The key is usage_keys' primary key: the request whose CLAIM_KEY
// inserts (or replaces an expired) row owns the key (?owner is its own random id), and only the owner
// counts and stores; any other request with the key finds the owner's row, counts nothing, and
// READ_KEY gives it the owner's answer. D1 runs one transaction at a time per database, so two
// requests with one key are serialized: the first owns it, the second replays it.

/** Claim a key: ?1 key, ?2 fingerprint, ?3 owner, ?4 now, ?5 window, ?6 user, ?7 limit, ?8 tier, ?9 effective tier, ?10 expired-before. */
export const CLAIM_KEY =
  "INSERT INTO usage_keys (key, fingerprint, owner, created_at, window_start, used_before, used, limit_value, tier, effective_tier) " +
  "VALUES (?1, ?2, ?3, ?4, ?5, coalesce((SELECT count FROM usage WHERE window_start = ?5 AND user_id = ?6), 0), NULL, ?7, ?8, ?9) " +
  "ON CONFLICT (key) DO UPDATE SET fingerprint = excluded.fingerprint, owner = excluded.owner, " +
  "created_at = excluded.created_at, window_start = excluded.window_start, used_before = excluded.used_before, " +
  "used = NULL, limit_value = excluded.limit_value, tier = excluded.tier, effective_tier = excluded.effective_tier " +
  "WHERE usage_keys.created_at < ?10";

/** COUNT_USE, only for the key's owner: ?1 window, ?2 user, ?3 limit, ?4 key, ?5 owner. */
export const COUNT_KEYED_USE =
  "INSERT INTO usage (window_start, user_id, count) " +
  "SELECT ?1, ?2, 1 WHERE EXISTS (SELECT 1 FROM usage_keys WHERE key = ?4 AND owner = ?5) " +
  "ON CONFLICT (window_start, user_id) DO UPDATE SET count = count + 1 WHERE count < ?3";

/** The owner's answer: the count after it (equal to used_before when refused). ?1 window, ?2 user, ?3 key, ?4 owner. */
export const STORE_KEYED_ANSWER =
  "UPDATE usage_keys SET used = coalesce((SELECT count FROM usage WHERE window_start = ?1 AND user_id = ?2), 0) " +
  "WHERE key = ?3 AND owner = ?4";

/** The key's row, by primary key: the owner's answer, for the owner and for a replay. */
export const READ_KEY =
  "SELECT fingerprint, owner, window_start, used_before, used, limit_value, tier, effective_tier FROM usage_keys WHERE key = ?1";

/** The cron's cleanup of expired keys: a range over usage_keys_created_at. */
export const DELETE_OLD_KEYS = "DELETE FROM usage_keys WHERE created_at < ?1";
