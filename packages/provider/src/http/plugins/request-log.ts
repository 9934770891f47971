/**
 * One log line per request, at a level by what it was. Successful reads and relay traffic are
 * what waiting devices repeat all day (a cosigner, a wallet following its request): debug, so that
 * a provider at rest logs nothing. Changes, refusals and failures are worth a line; a refused
 * signature or device, a warning.
 */
import type { App } from "../app.js";

function requestLogLevel(method: string, route: string, status: number): "debug" | "info" | "warn" | "error" {
  if (status >= 500) return "error";
  if (status === 401 || status === 403) return "warn";
  if (status >= 400) return "info";
  return method === "GET" || method === "HEAD" || route.startsWith("/v1/relay") ? "debug" : "info";
}

export function requestLogPlugin(app: App): void {
  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "unmatched";
    const status = reply.statusCode;
    request.log[requestLogLevel(request.method, route, status)](
      { method: request.method, path: request.url.split("?")[0], status, ms: Math.round(reply.elapsedTime) },
      "request",
    );
  });
}
