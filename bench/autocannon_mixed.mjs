// A mixed-route load with the pinned autocannon: every request picks a route at random
// (weighted), and every response is tallied by route and status, and by user for the usage
// POSTs accepted (200). Called by bench/reliability_load.py; the spec comes as JSON on argv[2]:
//   {url, token, duration, connections, maxRequests, weights: {kind: weight},
//    users: {hot, absent, put, usage, small: number of users; missPrefix, ...}}
// Loads for `duration` seconds or `maxRequests` requests, whichever comes first, then sends
// only GET /health for DRAIN_MS ("drain") and stops: every route's last requests are
// answered before the stop, so the tally has every usage POST the Worker counted.
import autocannon from "autocannon";

const spec = JSON.parse(process.argv[2]);
const auth = { Authorization: `Bearer ${spec.token}` };
const pick = (n) => Math.floor(Math.random() * n);
const DRAIN_MS = 2000;
let missNext = 0;
let issued = 0;
let started = null;
let drainingSince = null;
let putNext = 0;

// The API's paths are under spec.prefix ("/v1"; "" for a Worker built before it).
const prefix = spec.prefix ?? "";

// kind -> the request it sends (and the user it is about, for the usage tally)
const KINDS = {
  drain: () => ({ method: "GET", path: `${prefix}/health`, headers: {} }),
  health: () => ({ method: "GET", path: `${prefix}/health`, headers: {} }),
  tiers: () => ({ method: "GET", path: `${prefix}/tiers`, headers: auth }),
  subscription_hit: () => ({ method: "GET", path: `${prefix}/subscriptions/hot-${pick(spec.users.hot)}`, headers: auth }),
  subscription_miss: () => ({ method: "GET", path: `${prefix}/subscriptions/miss-${missNext++}`, headers: auth }),
  subscription_absent: () => ({ method: "GET", path: `${prefix}/subscriptions/absent-${pick(spec.users.absent)}`, headers: auth }),
  subscription_put: () => ({
    method: "PUT",
    path: `${prefix}/subscriptions/put-${pick(spec.users.put)}`,
    headers: { ...auth, "Content-Type": "application/json" },
    body: JSON.stringify({ tier: putNext++ % 2 ? "pro" : "premium", status: "active" }),
  }),
  usage: () => {
    const user = `usage-${pick(spec.users.usage)}`;
    return { method: "POST", path: `${prefix}/usage/${user}`, headers: auth, user };
  },
  usage_small_tier: () => {
    const user = `small-${pick(spec.users.small)}`;
    return { method: "POST", path: `${prefix}/usage/${user}`, headers: auth, user };
  },
};

const kinds = Object.keys(spec.weights);
const total = kinds.reduce((sum, kind) => sum + spec.weights[kind], 0);
function chooseKind() {
  let r = Math.random() * total;
  for (const kind of kinds) {
    r -= spec.weights[kind];
    if (r < 0) return kind;
  }
  return kinds[kinds.length - 1];
}

const byRoute = {}; // kind -> {status: count}
const accepted = {}; // user -> usage POSTs answered 200
const sent = {}; // user -> usage POSTs sent
const latencies = {}; // kind -> response times (ms), every status
let lastKind = null; // autocannon calls onResponse, then emits "response" with the time
let instance;
const options = {
  url: spec.url,
  duration: spec.duration + 60, // a backstop: the drain stops the run
  connections: spec.connections,
  requests: [
    {
      setupRequest(request, context) {
        const now = Date.now();
        started ??= now;
        if (drainingSince === null && (now - started >= spec.duration * 1000 || issued >= spec.maxRequests)) {
          drainingSince = now;
        }
        if (drainingSince !== null && now - drainingSince >= DRAIN_MS) instance.stop();
        const kind = drainingSince === null ? chooseKind() : "drain";
        issued += 1;
        const { user, ...chosen } = KINDS[kind]();
        context.kind = kind;
        context.user = user;
        if (user) sent[user] = (sent[user] ?? 0) + 1;
        return { ...request, body: undefined, ...chosen };
      },
      onResponse(status, body, context) {
        const tally = (byRoute[context.kind] ??= {});
        tally[status] = (tally[status] ?? 0) + 1;
        lastKind = context.kind;
        if (context.user && status === 200) accepted[context.user] = (accepted[context.user] ?? 0) + 1;
      },
    },
  ],
};
const result = await new Promise((resolve, reject) => {
  instance = autocannon(options, (error, result) => (error ? reject(error) : resolve(result)));
  instance.on("response", (client, status, bytes, ms) => (latencies[lastKind] ??= []).push(ms));
});

// Percentiles of the load phase (autocannon's own latency figures count 2xx only, drain included).
function percentiles(values) {
  const sorted = Float64Array.from(values).sort();
  const at = (q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] : null);
  return { count: sorted.length, p50_ms: at(0.5), p99_ms: at(0.99), max_ms: sorted.length ? sorted[sorted.length - 1] : null };
}
const loadKinds = Object.keys(latencies).filter((kind) => kind !== "drain");
process.stdout.write(
  JSON.stringify({
    load_s: ((drainingSince ?? Date.now()) - started) / 1000,
    latency: percentiles(loadKinds.flatMap((kind) => latencies[kind])),
    latency_by_route: Object.fromEntries(loadKinds.map((kind) => [kind, percentiles(latencies[kind])])),
    errors: result.errors,
    timeouts: result.timeouts,
    by_route: byRoute,
    accepted,
    usage_sent: Object.values(sent).reduce((a, b) => a + b, 0),
    usage_answered: Object.entries(byRoute)
      .filter(([kind]) => kind.startsWith("usage"))
      .reduce((sum, [, tally]) => sum + Object.values(tally).reduce((a, b) => a + b, 0), 0),
    misses_sent: missNext,
  }) + "\n",
);
