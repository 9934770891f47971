/**
 * Πaff (range form): the prover knows a, y with D = C^a · Enc_N(y) and |a| ≤ 2^ℓa, |y| ≤ 2^ℓy,
 * after CGGMP21 (eprint 2021/060) Fig. 15, without its group-element and second-ciphertext parts.
 * It is what makes two-party signing leak-free: it bounds the affine map party 1 applies to
 * Enc(x₀), so the plaintext never wraps mod N and a signature's success cannot depend on x₀
 * (CVE-2023-33242).
 *
 * The verifier owns the Paillier key and the ring-Pedersen parameters (Ñ, s, t) over the same
 * modulus (as in CGGMP21), so it checks the Paillier relation by decryption rather than by
 * recomputing encryptions, and the prover sends no randomness response:
 *
 *   offline  α ← ±2^{ℓa+ε}, β ← ±2^{ℓy+ε}, γ, δ ← ±2^{ℓa+ε}·Ñ, m, μ ← ±2^{ℓa}·Ñ;
 *            A = C^α·(1+N)^β·r^N, E = s^α t^γ, F = s^β t^δ, and t^m, t^μ
 *   online   S = s^a t^m, T = s^y t^μ;  e ← ±q (Fiat–Shamir);
 *            z1 = α + e·a, z2 = β + e·y, z3 = γ + e·m, z4 = δ + e·μ
 *   verify   Dec(A) + e·Dec(D) ≡ z1·Dec(C) + z2 (mod N);  s^{z1} t^{z3} = E·S^e, s^{z2} t^{z4} = F·T^e (mod Ñ);
 *            |z1| ≤ 2^{ℓa+ε}, |z2| ≤ 2^{ℓy+ε}.
 *
 * δ and μ are drawn as in the paper, from ℓa's ranges however long y is: μ only has to make t^μ
 * near-uniform, so that T hides y, and δ only has to hide e·μ in z4; y itself is hidden in z2, by β.
 * (Some implementations widen both to y's length; it costs two longer exponentiations and hides
 * nothing more.)
 *
 * A's randomiser r^N is essential even though the verifier decrypts A: without it A/(1+N)^Dec(A)
 * would be a power of C's randomness, whose discrete log the key owner can take. Everything above
 * "online" is independent of the message, so a party precomputes it (`AffinePrecomputation`),
 * once per signature, never reused and never persisted.
 */
import { bitLength, type Reader, type Writer } from "../codec/codec.js";
import { crt, FixedBase, mod, modInv, modPow, randomSigned, randomUnit } from "../math/bigint.js";
import { PAILLIER_MAX_BITS, type PaillierPublicKey, type PaillierSecretKey } from "../paillier/paillier.js";
import { ELL, EPSILON } from "./params.js";
import { RING_PEDERSEN_MAX_BITS, RingPedersenGroup, type RingPedersenParams } from "./ring-pedersen.js";
import type { Transcript } from "./transcript.js";

export interface AffineStatement {
  /** The verifier's Paillier key. */
  pk: PaillierPublicKey;
  /** The verifier's ring-Pedersen parameters, over pk.n. */
  rp: RingPedersenParams;
  C: bigint;
  D: bigint;
  /** Bit bounds of the witness. */
  aBits: number;
  yBits: number;
}

export interface AffineProof {
  A: bigint;
  E: bigint;
  F: bigint;
  S: bigint;
  T: bigint;
  z1: bigint;
  z2: bigint;
  z3: bigint;
  z4: bigint;
}

/** Fixed-base tables for s and t mod Ñ, built once per key and shared by every proof under it. */
export class AffineProverTables {
  readonly s: FixedBase;
  readonly t: FixedBase;
  constructor(
    readonly rp: RingPedersenParams,
    readonly yBits: number,
  ) {
    const n = bitLength(rp.n);
    this.s = new FixedBase(rp.s, rp.n, yBits + EPSILON + 2);
    this.t = new FixedBase(rp.t, rp.n, yBits + EPSILON + n + 2);
  }
}

/**
 * The verifier's tables for s and t modulo each prime of its own modulus, built once per key. With
 * the trapdoor, s^u·t^v costs half-size exponentiations; with λ = log_t s as well, it is t^{λu+v},
 * one exponentiation per prime instead of two.
 */
export class AffineVerifierTables {
  /** Per prime: the modulus and tables for t, and for s unless λ is known (then s^u = t^{λu}). */
  private readonly p: { m: bigint; s?: FixedBase; t: FixedBase };
  private readonly q: { m: bigint; s?: FixedBase; t: FixedBase };
  private readonly qInvP: bigint;
  /** Exponentiation mod Ñ through the trapdoor, for S^e and T^e. */
  readonly group: RingPedersenGroup;

