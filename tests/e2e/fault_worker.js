// Test only: the real Worker (worker/dist/worker.js, the bundle that deploys, unchanged) with one binding made to fail,
// chosen per request by the X-Test-Fault header: the e2e tests check graceful degradation
// on workerd without any fault switch in the shipped Worker. Its data points are recorded as
// recording_worker.js does.
import worker from "../../worker/dist/worker.js";
import { recording } from "./recording_worker.js";

const fail = (what) => async () => {
  throw new Error(`injected ${what} failure`);
};

function failingStatement() {
  const statement = { bind: () => statement, run: fail("D1"), all: fail("D1"), first: fail("D1") };
  return statement;
}

const FAULTS = {
  // every KV operation fails
  kv: (env) => ({ ...env, KV: { get: fail("KV"), put: fail("KV"), delete: fail("KV"), list: fail("KV") } }),
  // reads work, writes and deletes fail
  "kv-write": (env) => ({
    ...env,
    KV: { get: (...a) => env.KV.get(...a), put: fail("KV"), delete: fail("KV"), list: (...a) => env.KV.list(...a) },
  }),
  d1: (env) => ({ ...env, DB: { prepare: () => failingStatement(), batch: fail("D1") } }),
  ratelimiter: (env) => ({ ...env, RATE_LIMITER: { limit: fail("ratelimit") } }),
  // the deployed script's bindings gone wrong: no catalog, a corrupt one, no clients
  "catalog-missing": (env) => ({ ...env, CATALOG: undefined }),
  "catalog-invalid": (env, request) => ({ ...env, CATALOG: request.headers.get("X-Test-Catalog") }),
  "clients-missing": (env) => ({ ...env, CLIENTS: undefined }),
  "clients-invalid": (env) => ({ ...env, CLIENTS: '{"app": {"sha256": "not hex", "scopes": ["read"]}}' }),
  // a failure nothing expects (reading the catalog binding throws): the Worker's 500 internal_error
  unexpected: (env) =>
    Object.defineProperty({ ...env }, "CATALOG", {
      get() {
        throw new Error("injected unexpected failure");
      },
    }),
  // Analytics Engine: no binding (metrics off), or one whose writeDataPoint throws
  "metrics-missing": (env) => ({ ...env, METRICS: undefined }),
  "metrics-failing": (env) => ({
    ...env,
    METRICS: {
      writeDataPoint() {
        throw new Error("injected Analytics Engine failure"); // synchronous, as the binding's own errors are
      },
    },
  }),
};

export default recording({
  fetch(request, env, ctx) {
    const fault = request.headers.get("X-Test-Fault");
    return worker.fetch(request, fault ? FAULTS[fault](env, request) : env, ctx);
  },
  scheduled(event, env, ctx) {
    return worker.scheduled(event, FAULTS.d1(env), ctx);
  },
});
