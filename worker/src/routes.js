// @ts-check
// Routing: ROUTES (the contract: path template -> method -> the scope it needs) matched on a
// table split once per isolate, then authentication, the method, the scope and the user id
// checked, then the route's handler from HANDLERS, whose keys are exactly ROUTES' pairs.

import { authenticate, checkUserId, requireScope } from "./auth.js";
import { ROUTES } from "./contract.js";
import { getEntitlements } from "./handlers/entitlements.js";
import { health } from "./handlers/health.js";
import { getSubscription, putSubscription } from "./handlers/subscriptions.js";
import { getTiers } from "./handlers/tiers.js";
import { postUsage } from "./handlers/usage.js";
import { HttpError } from "./http.js";

/**
 * One handler per route and method, keyed "METHOD /template" as ROUTES lists them.
 * @type {Record<string, import("./types.js").Handler>}
 */
export const HANDLERS = {
  "GET /health": health,
  "HEAD /health": health,
  "GET /tiers": getTiers,
  "GET /subscriptions/{userId}": getSubscription,
  "PUT /subscriptions/{userId}": putSubscription,
  "POST /usage/{userId}": postUsage,
  "GET /entitlements/{userId}": getEntitlements,
};

/**
 * The "METHOD /template" pairs ROUTES has and HANDLERS lacks, and those HANDLERS has and ROUTES
 * lacks: both empty, or the module refuses to load (a deploy fails at upload, `wrangler dev` at
 * start, and tests/test_worker_build.py says which).
 * @param {Record<string, Record<string, string | null>>} routes
 * @param {Record<string, unknown>} handlers
 */
export function handlerMismatch(routes, handlers) {
  const routed = Object.entries(routes).flatMap(([template, methods]) => Object.keys(methods).map((m) => `${m} ${template}`));
  const served = Object.keys(handlers);
  return { unserved: routed.filter((key) => !served.includes(key)), unrouted: served.filter((key) => !routed.includes(key)) };
}

const mismatch = handlerMismatch(ROUTES, HANDLERS);
if (mismatch.unserved.length || mismatch.unrouted.length) {
  throw new Error(`HANDLERS does not match ROUTES: no handler for ${mismatch.unserved.join(", ") || "-"}; not a route: ${mismatch.unrouted.join(", ") || "-"}`);
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
    handlers: Object.fromEntries(Object.keys(scopes).map((method) => [method, HANDLERS[`${method} ${template}`]])),
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
  const match = matchRoute(c.url.pathname);
  const route = match?.route;
  c.log.route = route?.template ?? null; // known before the token is: a 401 is counted on its route
  if (route?.open) {
    allow(request, route);
    return route.handlers[request.method](request, c, {});
  }
  c.client = await authenticate(request, c);
  if (!match || !route) {
    throw new HttpError(404, "not_found", `no route for ${request.method} ${c.url.pathname}`, { outcome: "not_found" });
  }
  allow(request, route);
  requireScope(c.client, route.methods[request.method]);
  const { userId } = match.params;
  if (userId !== undefined) checkUserId(userId);
  return route.handlers[request.method](request, c, match.params);
}