  constructor(
    readonly rp: RingPedersenParams,
    sk: PaillierSecretKey,
    /** log_t s, when the key owner kept it (shares made before it did not). */
    private readonly lambda?: bigint,
  ) {
    if (rp.n !== sk.publicKey.n) throw new RangeError("ring-Pedersen parameters are not over this key");
    this.group = new RingPedersenGroup(rp, { p: sk.p, q: sk.q, lambda: lambda ?? 0n });
    const half = (m: bigint) => ({
      m,
      ...(lambda === undefined && { s: new FixedBase(rp.s % m, m, bitLength(m)) }),
      t: new FixedBase(rp.t % m, m, bitLength(m)),
    });
    this.p = half(sk.p);
    this.q = half(sk.q);
    this.qInvP = modInv(sk.q, sk.p);
  }

  /** s^u · t^v mod Ñ. */
  commit(u: bigint, v: bigint): bigint {
    const lambda = this.lambda;
    const at = (h: { m: bigint; s?: FixedBase; t: FixedBase }) =>
      h.s === undefined
        ? h.t.pow(mod((lambda as bigint) * u + v, h.m - 1n))
        : (h.s.pow(mod(u, h.m - 1n)) * h.t.pow(mod(v, h.m - 1n))) % h.m;
    return crt(at(this.p), this.p.m, at(this.q), this.q.m, this.qInvP);
  }
}

interface AffineSecrets {
  alpha: bigint;
  beta: bigint;
  gamma: bigint;
  delta: bigint;
  m: bigint;
  mu: bigint;
}

/** A precomputation as plain data (see `SignPrecomputation.toParts`). */
export interface AffinePrecomputationParts {
  secrets: AffineSecrets;
  A: bigint;
  E: bigint;
  F: bigint;
  tm: bigint;
  tmu: bigint;
  key: { n: bigint; C: bigint };
}

/** The message-independent half of one proof. Single use. */
export class AffinePrecomputation {
  private used = false;
  private constructor(
    private readonly secrets: AffineSecrets,
    readonly A: bigint,
    readonly E: bigint,
    readonly F: bigint,
    private readonly tm: bigint,
    private readonly tmu: bigint,
    readonly key: { n: bigint; C: bigint },
  ) {}

  /** Plain data for another thread; only its owner, a `SignPrecomputation` giving itself up, calls this. */
  toParts(): AffinePrecomputationParts {
    const { tm, tmu, ...secrets } = this.take(this.key.n, this.key.C);
    return { secrets, A: this.A, E: this.E, F: this.F, tm, tmu, key: this.key };
  }

  static fromParts(p: AffinePrecomputationParts): AffinePrecomputation {
    return new AffinePrecomputation(p.secrets, p.A, p.E, p.F, p.tm, p.tmu, p.key);
  }

  /** `cPow(k)` returns C^k mod N² (callers pass a fixed-base table for their C). */
  static create(
    st: Omit<AffineStatement, "D">,
    cPow: (k: bigint) => bigint,
    tables: AffineProverTables,
  ): AffinePrecomputation {
    const { pk, rp, aBits, yBits } = st;
    const alpha = randomSigned(1n << BigInt(aBits + EPSILON));
    const beta = randomSigned(1n << BigInt(yBits + EPSILON));
    const gamma = randomSigned((1n << BigInt(aBits + EPSILON)) * rp.n);
    const m = randomSigned((1n << BigInt(aBits)) * rp.n);
    const delta = randomSigned((1n << BigInt(aBits + EPSILON)) * rp.n);
    const mu = randomSigned((1n << BigInt(aBits)) * rp.n);
    const rN = modPow(randomUnit(pk.n), pk.n, pk.n2);
    const A = (((cPow(alpha) * (1n + mod(beta, pk.n) * pk.n)) % pk.n2) * rN) % pk.n2;
    const E = (tables.s.pow(alpha) * tables.t.pow(gamma)) % rp.n;
    const F = (tables.s.pow(beta) * tables.t.pow(delta)) % rp.n;
    return new AffinePrecomputation({ alpha, beta, gamma, delta, m, mu }, A, E, F, tables.t.pow(m), tables.t.pow(mu), {
      n: pk.n,
      C: st.C,
    });
  }

  /** Hands out the secrets once. */
  take(n: bigint, C: bigint): AffinePrecomputation["secrets"] & { tm: bigint; tmu: bigint } {
    if (this.used) throw new RangeError("precomputation already used");
    if (n !== this.key.n || C !== this.key.C) throw new RangeError("precomputation belongs to another key");
    this.used = true;
    return { ...this.secrets, tm: this.tm, tmu: this.tmu };
  }
}

function challenge(tr: Transcript, st: AffineStatement, p: Pick<AffineProof, "A" | "E" | "F" | "S" | "T">): bigint {
  tr.appendBigint("aff/N", st.pk.n)
    .appendBigint("aff/s", st.rp.s)
    .appendBigint("aff/t", st.rp.t)
    .appendBigint("aff/C", st.C)
    .appendBigint("aff/D", st.D)
    .append("aff/bounds", Uint8Array.of(st.aBits >> 8, st.aBits & 0xff, st.yBits >> 8, st.yBits & 0xff))
    .appendBigint("aff/A", p.A)
    .appendBigint("aff/E", p.E)
    .appendBigint("aff/F", p.F)
    .appendBigint("aff/S", p.S)
    .appendBigint("aff/T", p.T);
  return tr.challengeSignedScalar("aff/e");
}

