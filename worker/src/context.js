// @ts-check
// One request's context: its bindings (KV and D1 counted), its log line, and the client once
// authenticated. D1's wrapper is made on first use: a cache hit never queries D1.

import { API_BASE_PATH } from "./contract.js";
import { CountingDB, CountingKV } from "./observe.js";

const VERSIONED = `${API_BASE_PATH}/`;

/** @returns {import("./types.js").Ops} */
export function newOps() {
  return { kv_reads: 0, kv_writes: 0, kv_deletes: 0, kv_lists: 0, d1_queries: 0, d1_rows_read: 0, d1_rows_written: 0 };
}

export class RequestContext {
  /**
   * @param {Env} env
   * @param {Request} request
   * @param {import("./types.js").Ops} ops
   */
  constructor(env, request, ops) {
    this.env = env;
    this.ops = ops;
    this.url = new URL(request.url);
    const { pathname } = this.url;
    // A path under /v1 is the API's; one without it is API 2.0.0's, answered through legacy.js.
    this.legacy = !pathname.startsWith(VERSIONED);
    /** The path the routes match: without its /v1. */
    this.path = this.legacy ? pathname : pathname.slice(API_BASE_PATH.length);
    /** @type {import("./types.js").LogLine} */
    this.log = { event: "request", request_id: crypto.randomUUID(), method: request.method, route: null, outcome: null };
    this.kv = new CountingKV(env.KV, ops);
    /** @type {import("./types.js").Client | null} */
    this.client = null;
    /** @type {CountingDB | null} */
    this.countingDB = null;
  }

  get db() {
    this.countingDB ??= new CountingDB(this.env.DB, this.ops);
    return this.countingDB;
  }

  /** The authenticated client (routes that need a token run only after authentication). */
  get caller() {
    if (!this.client) throw new Error("no authenticated client on this request");
    return this.client;
  }
}
