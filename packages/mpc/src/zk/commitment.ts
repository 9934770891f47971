/**
 * Hash commitments: com = SHA-256(domain ‖ sid ‖ committer ‖ 32-byte nonce ‖ message). Hiding by
 * the random nonce, binding by collision resistance; bound to the session and committer so a
 * commitment cannot be replayed elsewhere or claimed by another party.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { randomBytes } from "@noble/hashes/utils.js";
import { Writer } from "../codec/codec.js";
import { equalBytes } from "../session/envelope.js";

export const COMMITMENT_NONCE_BYTES = 32;

export interface Opening {
  nonce: Uint8Array;
  message: Uint8Array;
}

function digest(sid: Uint8Array, committer: number, nonce: Uint8Array, message: Uint8Array): Uint8Array {
  const w = new Writer();
  w.string("keyshard/commitment/v1");
  w.bytes(sid);
  w.u32(committer);
  w.bytes(nonce);
  w.bytes(message);
  return sha256(w.finish());
}

export function commit(
  sid: Uint8Array,
  committer: number,
  message: Uint8Array,
): { commitment: Uint8Array; opening: Opening } {
  const nonce = randomBytes(COMMITMENT_NONCE_BYTES);
  return { commitment: digest(sid, committer, nonce, message), opening: { nonce, message } };
}

export function verifyOpening(sid: Uint8Array, committer: number, commitment: Uint8Array, opening: Opening): boolean {
  return (
    opening.nonce.length === COMMITMENT_NONCE_BYTES &&
    equalBytes(commitment, digest(sid, committer, opening.nonce, opening.message))
  );
}
