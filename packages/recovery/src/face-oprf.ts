/**
 * The face-recovery key: what turns the fuzzy extractor's short secret into a recovery key pair,
 * with the recovery operators' help and without any of them learning either.
 *
 *   1. The device blinds `input = enrollment id ‖ email ‖ face secret` (RFC 9497 OPRF,
 *      ristretto255-SHA512, base mode) and sends only the blinded element.
 *   2. The enrollment's OPRF key k is split t-of-n among independent recovery operators
 *      (`threshold-oprf.ts`): the enrolling device dealt it and forgot it, so no one holds k. Each
 *      operator answers with its share and a proof; t answers combine to k·B. Each answer is one
 *      online guess, counted and mailed by that operator.
 *   3. The device unblinds: `y = F(k, input)`. HKDF of `y` gives the key that wraps the
 *      enrollment's random recovery secret key (ChaCha20-Poly1305, the enrollment, the recovery
 *      public key and the OPRF public key K bound as associated data).
 *
 * The recovery secret key (X25519) opens the boxes of the device's shares; an Ed25519 key derived
 * from it proves to the provider that the face matched, so a recovering device gets nothing
 * before that proof. The face secret has about 18 bits: with the helper data, the wrapped key
 * and fewer than t operator shares, nobody — the provider, or one operator, included — can test
 * a guess offline. Binding K into the wrap means operators answering under another key (say, a
 * key a dishonest provider dealt itself) cannot unwrap this enrollment's recovery key.
 */
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { ed25519, ristretto255_oprf, x25519 } from "@noble/curves/ed25519.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { concatBytes, randomBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import { RecoveryBoxError, type RecoveryKeyPair } from "./boxes.js";

const oprf = ristretto255_oprf.oprf;
const ELEMENT_BYTES = 32;
const WRAPPED_BYTES = 32 + 16;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The context the device's share of wallet `walletId` is sealed under for face recovery. */
export const faceBoxContext = (walletId: string) => `keyshard face recovery of wallet ${walletId}`;

function checkEnrollment(enrollmentId: string, email: string): void {
  if (!UUID.test(enrollmentId)) throw new RangeError("an enrollment id is a lower-case UUID");
  if (email.length === 0 || email.length > 254 || email.includes("\n"))
    throw new RangeError("an email is one line of 1 to 254 characters");
}

function oprfInput(enrollmentId: string, email: string, secret: Uint8Array): Uint8Array {
  checkEnrollment(enrollmentId, email);
  if (!(secret instanceof Uint8Array) || secret.length === 0 || secret.length > 64)
    throw new RangeError("a face secret is 1 to 64 bytes");
  return concatBytes(utf8ToBytes(`keyshard-face-oprf-v1\n${enrollmentId}\n${email.toLowerCase()}\n`), secret);
}

// ── device side ────────────────────────────────────────────────────────────────────────────────

export interface FaceBlind {
  /** Kept on the device until the recovery operators answer. */
  blind: Uint8Array;
  /** Sent to the recovery operators. */
  blinded: Uint8Array;
  input: Uint8Array;
}

export function blindFaceSecret(enrollmentId: string, email: string, secret: Uint8Array): FaceBlind {
  const input = oprfInput(enrollmentId, email, secret);
  return { ...oprf.blind(input), input };
}

/** The key that wraps the recovery secret key, from the evaluation k·B (`combinePartials`). */
export function faceWrapKey(blind: FaceBlind, evaluated: Uint8Array): Uint8Array {
  if (!(evaluated instanceof Uint8Array) || evaluated.length !== ELEMENT_BYTES)
    throw new RecoveryBoxError("the evaluation is not 32 bytes");
  let y: Uint8Array;
  try {
    y = oprf.finalize(blind.input, blind.blind, evaluated);
  } catch (e) {
    throw new RecoveryBoxError("the evaluation is not a ristretto255 element", { cause: e });
  }
  return hkdf(sha256, y, undefined, utf8ToBytes("keyshard-face-wrap-v1"), 32);
}

