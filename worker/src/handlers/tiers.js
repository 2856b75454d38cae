// @ts-check
// GET /tiers: the tier config, from the CATALOG binding.

import { readCatalog } from "../catalog.js";
import { json } from "../http.js";
import { secondsVar } from "../vars.js";

/** @type {import("../types.js").Handler} */
export function getTiers(_request, c) {
  const { tiers } = readCatalog(c.env);
  c.log.outcome = "tiers_get";
  // The same for every client, and it changes only with a deploy: the caller's own cache may keep
  // it (private: no shared cache) for TIERS_MAX_AGE seconds (the tiersMaxAge setting; 0: revalidate every time).
  return json(c, tiers, 200, { "Cache-Control": `private, max-age=${secondsVar(c.env, "TIERS_MAX_AGE")}` });
}
