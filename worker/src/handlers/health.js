// @ts-check
// GET /health (and HEAD): no token, no storage; which catalog this Worker serves.

import { catalogOrNull } from "../catalog.js";
import { json } from "../http.js";

/** @type {import("../types.js").Handler} */
export function getHealth(_request, c) {
  c.log.outcome = "health";
  const catalog = catalogOrNull(c.env);
  return json(c, { status: "ok", environment: c.env.ENVIRONMENT ?? null, catalogVersion: catalog?.version ?? null });
}

/** HEAD /health: the same answer, whose body the runtime drops. */
export const headHealth = getHealth;
