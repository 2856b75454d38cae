// @ts-check
// GET /health (and HEAD, routes.js): no token, no storage; the API version and which catalog
// this Worker serves.

import { catalogOrNull } from "../catalog.js";
import { API_VERSION } from "../contract.js";
import { json } from "../http.js";

/** @type {import("../types.js").Handler} */
export function getHealth(_request, c) {
  c.log.outcome = "health";
  const catalog = catalogOrNull(c.env);
  return json(c, { status: "ok", apiVersion: API_VERSION, environment: c.env.ENVIRONMENT ?? null, catalogVersion: catalog?.version ?? null });
}
