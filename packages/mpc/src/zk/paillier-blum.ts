/**
 * Πmod: N is a Paillier–Blum modulus, N = p·q with p ≡ q ≡ 3 (mod 4) and gcd(N, φ(N)) = 1
 * (CGGMP21, eprint 2021/060, Fig. 16, after Goldberg–Reyzin–Sagga–Baldimtsi, "Efficient
 * noninteractive certification of RSA moduli and beyond", ASIACRYPT 2019).
 *
 * The prover publishes w with Jacobi symbol −1; for each challenge y_i it returns a fourth root x_i
 * of (−1)^{a_i}·w^{b_i}·y_i. Only for a Blum integer with exactly two prime factors does one of the
 * four adjustments always make y_i a fourth power, so each repetition halves a cheater's chance and
 * BINARY_CHALLENGE_REPETITIONS = 80 of them give 2^−80 (statistically when the verifier seeds the
 * challenges after the prover has sent N and w, as ecdsa2p does).
 *
 * The N-th roots z_i = y_i^{N⁻¹ mod φ(N)}, which show gcd(N, φ(N)) = 1 (in particular that no prime
 * divides N twice), are sent only for the first NTH_ROOT_REPETITIONS = 8 challenges instead of all
 * 80. Soundness, as in Goldberg et al. and Coinbase cb-mpc's "valid Paillier" proof: the verifier
 * first rejects any N with a prime factor below 2^16 (smallFactor; this is also this project's "no
 * small factor below 2^16" check). If then gcd(N, φ(N)) ≠ 1, some prime r ≥ 2^16 divides both N and
 * φ(N); the map x ↦ x^N on Z*_N then has a kernel of size at least r, so its image has index at least
 * r and a uniformly random y is an N-th power with probability at most 2^−16. Eight independent
 * challenges leave a cheater 2^−128.
 */
import { bitLength, type Reader, type Writer } from "../codec/codec.js";
import { crt, gcd, jacobi, mod, modInv, modPow, randomUnit } from "../math/bigint.js";
import { isProbablePrime, smallFactor } from "../math/primes.js";
import type { PaillierSecretKey } from "../paillier/paillier.js";
import { BINARY_CHALLENGE_REPETITIONS } from "./params.js";
import type { Transcript } from "./transcript.js";

/** Challenges that also get an N-th root; see the module comment for why 8 suffice. */
export const NTH_ROOT_REPETITIONS = 8;
/** Largest modulus verified, to bound the work a hostile peer can cause. */
const MAX_MODULUS_BITS = 8192;

export interface BlumModulusProof {
  /** A fixed non-residue with Jacobi symbol (w | N) = −1. */
  w: bigint;
  /** x^4 = (−1)^a · w^b · y_i mod N, one entry per challenge. */
  roots: { x: bigint; a: boolean; b: boolean }[];
  /** z_i^N = y_i mod N for the first NTH_ROOT_REPETITIONS challenges. */
  z: bigint[];
}

function challenges(tr: Transcript, n: bigint, w: bigint): bigint[] {
  tr.appendBigint("mod/N", n).appendBigint("mod/w", w);
  return Array.from({ length: BINARY_CHALLENGE_REPETITIONS }, () => tr.challengeBelow("mod/y", n));
}

function tryModInv(a: bigint, m: bigint): bigint | null {
  try {
    return modInv(a, m);
  } catch {
    return null;
  }
}

/**
 * Fourth roots modulo one Blum prime P. Squaring permutes the quadratic residues (their group has odd
 * order (P−1)/2), and E = ((P+1)/4)² is the inverse of 4 modulo that order, so g^E is the residue
 * fourth root of a residue g. Writing any unit y = ε·g with ε = ±1 the Legendre symbol, f = y^E
 * satisfies f^4 = g: whether f^4 equals y or −y gives ε without a separate Jacobi computation, and
 * f·ε^E (ε^E = ±1) is the fourth root of g. For a non-Blum "prime" (a malformed test key) all of this
 * silently produces wrong roots, which the verifier rejects; the prover never checks its own key.
 */
class FourthRoots {
  private readonly e: bigint;
  private readonly eOdd: boolean;

  constructor(private readonly prime: bigint) {
    const k = (prime + 1n) / 4n;
    this.e = (k * k) % (prime - 1n);
    this.eOdd = this.e % 2n === 1n;
  }

  /** The Legendre sign of y and the residue fourth root of ε·y. */
  split(y: bigint): { negative: boolean; root: bigint } {
    const P = this.prime;
    const yp = y % P;
    const f = modPow(yp, this.e, P);
    const f2 = (f * f) % P;
    const negative = (f2 * f2) % P !== yp;
    return { negative, root: negative && this.eOdd ? P - f : f };
  }
}

/**
 * Πmod's first message: a w with Jacobi symbol −1. Sent (with N) before the verifier contributes
 * randomness to the challenges, it makes the proof interactive: no grinding.
 */
