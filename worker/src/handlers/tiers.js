// @ts-check
// GET /tiers: the tier config, from the CATALOG binding, with the catalog's version as its ETag:
// a caller whose copy is current (If-None-Match) gets a 304 without the body.

import { readCatalog } from "../catalog.js";
import { callerHasCurrent } from "../conditions.js";
import { json, notModified } from "../http.js";
import { secondsVar } from "../vars.js";

/** @type {import("../types.js").Handler} */
export function getTiers(request, c) {
  const { tiers, version } = readCatalog(c.env);
  // The same for every client, and it changes only with a deploy: the caller's own cache may keep
  // it (private: no shared cache) for TIERS_MAX_AGE seconds (the tiersMaxAge setting; 0: revalidate every time).
  // The version is a digest of the catalog (tiers and flags): it names this body exactly.
  const headers = { "Cache-Control": `private, max-age=${secondsVar(c.env, "TIERS_MAX_AGE")}`, ETag: `"${version}"` };
  if (callerHasCurrent(request, headers.ETag)) {
    c.log.outcome = "tiers_not_modified";
    return notModified(c, headers);
  }
  c.log.outcome = "tiers_get";
  return json(c, tiers, 200, headers);
}
