/**
 * A device's signed JSON call to the provider: the request signed as `identity.ts` describes,
 * the reply parsed, and a non-2xx status turned into a `ProviderError` carrying the provider's
 * error code and message.
 */
import { type DeviceIdentity, signRequest } from "./identity.js";

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
): Promise<Record<string, unknown>> {
  const bytes = body === undefined ? new Uint8Array() : new TextEncoder().encode(JSON.stringify(body));
  const headers = signRequest(identity, { method, path, body: bytes });
  const response = await fetch(baseUrl + path, {
    method,
    headers: { ...headers, ...(bytes.length > 0 && { "content-type": "application/json" }) },
    ...(bytes.length > 0 && { body: Buffer.from(bytes) }),
  });
  const text = await response.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    if (response.ok) throw new ProviderError(response.status, "bad-reply", `${method} ${path}: the reply is not JSON`);
  }
  if (!response.ok)
    throw new ProviderError(
      response.status,
      String(parsed.error ?? "error"),
      `${method} ${path}: ${response.status} ${String(parsed.message ?? "")}`,
    );
  return parsed;
}
