/**
 * Prometheus metrics at /metrics: the process's defaults, request latency by route and status,
 * and how often a signing run found its precomputation made ahead.
 *
 * They are served on the API's own port, to scrapers that send the operator's bearer token
 * (Prometheus: `authorization: { credentials: … }`), and not at all without one: route latencies,
 * signing counts and memory figures tell an outsider how busy a provider is and what it runs. A
 * token rather than a second port bound to loopback, because a scraper is seldom on the provider's
 * machine, and each replica behind a load balancer is scraped at its own address anyway.
 */
import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";
import type { ProviderContext } from "../../context.js";
import type { App } from "../app.js";
import { type BearerDoor, checkBearerTokenForm, requireBearerToken } from "../bearer-token.js";

/** Refuses a metrics token a scraper could not send or that is too short to be a random one; the message never holds the token. */
export const checkMetricsToken = (token: string): void => checkBearerTokenForm(token, "KEYSHARD_METRICS_TOKEN");

const METRICS_DOOR: BearerDoor = {
  realm: "metrics",
  refusal: "/metrics needs the bearer token the provider was started with (KEYSHARD_METRICS_TOKEN)",
};

/** `token`: the scrapers' bearer token; without it, nothing is collected or served. */
export function metricsPlugin(app: App, ctx: ProviderContext, token: string | undefined): void {
  if (token === undefined) return;
  checkMetricsToken(token);
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
  app.get("/metrics", { schema: { hide: true } }, async (request, reply) => {
    requireBearerToken(request, reply, token, METRICS_DOOR);
    return reply.type(metrics.contentType).send(await metrics.metrics());
  });
}
