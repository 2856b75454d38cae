// @ts-check
// The Worker's own types, for `tsc --noEmit` (JSDoc; no build step changes the code). Env, the
// bindings, comes from env.d.ts (generated from the one declaration in infra/plan/bindings.py).

/**
 * The KV and D1 operations one request performed (worker/operations.json's counts).
 * @typedef {{
 *   kv_reads: number, kv_writes: number, kv_deletes: number, kv_lists: number,
 *   d1_queries: number, d1_rows_read: number, d1_rows_written: number,
 * }} Ops
 */

/**
 * A request's structured log line; its fields also make the Analytics Engine data point.
 * @typedef {{
 *   event: "request",
 *   request_id: string,
 *   method: string,
 *   route: string | null,
 *   outcome: string | null,
 *   status?: number,
 *   ops?: Ops,
 *   duration_ms?: number,
 *   cache?: "hit" | "miss" | "bypass",
 *   client?: string,
 *   sample_rate?: number,
 *   usage_count?: "memory" | "d1",
 *   tier_fallback?: { tier: string, applied: string },
 *   kv_error?: string,
 *   d1_error?: string,
 *   ratelimiter_error?: string,
 *   cache_api_error?: string,
 *   metrics_error?: string,
 *   error?: string,
 *   deprecated_path?: true,
 * }} LogLine
 */

/**
 * A caller of the Worker: its name, its token's SHA-256 (32 bytes) and its scopes.
 * @typedef {{ name: string, digest: Uint8Array, scopes: import("./contract.js").Scope[] }} Client
 */

/**
 * @typedef {{ name?: string, dailyRequestLimit: number, features?: string[], [field: string]: unknown }} Tier
 * @typedef {{ enabled?: boolean, tiers?: string[] | null, description?: string }} Flag
 */

/**
 * The CATALOG binding, validated: tiers and flags by name, the fallback tier, and each tier's
 * features once worked out (featuresOf).
 * @typedef {{
 *   version: string,
 *   tiers: Record<string, Tier>,
 *   flags: Record<string, Flag>,
 *   fallbackTier: string,
 *   features: Map<string, string[]>,
 * }} Catalog
 */

/**
 * A subscription as the API answers with it.
 * @typedef {{ userId: string, tier: string, status: import("./contract.js").SubscriptionStatus, createdAt: string, updatedAt: string }} Subscription
 */

/**
 * A route's handler: the request, its context and the path's parameters.
 * @typedef {(request: Request, c: import("./context.js").RequestContext, params: Record<string, string>) => Response | Promise<Response>} Handler
 */

export {};
