// @ts-check
// Request bodies: JSON objects of at most MAX_BODY_BYTES, counted as they stream in (a chunked
// body declares no Content-Length), and the bodies an answer did not need, drained.

import { HttpError } from "./http.js";

const MAX_BODY_BYTES = 4096;
// The most of an unwanted request body the Worker reads before it stops (drainUnreadBody).
const DRAIN_MAX_BYTES = 64 * 1024;
const decoder = new TextDecoder();

/** @param {number} status @param {import("./contract.js").ErrorCode} code @param {string} message */
const invalid = (status, code, message) => new HttpError(status, code, message, { outcome: "invalid_request" });

const tooLarge = () => invalid(413, "body_too_large", `the body is over ${MAX_BODY_BYTES} bytes`);

/**
 * The body as a JSON object, or a 413 or 400. A declared oversize body is refused before it is
 * read; any other is counted chunk by chunk and refused as soon as it passes MAX_BODY_BYTES, so
 * no more than that is ever kept.
 * @param {Request} request
 * @returns {Promise<Record<string, unknown>>}
 */
export async function readJsonObject(request) {
  if (Number(request.headers.get("Content-Length") ?? 0) > MAX_BODY_BYTES) throw tooLarge();
  const text = request.body ? await readBounded(request.body.getReader(), MAX_BODY_BYTES) : "";
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

/**
 * The stream as UTF-8 text, or a 413 once it has passed `max` bytes (the rest then drained, up
 * to DRAIN_MAX_BYTES, like any unread body).
 * @param {ReadableStreamDefaultReader<Uint8Array>} reader
 * @param {number} max
 */
async function readBounded(reader, max) {
  const buffer = new Uint8Array(max);
  let length = 0;
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    if (length + chunk.value.byteLength > max) {
      await discard(reader, length + chunk.value.byteLength);
      throw tooLarge();
    }
    buffer.set(chunk.value, length);
    length += chunk.value.byteLength;
  }
  return decoder.decode(buffer.subarray(0, length));
}

/**
 * A body the answer did not need (a 401 comes before a PUT's body is read) is read to its end, up
 * to DRAIN_MAX_BYTES, then cancelled: local workerd reuses a connection cleanly only once its body
 * is consumed (wrangler dev's bundling adds a middleware that drains it; the Worker runs unbundled,
 * so it does this itself). The bound keeps a large unwanted body from costing CPU time.
 * @param {ReadableStream<Uint8Array>} body
 */
export async function drainUnreadBody(body) {
  try {
    await discard(body.getReader(), 0);
  } catch {
    // the client went away: nothing to drain
  }
}

/**
 * Read and drop the rest of a stream, `read` bytes of it already read, cancelling it past DRAIN_MAX_BYTES.
 * @param {ReadableStreamDefaultReader<Uint8Array>} reader
 * @param {number} read
 */
async function discard(reader, read) {
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    read += chunk.value.byteLength;
    if (read > DRAIN_MAX_BYTES) {
      await reader.cancel();
      return;
    }
  }
}
