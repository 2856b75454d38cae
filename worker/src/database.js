// @ts-check
// D1 is the system of record: when it fails, the request fails with a 503 that nothing was
// written or counted by (the client may retry), and the log line keeps D1's own message.

import { HttpError } from "./http.js";
import { describe } from "./observe.js";

/**
 * @template T
 * @param {import("./context.js").RequestContext} c
 * @param {() => Promise<T>} query
 * @returns {Promise<T>}
 */
export async function d1(c, query) {
  try {
    return await query();
  } catch (error) {
    c.log.d1_error = describe(error);
    throw new HttpError(503, "database_unavailable", "the database is unavailable; retry later", { outcome: "d1_unavailable" });
  }
}
