/**
 * Πfac, the "no small factor" proof (CGGMP21, eprint 2021/060, Fig. 28 of the revised version): the
 * prover knows p, q with N0 = p·q (an honest one has |p|, |q| ≤ 2^ℓ·√N0). From two accepting
 * transcripts p = Δz1/Δe with |Δz1| ≤ 2^{ℓ+ε+1}·√N0, so an accepted proof shows both factors at
 * most about 2^{ℓ+ε}·√N0, hence neither below about 2^{−(ℓ+ε)}·√N0 (some 2^255 for a 2048-bit N0).
 * Commitments are under the verifier's ring-Pedersen parameters (Ñ, s, t).
 *
 *   P = s^p t^μ, Q = s^q t^ν, A = s^α t^x, B = s^β t^y, T = Q^α t^r, plus σ, all sent first;
 *   e ← ±q (Fiat–Shamir); σ̂ = σ − ν·p;
 *   z1 = α + e·p, z2 = β + e·q, w1 = x + e·μ, w2 = y + e·ν, v = r + e·σ̂.
 *   Verifier: R = s^{N0} t^σ; s^{z1} t^{w1} = A·P^e, s^{z2} t^{w2} = B·Q^e, Q^{z1} t^v = T·R^e
 *   (mod Ñ) and z1, z2 ∈ ±2^{ℓ+ε}·√N0.
 *
 * The third equation ties the two factors together: Q^p·t^{σ̂} = s^{pq}·t^{νp + σ − νp} = R. σ is
 * part of the first message (R must be fixed before e for the extractor to work), so it is absorbed
 * into the transcript with the commitments.
 */
import { bitLength, type Reader, type Writer } from "../codec/codec.js";
import { isConstantTimeModulus, isqrt, randomSigned, SecretExponentBase } from "../math/bigint.js";
import { PAILLIER_MAX_BITS, type PaillierSecretKey } from "../paillier/paillier.js";
import { ELL, EPSILON } from "./params.js";
import {
  RING_PEDERSEN_MAX_BITS,
  RingPedersenGroup,
  type RingPedersenParams,
  type RingPedersenSecret,
} from "./ring-pedersen.js";
import type { Transcript } from "./transcript.js";

export interface NoSmallFactorProof {
  P: bigint;
  Q: bigint;
  A: bigint;
  B: bigint;
  T: bigint;
  sigma: bigint;
  z1: bigint;
  z2: bigint;
  w1: bigint;
  w2: bigint;
  v: bigint;
}

/**
 * Bit-length ceilings of the signed fields, from the sampling ranges plus a challenge |e| ≤ q < 2^ℓ
 * (and ε > ℓ, so each e·(secret) term adds at most one bit). They only cap the work a hostile proof
 * can cause; z1, z2 get the exact range check in the verifier, so their ceiling admits e·p for any
 * factor p < N0, and an unbalanced modulus is reported as a failed proof rather than as bad bytes.
 * Unknown moduli count as the largest accepted.
 */
function fieldBits(n0?: bigint, nt?: bigint) {
  const b0 = n0 === undefined ? PAILLIER_MAX_BITS : bitLength(n0);
  const bt = nt === undefined ? RING_PEDERSEN_MAX_BITS : bitLength(nt);
  return {
    z: ELL + Math.max(EPSILON + Math.ceil(b0 / 2), b0) + 2,
    w: ELL + EPSILON + bt + 1,
    sigma: ELL + b0 + bt,
    v: ELL + EPSILON + b0 + bt + 1,
  };
}

function challenge(
  tr: Transcript,
  n0: bigint,
  rp: RingPedersenParams,
  c: Omit<NoSmallFactorProof, "z1" | "z2" | "w1" | "w2" | "v">,
): bigint {
  tr.appendBigint("fac/N0", n0)
    .appendBigint("fac/Nt", rp.n)
    .appendBigint("fac/s", rp.s)
    .appendBigint("fac/t", rp.t)
    .appendBigint("fac/P", c.P)
    .appendBigint("fac/Q", c.Q)
    .appendBigint("fac/A", c.A)
    .appendBigint("fac/B", c.B)
    .appendBigint("fac/T", c.T)
    .appendBigint("fac/sigma", c.sigma);
  return tr.challengeSignedScalar("fac/e");
}

/**
 * Πfac prover for the factors of the Paillier key, under the verifier's ring-Pedersen parameters.
 *
 * Every exponent here is secret (p, q and their masks), so under OpenSSL each power is taken on its
 * own in constant time, with exponents shifted to a fixed length (SecretExponentBase) by the bit
 * bounds of their ranges. Those bounds hold for any key with balanced factors; a key without them (a
 * test's) costs longer shifts, not wrong results. Where BigInt computes anyway, the two-base chain of
 * RingPedersenGroup is the cheaper variable-time route. The responses z = α + e·p etc. are BigInt
 * arithmetic on secrets either way.
 */
