// Test only: the real Worker (worker/dist/worker.js, the bundle that deploys, unchanged) with its Analytics Engine data points
// recorded. Locally wrangler binds Analytics Engine (`analytics_engine_datasets`) to a stand-in
// whose writeDataPoint keeps nothing (miniflare's analytics-engine.worker.js), so this wrapper
// hands the Worker a recorder in its place: each data point is kept, passed on to the local
// binding, and printed after the response as one line the tests read:
//   {"event": "data_points", "request_id": <X-Request-Id>, "bound": <the binding exists>, "points": [...]}
// X-Test-Env (a JSON object of variables) overrides the Worker's plain-text variables for one
// request: ROUTINE_LOG_SAMPLE_RATE 0 or 1 makes its sampled log lines deterministic,
// ENTITLEMENTS_COUNT_MAX_AGE 0 makes it read today's count from D1.
import worker from "../../worker/dist/worker.js";

export function recording(inner) {
  return {
    async fetch(request, env, ctx) {
      const bound = typeof env.METRICS?.writeDataPoint === "function";
      const points = [];
      const recorder = {
        writeDataPoint(point) {
          points.push(structuredClone(point));
          env.METRICS.writeDataPoint(point);
        },
      };
      const vars = JSON.parse(request.headers.get("X-Test-Env") ?? "{}");
      const testEnv = { ...env, ...(bound && { METRICS: recorder }), ...vars };
      const response = await inner.fetch(request, testEnv, ctx);
      console.log(JSON.stringify({ event: "data_points", request_id: response.headers.get("X-Request-Id"), bound, points }));
      return response;
    },
    scheduled(event, env, ctx) {
      return inner.scheduled(event, env, ctx);
    },
  };
}

export default recording(worker);
