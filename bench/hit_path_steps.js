// Benchmark only (bench/hit_path_steps.py): where a cache hit's time goes, in one Worker process.
// Each /steps/<name> route below adds one thing the Worker's hit does to the step before it,
// starting from the setup guide's own hit; every other path goes to the real Worker
// (worker/dist/worker.js, the bundle that deploys, unchanged), so its GET /subscriptions/:id is measured beside them.
import worker from "../worker/dist/worker.js";

const KEY = "subscription:hit"; // filled by the script's warm-up (a real GET through the Worker)
const encoder = new TextEncoder();
let digests = null; // the CLIENTS secret's digests, as the Worker compares them

function clientDigests(env) {
  digests ??= Object.values(JSON.parse(env.CLIENTS)).map(({ sha256 }) =>
    Uint8Array.from({ length: 32 }, (_, i) => Number.parseInt(sha256.slice(2 * i, 2 * i + 2), 16)),
  );
  return digests;
}

// The guide's hit: one KV read, the value as JSON.
async function guide(request, env) {
  const cached = await env.KV.get(KEY, "json");
  return { body: JSON.stringify(cached.subscription), headers: { "Content-Type": "application/json" } };
}

// + the answer every route of the Worker gives: a request id and its four headers.
async function answer(request, env) {
  const id = crypto.randomUUID();
  const { body } = await guide(request, env);
  const headers = { "Content-Type": "application/json", "X-Request-Id": id, "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store", "X-Cache": "HIT" };
  return { body, headers };
}

// + authentication: SHA-256 of the bearer token, compared in constant time with every client's digest.
async function authenticated(request, env) {
  const token = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get("Authorization") ?? "")?.[1] ?? "";
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(token)));
  let found = false;
  for (const other of clientDigests(env)) found = crypto.subtle.timingSafeEqual(digest, other) || found;
  if (!found) return { body: "unauthorized", headers: {}, status: 401 };
  return answer(request, env);
}

// + the Analytics Engine data point (wrangler's local binding keeps nothing).
async function dataPoint(request, env) {
  const result = await authenticated(request, env);
  const blobs = ["GET /subscriptions/{userId}", "subscription_get_hit", "hit", "200", "bench"];
  env.METRICS?.writeDataPoint({ indexes: [blobs[0]], blobs, doubles: [1, 0, 0, 0, 0, 0, 0, 0] });
  return result;
}

const STEPS = { "/steps/guide": guide, "/steps/answer": answer, "/steps/authenticated": authenticated, "/steps/data-point": dataPoint };

export default {
  async fetch(request, env, ctx) {
    const step = STEPS[new URL(request.url).pathname];
    if (!step) return worker.fetch(request, env, ctx);
    const { body, headers, status = 200 } = await step(request, env);
    return new Response(body, { status, headers });
  },
  scheduled(event, env, ctx) {
    return worker.scheduled(event, env, ctx);
  },
};
