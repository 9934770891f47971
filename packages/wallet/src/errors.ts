/**
 * What can go wrong on the device, as one typed error with a code a program can switch on and a
 * message a person can act on (what went wrong and what to do). The command line maps codes to
 * exit codes: usage mistakes 2, requests held by a policy 3, everything else 1.
 */
export type WalletErrorCode =
  | "usage"
  | "not-registered"
  | "unknown-wallet"
  | "invalid-address"
  | "invalid-amount"
  | "insufficient-funds"
  | "provider-down"
  | "provider-refused"
  /** The provider shut this device out for good: nothing it asks is answered any more. */
  | "device-revoked"
  | "held"
  | "denied"
  | "refused-by-device"
  | "signing-failed"
  /** A wallet's key generation stopped (deleted, failed or timed out): nothing was made. */
  | "keygen-ended"
  | "stale-share"
  | "sid-reused"
  | "refresh-needed"
  | "rpc-failed"
  /** Broadcast, but not seen mined in time: it can still be, and a retry sends the same transaction. */
  | "unconfirmed"
  | "keystore"
  | "audit-broken"
  | "liveness"
  | "no-match"
  | "face-models";

export class WalletError extends Error {
  override readonly name = "WalletError";
  constructor(
    readonly code: WalletErrorCode,
    message: string,
    /** Machine-readable context (a request id, what a hold waits for); never secrets. */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** Whether `e` is the provider's refusal of a device it revoked. */
export const isRevoked = (e: unknown): boolean =>
  e instanceof WalletError && e.details.providerError === "device-revoked";
