/**
 * Πlog*, knowledge of the plaintext of a Paillier ciphertext that is also a discrete logarithm
 * (CGGMP21, eprint 2021/060, Fig. 25): the prover knows x, ρ with C = Enc_{N0}(x; ρ), X = x·G on
 * secp256k1 and |x| ≤ 2^ℓ. Range commitments are under the verifier's ring-Pedersen (Ñ, s, t).
 *
 *   α ← ±2^{ℓ+ε}, μ ← ±2^ℓ·Ñ, r ← Z*_{N0}, γ ← ±2^{ℓ+ε}·Ñ;
 *   S = s^x t^μ, A = Enc(α; r), Y = α·G, D = s^α t^γ;  e ← ±q (Fiat–Shamir);
 *   z1 = α + e·x, z2 = r·ρ^e mod N0, z3 = γ + e·μ.
 *   Verifier: Enc(z1; z2) = A·C^e mod N0², z1·G = Y + e·X, s^{z1} t^{z3} = D·S^e mod Ñ,
 *   |z1| ≤ 2^{ℓ+ε}.
 *
 * The range check on z1 is what bounds x: a prover with |x| far beyond 2^ℓ gets a z1 outside the
 * range. The prover does not check its own witness, so a malicious party's proof is produced and then
 * rejected by the verifier, which is what the tests exercise.
 */
import { bitLength, CURVE_ORDER, type Point, type Reader, type Writer } from "../codec/codec.js";
import {
  isConstantTimeModulus,
  mod,
  modInv,
  modPow,
  randomSigned,
  randomUnit,
  SecretExponentBase,
} from "../math/bigint.js";
import { mulBase, mulBaseAdd } from "../math/secp256k1.js";
import { PAILLIER_MAX_BITS, PaillierPublicKey, PaillierSecretKey } from "../paillier/paillier.js";
import { ELL, EPSILON } from "./params.js";
import {
  RING_PEDERSEN_MAX_BITS,
  RingPedersenGroup,
  type RingPedersenParams,
  type RingPedersenSecret,
} from "./ring-pedersen.js";
import type { Transcript } from "./transcript.js";

/** The public statement: C, under the Paillier modulus n, encrypts the discrete logarithm of X. */
export interface EncDlogStatement {
  /** The prover's Paillier modulus N0. */
  n: bigint;
  /** The verifier's ring-Pedersen parameters. */
  ringPedersen: RingPedersenParams;
  C: bigint;
  X: Point;
}

/** What the prover needs: its key (secret for CRT speed, or public), the statement and x, ρ with C = Enc(x; ρ). */
export interface EncDlogProverInput extends Omit<EncDlogStatement, "n"> {
  key: PaillierSecretKey | PaillierPublicKey;
  x: bigint;
  rho: bigint;
}

export interface EncDlogProof {
  S: bigint;
  A: bigint;
  Y: Point;
  D: bigint;
  z1: bigint;
  z2: bigint;
  z3: bigint;
}

/**
 * Ceiling for z1 on the wire. The verifier's range check |z1| ≤ 2^{ℓ+ε} is what bounds x; the reader
 * admits α + e·x for any x below N0 so that an out-of-range plaintext is reported as a failed proof
 * rather than as bad bytes.
 */
function z1Bits(n0?: bigint): number {
  return ELL + Math.max(EPSILON, n0 === undefined ? PAILLIER_MAX_BITS : bitLength(n0)) + 2;
}

/**
 * z3 = γ + e·μ is below 2^{ℓ+ε}·Ñ + 2^{2ℓ}·Ñ, one bit more than the γ range since ε > ℓ; without
 * the parameters at hand, the bound for the largest Ñ accepted.
 */
function z3Bits(rp?: RingPedersenParams): number {
  return ELL + EPSILON + (rp ? bitLength(rp.n) : RING_PEDERSEN_MAX_BITS) + 1;
}

/** SEC1 compressed encoding, with the identity as the single byte 0 (it has no 33-byte form). */
function pointBytes(P: Point): Uint8Array {
  return P.is0() ? Uint8Array.of(0) : P.toBytes(true);
}

function challenge(tr: Transcript, st: EncDlogStatement, c: { S: bigint; A: bigint; Y: Point; D: bigint }): bigint {
  const rp = st.ringPedersen;
  tr.appendBigint("logstar/N0", st.n)
    .appendBigint("logstar/C", st.C)
    .append("logstar/X", pointBytes(st.X))
    .appendBigint("logstar/Nt", rp.n)
    .appendBigint("logstar/s", rp.s)
    .appendBigint("logstar/t", rp.t)
    .appendBigint("logstar/S", c.S)
    .appendBigint("logstar/A", c.A)
    .append("logstar/Y", pointBytes(c.Y))
    .appendBigint("logstar/D", c.D);
  return tr.challengeSignedScalar("logstar/e");
}

/**
 * Πlog* prover. With the secret key the mask encryption A runs through CRT; the public key works too.
 * x and ρ are taken as given (no range or consistency check), see the module comment.
 *
 * x is party 0's key share, so every exponentiation involving x, ρ or a mask runs in OpenSSL where it
 * can: S and D base by base with exponents shifted to a fixed length (SecretExponentBase), ρ^e with
 * the public challenge as exponent, A through the Paillier key's own exponentiations. Y is a
 * libsecp256k1 multiplication. z1 = α + e·x and z3 = γ + e·μ are BigInt arithmetic on secrets.
 */
