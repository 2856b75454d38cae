// @ts-check
// The tier config and flags: the CATALOG binding ({version, tiers, flags, fallbackTier}), which
// changes with the script upload, atomically, and rolls back with it: no KV read, no edge cache
// to wait for. Validated once per isolate; taken as an object (wrangler's form) or as JSON text
// (a provider that sends the binding's value as a string). A catalog over one variable's 5 KB
// comes in parts: CATALOG is {version, parts: n} and CATALOG_PART_1..n hold its JSON text.

import { HttpError } from "./http.js";
import { isolate } from "./state.js";

const CATALOG_FIX = "deploy with `pulumi up`, or re-run `guruai-cache local`";

/**
 * The catalog, or null when the binding is missing or invalid (GET /health says so, never fails).
 * @param {Env} env
 */
export function catalogOrNull(env) {
  if (env.CATALOG !== isolate.catalog.source) isolate.catalog = { source: env.CATALOG, parsed: parseCatalog(joined(env)) };
  return isolate.catalog.parsed;
}

/**
 * CATALOG, or, when it names parts, the document its parts spell (null when one is missing or
 * they spell another version).
 * @param {Env} env
 * @returns {unknown}
 */
function joined(env) {
  /** @type {any} */
  let header = env.CATALOG;
  if (typeof header === "string") {
    try {
      header = JSON.parse(header);
    } catch {
      return header; // parseCatalog refuses it
    }
  }
  if (!isObject(header) || header.parts === undefined) return header;
  if (!Number.isInteger(header.parts) || header.parts < 1) return null;
  let text = "";
  for (let n = 1; n <= header.parts; n += 1) {
    const part = env[`CATALOG_PART_${n}`];
    if (typeof part !== "string") return null;
    text += part;
  }
  try {
    const document = JSON.parse(text);
    return isObject(document) && document.version === header.version ? document : null;
  } catch {
    return null;
  }
}

/**
 * The catalog, or a 503 that says how to fix the binding.
 * @param {Env} env
 */
export function readCatalog(env) {
  const catalog = catalogOrNull(env);
  if (env.CATALOG === undefined) {
    throw new HttpError(503, "tier_config_missing", `the Worker has no CATALOG binding (tiers and flags): ${CATALOG_FIX}`, {
      outcome: "tiers_missing",
    });
  }
  if (!catalog) {
    throw new HttpError(
      503,
      "tier_config_invalid",
      `the CATALOG binding is not {tiers: {name: {dailyRequestLimit: n >= 1, ...}}, flags, fallbackTier}: ${CATALOG_FIX}`,
      { outcome: "tiers_invalid" },
    );
  }
  return catalog;
}

/**
 * @param {unknown} source
 * @returns {import("./types.js").Catalog | null}
 */
export function parseCatalog(source) {
  /** @type {any} */
  let catalog = source;
  if (typeof source === "string") {
    try {
      catalog = JSON.parse(source);
    } catch {
      return null;
    }
  }
  if (!isObject(catalog) || !isObject(catalog.tiers) || !isObject(catalog.flags ?? {})) return null;
  const tiers = Object.values(catalog.tiers);
  const validTiers =
    tiers.length > 0 &&
    tiers.every((t) => isObject(t) && Number.isInteger(t.dailyRequestLimit) && t.dailyRequestLimit >= 1 && isStringList(t.features ?? []));
  const validFlags = Object.values(catalog.flags ?? {}).every((f) => isObject(f) && (f.tiers == null || isStringList(f.tiers)));
  if (!validTiers || !validFlags || !Object.hasOwn(catalog.tiers, catalog.fallbackTier)) return null;
  return {
    version: String(catalog.version ?? ""),
    tiers: catalog.tiers,
    flags: catalog.flags ?? {},
    fallbackTier: catalog.fallbackTier,
    features: new Map(), // tier -> its features, filled on first use (featuresOf)
  };
}

/**
 * @param {unknown} value
 * @returns {value is Record<string, any>}
 */
function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * @param {unknown} value
 * @returns {value is string[]}
 */
function isStringList(value) {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}

/**
 * The tier whose limit and features apply: the subscription's own, or, when that tier is no
 * longer configured, the catalog's fallbackTier (never a 503 for everyone on a removed tier).
 * @param {import("./types.js").Subscription} subscription
 * @param {import("./types.js").Catalog} catalog
 * @param {import("./context.js").RequestContext} c
 */
export function effectiveTier(subscription, catalog, c) {
  if (Object.hasOwn(catalog.tiers, subscription.tier)) return subscription.tier;
  c.log.tier_fallback = { tier: subscription.tier, applied: catalog.fallbackTier };
  return catalog.fallbackTier;
}

/**
 * A tier's features: its own and each enabled flag's that covers it; worked out once per tier and
 * catalog (the catalog changes only with a deploy).
 * @param {import("./types.js").Catalog} catalog
 * @param {string} tier
 */
export function featuresOf(catalog, tier) {
  let features = catalog.features.get(tier);
  if (!features) {
    const found = new Set(catalog.tiers[tier].features ?? []);
    for (const [name, flag] of Object.entries(catalog.flags)) {
      if (flag.enabled !== false && (flag.tiers == null || flag.tiers.includes(tier))) found.add(name);
    }
    features = [...found].sort();
    catalog.features.set(tier, features);
  }
  return features;
}
