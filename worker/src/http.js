// @ts-check
// Answers: every response is made here, once, with all its headers (never patched afterwards),
// and every error has one shape, {"error": {"code", "message", "requestId", ...extras}}: what an
// error adds is inside `error`, where every caller that reads `error.code` already looks (Stripe's
// shape; docs/worker-api.md says why not problem+json). legacy.js maps it to API 2.0.0's.

import { describe } from "./observe.js";

/**
 * An error answer, thrown anywhere below a handler: its status, its code (openapi.yaml's
 * ErrorCode, checked by tsc), the outcome it gives the request's log line and data point, and
 * the headers and body fields it adds.
 */
export class HttpError extends Error {
  /**
   * @param {number} status
   * @param {import("./contract.js").ErrorCode} code
   * @param {string} message
   * @param {{ outcome: string, headers?: Record<string, string>, extra?: Record<string, unknown> }} details
   */
  constructor(status, code, message, { outcome, headers = {}, extra = {} }) {
    super(message);
    this.status = status;
    this.code = code;
    this.outcome = outcome;
    this.headers = headers;
    this.extra = extra;
  }
}

/**
 * An answer with the headers every one carries: its request id (the log line's), and, as it is
 * about one user and one client, no-store (no shared cache keeps it) and nosniff; `headers` may
 * add or override (GET /tiers may be kept privately).
 * @param {import("./context.js").RequestContext} c
 * @param {unknown} body
 * @param {number} [status]
 * @param {Record<string, string>} [headers]
 */
export function json(c, body, status = 200, headers = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      "Content-Type": "application/json",
      "X-Request-Id": c.log.request_id,
      "X-Content-Type-Options": "nosniff",
      "Cache-Control": "no-store",
      ...headers,
    },
  });
}

/**
 * An error answer that is not thrown (a 404 or 429 a handler returns with its own headers);
 * `extra` lands inside the error object.
 * @param {import("./context.js").RequestContext} c
 * @param {number} status
 * @param {import("./contract.js").ErrorCode} code
 * @param {string} message
 * @param {Record<string, string>} [headers]
 * @param {Record<string, unknown>} [extra]
 */
export function errorJson(c, status, code, message, headers = {}, extra = {}) {
  return json(c, { error: { code, message, requestId: c.log.request_id, ...extra } }, status, headers);
}

/**
 * What a thrown error answers: an HttpError as itself (its outcome on the log line), anything
 * else as a 500 that names the request id, never a stack trace (the log line has the detail).
 * @param {unknown} error
 * @param {import("./context.js").RequestContext} c
 */
export function errorResponse(error, c) {
  if (error instanceof HttpError) {
    c.log.outcome = error.outcome;
    return errorJson(c, error.status, error.code, error.message, error.headers, error.extra);
  }
  c.log.outcome = "internal_error";
  c.log.error = describe(error);
  return errorJson(c, 500, "internal_error", `unexpected error; the Worker's logs have it under request id ${c.log.request_id}`);
}

/**
 * 304 Not Modified: the caller's copy is current (If-None-Match). No body; the headers a 200
 * would carry for caching (ETag, Cache-Control), as RFC 9110 (15.4.5) asks.
 * @param {import("./context.js").RequestContext} c
 * @param {Record<string, string>} headers
 */
export function notModified(c, headers) {
  return new Response(null, {
    status: 304,
    headers: { "X-Request-Id": c.log.request_id, "X-Content-Type-Options": "nosniff", ...headers },
  });
}