/**
 * Prover. The witness is taken as given (no range check): a malicious party's proof is produced
 * and then rejected, which is what the tests exercise.
 */
export function proveAffine(
  tr: Transcript,
  st: AffineStatement,
  witness: { a: bigint; y: bigint },
  pre: AffinePrecomputation,
  tables: AffineProverTables,
): AffineProof {
  const k = pre.take(st.pk.n, st.C);
  const { a, y } = witness;
  const S = (tables.s.pow(a) * k.tm) % st.rp.n;
  const T = (tables.s.pow(y) * k.tmu) % st.rp.n;
  const first = { A: pre.A, E: pre.E, F: pre.F, S, T };
  const e = challenge(tr, st, first);
  return { ...first, z1: k.alpha + e * a, z2: k.beta + e * y, z3: k.gamma + e * k.m, z4: k.delta + e * k.mu };
}

/**
 * Verifier, by the owner of the Paillier key: `plainC` is Dec(C) and `plainD` is Dec(D), which the
 * caller knows or has computed anyway.
 */
export function verifyAffine(
  tr: Transcript,
  st: AffineStatement,
  proof: AffineProof,
  sk: PaillierSecretKey,
  plain: { C: bigint; D: bigint },
  tables: AffineVerifierTables,
): boolean {
  const { pk, rp } = st;
  const { A, E, F, S, T, z1, z2, z3, z4 } = proof;
  if (sk.publicKey.n !== pk.n || rp.n !== pk.n || tables.rp !== rp) return false;
  const ra = 1n << BigInt(st.aBits + EPSILON);
  const ry = 1n << BigInt(st.yBits + EPSILON);
  if (z1 > ra || z1 < -ra || z2 > ry || z2 < -ry) return false;
  if (bitLength(z3) > z3Bits(st, rp) || bitLength(z4) > z4Bits(st, rp)) return false;
  if (!sk.isCiphertext(A) || !sk.isCiphertext(st.D) || !sk.isCiphertext(st.C)) return false;
  // Ñ = N, so the Paillier key checks the ring-Pedersen elements too.
  if (![E, F, S, T].every((x) => sk.isUnit(x))) return false;
  const e = challenge(tr, st, { A, E, F, S, T });
  // s^z1·t^z3 = E·S^e and s^z2·t^z4 = F·T^e; for a negative e, S^−e moves to the left-hand side
  // instead of S being inverted (the same equation, as S and T are units).
  const holds = (commitment: bigint, first: bigint, x: bigint) =>
    e >= 0n
      ? commitment === (first * tables.group.pow(x, e)) % rp.n
      : (commitment * tables.group.pow(x, -e)) % rp.n === first;
  if (!holds(tables.commit(z1, z3), E, S) || !holds(tables.commit(z2, z4), F, T)) return false;
  return mod(sk.decrypt(A) + e * plain.D - z1 * plain.C - z2, pk.n) === 0n;
}

function z3Bits(st: AffineStatement, rp?: RingPedersenParams): number {
  return st.aBits + EPSILON + (rp ? bitLength(rp.n) : RING_PEDERSEN_MAX_BITS) + 2;
}
/** A decoding ceiling, not part of soundness: it still admits provers that drew δ from y's range. */
function z4Bits(st: AffineStatement, rp?: RingPedersenParams): number {
  return st.yBits + EPSILON + (rp ? bitLength(rp.n) : RING_PEDERSEN_MAX_BITS) + 2;
}

export function writeAffineProof(w: Writer, p: AffineProof): void {
  for (const v of [p.A, p.E, p.F, p.S, p.T]) w.bigint(v);
  for (const v of [p.z1, p.z2, p.z3, p.z4]) w.signed(v);
}

/** Reads a proof for statement `st`: group elements below their moduli, responses within ceilings. */
export function readAffineProof(r: Reader, st: Omit<AffineStatement, "D" | "C">): AffineProof {
  const { pk, rp } = st;
  if (bitLength(pk.n) > PAILLIER_MAX_BITS) r.fail("modulus too large");
  return {
    A: r.below(pk.n2),
    E: r.below(rp.n),
    F: r.below(rp.n),
    S: r.below(rp.n),
    T: r.below(rp.n),
    // Ceilings generous enough for a witness up to N: an out-of-range response from a malicious
    // prover decodes and is then rejected as a failed proof, not as bad bytes.
    z1: r.signed(bitLength(pk.n) + ELL + EPSILON + 2),
    z2: r.signed(bitLength(pk.n) + ELL + EPSILON + 2),
    z3: r.signed(z3Bits(st as AffineStatement, rp)),
    z4: r.signed(z4Bits(st as AffineStatement, rp)),
  };
}
