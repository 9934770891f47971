/**
 * ECDSA signatures on secp256k1 as every engine returns them: low-S, with the recovery id.
 */
import { bigintToBytes, bytesToBigint, CURVE_ORDER, Point, type Reader, type Writer } from "../codec/codec.js";
import { mod, modInv } from "../math/bigint.js";
import { mulBaseAdd } from "../math/secp256k1.js";

export interface Signature {
  r: bigint;
  s: bigint;
  /** Recovery id 0..3: bit 0 is R.y's parity, bit 1 set when R.x ≥ n. */
  recovery: number;
}

/** r ‖ s, 64 bytes. */
export function compactSignature(sig: Signature): Uint8Array {
  const out = new Uint8Array(64);
  out.set(bigintToBytes(sig.r, 32), 0);
  out.set(bigintToBytes(sig.s, 32), 32);
  return out;
}

/** The 32-byte message hash as a scalar, as ECDSA verifiers read it (bits2int mod n). */
export function hashToScalar(messageHash: Uint8Array): bigint {
  if (messageHash.length !== 32) throw new RangeError("messageHash must be 32 bytes");
  return bytesToBigint(messageHash) % CURVE_ORDER;
}

/** Builds the low-S signature for nonce point R and raw s, fixing the recovery id to match. */
export function finishSignature(R: Point, s: bigint): Signature {
  const { x, y } = R.toAffine();
  const r = x % CURVE_ORDER;
  let recovery = (y & 1n ? 1 : 0) | (x >= CURVE_ORDER ? 2 : 0);
  if (s > CURVE_ORDER >> 1n) {
    s = CURVE_ORDER - s;
    recovery ^= 1;
  }
  return { r, s, recovery };
}

/**
 * Low-S, and valid under `publicKey` with exactly this recovery id: the verification point
 * X = (m/s)·G + (r/s)·Q has X.x ≡ r, and X.x ≥ n and X.y's parity are what the recovery id says.
 * That is the point recovery would start from, so recovery with this id gives back Q (the tests
 * also check with @noble/curves' verify and recovery), and it needs no square root.
 */
export function verifySignature(sig: Signature, messageHash: Uint8Array, publicKey: Point): boolean {
  if (messageHash.length !== 32) return false;
  if (sig.r <= 0n || sig.r >= CURVE_ORDER || sig.s <= 0n || sig.s > CURVE_ORDER >> 1n) return false;
  if (!Number.isInteger(sig.recovery) || sig.recovery < 0 || sig.recovery > 3) return false;
  // With Q = 0 the check would only ask X = (m/s)·G, which anyone can meet.
  if (publicKey.is0()) return false;
  const sInv = modInv(sig.s, CURVE_ORDER);
  const X = mulBaseAdd(mod(hashToScalar(messageHash) * sInv, CURVE_ORDER), publicKey, mod(sig.r * sInv, CURVE_ORDER));
  if (X.is0()) return false;
  const { x, y } = X.toAffine();
  const recovery = (x >= CURVE_ORDER ? 2 : 0) | Number(y & 1n);
  return x % CURVE_ORDER === sig.r && recovery === sig.recovery;
}

export function writeSignature(w: Writer, sig: Signature): void {
  w.scalar(sig.r);
  w.scalar(sig.s);
  w.u8(sig.recovery);
}

export function readSignature(r: Reader): Signature {
  const sig = { r: r.scalar(), s: r.scalar(), recovery: r.u8() };
  if (sig.recovery > 3) r.fail("recovery id out of range");
  return sig;
}

export { Point };
