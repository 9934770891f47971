/**
 * Schnorr proof of knowledge of a discrete logarithm on secp256k1: X = x·G.
 * Prover: A = a·G, e = H(transcript, X, A), z = a + e·x. Verifier: z·G = A + e·X.
 */
import { CURVE_ORDER, Point, type Reader, type Writer } from "../codec/codec.js";
import { mod, randomBelow } from "../math/bigint.js";
import type { Transcript } from "./transcript.js";

export interface SchnorrProof {
  A: Point;
  z: bigint;
}

function challenge(t: Transcript, X: Point, A: Point): bigint {
  return t.appendPoint("schnorr/X", X).appendPoint("schnorr/A", A).challengeScalar("schnorr/e");
}

export function proveDlog(t: Transcript, x: bigint, X: Point): SchnorrProof {
  const a = 1n + randomBelow(CURVE_ORDER - 1n);
  const A = Point.BASE.multiply(a);
  const e = challenge(t, X, A);
  return { A, z: mod(a + e * x, CURVE_ORDER) };
}

export function verifyDlog(t: Transcript, X: Point, proof: SchnorrProof): boolean {
  const e = challenge(t, X, proof.A);
  // Public values only: variable-time multiplication (which also accepts 0) is fine here.
  return Point.BASE.multiplyUnsafe(proof.z).equals(proof.A.add(X.multiplyUnsafe(e)));
}

export function writeSchnorr(w: Writer, p: SchnorrProof): void {
  w.point(p.A);
  w.scalar(p.z);
}

export function readSchnorr(r: Reader): SchnorrProof {
  return { A: r.point(), z: r.scalar(true) };
}
