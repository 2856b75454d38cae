// @ts-check
// What each request costs and how it went: KV and D1 calls counted by wrappers (KV bills per
// operation, D1 per row read and written), one Analytics Engine data point per request, and the
// log line, sampled for routine answers.

import { MAX_INDEX_BYTES, ROUTES, ROUTINE_OUTCOMES } from "./contract.js";
import { rateVar } from "./vars.js";

/** A short text for an error, for the log line (never for the client). */
export function describe(/** @type {unknown} */ error) {
  const message = error instanceof Error ? error.message : error;
  return String(message).slice(0, 500);
}

// Counting wrappers: every KV and D1 call goes through them, so the log line and the data point
// report what the request really cost. Classes, not per-request closures: wrangler's bundle
// wraps every closure it creates, which the hit path measurably paid for.
export class CountingKV {
  /**
   * @param {KVNamespace} kv
   * @param {import("./types.js").Ops} ops
   */
  constructor(kv, ops) {
    this.kv = kv;
    this.ops = ops;
  }
  /** @param {string} key */
  getJson(key) {
    this.ops.kv_reads += 1;
    return this.kv.get(key, "json");
  }
  /**
   * @param {string} key
   * @param {string} value
   * @param {KVNamespacePutOptions} [options]
   */
  put(key, value, options) {
    this.ops.kv_writes += 1;
    return this.kv.put(key, value, options);
  }
  /** @param {string} key */
  delete(key) {
    this.ops.kv_deletes += 1;
    return this.kv.delete(key);
  }
}

export class CountingDB {
  /**
   * @param {D1Database} db
   * @param {import("./types.js").Ops} ops
   */
  constructor(db, ops) {
    this.db = db;
    this.ops = ops;
  }
  /** @param {string} sql */
  prepare(sql) {
    return new CountingStatement(this.db.prepare(sql), this.ops);
  }
  /**
   * D1's batch: one transaction, each statement a query.
   * @param {CountingStatement[]} statements
   */
  async batch(statements) {
    this.ops.d1_queries += statements.length;
    const results = await this.db.batch(statements.map((s) => s.inner));
    for (const result of results) {
      this.ops.d1_rows_read += result.meta?.rows_read ?? 0;
      this.ops.d1_rows_written += result.meta?.rows_written ?? 0;
    }
    return results;
  }
}

class CountingStatement {
  /**
   * @param {D1PreparedStatement} inner
   * @param {import("./types.js").Ops} ops
   */
  constructor(inner, ops) {
    this.inner = inner;
    this.ops = ops;
  }
  /** @param {unknown[]} values */
  bind(...values) {
    return new CountingStatement(this.inner.bind(...values), this.ops);
  }
  /**
   * @template {Record<string, unknown>} [Row=Record<string, unknown>]
   * @returns {Promise<D1Result<Row>>}
   */
  async run() {
    this.ops.d1_queries += 1;
    const result = await this.inner.run();
    this.ops.d1_rows_read += result.meta?.rows_read ?? 0;
    this.ops.d1_rows_written += result.meta?.rows_written ?? 0;
    return /** @type {D1Result<Row>} */ (result);
  }
}

/** The methods some route has; any other is "OTHER" in the data point (a flood of made-up methods mints no index values). */
const ROUTE_METHODS = new Set(Object.values(ROUTES).flatMap((methods) => Object.keys(methods)));

/**
 * One Analytics Engine data point per request (METRICS_DATA_POINT's fields, in its order). It
 * returns at once and never fails the request; without the binding (metrics off) nothing is
 * written. The arrays are written out (a loop over the names cost the hit measurably);
 * tests/e2e/test_operations.py checks every outcome's point against the contract.
 * @param {Env} env
 * @param {import("./types.js").LogLine} log
 * @param {import("./types.js").Ops} ops
 */
export function writeDataPoint(env, log, ops) {
  if (!env.METRICS) return;
  const method = ROUTE_METHODS.has(log.method) ? log.method : "OTHER";
  const route = `${method} ${log.route ?? "(no route)"}`;
  const blobs = [route, log.outcome ?? "", log.cache ?? "", String(log.status), log.client ?? ""];
  const doubles = [
    ops.kv_reads, ops.kv_writes, ops.kv_deletes, ops.kv_lists, ops.d1_queries, ops.d1_rows_read, ops.d1_rows_written,
    log.duration_ms ?? 0,
  ];
  try {
    env.METRICS.writeDataPoint({ indexes: [route.slice(0, MAX_INDEX_BYTES)], blobs, doubles });
  } catch (error) {
    log.metrics_error = describe(error);
  }
}

/** @type {ReadonlySet<string>} */
const ROUTINE = new Set(ROUTINE_OUTCOMES);

/**
 * A routine answer: its log line may be sampled. Anything unusual on the way (an error from a
 * binding, a tier fallback) makes it worth a line every time.
 * @param {import("./types.js").LogLine} log
 */
function routine(log) {
  return (
    log.outcome !== null && ROUTINE.has(log.outcome) && (log.status ?? 500) < 500 &&
    !(log.kv_error || log.d1_error || log.cache_api_error || log.ratelimiter_error || log.metrics_error || log.tier_fallback)
  );
}

/**
 * The request's log line: always for anything unusual, at ROUTINE_LOG_SAMPLE_RATE for routine
 * answers (then saying the rate, as the line stands for 1/rate like it); error level for 5xx.
 * @param {Env} env
 * @param {import("./types.js").LogLine} log
 * @param {number} status
 */
export function emit(env, log, status) {
  if (routine(log)) {
    const rate = rateVar(env, "ROUTINE_LOG_SAMPLE_RATE");
    if (!(Math.random() < rate)) return;
    log.sample_rate = rate;
  }
  (status >= 500 ? console.error : console.log)(JSON.stringify(log));
}
