// @ts-check
// Everything the Worker keeps between requests, in one place. Each isolate (a Worker instance;
// Cloudflare runs many) has its own, lost whenever the isolate is recycled: nothing here is the
// system of record, only what is cheaper to keep than to work out again.

/**
 * @typedef {{ windowStart: number, used: number, at: number }} KeptCount
 * @typedef {{ windowStart: number, windowSeconds: number, resetsAt: number, resetsAtText: string }} UsageWindow
 */

export const isolate = {
  /** The CLIENTS secret, parsed (again only when its text differs). */
  clients: /** @type {{ text: string | undefined, parsed: import("./types.js").Client[] | null }} */ ({
    text: undefined,
    parsed: null,
  }),
  /** The CATALOG binding, validated (again only when the binding differs). */
  catalog: /** @type {{ source: unknown, parsed: import("./types.js").Catalog | null }} */ ({
    source: undefined,
    parsed: null,
  }),
  /**
   * Today's count per user as this isolate last read it from D1 or counted it (POST /usage):
   * userId -> {windowStart, used, at (ms)}, in order of last use so the oldest goes first
   * (at most COUNT_CACHE_MAX_USERS). Another isolate's uses arrive once an entry is older than
   * ENTITLEMENTS_COUNT_MAX_AGE.
   * @type {Map<string, KeptCount>}
   */
  counts: new Map(),
  /** Sampling rates parsed from their variables' text: "NAME=text" -> rate. @type {Map<string, number>} */
  rates: new Map(),
  /** The current usage window and its end as text (made once per window). @type {UsageWindow | null} */
  window: null,
};
