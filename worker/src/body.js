// @ts-check
// Request bodies: JSON objects of at most MAX_BODY_BYTES.

import { HttpError } from "./http.js";

const MAX_BODY_BYTES = 4096;
const encoder = new TextEncoder();

/** @param {number} status @param {import("./contract.js").ErrorCode} code @param {string} message */
const invalid = (status, code, message) => new HttpError(status, code, message, { outcome: "invalid_request" });

/**
 * The body as a JSON object, or a 413 or 400. A declared oversize body is refused before it is
 * read; the real size is checked after.
 * @param {Request} request
 * @returns {Promise<Record<string, unknown>>}
 */
export async function readJsonObject(request) {
  if (Number(request.headers.get("Content-Length") ?? 0) > MAX_BODY_BYTES) {
    throw invalid(413, "body_too_large", `the body is over ${MAX_BODY_BYTES} bytes`);
  }
  const text = await request.text();
  if (encoder.encode(text).length > MAX_BODY_BYTES) {
    throw invalid(413, "body_too_large", `the body is over ${MAX_BODY_BYTES} bytes`);
  }
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw invalid(400, "invalid_json", "the body is not JSON");
  }
  if (!body || typeof body !== "object" || Array.isArray(body)) {
    throw invalid(400, "invalid_body", 'the body must be a JSON object, e.g. {"tier": "pro", "status": "active"}');
  }
  return body;
}
