/**
 * Rate limit of the routes that send or check codes (email codes, TOTP): per client address and
 * device, so that one device cannot exhaust another's allowance from behind the same address.
 */
import { REQUEST_HEADERS } from "@keyshard/transport";
import type { ProviderContext } from "./context.js";

export function codeRateLimit(ctx: ProviderContext) {
  return {
    max: ctx.authRateLimit,
    timeWindow: "1 minute",
    keyGenerator: (request: { ip: string; headers: Record<string, unknown> }) =>
      `${request.ip}|${String(request.headers[REQUEST_HEADERS.device] ?? "")}`,
  };
}
