// @ts-check
// The IETF RateLimit header fields (draft-ietf-httpapi-ratelimit-headers-12: RateLimit-Policy,
// section 3, and RateLimit, section 4), beside the X-RateLimit-* ones: the daily policy (the
// tier's limit per usage window) and the burst policy (the usage burst limiter's limit and period,
// per client and user). The burst limiter tells no remaining count, so RateLimit has only the
// daily item, except on a burst 429, where the remaining count is known: none.

import { numericVar } from "./vars.js";

/**
 * RateLimit-Policy and RateLimit for a daily count: `remaining` uses left, the window ending at `resetsAt` (Unix s).
 * @param {Env} env
 * @param {number} limit
 * @param {number} remaining
 * @param {number} resetsAt
 * @param {number} windowSeconds
 */
export function dailyFields(env, limit, remaining, resetsAt, windowSeconds) {
  const untilReset = Math.max(0, resetsAt - Math.floor(Date.now() / 1000));
  return {
    "RateLimit-Policy": `${burstPolicy(env)}, "daily";q=${limit};w=${windowSeconds}`,
    RateLimit: `"daily";r=${remaining};t=${untilReset}`,
  };
}

/**
 * What a burst 429 can say: the burst policy, and that nothing remains (the binding does not say
 * when its window ends: Retry-After gives the longest wait, its period).
 * @param {Env} env
 */
export function burstFields(env) {
  return { "RateLimit-Policy": burstPolicy(env), RateLimit: '"burst";r=0' };
}

/** @param {Env} env */
function burstPolicy(env) {
  return `"burst";q=${numericVar(env, "BURST_RATE_LIMIT_LIMIT")};w=${numericVar(env, "BURST_RATE_LIMIT_PERIOD")}`;
}
