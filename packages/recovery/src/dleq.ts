/**
 * The discrete-log-equality proof of RFC 9497 §2.2 (GenerateProof / VerifyProof) for one pair,
 * over ristretto255-SHA512 with the VOPRF mode's context string: a recovery operator proves that
 * its answer Z = k_i·B uses the same scalar as its public share K_i = k_i·G, without revealing
 * k_i. The transcript is the RFC's byte for byte, so a proof made here verifies in any RFC 9497
 * VOPRF client (noble's `voprf.finalize` among them) and theirs verify here.
 *
 * Also the strict decoders of scalars and elements that the threshold OPRF shares: a scalar is
 * 32 little-endian bytes below the group order ℓ, an element a canonical ristretto255 encoding
 * other than the identity (RFC 9497 §3.3 asks receivers to refuse the identity).
 */
import { ristretto255, ristretto255_hasher } from "@noble/curves/ed25519.js";
import { bytesToNumberLE, numberToBytesLE } from "@noble/curves/utils.js";
import { sha512 } from "@noble/hashes/sha2.js";
import { concatBytes, randomBytes, utf8ToBytes } from "@noble/hashes/utils.js";

// Typed by reference to noble's own declarations, which the emitted declarations can name.
export const Point: typeof ristretto255.Point = ristretto255.Point;
export type Point = InstanceType<typeof ristretto255.Point>;
export const Fn: typeof ristretto255.Point.Fn = Point.Fn;

const SCALAR_BYTES = 32;
export const ELEMENT_BYTES = 32;
const PROOF_BYTES = 2 * SCALAR_BYTES;

/** RFC 9497 §3.1 contextString of the VOPRF mode (0x01) of ristretto255-SHA512. */
const CONTEXT = "OPRFV1-\x01-ristretto255-SHA512";
const SCALAR_DST = utf8ToBytes(`HashToScalar-${CONTEXT}`);
const SEED_DST = utf8ToBytes(`Seed-${CONTEXT}`);

/** A scalar in 1..ℓ−1 from 32 bytes; `null` when the bytes are not one (zero, ≥ ℓ, wrong length). */
export function readScalar(bytes: unknown): bigint | null {
  if (!(bytes instanceof Uint8Array) || bytes.length !== SCALAR_BYTES) return null;
  const n = bytesToNumberLE(bytes);
  return n > 0n && n < Fn.ORDER ? n : null;
}

/** A ristretto255 element other than the identity; `null` when the bytes are not one. */
export function readElement(bytes: unknown): Point | null {
  if (!(bytes instanceof Uint8Array) || bytes.length !== ELEMENT_BYTES) return null;
  try {
    const point = Point.fromBytes(bytes);
    return point.is0() ? null : point;
  } catch {
    return null;
  }
}

export const scalarBytes = (n: bigint): Uint8Array => numberToBytesLE(n, SCALAR_BYTES);

/** RFC 9497 RandomScalar: uniform in 1..ℓ−1 (48 random bytes reduced, so the bias is negligible). */
export function randomScalar(rng: (n: number) => Uint8Array = randomBytes): bigint {
  return (bytesToNumberLE(rng(48)) % (Fn.ORDER - 1n)) + 1n;
}

/** RFC 9497's length-prefixed serialization: 2-byte big-endian length before each byte string. */
function encode(...parts: (Uint8Array | string)[]): Uint8Array {
  return concatBytes(
    ...parts.flatMap((p) =>
      typeof p === "string" ? [utf8ToBytes(p)] : [Uint8Array.of(p.length >> 8, p.length & 0xff), p],
    ),
  );
}

const hashToScalar = (msg: Uint8Array) => ristretto255_hasher.hashToScalar(msg, { DST: SCALAR_DST });

/** ComputeComposites for m = 1: M = d·C, Z = d·D with d bound to B, C and D. */
function composite(B: Point, C: Point, D: Point): bigint {
  const seed = sha512(encode(B.toBytes(), SEED_DST));
  // I2OSP(i, 2) for i = 0 is two zero bytes, not a length prefix.
  return hashToScalar(concatBytes(encode(seed), new Uint8Array(2), encode(C.toBytes(), D.toBytes(), "Composite")));
}

const challenge = (B: Point, M: Point, Z: Point, t2: Point, t3: Point) =>
  hashToScalar(encode(...[B, M, Z, t2, t3].map((p) => p.toBytes()), "Challenge"));

/**
 * RFC 9497 fixes A to the generator and leaves it out of the transcript, so a proof does not bind
 * any other A: only the generator is accepted.
 */
const isGenerator = (A: Point) => A.equals(Point.BASE);

/**
 * Proves log_A(B) = log_C(D) = k (RFC 9497 GenerateProof, m = 1): c ‖ s, two 32-byte scalars.
 * A must be the generator. `rng` draws the proof's random scalar; only test vectors replace it.
 */
export function generateDleqProof(
  k: Uint8Array,
  A: Uint8Array,
  B: Uint8Array,
  C: Uint8Array,
  D: Uint8Array,
  rng: (n: number) => Uint8Array = randomBytes,
): Uint8Array {
  const key = readScalar(k);
  if (key === null) throw new RangeError("a DLEQ proof's scalar is 32 bytes in 1..ℓ−1");
  const [a, b, c, d] = [A, B, C, D].map(readElement);
  if (!a || !b || !c || !d) throw new RangeError("a DLEQ proof's elements are ristretto255 elements, not the identity");
  if (!isGenerator(a)) throw new RangeError("a DLEQ proof's first element is the generator");
  const M = c.multiplyUnsafe(composite(b, c, d));
  const Z = M.multiply(key);
  const r = randomScalar(rng);
  const ch = challenge(b, M, Z, a.multiply(r), M.multiply(r));
  const s = Fn.sub(r, Fn.mul(ch, key));
  return concatBytes(scalarBytes(ch), scalarBytes(s));
}

/** RFC 9497 VerifyProof, m = 1. False for any malformed input, never a throw. */
export function verifyDleqProof(
  A: Uint8Array,
  B: Uint8Array,
  C: Uint8Array,
  D: Uint8Array,
  proof: Uint8Array,
): boolean {
  const [a, b, c, d] = [A, B, C, D].map(readElement);
  if (!a || !b || !c || !d || !isGenerator(a)) return false;
  if (!(proof instanceof Uint8Array) || proof.length !== PROOF_BYTES) return false;
  // c and s are canonical (< ℓ); either may be zero, so they are read here rather than by readScalar.
  const ch = bytesToNumberLE(proof.subarray(0, SCALAR_BYTES));
  const s = bytesToNumberLE(proof.subarray(SCALAR_BYTES));
  if (ch >= Fn.ORDER || s >= Fn.ORDER) return false;
  const di = composite(b, c, d);
  const M = c.multiplyUnsafe(di);
  const Z = d.multiplyUnsafe(di);
  const t2 = a.multiplyUnsafe(s).add(b.multiplyUnsafe(ch));
  const t3 = M.multiplyUnsafe(s).add(Z.multiplyUnsafe(ch));
  return challenge(b, M, Z, t2, t3) === ch;
}
