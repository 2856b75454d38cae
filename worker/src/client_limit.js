// @ts-check
// The per-client limit on every authenticated route (the CLIENT_LIMITER ratelimit binding,
// clientRateLimit): what one client, or anyone holding its token, can cost in KV reads, D1
// queries and requests, whatever user ids it asks for.

import { HttpError } from "./http.js";
import { describe } from "./observe.js";
import { numericVar } from "./vars.js";

/**
 * A 429 `client_rate_limited` once the client is over its limit for the period. If the binding
 * itself fails, the request goes through (the failure is on its log line): a limiter outage must
 * not take the API down.
 * @param {import("./context.js").RequestContext} c
 */
export async function limitClient(c) {
  let success = true;
  try {
    ({ success } = await c.env.CLIENT_LIMITER.limit({ key: c.caller.name }));
  } catch (error) {
    c.log.ratelimiter_error = describe(error);
  }
  if (!success) {
    // The binding says only "no", not when its window ends: a whole period is the most to wait.
    const period = numericVar(c.env, "CLIENT_RATE_LIMIT_PERIOD");
    throw new HttpError(429, "client_rate_limited", `too many requests by client ${JSON.stringify(c.caller.name)}; retry within ${period} s`, {
      outcome: "client_rate_limited",
      headers: { "Retry-After": String(period) },
    });
  }
}
