// @ts-check
// The paths without /v1, kept for one deprecation period (openapi.yaml x-unprefixed-paths): they
// answer as API 2.0.0 did, so a caller written for it (client 0.2.0 included) keeps working until
// the Sunset date. One function maps a v1 answer to the 2.0.0 one; it runs only for those paths
// (index.js), never on a /v1 request.

import { API_BASE_PATH, UNPREFIXED_HEADERS } from "./contract.js";

/** The error object's own fields; any other is an extra, which 2.0.0 had at the top level. */
const V1_ERROR_FIELDS = new Set(["code", "message", "requestId"]);

/**
 * The 2.0.0 answer for a v1 one: `Deprecation` and `Sunset` (RFC 9745, RFC 8594), a `Link` to the
 * /v1 successor (when a route matched), and in 2.0.0's shape:
 * - an error's extras (requiredScope, the daily 429's figures) also at the top level, where 2.0.0
 *   had them (they stay inside `error` too: 2.0.0 callers ignore fields they do not read);
 * - "no active subscription" as 2.0.0 said it: 404 `subscription_not_found` on the reads, 403
 *   `no_active_subscription` on POST /usage (v1 says 404 `no_active_subscription` on all three);
 * - a PUT that created a subscription answers 200 (v1: 201), as 2.0.0 did for every PUT.
 * @param {Response} response
 * @param {string} method
 * @param {import("./context.js").RequestContext} c
 * @returns {Promise<Response>}
 */
export async function toLegacy(response, method, c) {
  c.log.deprecated_path = true; // who still calls the old paths, before the Sunset: the log lines say
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(UNPREFIXED_HEADERS)) headers.set(name, value);
  if (c.log.route !== null) headers.set("Link", `<${API_BASE_PATH}${c.url.pathname}${c.url.search}>; rel="successor-version"`);
  let status = response.status;
  if (status === 201 && method === "PUT") status = 200;
  if (status < 400 || !headers.get("Content-Type")?.startsWith("application/json")) {
    return new Response(response.body, { status, headers });
  }
  const body = /** @type {{ error: Record<string, unknown> }} */ (await response.json());
  const { error } = body;
  if (status === 404 && error.code === "no_active_subscription") {
    if (method === "POST") status = 403;
    else error.code = "subscription_not_found";
  }
  const extras = Object.fromEntries(Object.entries(error).filter(([name]) => !V1_ERROR_FIELDS.has(name)));
  headers.delete("Content-Length");
  return new Response(JSON.stringify({ ...extras, error }), { status, headers });
}