export function proveEncDlog(tr: Transcript, input: EncDlogProverInput): EncDlogProof {
  const { key, ringPedersen: rp, x, rho } = input;
  const n0 = (key instanceof PaillierSecretKey ? key.publicKey : key).n;
  const st: EncDlogStatement = { n: n0, ringPedersen: rp, C: input.C, X: input.X };
  const mask = 1n << BigInt(ELL + EPSILON);
  // α ≡ 0 (mod q) would make Y the identity, which has no wire encoding; it happens with
  // probability 2^−256, and redrawing changes the distribution by as little.
  let alpha = randomSigned(mask);
  while (mod(alpha, CURVE_ORDER) === 0n) alpha = randomSigned(mask);
  const mu = randomSigned((1n << BigInt(ELL)) * rp.n);
  const r = randomUnit(n0);
  const gamma = randomSigned(mask * rp.n);

  // |v| < 2^bits for each range (the bounds ±2^ℓ and ±2^{ℓ+ε} are inclusive, hence the extra bit).
  const bt = bitLength(rp.n);
  let S: bigint;
  let D: bigint;
  if (isConstantTimeModulus(rp.n)) {
    const s = new SecretExponentBase(rp.s, rp.n);
    const t = new SecretExponentBase(rp.t, rp.n);
    S = (s.pow(x, ELL + 1) * t.pow(mu, ELL + bt)) % rp.n;
    D = (s.pow(alpha, ELL + EPSILON + 1) * t.pow(gamma, ELL + EPSILON + bt)) % rp.n;
  } else {
    const g = new RingPedersenGroup(rp);
    S = g.commit(x, mu);
    D = g.commit(alpha, gamma);
  }
  const A = key.encrypt(alpha, r);
  const Y = mulBase(mod(alpha, CURVE_ORDER));
  const e = challenge(tr, st, { S, A, Y, D });
  return {
    S,
    A,
    Y,
    D,
    z1: alpha + e * x,
    z2: (r * rhoPow(rho, e, n0)) % n0,
    z3: gamma + e * mu,
  };
}

/**
 * ρ^e mod N0 for the secret ρ and the public e. The power is taken with |e|; a negative e then needs
 * an inverse, which runs in BigInt (extended Euclid, variable-time), so it is taken of ρ^|e|·u for a
 * fresh random unit u, a value independent of ρ, and u multiplied back in.
 */
function rhoPow(rho: bigint, e: bigint, n0: bigint): bigint {
  const power = modPow(rho, e < 0n ? -e : e, n0);
  if (e >= 0n) return power;
  const u = randomUnit(n0);
  return (modInv((power * u) % n0, n0) * u) % n0;
}

/**
 * Πlog* verifier. The verifier owns (Ñ, s, t); passing its trapdoor makes the ring-Pedersen check
 * run through CRT.
 */
export function verifyEncDlog(
  tr: Transcript,
  st: EncDlogStatement,
  proof: EncDlogProof,
  rpSecret?: RingPedersenSecret,
): boolean {
  const { S, A, Y, D, z1, z2, z3 } = proof;
  const rp = st.ringPedersen;
  if (st.n < 3n || st.n % 2n === 0n) return false;
  const pk = new PaillierPublicKey(st.n);
  const g = new RingPedersenGroup(rp, rpSecret);
  if (!pk.isCiphertext(st.C) || !pk.isCiphertext(A) || !pk.isUnit(z2)) return false;
  if (!g.areUnits([S, D])) return false;
  const range = 1n << BigInt(ELL + EPSILON);
  if (z1 > range || z1 < -range || bitLength(z3) > z3Bits(rp)) return false;

  const e = challenge(tr, st, { S, A, Y, D });
  // Cheapest check first: z1·G − e·X = Y.
  if (!mulBaseAdd(mod(z1, CURVE_ORDER), st.X, mod(-e, CURVE_ORDER)).equals(Y)) return false;
  if (g.commit(z1, z3) !== (D * g.pow(S, e)) % rp.n) return false;
  return pk.encrypt(z1, z2) === (A * pk.mulPlain(st.C, e)) % pk.n2;
}

export function writeEncDlogProof(w: Writer, proof: EncDlogProof): void {
  w.bigint(proof.S);
  w.bigint(proof.A);
  w.point(proof.Y);
  w.bigint(proof.D);
  w.signed(proof.z1);
  w.bigint(proof.z2);
  w.signed(proof.z3);
}

/**
 * Reads a Πlog* proof. Given the prover's modulus n0 and the ring-Pedersen parameters, every field
 * must lie in its group; without them only the ceilings for the largest accepted moduli apply and
 * verifyEncDlog checks the exact ranges.
 */
export function readEncDlogProof(r: Reader, n0?: bigint, rp?: RingPedersenParams): EncDlogProof {
  const unitModNt = () => (rp !== undefined ? r.below(rp.n) : r.bigint(RING_PEDERSEN_MAX_BITS));
  return {
    S: unitModNt(),
    A: n0 !== undefined ? r.below(n0 * n0) : r.bigint(2 * PAILLIER_MAX_BITS),
    Y: r.point(),
    D: unitModNt(),
    z1: r.signed(z1Bits(n0)),
    z2: n0 !== undefined ? r.below(n0) : r.bigint(PAILLIER_MAX_BITS),
    z3: r.signed(z3Bits(rp)),
  };
}
