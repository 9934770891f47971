/**
 * The check every group element a client sends for face recovery passes (an OPRF public key, a
 * blinded input): a canonical ristretto255 encoding other than the identity — the recovery
 * package's own reading of one — or a 400 before anything is counted or stored.
 */
import { readElement } from "@keyshard/recovery";
import { invalid } from "../errors.js";

export function requireElement(bytes: Uint8Array, what: string): void {
  if (readElement(bytes) === null) throw invalid(`${what} is not a ristretto255 element other than the identity`);
}
