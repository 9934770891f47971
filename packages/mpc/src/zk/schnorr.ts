/**
 * Schnorr proof of knowledge of a discrete logarithm on secp256k1: X = x·G.
 * Prover: A = a·G, e = H(transcript, X, A), z = a + e·x. Verifier: z·G = A + e·X.
 */
import { CURVE_ORDER, type Point, type Reader, type Writer } from "../codec/codec.js";
import { mod, randomBelow } from "../math/bigint.js";
import { mulBase, mulBaseAdd } from "../math/secp256k1.js";
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
  const A = mulBase(a);
  const e = challenge(t, X, A);
  return { A, z: mod(a + e * x, CURVE_ORDER) };
}

export function verifyDlog(t: Transcript, X: Point, proof: SchnorrProof): boolean {
  const e = challenge(t, X, proof.A);
  // z·G − e·X = A; z may be 0 (a proof need not be honest to be decoded).
  return mulBaseAdd(proof.z, X, mod(-e, CURVE_ORDER)).equals(proof.A);
}

export function writeSchnorr(w: Writer, p: SchnorrProof): void {
  w.point(p.A);
  w.scalar(p.z);
}

export function readSchnorr(r: Reader): SchnorrProof {
  return { A: r.point(), z: r.scalar(true) };
}
