/**
 * The check every group element a client sends for face recovery passes (an OPRF public key, a
 * blinded input): a canonical ristretto255 encoding other than the identity, or a 400 before
 * anything is counted or stored.
 */
import { ristretto255 } from "@noble/curves/ed25519.js";
import { invalid } from "../errors.js";

export function requireElement(bytes: Uint8Array, what: string): void {
  let point: InstanceType<typeof ristretto255.Point>;
  try {
    point = ristretto255.Point.fromBytes(bytes);
  } catch {
    throw invalid(`${what} is not a ristretto255 element`);
  }
  if (point.is0()) throw invalid(`${what} is the identity element`);
}