export function blumModulusCommitment(n: bigint): bigint {
  // Half of all units have symbol −1 unless N is a square; a malformed square N just gets a bad w.
  let w = randomUnit(n);
  for (let i = 0; i < 256 && jacobi(w, n) !== -1; i++) w = randomUnit(n);
  return w;
}

/** Πmod prover (Fig. 16), answering the given (or a fresh) first message w. */
export function proveBlumModulus(
  tr: Transcript,
  sk: PaillierSecretKey,
  w: bigint = blumModulusCommitment(sk.publicKey.n),
): BlumModulusProof {
  const { p, q } = sk;
  const n = sk.publicKey.n;
  const ys = challenges(tr, n, w);

  const rp = new FourthRoots(p);
  const rq = new FourthRoots(q);
  const qInvP = tryModInv(q, p) ?? 0n;
  const wp = rp.split(w);
  const wq = rq.split(w);
  const roots = ys.map((y) => {
    const yp = rp.split(y);
    const yq = rq.split(y);
    // (w | N) = −1 and (−1 | N) = 1: w^b fixes the Jacobi symbol of y, then the sign −1 (a
    // non-residue mod both Blum primes) fixes both Legendre symbols at once.
    const b = yp.negative !== yq.negative;
    const a = yp.negative !== (b && wp.negative);
    const xp = b ? (yp.root * wp.root) % p : yp.root;
    const xq = b ? (yq.root * wq.root) % q : yq.root;
    return { x: crt(xp, p, xq, q, qInvP), a, b };
  });

  // N⁻¹ mod (p−1) and mod (q−1) exist exactly when gcd(N, φ(N)) = 1; a malformed key gets random
  // values instead, which fail verification.
  const dp = tryModInv(n % (p - 1n), p - 1n);
  const dq = tryModInv(n % (q - 1n), q - 1n);
  const z = ys
    .slice(0, NTH_ROOT_REPETITIONS)
    .map((y) => (dp === null || dq === null ? randomUnit(n) : crt(modPow(y, dp, p), p, modPow(y, dq, q), q, qInvP)));
  return { w, roots, z };
}

/** Πmod verifier (Fig. 16), with the small-factor and primality checks that make 8 N-th roots enough. */
export function verifyBlumModulus(tr: Transcript, n: bigint, proof: BlumModulusProof): boolean {
  if (n % 2n === 0n || n < 1n << 2047n || bitLength(n) > MAX_MODULUS_BITS) return false;
  if (smallFactor(n) !== null) return false;
  // A prime N would pass everything below (all its roots exist); Miller–Rabin never calls a prime
  // composite, and for a composite N the first round almost always settles it, so this costs one
  // exponentiation for an honest modulus.
  if (isProbablePrime(n, 20)) return false;
  const { w, roots, z } = proof;
  if (roots.length !== BINARY_CHALLENGE_REPETITIONS || z.length !== NTH_ROOT_REPETITIONS) return false;
  // A Jacobi symbol of −1 also implies gcd(w, N) = 1.
  if (w <= 0n || w >= n || jacobi(w, n) !== -1) return false;
  // Every x and z in [1, N) and a unit; a product of units is a unit and a non-unit factor would
  // share a prime with N, so one gcd on the product checks them all.
  let prod = 1n;
  for (const v of [...roots.map((r) => r.x), ...z]) {
    if (v <= 0n || v >= n) return false;
    prod = (prod * v) % n;
  }
  if (gcd(prod, n) !== 1n) return false;

  const ys = challenges(tr, n, w);
  for (let i = 0; i < BINARY_CHALLENGE_REPETITIONS; i++) {
    const { x, a, b } = roots[i] as BlumModulusProof["roots"][number];
    const y = ys[i] as bigint;
    let rhs = b ? (w * y) % n : y;
    if (a) rhs = mod(-rhs, n);
    const x2 = (x * x) % n;
    if ((x2 * x2) % n !== rhs) return false;
  }
  for (let i = 0; i < NTH_ROOT_REPETITIONS; i++) {
    if (modPow(z[i] as bigint, n, n) !== ys[i]) return false;
  }
  return true;
}

export function writeBlumModulusProof(w: Writer, proof: BlumModulusProof): void {
  w.bigint(proof.w);
  w.list(proof.roots, (w, r) => {
    w.bigint(r.x);
    w.bool(r.a);
    w.bool(r.b);
  });
  w.list(proof.z, (w, z) => w.bigint(z));
}

/** Reads a Πmod proof for modulus n: exact entry counts, every value in [1, n). */
export function readBlumModulusProof(r: Reader, n: bigint): BlumModulusProof {
  const w = r.below(n);
  const roots = r.list(BINARY_CHALLENGE_REPETITIONS, (r) => ({ x: r.below(n), a: r.bool(), b: r.bool() }));
  if (roots.length !== BINARY_CHALLENGE_REPETITIONS) r.fail("wrong number of Πmod roots");
  const z = r.list(NTH_ROOT_REPETITIONS, (r) => r.below(n));
  if (z.length !== NTH_ROOT_REPETITIONS) r.fail("wrong number of Πmod N-th roots");
  return { w, roots, z };
}
