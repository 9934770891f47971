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
  | "held"
  | "denied"
  | "refused-by-device"
  | "signing-failed"
  | "stale-share"
  | "sid-reused"
  | "refresh-needed"
  | "rpc-failed"
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
