// Placeholder until the Worker issue lands: answers /health only.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/health") {
      return Response.json({ status: "ok", environment: env.ENVIRONMENT });
    }
    return Response.json({ error: { code: "not_found", message: "no such route" } }, { status: 404 });
  },
  async scheduled(event, env, ctx) {},
};
