// @ts-check
// Entity tags and the conditional request headers (RFC 9110, section 13): a subscription's strong
// ETag, the catalog's, and If-Match / If-None-Match read into what sql.js's conditional upsert and
// GET /tiers compare.
//
// A subscription's ETag spells its version: its updatedAt, tier and status (the rest of the record,
// userId and createdAt, never change), base64url-encoded. So D1 can compare a row with the tags a
// PUT sends in the same statement that writes it (sql.js: SUBSCRIPTION_VERSION), without a read first.

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * A subscription's version, as SUBSCRIPTION_VERSION spells it in SQL.
 * @param {{ updatedAt: string, tier: string, status: string }} subscription
 */
export function subscriptionVersion({ updatedAt, tier, status }) {
  return `${updatedAt} ${tier} ${status}`;
}

/**
 * The subscription's strong ETag.
 * @param {{ updatedAt: string, tier: string, status: string }} subscription
 */
export function subscriptionEtag(subscription) {
  const bytes = encoder.encode(subscriptionVersion(subscription));
  const base64 = btoa(String.fromCharCode(...bytes));
  return `"${base64.replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "")}"`;
}

/**
 * The version an ETag of ours spells, or null when it is not one (it then matches no record).
 * @param {string} opaque the tag between its quotes
 */
function versionOf(opaque) {
  if (!/^[A-Za-z0-9_-]+$/.test(opaque)) return null;
  try {
    const binary = atob(opaque.replaceAll("-", "+").replaceAll("_", "/"));
    return decoder.decode(Uint8Array.from(binary, (ch) => ch.charCodeAt(0)));
  } catch {
    return null;
  }
}

/**
 * A conditional header's value: `*`, or its entity tags (strong, or weak with W/), null without
 * the header. A member that is not an entity tag is dropped: it matches nothing.
 * @param {string | null} value
 * @returns {"*" | { tag: string, weak: boolean }[] | null}
 */
export function entityTags(value) {
  if (value === null) return null;
  if (value.trim() === "*") return "*";
  const tags = [];
  for (const member of value.matchAll(/(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"/g)) {
    tags.push({ tag: member[2], weak: member[1] !== undefined });
  }
  return tags;
}

/**
 * What a PUT's If-Match and If-None-Match ask of the write, as the conditional upsert's arguments:
 * may it create the subscription, may it update it, and the versions the current one must be one
 * of (If-Match, strong comparison) or none of (If-None-Match, weak comparison), as JSON arrays
 * (null: no such condition). Null overall: the PUT is unconditional.
 * @param {Request} request
 * @returns {{ mayCreate: 0 | 1, mayUpdate: 0 | 1, matchOneOf: string | null, matchNoneOf: string | null } | null}
 */
export function writeConditions(request) {
  const ifMatch = entityTags(request.headers.get("If-Match"));
  const ifNoneMatch = entityTags(request.headers.get("If-None-Match"));
  if (ifMatch === null && ifNoneMatch === null) return null;
  /** @param {{ tag: string, weak: boolean }[]} tags */
  const versions = (tags) => JSON.stringify(tags.map(({ tag }) => versionOf(tag)).filter((v) => v !== null));
  return {
    // If-Match (any form) holds only for a subscription that exists.
    mayCreate: ifMatch === null ? 1 : 0,
    // If-None-Match: * holds only for one that does not.
    mayUpdate: ifNoneMatch === "*" ? 0 : 1,
    matchOneOf: ifMatch === null || ifMatch === "*" ? null : versions(ifMatch.filter(({ weak }) => !weak)),
    matchNoneOf: ifNoneMatch === null || ifNoneMatch === "*" ? null : versions(ifNoneMatch),
  };
}

/**
 * Whether the caller's copy is current: If-None-Match names the current ETag (weak comparison), so
 * a GET answers 304.
 * @param {Request} request
 * @param {string} etag the current ETag, with its quotes
 */
export function callerHasCurrent(request, etag) {
  const tags = entityTags(request.headers.get("If-None-Match"));
  if (tags === null) return false;
  return tags === "*" || tags.some(({ tag }) => `"${tag}"` === etag);
}
