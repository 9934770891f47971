/**
 * Cross-origin access to the recovery operator's device routes, for web wallets: a browser lets a
 * page of another origin (the wallet, served by the provider) read an operator's answers only when
 * the operator names that origin. Only the origins its administrator configured are named, one at
 * a time as the request gives it (never `*`), and only on the three routes a device calls — its
 * key, registering a share, an evaluation; the reshare routes an administrator drives stay closed
 * to pages. No credentials are allowed: devices carry the provider's ticket in the body, not a
 * cookie.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { App } from "../http/app.js";

/** What a device calls, by method: the routes a page of a wallet origin may read. */
const DEVICE_ROUTES: readonly { method: "GET" | "POST"; pattern: RegExp }[] = [
  { method: "GET", pattern: /^\/v1\/operator$/ },
  { method: "POST", pattern: /^\/v1\/operator\/enrollments$/ },
  { method: "POST", pattern: /^\/v1\/operator\/enrollments\/[^/]+\/evaluations$/ },
];
/** How long a browser may keep a preflight's answer. */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/** A setting's origin that is not one: the message names the setting and the entry. */
export class WalletOriginError extends Error {
  override readonly name = "WalletOriginError";
}

/**
 * KEYSHARD_OPERATOR_WALLET_ORIGINS: comma-separated origins (`https://wallet.example.com`, or
 * `http` on loopback), each exactly an origin — no path, no credentials, no wildcard.
 */
export function parseWalletOrigins(setting: string): string[] {
  return setting
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "")
    .map((entry) => {
      let url: URL;
      try {
        url = new URL(entry);
      } catch {
        throw new WalletOriginError(`KEYSHARD_OPERATOR_WALLET_ORIGINS: "${entry}" is not an origin`);
      }
      const loopback = ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
      if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback))
        throw new WalletOriginError(
          `KEYSHARD_OPERATOR_WALLET_ORIGINS: "${entry}" must be https (http on loopback only)`,
        );
      if (url.origin !== entry.replace(/\/$/, ""))
        throw new WalletOriginError(
          `KEYSHARD_OPERATOR_WALLET_ORIGINS: "${entry}" must be an origin only (scheme, host, port), not ${url.origin}${url.pathname}…`,
        );
      return url.origin;
    });
}

const routeOf = (request: FastifyRequest) => {
  const path = request.url.split("?")[0] as string;
  return DEVICE_ROUTES.filter((r) => r.pattern.test(path));
};

/** Names `origin` as allowed on this reply, and says the reply differs by origin. */
function allow(reply: FastifyReply, origin: string): void {
  reply.header("access-control-allow-origin", origin);
  varyByOrigin(reply);
}

/** Adds Origin to the reply's Vary, keeping what another part of the server put there. */
function varyByOrigin(reply: FastifyReply): void {
  const vary = reply.getHeader("vary");
  const named = (Array.isArray(vary) ? vary.join(",") : String(vary ?? ""))
    .split(",")
    .map((v) => v.trim())
    .filter((v) => v !== "");
  if (!named.some((v) => v.toLowerCase() === "origin" || v === "*"))
    reply.header("vary", [...named, "Origin"].join(", "));
}

/** CORS for `origins` on the device routes: their answers, and the preflights before a POST. */
export function walletOriginsPlugin(app: App, origins: readonly string[]): void {
  const allowed = new Set(origins);
  app.addHook("onRequest", async (request, reply) => {
    const routes = routeOf(request);
    if (routes.length === 0) return;
    // Caches must not hand one origin's answer to another, allowed or not.
    varyByOrigin(reply);
    const origin = request.headers.origin;
    if (origin === undefined || !allowed.has(origin)) return;
    if (request.method !== "OPTIONS") {
      if (routes.some((r) => r.method === request.method)) allow(reply, origin);
      return;
    }
    const asked = request.headers["access-control-request-method"];
    const route = routes.find((r) => r.method === asked);
    if (route === undefined) return;
    allow(reply, origin);
    reply.header("access-control-allow-methods", route.method);
    reply.header("access-control-allow-headers", "content-type");
    reply.header("access-control-max-age", String(PREFLIGHT_MAX_AGE_SECONDS));
    return reply.code(204).send();
  });
}
