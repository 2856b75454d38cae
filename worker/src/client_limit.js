// @ts-check
// The per-client limit on every authenticated route (the CLIENT_LIMITER ratelimit binding,
// clientRateLimit): what one client, or anyone holding its token, can cost in KV reads, D1
// queries and requests, whatever user ids it asks for; and the limiter call the usage burst limit
// shares with it (passesLimiter).

import { HttpError } from "./http.js";
import { describe } from "./observe.js";
import { numericVar } from "./vars.js";

/**
 * Whether a ratelimit binding lets `key` through. If the binding itself fails, the request goes
 * through (the failure is on its log line): a limiter outage must not take the API down.
 * @param {{ limit(options: { key: string }): Promise<{ success: boolean }> }} limiter
 * @param {string} key
 * @param {import("./context.js").RequestContext} c
 */
export async function passesLimiter(limiter, key, c) {
  try {
    const { success } = await limiter.limit({ key });
    return success;
  } catch (error) {
    c.log.ratelimiter_error = describe(error);
    return true;
  }
}

/**
 * A 429 `client_rate_limited` once the client is over its limit for the period.
 * @param {import("./context.js").RequestContext} c
 */
export async function limitClient(c) {
  if (!(await passesLimiter(c.env.CLIENT_LIMITER, c.caller.name, c))) {
    // The binding says only "no", not when its window ends: a whole period is the most to wait.
    const period = numericVar(c.env, "CLIENT_RATE_LIMIT_PERIOD");
    throw new HttpError(429, "client_rate_limited", `too many requests by client ${JSON.stringify(c.caller.name)}; retry within ${period} s`, {
      outcome: "client_rate_limited",
      headers: { "Retry-After": String(period) },
    });
  }
}
