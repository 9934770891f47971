/**
 * Prometheus metrics at /metrics: the process's defaults, request latency by route and status,
 * and how often a signing run found its precomputation made ahead.
 */
import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";
import type { ProviderContext } from "../../context.js";
import type { App } from "../app.js";

export function metricsPlugin(app: App, ctx: ProviderContext): void {
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });
  const latency = new Histogram({
    name: "keyshard_http_request_seconds",
    help: "HTTP request latency by route and status",
    labelNames: ["method", "route", "status"],
    registers: [metrics],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  });
  const shares = ctx.shares;
  new Counter({
    name: "keyshard_ecdsa2p_sign_runs_total",
    help: "The provider's ecdsa2p signing runs, by whether their precomputation was made ahead on a worker thread",
    labelNames: ["precomputed"],
    registers: [metrics],
    collect() {
      this.reset();
      this.inc({ precomputed: "ahead" }, shares.handedOut.ahead);
      this.inc({ precomputed: "in-run" }, shares.handedOut.none);
    },
  });
  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "unmatched";
    latency.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
  app.get("/metrics", { schema: { hide: true } }, async (_request, reply) =>
    reply.type(metrics.contentType).send(await metrics.metrics()),
  );
}
