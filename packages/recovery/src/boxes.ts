/**
 * Sealed boxes to a recovery key: how a key share travels to, or waits for, the user's recovery
 * key (a provider's share released by backup; later, a device's share kept for face recovery).
 * Anyone can seal to the public key; only its holder opens.
 *
 * A fresh X25519 key per box, ECDH with the recovery public key, HKDF-SHA256 over the shared
 * secret with a header that binds the box's purpose (`context`, e.g. the wallet it belongs to),
 * the ephemeral key and the recipient, then ChaCha20-Poly1305 with that header as associated
 * data. A box opened under another context, or for another key, fails the tag.
 */
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { x25519 } from "@noble/curves/ed25519.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, concatBytes, utf8ToBytes } from "@noble/hashes/utils.js";

const VERSION = 1;
const KEY_BYTES = 32;
const TAG_BYTES = 16;

export class RecoveryBoxError extends Error {
  override readonly name = "RecoveryBoxError";
}

/** The context a backup of wallet `walletId` (the provider's share) is sealed under. */
export const backupBoxContext = (walletId: string) => `keyshard backup of wallet ${walletId}`;

export interface RecoveryKeyPair {
  /** X25519 secret key, 32 bytes. */
  secretKey: Uint8Array;
  /** X25519 public key, 32 bytes. */
  publicKey: Uint8Array;
}

export function newRecoveryKey(): RecoveryKeyPair {
  const secretKey = x25519.utils.randomSecretKey();
  return { secretKey, publicKey: x25519.getPublicKey(secretKey) };
}

function header(context: string, ephemeral: Uint8Array, recipient: Uint8Array): Uint8Array {
  if (context.length === 0 || context.length > 256 || context.includes("\n"))
    throw new RangeError("a recovery box's context is one line of 1 to 256 characters");
  return utf8ToBytes(["keyshard-recovery-box-v1", context, bytesToHex(ephemeral), bytesToHex(recipient)].join("\n"));
}

function boxKey(shared: Uint8Array, head: Uint8Array): Uint8Array {
  if (shared.every((b) => b === 0)) throw new RecoveryBoxError("the box's key is of small order");
  return hkdf(sha256, shared, sha256(head), utf8ToBytes("keyshard-recovery-box-v1 key"), 32);
}

function checkKey(key: Uint8Array, what: string): void {
  if (!(key instanceof Uint8Array) || key.length !== KEY_BYTES) throw new RangeError(`${what} must be 32 bytes`);
}

/** version ‖ ephemeral public key ‖ ciphertext and tag. */
export function sealToRecoveryKey(recoveryPublicKey: Uint8Array, context: string, plaintext: Uint8Array): Uint8Array {
  checkKey(recoveryPublicKey, "the recovery public key");
  const ephemeral = x25519.utils.randomSecretKey();
  const epk = x25519.getPublicKey(ephemeral);
  const head = header(context, epk, recoveryPublicKey);
  const k = boxKey(x25519.getSharedSecret(ephemeral, recoveryPublicKey), head);
  // Each key seals one box, so a fixed nonce is safe.
  const ct = chacha20poly1305(k, new Uint8Array(12), head).encrypt(plaintext);
  return concatBytes(Uint8Array.of(VERSION), epk, ct);
}

export function openRecoveryBox(recovery: RecoveryKeyPair, context: string, box: Uint8Array): Uint8Array {
  checkKey(recovery.secretKey, "the recovery secret key");
  if (!(box instanceof Uint8Array) || box.length < 1 + KEY_BYTES + TAG_BYTES)
    throw new RecoveryBoxError("the box is too short");
  if (box[0] !== VERSION) throw new RecoveryBoxError("unknown recovery box version");
  const epk = box.subarray(1, 1 + KEY_BYTES);
  const head = header(context, epk, x25519.getPublicKey(recovery.secretKey));
  let shared: Uint8Array;
  try {
    shared = x25519.getSharedSecret(recovery.secretKey, epk);
  } catch (e) {
    throw new RecoveryBoxError("the box's ephemeral key is not a key", { cause: e });
  }
  try {
    return chacha20poly1305(boxKey(shared, head), new Uint8Array(12), head).decrypt(box.subarray(1 + KEY_BYTES));
  } catch (e) {
    if (e instanceof RecoveryBoxError) throw e;
    throw new RecoveryBoxError("the box does not open with this key and context", { cause: e });
  }
}
