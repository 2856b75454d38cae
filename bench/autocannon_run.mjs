// Runs one load scenario with the pinned autocannon (node_modules) and prints its result as JSON.
// Called by bench/worker_load.py; the spec comes as JSON on argv[2]:
//   {url, method, headers, duration, connections, pathTemplate?}
// pathTemplate "/x/{n}" makes request n go to "/x/<n>" (n = 0, 1, 2, ...: every request distinct).
import autocannon from "autocannon";

const spec = JSON.parse(process.argv[2]);
let next = 0;
const options = {
  url: spec.url,
  method: spec.method,
  headers: spec.headers,
  duration: spec.duration,
  connections: spec.connections,
};
if (spec.pathTemplate) {
  options.requests = [
    {
      setupRequest(request) {
        request.path = spec.pathTemplate.replace("{n}", String(next++));
        return request;
      },
    },
  ];
}
const result = await autocannon(options);
process.stdout.write(
  JSON.stringify({
    requests_per_s: result.requests.average,
    total: result.requests.total,
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    distinct_paths: spec.pathTemplate ? next : null,
  }) + "\n",
);
