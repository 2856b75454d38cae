// @ts-check
// Who is calling, and may they: the bearer token identified among the CLIENTS secret's clients in
// constant time, the route's scope, and the user id every storage key is built from.

import { SCOPES, USER_ID_PATTERN } from "./contract.js";
import { HttpError } from "./http.js";
import { isolate } from "./state.js";

const SHA256_HEX = /^[0-9a-f]{64}$/;
const BEARER = /^Bearer\s+(\S+)\s*$/i;
// RFC 6750 3: the challenge names the realm; with a token that failed, error="invalid_token".
const REALM = 'Bearer realm="guruai-cache"';
const CLIENTS_FIX = "set it with `pulumi up` (the `clients` setting), or `guruai-cache local` (.dev.vars)";
const encoder = new TextEncoder();

/**
 * The client whose token the request presents, or a 401.
 * @param {Request} request
 * @param {import("./context.js").RequestContext} c
 * @returns {Promise<import("./types.js").Client>}
 */
export async function authenticate(request, c) {
  const clients = readClients(c.env);
  const match = BEARER.exec(request.headers.get("Authorization") ?? "");
  const client = match ? await identify(match[1], clients) : null;
  if (!client) {
    throw new HttpError(401, "unauthorized", "send Authorization: Bearer <your client's token>", {
      outcome: "unauthorized",
      headers: { "WWW-Authenticate": match ? `${REALM}, error="invalid_token"` : REALM },
    });
  }
  c.log.client = client.name; // the name, never the token
  return client;
}

/**
 * The presented token is hashed once; its digest is compared with every client's, each in
 * constant time, and the loop never stops early: how long it takes tells neither how much of a
 * digest matched nor which client did.
 * @param {string} token
 * @param {import("./types.js").Client[]} clients
 */
async function identify(token, clients) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(token)));
  /** @type {import("./types.js").Client | null} */
  let found = null;
  for (const client of clients) {
    const same = crypto.subtle.timingSafeEqual(digest, client.digest);
    found = same && found === null ? client : found;
  }
  return found;
}

/**
 * A 403 when the client lacks the route's scope (null: the route needs none).
 * @param {import("./types.js").Client} client
 * @param {import("./contract.js").Scope | null | undefined} scope
 */
export function requireScope(client, scope) {
  if (scope && !client.scopes.includes(scope)) {
    throw new HttpError(403, "insufficient_scope", `client ${JSON.stringify(client.name)} lacks the scope ${JSON.stringify(scope)} this route needs`, {
      outcome: "forbidden",
      headers: { "WWW-Authenticate": `${REALM}, error="insufficient_scope", scope="${scope}"` },
      extra: { requiredScope: scope },
    });
  }
}

/** @param {string} userId */
export function checkUserId(userId) {
  if (!USER_ID_PATTERN.test(userId)) {
    throw new HttpError(400, "invalid_user_id", "a user id is 1 to 64 characters among A-Z a-z 0-9 _ -", { outcome: "invalid_request" });
  }
}

/**
 * CLIENTS, parsed once per isolate (and again only when the binding's text differs), or a 503
 * that says how to set it.
 * @param {Env} env
 */
function readClients(env) {
  const text = env.CLIENTS;
  if (text !== isolate.clients.text) isolate.clients = { text, parsed: parseClients(text) };
  if (!text) {
    throw new HttpError(503, "clients_unset", `the Worker has no CLIENTS secret: ${CLIENTS_FIX}`, { outcome: "misconfigured" });
  }
  if (!isolate.clients.parsed) {
    throw new HttpError(
      503,
      "clients_invalid",
      `the CLIENTS secret is not a JSON object of clients (name -> {"sha256": <hex>, "scopes": [...]}): ${CLIENTS_FIX}`,
      { outcome: "misconfigured" },
    );
  }
  return isolate.clients.parsed;
}

/**
 * [{name, digest (32 bytes), scopes}], or null when the text is not a valid clients object.
 * @param {string | undefined} text
 * @returns {import("./types.js").Client[] | null}
 */
export function parseClients(text) {
  let parsed;
  try {
    parsed = JSON.parse(text ?? "");
  } catch {
    return null;
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return null;
  /** @type {import("./types.js").Client[]} */
  const clients = [];
  for (const [name, entry] of Object.entries(parsed)) {
    const valid =
      entry && typeof entry.sha256 === "string" && SHA256_HEX.test(entry.sha256) &&
      Array.isArray(entry.scopes) && entry.scopes.every((/** @type {unknown} */ scope) => SCOPES.includes(/** @type {any} */ (scope)));
    if (!valid) return null;
    const digest = new Uint8Array(32);
    for (let i = 0; i < 32; i += 1) digest[i] = Number.parseInt(entry.sha256.slice(2 * i, 2 * i + 2), 16);
    clients.push({ name, digest, scopes: entry.scopes });
  }
  return clients.length > 0 ? clients : null;
}