function wrapHeader(enrollmentId: string, recoveryKey: Uint8Array, oprfKey: Uint8Array): Uint8Array {
  if (!UUID.test(enrollmentId)) throw new RangeError("an enrollment id is a lower-case UUID");
  for (const [key, what] of [
    [recoveryKey, "the recovery public key"],
    [oprfKey, "the OPRF public key"],
  ] as const)
    if (!(key instanceof Uint8Array) || key.length !== 32) throw new RangeError(`${what} is 32 bytes`);
  return concatBytes(utf8ToBytes(`keyshard-face-wrap-v2\n${enrollmentId}\n`), recoveryKey, oprfKey);
}

/**
 * The recovery secret key sealed under the face's wrap key: random nonce ‖ ciphertext and tag.
 * `oprfKey` is the enrollment's OPRF public key K (the commitments' C_0).
 */
export function wrapRecoveryKey(
  wrapKey: Uint8Array,
  enrollmentId: string,
  recovery: RecoveryKeyPair,
  oprfKey: Uint8Array,
): Uint8Array {
  const nonce = randomBytes(12);
  const sealed = chacha20poly1305(wrapKey, nonce, wrapHeader(enrollmentId, recovery.publicKey, oprfKey)).encrypt(
    recovery.secretKey,
  );
  return concatBytes(nonce, sealed);
}

/** The recovery key pair again; `RecoveryBoxError` when the face (so the wrap key) or K was another. */
export function unwrapRecoveryKey(
  wrapKey: Uint8Array,
  enrollmentId: string,
  recoveryPublicKey: Uint8Array,
  wrapped: Uint8Array,
  oprfKey: Uint8Array,
): RecoveryKeyPair {
  const header = wrapHeader(enrollmentId, recoveryPublicKey, oprfKey);
  if (!(wrapped instanceof Uint8Array) || wrapped.length !== 12 + WRAPPED_BYTES)
    throw new RecoveryBoxError("the wrapped recovery key has the wrong length");
  let secretKey: Uint8Array;
  try {
    secretKey = chacha20poly1305(wrapKey, wrapped.subarray(0, 12), header).decrypt(wrapped.subarray(12));
  } catch (e) {
    throw new RecoveryBoxError("the face does not open this enrollment's recovery key", { cause: e });
  }
  const publicKey = x25519.getPublicKey(secretKey);
  if (publicKey.some((b, i) => b !== recoveryPublicKey[i]))
    throw new RecoveryBoxError("the recovery key does not match its public key");
  return { secretKey, publicKey };
}

// ── proof of recovery ──────────────────────────────────────────────────────────────────────────

/** The Ed25519 key, derived from the recovery secret key, that proves a recovery to the provider. */
export function recoveryAuthKey(recovery: RecoveryKeyPair): { secretKey: Uint8Array; publicKey: Uint8Array } {
  const secretKey = hkdf(sha256, recovery.secretKey, undefined, utf8ToBytes("keyshard-recovery-auth-v1"), 32);
  return { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
}

/** What a recovering device signs: this enrollment, claimed by this new device. */
export const recoveryClaimBytes = (enrollmentId: string, deviceId: string) =>
  utf8ToBytes(`keyshard-recovery-claim-v1\n${enrollmentId}\n${deviceId}`);

export function signRecoveryClaim(recovery: RecoveryKeyPair, enrollmentId: string, deviceId: string): Uint8Array {
  return ed25519.sign(recoveryClaimBytes(enrollmentId, deviceId), recoveryAuthKey(recovery).secretKey);
}

export function verifyRecoveryClaim(
  authKey: Uint8Array,
  enrollmentId: string,
  deviceId: string,
  signature: Uint8Array,
): boolean {
  try {
    return ed25519.verify(signature, recoveryClaimBytes(enrollmentId, deviceId), authKey, { zip215: false });
  } catch {
    return false;
  }
}
