/**
 * The one error type of @keyshard/chains. `code` says what was wrong so that callers (the CLI,
 * the provider's API) can map it without parsing text; messages name the offending field, never
 * key material.
 */
import { oneLineText } from "./message-description.js";

export type ChainErrorCode =
  /** The bytes do not decode as the format they claim to be. */
  | "malformed"
  /** The bytes decode but use a feature keyshard refuses to sign (unknown type, sighash, lookup table…). */
  | "unsupported"
  /** The transaction is for another chain or network than the caller expects. */
  | "wrong-network"
  /** Amounts, inputs or scripts in the bytes contradict each other. */
  | "inconsistent"
  /** A value outside what the chain accepts (negative fee, amount too large, bad address…). */
  | "invalid"
  /** The signer returned a signature that does not verify under the key it claims. */
  | "bad-signature"
  /** The bytes hold more than the caller's limits let it read (inputs of a PSBT). */
  | "too-large"
  /** The request around the bytes lacks a field its kind needs or has one it does not accept. */
  | "invalid-request";

export class ChainError extends Error {
  override readonly name = "ChainError";
  constructor(
    readonly code: ChainErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Runs a third-party decoder and turns whatever it throws into a `ChainError("malformed")`. */
export function decodeOrThrow<T>(what: string, decode: () => T): T {
  try {
    return decode();
  } catch (e) {
    if (e instanceof ChainError) throw e;
    // A decoder's message may quote the offending value, which could hold escape codes.
    const reason = oneLineText(e instanceof Error ? (e.message.split("\n")[0] as string) : String(e));
    throw new ChainError("malformed", `${what} does not decode: ${reason}`, { cause: e });
  }
}
