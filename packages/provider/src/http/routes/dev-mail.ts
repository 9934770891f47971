/**
 * The development mail viewer: with no SMTP server configured, the messages the provider could not
 * send, newest first, one-time codes included, are shown at /dev/mail/<token> (as a page; with
 * `.json` appended as JSON), so a first run on one machine needs no mail set-up.
 *
 * Those codes verify devices, so whoever reads them can add a device to any account being
 * registered. The viewer therefore exists only without SMTP (with it, mail goes where it should and
 * the route is not registered at all), and answers only:
 * - requests naming its token, random for each start and printed, as the viewer's full address,
 *   only in the provider's start warning: the log holds the codes anyway, so reading the viewer
 *   needs nothing the log's reader does not already have. This is what a forwarder on this machine
 *   cannot pass on: stunnel, HAProxy in tcp mode, socat, ssh -R, kubectl port-forward or a bare
 *   nginx proxy_pass connect from loopback, may send a loopback Host and add no forwarding header,
 *   on behalf of anyone. Any other path gets the same 404 as a route that does not exist, so a
 *   guess learns not even that the viewer is there; the token is compared in constant time.
 * - connections from this machine (a loopback address on the socket itself, never a forwarded-for
 *   header a client writes), so a provider listening on all interfaces shows nothing to the
 *   network even to whoever saw the address;
 * - requests that name this machine as their Host, so a web page the developer visits cannot
 *   read it through DNS rebinding (its name pointed at 127.0.0.1 leaves its own name as the Host).
 * - requests no proxy says it forwarded.
 * Messages are shown as text, never markup: a wallet or device name in a subject is the client's.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { Type } from "@fastify/type-provider-typebox";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { ProviderContext } from "../../context.js";
import { forbidden } from "../../errors.js";
import type { App } from "../app.js";

/** The viewer's path: its token, with `.json` appended for the JSON list. Not part of the API contract. */
const DevMailParams = Type.Object({ view: Type.String() });

/** How many of the newest messages are shown. */
const SHOWN = 50;

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);
/** Headers a proxy adds; the socket's address is then the proxy's, not the client's. */
const FORWARDED = ["forwarded", "x-forwarded-for", "x-forwarded-host", "x-real-ip"];

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6 addresses. */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.startsWith("::ffff:") ? address.slice(7) : address;
  return address === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

function refuseUnlessLocal(request: FastifyRequest): void {
  if (!isLoopback(request.socket.remoteAddress))
    throw forbidden("the development mail viewer answers only connections from the provider's own machine");
  if (FORWARDED.some((h) => request.headers[h] !== undefined))
    throw forbidden("the development mail viewer does not answer requests forwarded by a proxy");
  const host = (request.headers.host ?? "").replace(/:\d+$/, "").toLowerCase();
  if (!LOOPBACK_HOSTS.has(host) && !isLoopback(host))
    throw forbidden("the development mail viewer answers only requests to localhost or 127.0.0.1");
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Codes on screen: nothing cached, nothing framed or run. */
function keptPrivate(reply: FastifyReply): FastifyReply {
  return reply
    .header("cache-control", "no-store")
    .header("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
    .header("x-content-type-options", "nosniff");
}

/** A new viewer token: 128 random bits, base64url. */
export const newDevMailToken = () => randomBytes(16).toString("base64url");

/**
 * The viewer's address for the start warning, on the server's address `serverUrl`: a provider
 * listening on all interfaces is reached, as the viewer requires, at a loopback address.
 */
export function devMailUrl(serverUrl: string, token: string): string {
  const url = new URL(`/dev/mail/${token}`, serverUrl);
  if (url.hostname === "0.0.0.0") url.hostname = "127.0.0.1";
  if (url.hostname === "[::]") url.hostname = "[::1]";
  return url.href;
}

/** Equal digests of equal length: the comparison takes as long whatever the guess. */
const digest = (text: string) => createHash("sha256").update(text).digest();
const isToken = (candidate: string, token: string) => timingSafeEqual(digest(candidate), digest(token));

export function devMailRoutes(app: App, ctx: ProviderContext): void {
  if (ctx.notifier.mails) return;
  app.get("/dev/mail/:view", { schema: { hide: true, params: DevMailParams } }, async (request, reply) => {
    const { view } = request.params;
    const json = view.endsWith(".json");
    if (!isToken(json ? view.slice(0, -".json".length) : view, ctx.devMailToken)) return reply.callNotFound();
    refuseUnlessLocal(request);
    const messages = await ctx.notifier.unsent(SHOWN);
    if (json) return keptPrivate(reply).send({ messages });
    const items = messages.map(
      (m) =>
        `<article><h2>${escapeHtml(m.subject)}</h2><p>to ${escapeHtml(m.to)}, ${new Date(m.createdMs).toISOString()}</p><pre>${escapeHtml(m.body)}</pre></article>`,
    );
    // The JSON link is relative: the page's own address holds the token.
    const page = `<!doctype html><html><head><meta charset="utf-8"><title>keyshard: unsent mail</title>
<style>body{font-family:sans-serif;max-width:50em;margin:2em auto}pre{white-space:pre-wrap;background:#f4f4f4;padding:1em}</style></head>
<body><h1>Mail not sent (no SMTP server configured)</h1>
<p>The newest ${SHOWN} messages, newest first. Reload for new ones; the same list <a href="${ctx.devMailToken}.json">as JSON</a>.</p>
${items.length === 0 ? "<p>No messages yet.</p>" : items.join("\n")}
</body></html>`;
    return keptPrivate(reply).type("text/html; charset=utf-8").send(page);
  });
}
