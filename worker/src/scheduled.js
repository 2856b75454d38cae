// @ts-check
// The cron job: delete usage rows older than the retention window and expired Idempotency-Keys. KV expires its keys by itself
// (every cached entry has a TTL); D1 keeps rows until something deletes them.

import { newOps } from "./context.js";
import { CountingDB, describe } from "./observe.js";
import { DELETE_OLD_KEYS, DELETE_OLD_USAGE } from "./sql.js";
import { numericVar } from "./vars.js";

/**
 * The time the cleanup counts back from: the event's scheduledTime, never later than now. Under
 * `wrangler dev`, GET /cdn-cgi/handler/scheduled?time=<any> runs this handler with any time, no
 * token asked (any web page can send it): a time in the future would move the cutoff past every
 * row. An earlier time (a run that started late, or a caller's) only deletes less: rows older
 * than the retention window counted back from that time.
 * @param {ScheduledController} event
 */
function cronTime(event) {
  const now = Date.now();
  const scheduled = Number(event.scheduledTime);
  return Number.isFinite(scheduled) ? Math.min(scheduled, now) : now;
}

/**
 * @param {ScheduledController} event
 * @param {Env} env
 */
export async function cleanUp(event, env) {
  const ops = newOps();
  const db = new CountingDB(env.DB, ops);
  const now = cronTime(event);
  const retentionDays = numericVar(env, "USAGE_RETENTION_DAYS");
  const cutoff = Math.floor(now / 1000) - retentionDays * 86400;
  /** @type {Record<string, unknown>} */
  const log = { event: "scheduled", outcome: "scheduled_cleanup", cron: event.cron, cutoff: new Date(cutoff * 1000).toISOString() };
  try {
    const result = await db.prepare(DELETE_OLD_USAGE).bind(cutoff).run();
    log.deleted = result.meta.changes ?? 0;
    // Idempotency-Keys past their window replay nothing (a new request replaces one): delete them.
    const keys = await db.prepare(DELETE_OLD_KEYS).bind(Math.floor(now / 1000) - numericVar(env, "IDEMPOTENCY_WINDOW_SECONDS")).run();
    log.deleted_keys = keys.meta.changes ?? 0;
  } catch (error) {
    Object.assign(log, { outcome: "scheduled_cleanup_failed", error: describe(error), ops });
    console.error(JSON.stringify(log));
    throw error; // the cron run shows as failed in Cloudflare's dashboard
  }
  console.log(JSON.stringify({ ...log, ops }));
}
