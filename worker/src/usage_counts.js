// @ts-check
// Usage windows and today's count: the window a timestamp falls in, and the count this isolate
// last read from D1 or counted itself, served from memory within ENTITLEMENTS_COUNT_MAX_AGE.

import { d1 } from "./database.js";
import { SELECT_USED } from "./sql.js";
import { isolate } from "./state.js";
import { numericVar, secondsVar } from "./vars.js";

// Users whose count GET /entitlements may serve from memory, per isolate.
const COUNT_CACHE_MAX_USERS = 10000;

/**
 * The current usage window (USAGE_WINDOW_SECONDS long), with its end as text (made once per window).
 * @param {Env} env
 */
export function usageWindow(env) {
  const windowSeconds = numericVar(env, "USAGE_WINDOW_SECONDS");
  const windowStart = Math.floor(Date.now() / 1000 / windowSeconds) * windowSeconds;
  const last = isolate.window;
  if (last && last.windowStart === windowStart && last.windowSeconds === windowSeconds) return last;
  const resetsAt = windowStart + windowSeconds;
  isolate.window = { windowStart, windowSeconds, resetsAt, resetsAtText: new Date(resetsAt * 1000).toISOString() };
  return isolate.window;
}

/**
 * Today's count for a user: from memory when read or counted within the max age, else one D1 row.
 * @param {string} userId
 * @param {number} windowStart
 * @param {import("./context.js").RequestContext} c
 */
export async function todaysCount(userId, windowStart, c) {
  const maxAgeMs = secondsVar(c.env, "ENTITLEMENTS_COUNT_MAX_AGE") * 1000;
  const known = isolate.counts.get(userId);
  if (known && known.windowStart === windowStart && Date.now() - known.at <= maxAgeMs) {
    c.log.usage_count = "memory";
    return known;
  }
  const { results } = await d1(c, () => c.db.prepare(SELECT_USED).bind(windowStart, userId).run());
  c.log.usage_count = "d1";
  return rememberCount(userId, windowStart, results.length ? Number(results[0].count) : 0);
}

/**
 * Keep a count (the least recently counted user goes first past COUNT_CACHE_MAX_USERS).
 * @param {string} userId
 * @param {number} windowStart
 * @param {number} used
 */
export function rememberCount(userId, windowStart, used) {
  const entry = { windowStart, used, at: Date.now() };
  const { counts } = isolate;
  counts.delete(userId);
  counts.set(userId, entry);
  if (counts.size > COUNT_CACHE_MAX_USERS) {
    const oldest = counts.keys().next();
    if (!oldest.done) counts.delete(oldest.value);
  }
  return entry;
}

/** @param {string} userId */
export function forgetCount(userId) {
  isolate.counts.delete(userId);
}
