/**
 * Rate limit of the routes that send or check codes (email codes, TOTP): per client address. Not
 * per device: the device header is the caller's choice, and a caller with fresh identity keys
 * would get a fresh allowance with each. How often a code is mailed to one address is limited
 * apart from this, in the database (`issueCode`), so that every replica counts the same mails.
 */
import type { ProviderContext } from "../context.js";

export function codeRateLimit(ctx: ProviderContext) {
  return {
    max: ctx.authRateLimit,
    timeWindow: "1 minute",
    keyGenerator: (request: { ip: string }) => request.ip,
  };
}
