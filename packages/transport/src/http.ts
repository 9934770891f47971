/**
 * A device's signed JSON call to the provider: the request signed as `identity.ts` describes,
 * the reply parsed, and a non-2xx status turned into a `ProviderError` carrying the provider's
 * error code and message.
 *
 * The exchange itself is `#http-send`, chosen by the package's "imports": in Node, its http and
 * https modules with keep-alive connections (`http-send-node.ts`); in a browser bundle, `fetch`
 * (`http-send-fetch.ts`). Both answer an `HttpReply`, so what a reply means is decided here once.
 */
import { send } from "#http-send";
import type { ReplyHeaders } from "./http-reply.js";
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
  onHeaders?: (headers: ReplyHeaders) => void,
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