export function proveNoSmallFactor(tr: Transcript, sk: PaillierSecretKey, rp: RingPedersenParams): NoSmallFactorProof {
  const { p, q } = sk;
  const n0 = sk.publicKey.n;
  const tn = rp.n;
  const sqrtN0 = isqrt(n0);
  const mask = 1n << BigInt(ELL + EPSILON);
  const alpha = randomSigned(mask * sqrtN0);
  const beta = randomSigned(mask * sqrtN0);
  const mu = randomSigned((1n << BigInt(ELL)) * tn);
  const nu = randomSigned((1n << BigInt(ELL)) * tn);
  const sigma = randomSigned((1n << BigInt(ELL)) * n0 * tn);
  const r = randomSigned(mask * n0 * tn);
  const x = randomSigned(mask * tn);
  const y = randomSigned(mask * tn);

  // |v| < 2^bits for each range above (√N0 < 2^⌈b0/2⌉, N0 < 2^b0, Ñ < 2^bt).
  const b0 = bitLength(n0);
  const bt = bitLength(tn);
  const half = Math.ceil(b0 / 2);
  const bits = {
    factor: half,
    alpha: ELL + EPSILON + half,
    mu: ELL + bt,
    x: ELL + EPSILON + bt,
    r: ELL + EPSILON + b0 + bt,
  };
  let P: bigint;
  let Q: bigint;
  let A: bigint;
  let B: bigint;
  let T: bigint;
  if (isConstantTimeModulus(tn)) {
    const s = new SecretExponentBase(rp.s, tn);
    const t = new SecretExponentBase(rp.t, tn);
    const commit = (a: bigint, aBits: number, b: bigint, bBits: number) => (s.pow(a, aBits) * t.pow(b, bBits)) % tn;
    P = commit(p, bits.factor, mu, bits.mu);
    Q = commit(q, bits.factor, nu, bits.mu);
    A = commit(alpha, bits.alpha, x, bits.x);
    B = commit(beta, bits.alpha, y, bits.x);
    T = (new SecretExponentBase(Q, tn).pow(alpha, bits.alpha) * t.pow(r, bits.r)) % tn;
  } else {
    const g = new RingPedersenGroup(rp);
    P = g.commit(p, mu);
    Q = g.commit(q, nu);
    A = g.commit(alpha, x);
    B = g.commit(beta, y);
    T = g.pow2(Q, alpha, rp.t, r);
  }
  const e = challenge(tr, n0, rp, { P, Q, A, B, T, sigma });
  const sigmaHat = sigma - nu * p;
  return {
    P,
    Q,
    A,
    B,
    T,
    sigma,
    z1: alpha + e * p,
    z2: beta + e * q,
    w1: x + e * mu,
    w2: y + e * nu,
    v: r + e * sigmaHat,
  };
}

/**
 * Πfac verifier. The verifier is the owner of (Ñ, s, t); passing its trapdoor makes the check run
 * through CRT (same result, a fraction of the time).
 */
export function verifyNoSmallFactor(
  tr: Transcript,
  n0: bigint,
  rp: RingPedersenParams,
  proof: NoSmallFactorProof,
  rpSecret?: RingPedersenSecret,
): boolean {
  if (n0 < 3n || n0 % 2n === 0n) return false;
  const g = new RingPedersenGroup(rp, rpSecret);
  const { P, Q, A, B, T, sigma, z1, z2, w1, w2, v } = proof;
  if (!g.areUnits([P, Q, A, B, T])) return false;
  const bits = fieldBits(n0, rp.n);
  if (bitLength(sigma) > bits.sigma || bitLength(w1) > bits.w || bitLength(w2) > bits.w || bitLength(v) > bits.v) {
    return false;
  }
  const range = (1n << BigInt(ELL + EPSILON)) * (isqrt(n0) + 1n);
  if (z1 > range || z1 < -range || z2 > range || z2 < -range) return false;

  const e = challenge(tr, n0, rp, { P, Q, A, B, T, sigma });
  const n = rp.n;
  if (g.commit(z1, w1) !== (A * g.pow(P, e)) % n) return false;
  if (g.commit(z2, w2) !== (B * g.pow(Q, e)) % n) return false;
  const R = g.commit(n0, sigma);
  return g.pow2(Q, z1, rp.t, v) === (T * g.pow(R, e)) % n;
}

export function writeNoSmallFactorProof(w: Writer, proof: NoSmallFactorProof): void {
  for (const x of [proof.P, proof.Q, proof.A, proof.B, proof.T]) w.bigint(x);
  for (const x of [proof.sigma, proof.z1, proof.z2, proof.w1, proof.w2, proof.v]) w.signed(x);
}

/**
 * Reads a Πfac proof. Given the modulus n0 and the ring-Pedersen parameters, commitments must lie in
 * [1, Ñ) and signed fields within ceilings for those sizes; without them only the ceilings for the
 * largest accepted moduli apply and verifyNoSmallFactor checks the exact ranges.
 */
export function readNoSmallFactorProof(r: Reader, n0?: bigint, rp?: RingPedersenParams): NoSmallFactorProof {
  const bits = fieldBits(n0, rp?.n);
  const element = () => (rp !== undefined ? r.below(rp.n) : r.bigint(RING_PEDERSEN_MAX_BITS));
  return {
    P: element(),
    Q: element(),
    A: element(),
    B: element(),
    T: element(),
    sigma: r.signed(bits.sigma),
    z1: r.signed(bits.z),
    z2: r.signed(bits.z),
    w1: r.signed(bits.w),
    w2: r.signed(bits.w),
    v: r.signed(bits.v),
  };
}
