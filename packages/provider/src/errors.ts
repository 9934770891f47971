/**
 * Errors the provider's domain raises when a caller asked for something it may not have: each
 * says what kind of refusal it is, never how it travels. The HTTP layer gives each kind its
 * status; anything that is not a `ProviderError` is the server's own fault.
 */

/** What a refusal is about, free of any transport. */
export type ErrorKind = "invalid" | "forbidden" | "not-found" | "conflict" | "aborted" | "limited";

export class ProviderError extends Error {
  override readonly name = "ProviderError";
  constructor(
    readonly kind: ErrorKind,
    /** The stable code a client acts on ("invalid-request", "device-revoked", "quota-exceeded" …). */
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export const invalid = (message: string) => new ProviderError("invalid", "invalid-request", message);
export const forbidden = (message: string) => new ProviderError("forbidden", "forbidden", message);
export const notFound = (message: string) => new ProviderError("not-found", "not-found", message);
export const conflict = (message: string) => new ProviderError("conflict", "conflict", message);
export const quotaExceeded = (message: string) => new ProviderError("limited", "quota-exceeded", message);
