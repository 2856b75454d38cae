// @ts-check
// Routing: ROUTES (path template -> method -> the scope it needs) matched on a table split once
// per isolate (the path without its /v1: context.js), then authentication, the client limiter, the method, the scope and the user id
// checked, then the route's handler: the function its operationId names (OPERATION_IDS; both
// generated from worker/openapi.yaml) among the handler modules' exports. A HEAD operation with
// no handler of its own is its GET's (RFC 9110 9.3.2: the same headers; the runtime drops the body).

import { authenticate, checkUserId, requireScope } from "./auth.js";
import { limitClient } from "./client_limit.js";
import { OPERATION_IDS, ROUTES } from "./contract.js";
import * as entitlements from "./handlers/entitlements.js";
import * as health from "./handlers/health.js";
import * as subscriptions from "./handlers/subscriptions.js";
import * as tiers from "./handlers/tiers.js";
import * as usage from "./handlers/usage.js";
import { HttpError } from "./http.js";

/** Every handler, by the operationId it serves. @type {Record<string, import("./types.js").Handler>} */
const BY_OPERATION_ID = { ...entitlements, ...health, ...subscriptions, ...tiers, ...usage };
for (const [key, id] of Object.entries(OPERATION_IDS)) {
  const get = OPERATION_IDS[/** @type {keyof typeof OPERATION_IDS} */ (key.replace(/^HEAD /, "GET "))];
  if (key.startsWith("HEAD ") && !(id in BY_OPERATION_ID) && get && get in BY_OPERATION_ID) BY_OPERATION_ID[id] = BY_OPERATION_ID[get];
}

/**
 * The operations the contract lists that no handler serves, and the handlers no operation names:
 * both empty, or the module refuses to load (a deploy fails at upload, `wrangler dev` at start).
 * @param {Record<string, string>} operations "METHOD /template" -> operationId
 * @param {Record<string, unknown>} handlers operationId -> handler
 */
function handlerMismatch(operations, handlers) {
  const named = Object.values(operations);
  return {
    unserved: Object.entries(operations)
      .filter(([, id]) => typeof handlers[id] !== "function")
      .map(([key, id]) => `${key} (${id})`),
    unrouted: Object.keys(handlers).filter((id) => !named.includes(id)),
  };
}

const mismatch = handlerMismatch(OPERATION_IDS, BY_OPERATION_ID);
if (mismatch.unserved.length || mismatch.unrouted.length) {
  throw new Error(
    `the handlers do not match worker/openapi.yaml: no handler for ${mismatch.unserved.join(", ") || "-"}; ` +
      `no operation for ${mismatch.unrouted.join(", ") || "-"}`,
  );
}

/**
 * @typedef {{ param: string }} Param
 * @typedef {{
 *   template: string,
 *   methods: Record<string, import("./contract.js").Scope | null>,
 *   methodNames: string[],
 *   handlers: Record<string, import("./types.js").Handler>,
 *   open: boolean,
 *   parts: (string | Param)[],
 * }} Route
 */

/** ROUTES, split once per isolate: each template's segments ("{name}" a parameter), its methods and their handlers, whether it is open. */
const ROUTE_TABLE = Object.entries(ROUTES).map(([template, methods]) => {
  /** @type {Record<string, import("./contract.js").Scope | null>} */
  const scopes = methods;
  return {
    template,
    methods: scopes,
    methodNames: Object.keys(scopes),
    handlers: Object.fromEntries(
      Object.keys(scopes).map((method) => [method, BY_OPERATION_ID[OPERATION_IDS[/** @type {keyof typeof OPERATION_IDS} */ (`${method} ${template}`)]]]),
    ),
    open: Object.values(scopes).every((scope) => scope === null),
    parts: template.split("/").map((part) => (part.startsWith("{") ? { param: part.slice(1, -1) } : part)),
  };
});

/**
 * The route whose template has as many segments as the path, "{name}" matching any one segment
 * (raw, still percent-encoded: the user-id check refuses "%"); null when none does.
 * @param {string} pathname
 * @returns {{ route: Route, params: Record<string, string> } | null}
 */
function matchRoute(pathname) {
  const segments = pathname.split("/");
  for (const route of ROUTE_TABLE) {
    if (route.parts.length !== segments.length) continue;
    /** @type {Record<string, string>} */
    const params = {};
    let matches = true;
    for (let i = 0; i < segments.length && matches; i += 1) {
      const part = route.parts[i];
      if (typeof part === "string") matches = part === segments[i];
      else params[part.param] = segments[i];
    }
    if (matches) return { route, params };
  }
  return null;
}

/**
 * @param {Request} request
 * @param {Route} route
 */
function allow(request, route) {
  if (!route.methodNames.includes(request.method)) {
    const methods = route.methodNames;
    throw new HttpError(405, "method_not_allowed", `${request.method} is not allowed here; use ${methods.join(" or ")}`, {
      outcome: "method_not_allowed",
      headers: { Allow: methods.join(", ") },
    });
  }
}

/**
 * The request's answer from its route's handler, or the HttpError that stops it first.
 * @param {Request} request
 * @param {import("./context.js").RequestContext} c
 * @returns {Promise<Response>}
 */
export async function handle(request, c) {
  const match = matchRoute(c.path);
  const route = match?.route;
  c.log.route = route?.template ?? null; // known before the token is: a 401 is counted on its route
  if (route?.open) {
    allow(request, route);
    return route.handlers[request.method](request, c, {});
  }
  c.client = await authenticate(request, c);
  await limitClient(c); // before anything that costs: an authenticated flood stops here, whatever it asks for
  if (!match || !route) {
    throw new HttpError(404, "not_found", `no route for ${request.method} ${c.url.pathname}`, { outcome: "not_found" });
  }
  allow(request, route);
  requireScope(c.client, route.methods[request.method]);
  const { userId } = match.params;
  if (userId !== undefined) checkUserId(userId);
  return route.handlers[request.method](request, c, match.params);
}
