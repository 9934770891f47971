/**
 * What can go wrong on the device, as one typed error with a code a program can switch on and a
 * message a person can act on (what went wrong and what to do). The command line maps codes to
 * exit codes: usage mistakes 2, requests held by a policy 3, everything else 1.
 *
 * Messages speak the SDK's words, not a program's: an input is named by the SDK parameter that
 * gives it, in backticks (`rpc`, `chainId`), and the one at fault is in `details.parameter`, so a
 * program with other words for its inputs (the command line's options) can say them instead.
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
  /** The node says the transaction would fail on chain (a contract refuses it): nothing was signed. */
  | "would-fail"
  /** The token address given is no ERC-20 contract the node can read (no code, no `decimals()`). */
  | "invalid-token"
  /** Broadcast, but not seen mined in time: it can still be, and a retry sends the same transaction. */
  | "unconfirmed"
  | "keystore"
  | "audit-broken"
  | "liveness"
  | "no-match"
  | "face-models"
  /** A recovery operator is unreachable, refused, or answered what it should not: its url is in `details.operator`. */
  | "operator"
  /** Fewer recovery operators than the threshold answered rightly: `details.failures` says what each did. */
  | "operators"
  /** The provider names other recovery operators than the ones this device pinned: give them as `operators` to accept. */
  | "operators-changed";

/**
 * What the person can do about an error, as data: each program using the SDK (the command line
 * is one) says it in its own terms. Not part of `details`, which a program reads as the error's facts.
 */
export type NextStep =
  /** The home has no keystore: make the device there (`Wallet.init`). */
  | { step: "init" }
  /** The device has no provider yet: register it. */
  | { step: "register" }
  /** The provider does not know the device: register it and verify the mailed code. */
  | { step: "register-and-verify" }
  /** The wallet named is not there: list the wallets. */
  | { step: "list-wallets" }
  /** A key generation that did not finish: join it on the other devices, or delete it to free the name. */
  | { step: "join-or-delete-wallet"; wallet: string }
  /** A key generation that failed: delete it to free the name. */
  | { step: "delete-wallet"; wallet: string }
  /** A held request: resume it once it waits for nothing. */
  | { step: "resume"; requestId: string }
  /** The request named is not this device's held one: list the account's requests. */
  | { step: "list-requests" }
  /** A transaction sent before: follow what became of it. */
  | { step: "transaction-status"; wallet: string; chain: string; transactionId: string }
  /** A hybrid wallet's shares are renewed by a refresh. */
  | { step: "refresh" }
  /** A wallet whose share record is full: refresh it. */
  | { step: "refresh-wallet"; wallet: string }
  /** This device must take part in a key change the others run: run its cosigner. */
  | { step: "run-cosigner" }
  /** An id mistyped: list the ids of its kind. */
  | { step: "list"; of: "device" | "request" | "change" | "heir" | "recovery" | "policy change" };

export interface WalletErrorOptions extends ErrorOptions {
  next?: NextStep;
}

export class WalletError extends Error {
  override readonly name = "WalletError";
  /** What the person can do about it, when there is something to do. */
  readonly next: NextStep | undefined;

  constructor(
    readonly code: WalletErrorCode,
    message: string,
    /**
     * Machine-readable context (a request id, what a hold waits for, the `parameter` at fault);
     * never secrets.
     */
    readonly details: Record<string, unknown> = {},
    /** `cause`: the failure this one reports, kept for whoever debugs it; `next`: what to do. */
    options: WalletErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.next = options.next;
  }
}

/** Whether `e` is the provider's refusal of a device it revoked. */
export const isRevoked = (e: unknown): boolean =>
  e instanceof WalletError && e.details.providerError === "device-revoked";
