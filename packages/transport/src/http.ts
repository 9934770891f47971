/**
 * A device's signed JSON call to the provider: the request signed as `identity.ts` describes,
 * the reply parsed, and a non-2xx status turned into a `ProviderError` carrying the provider's
 * error code and message.
 *
 * Calls go through Node's http and https modules with keep-alive connections: a signing run makes
 * several calls in a row, and global fetch costs several times their CPU per call.
 */
import http from "node:http";
import https from "node:https";
import type { DeviceIdentity } from "./identity.js";
import { signRequest } from "./request-signature.js";

/** The reply header of a provider in trial mode (shortened delays, not for real funds): its value says so. */
export const TRIAL_HEADER = "keyshard-trial";

export class ProviderError extends Error {
  override readonly name = "ProviderError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function signedFetch(
  baseUrl: string,
  identity: DeviceIdentity,
  method: string,
  path: string,
  body?: unknown,
  /** Sees every reply's headers, a refusal's too (the CLI warns of a provider in trial mode by one). */
  onHeaders?: (headers: http.IncomingHttpHeaders) => void,
): Promise<Record<string, unknown>> {
  const bytes = body === undefined ? new Uint8Array() : new TextEncoder().encode(JSON.stringify(body));
  const headers = signRequest(identity, { method, path, body: bytes });
  const response = await send(
    new URL(baseUrl + path),
    method,
    {
      ...headers,
      ...(bytes.length > 0 && { "content-type": "application/json" }),
    },
    bytes,
  );
  onHeaders?.(response.headers);
  // The dropped attempt reached the provider after all, which spent its nonce and may have acted.
  if (response.retried && response.status === 401)
    throw new ProviderError(
      401,
      "outcome-unknown",
      `${method} ${path}: the connection dropped with the request sent, and the provider may have acted on it`,
    );
  const ok = response.status >= 200 && response.status < 300;
  let parsed: Record<string, unknown> = {};
  try {
    parsed = response.text ? (JSON.parse(response.text) as Record<string, unknown>) : {};
  } catch {
    if (ok) throw new ProviderError(response.status, "bad-reply", `${method} ${path}: the reply is not JSON`);
  }
  if (!ok)
    throw new ProviderError(
      response.status,
      String(parsed.error ?? "error"),
      `${method} ${path}: ${response.status} ${String(parsed.message ?? "")}`,
    );
  return parsed;
}

const REPLY_TIMEOUT_MS = 300_000;
/** How a write to, or a read from, a connection the server has just closed fails. */
const CLOSED_ON_REUSE = new Set(["ECONNRESET", "EPIPE"]);

const clients = {
  "http:": { module: http, agent: new http.Agent({ keepAlive: true }) },
  "https:": { module: https, agent: new https.Agent({ keepAlive: true }) },
};

/**
 * One HTTP exchange. A kept-alive connection that the server closed just as it was reused fails
 * before any reply; that request is sent once more, unchanged, on a new connection. Usually the
 * server never saw it; if it did, the same nonce is refused as a replay rather than acted on
 * twice, and the caller learns that the outcome is unknown. Redirects are not followed.
 */
function send(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: Uint8Array,
  retried = false,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string; retried: boolean }> {
  const client = clients[url.protocol as keyof typeof clients];
  if (client === undefined) return Promise.reject(new Error(`unsupported URL scheme ${url.protocol}`));
  return new Promise((resolve, reject) => {
    const request = client.module.request(url, { method, headers, agent: client.agent }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          text: Buffer.concat(chunks).toString("utf8"),
          retried,
        }),
      );
      response.on("error", reject);
    });
    // As global fetch did: a provider that stops answering fails the call instead of hanging it.
    request.setTimeout(REPLY_TIMEOUT_MS, () => request.destroy(new Error("the provider stopped answering")));
    request.on("error", (e: NodeJS.ErrnoException) => {
      if (request.reusedSocket && CLOSED_ON_REUSE.has(e.code ?? "") && !retried)
        resolve(send(url, method, headers, body, true));
      else reject(e);
    });
    request.end(body);
  });
}
