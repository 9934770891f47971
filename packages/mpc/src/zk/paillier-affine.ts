/**
 * Πaff (range form): the prover knows a, y with D = C^a · Enc_N(y) and |a| ≤ 2^ℓa, |y| ≤ 2^ℓy,
 * after CGGMP21 (eprint 2021/060) Fig. 15, without its group-element and second-ciphertext parts.
 * It is what makes two-party signing leak-free: it bounds the affine map party 1 applies to
 * Enc(x₀), so the plaintext never wraps mod N and a signature's success cannot depend on x₀
 * (CVE-2023-33242).
 *
 * The verifier owns the Paillier key and the ring-Pedersen parameters (Ñ, s, t) over the same
 * modulus (as in CGGMP21), so it checks the Paillier relation by decryption rather than by
 * recomputing encryptions, and the prover sends no randomness response. The witness is committed
 * under ring-Pedersen in one or two commitments j, each with a base uⱼ for a and vⱼ for y:
 *
 *   offline  α ← ±2^{ℓa+ε}, β ← ±2^{ℓy+ε}; for each j, γⱼ ← ±2^{ℓa+ε}·Ñ, mⱼ ← ±2^{ℓa}·Ñ;
 *            A = C^α·(1+N)^β·r^N, Eⱼ = uⱼ^α·vⱼ^β·t^{γⱼ}, and t^{mⱼ}
 *   online   Sⱼ = uⱼ^a·vⱼ^y·t^{mⱼ};  e ← ±q (Fiat–Shamir);  z1 = α + e·a, z2 = β + e·y, z3ⱼ = γⱼ + e·mⱼ
 *   verify   Dec(A) + e·Dec(D) ≡ z1·Dec(C) + z2 (mod N);  uⱼ^{z1}·vⱼ^{z2}·t^{z3ⱼ} = Eⱼ·Sⱼ^e (mod Ñ);
 *            |z1| ≤ 2^{ℓa+ε}, |z2| ≤ 2^{ℓy+ε}.
 *
 * The two layouts:
 *  - **joint**: one commitment s^a·s′^y·t^m, when the verifier also published a second base
 *    s′ = t^{λ′} with its own Πprm. It binds a and y together: this is Damgård–Fujisaki's integer
 *    commitment with several bases (and Ñ's owner chose λ and λ′), so an opening of one value two
 *    ways gives t^{λ·Δa + λ′·Δy + Δm} = 1, a multiple of ord(t), exactly as a double opening with one
 *    base does; extraction then yields a = Δz1/Δe and y = Δz2/Δe as in CGGMP21's proof. It hides
 *    both, since s, s′ ∈ ⟨t⟩ and m's range is 2^{ℓa} times Ñ. Against the separate layout it saves
 *    the prover two exponentiations with exponents longer than Ñ (t^δ and t^μ) and the verifier one
 *    check.
 *  - **separate**: s^a·t^m and s^y·t^μ, as in CGGMP21, for keys made before the second base.
 *    (Its second commitment's masks δ = γ₂ and μ = m₂ are drawn from a's ranges, as in the paper:
 *    μ only has to make t^μ near-uniform, and δ only has to hide e·μ; y itself is hidden by β.)
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
  /** The verifier's second base s′ ∈ ⟨t⟩ (Πprm-proven), when its key has one: the joint layout. */
  s2?: bigint;
  C: bigint;
  D: bigint;
  /** Bit bounds of the witness. */
  aBits: number;
  yBits: number;
}

/** Per ring-Pedersen commitment j: Eⱼ, Sⱼ and z3ⱼ, in the same order. */
export interface AffineProof {
  A: bigint;
  E: bigint[];
  S: bigint[];
  z1: bigint;
  z2: bigint;
  z3: bigint[];
}

/** Each commitment's bases (uⱼ of a, vⱼ of y); 1 where a commitment leaves a witness out. */
type CommitmentBases = readonly (readonly [bigint, bigint])[];

function commitmentBases(rp: RingPedersenParams, s2: bigint | undefined): CommitmentBases {
  return s2 === undefined
    ? [
        [rp.s, 1n],
        [1n, rp.s],
      ]
    : [[rp.s, s2]];
}

/** The distinct bases of a and y in a layout (s, and s′ if any), each of which gets a table. */
function distinctBases(bases: CommitmentBases): bigint[] {
  return [...new Set(bases.flat())].filter((b) => b !== 1n);
}

/** Fixed-base tables for the bases mod Ñ, built once per key and shared by every proof under it. */
export class AffineProverTables {
  readonly bases: CommitmentBases;
  readonly t: FixedBase;
  private readonly powers = new Map<bigint, FixedBase>();
  constructor(
    readonly rp: RingPedersenParams,
    readonly s2: bigint | undefined,
    readonly yBits: number,
  ) {
    this.bases = commitmentBases(rp, s2);
    for (const b of distinctBases(this.bases)) this.powers.set(b, new FixedBase(b, rp.n, yBits + EPSILON + 2));
    this.t = new FixedBase(rp.t, rp.n, yBits + EPSILON + bitLength(rp.n) + 2);
  }

  /** u^x · v^y · tw mod Ñ, for the commitment bases (u, v) and tw a power of t already computed. */
  commit([u, v]: readonly [bigint, bigint], x: bigint, y: bigint, tw: bigint): bigint {
    const pow = (b: bigint, e: bigint) => (b === 1n ? 1n : (this.powers.get(b) as FixedBase).pow(e));
    return (((pow(u, x) * pow(v, y)) % this.rp.n) * tw) % this.rp.n;
  }
}

/** The verifier's tables for one prime of its modulus: t, and each base unless its log is known. */
interface PrimeTables {
  m: bigint;
  t: FixedBase;
  bases: Map<bigint, FixedBase>;
}

/**
 * The verifier's tables modulo each prime of its own modulus, built once per key. With the trapdoor,
 * u^x·v^y·t^w costs half-size exponentiations; with the logs of the bases to base t as well, it is
 * t^{log u·x + log v·y + w}, one exponentiation per prime.
 */
export class AffineVerifierTables {
  readonly bases: CommitmentBases;
  private readonly p: PrimeTables;
  private readonly q: PrimeTables;
  private readonly qInvP: bigint;
  /** log_t of each base (and of 1), when the key owner kept them (shares made before it did not). */
  private readonly logs: Map<bigint, bigint> | undefined;
  /** Exponentiation mod Ñ through the trapdoor, for S^e. */
  readonly group: RingPedersenGroup;

  constructor(
    readonly rp: RingPedersenParams,
    sk: PaillierSecretKey,
    readonly s2: bigint | undefined,
    /** λ = log_t s and λ′ = log_t s′; either all of the key's bases or none. */
    logs?: { s: bigint; s2?: bigint },
  ) {
    if (rp.n !== sk.publicKey.n) throw new RangeError("ring-Pedersen parameters are not over this key");
    if (logs !== undefined && (s2 === undefined) !== (logs.s2 === undefined))
      throw new RangeError("the logs do not cover the bases");
    this.bases = commitmentBases(rp, s2);
    this.group = new RingPedersenGroup(rp, { p: sk.p, q: sk.q, lambda: logs?.s ?? 0n });
    if (logs !== undefined) {
      this.logs = new Map([
        [1n, 0n],
        [rp.s, logs.s],
      ]);
      if (s2 !== undefined) this.logs.set(s2, logs.s2 as bigint);
    }
    const prime = (m: bigint): PrimeTables => {
      const tables = new Map<bigint, FixedBase>();
      if (logs === undefined)
        for (const b of distinctBases(this.bases)) tables.set(b, new FixedBase(b % m, m, bitLength(m)));
      return { m, t: new FixedBase(rp.t % m, m, bitLength(m)), bases: tables };
    };
    this.p = prime(sk.p);
    this.q = prime(sk.q);
    this.qInvP = modInv(sk.q, sk.p);
  }

  /** u^x · v^y · t^w mod Ñ for the commitment bases (u, v). */
  commit([u, v]: readonly [bigint, bigint], x: bigint, y: bigint, w: bigint): bigint {
    const logs = this.logs;
    const at = (h: PrimeTables) => {
      const order = h.m - 1n;
      if (logs !== undefined) return h.t.pow(mod((logs.get(u) as bigint) * x + (logs.get(v) as bigint) * y + w, order));
      const pow = (b: bigint, e: bigint) => (b === 1n ? 1n : (h.bases.get(b) as FixedBase).pow(mod(e, order)));
      return (((pow(u, x) * pow(v, y)) % h.m) * h.t.pow(mod(w, order))) % h.m;
    };
    return crt(at(this.p), this.p.m, at(this.q), this.q.m, this.qInvP);
  }
}

interface AffineSecrets {
  alpha: bigint;
  beta: bigint;
  /** Per commitment: its mask γⱼ in Eⱼ and its randomness mⱼ in Sⱼ. */
  gamma: bigint[];
  m: bigint[];
}

/** A precomputation as plain data (see `SignPrecomputation.toParts`). */
export interface AffinePrecomputationParts {
  secrets: AffineSecrets;
  A: bigint;
  E: bigint[];
  /** t^{mⱼ}. */
  tm: bigint[];
  key: { n: bigint; C: bigint };
}

/** The message-independent half of one proof. Single use. */
export class AffinePrecomputation {
  private used = false;
  private constructor(
    private readonly secrets: AffineSecrets,
    readonly A: bigint,
    readonly E: bigint[],
    private readonly tm: bigint[],
    readonly key: { n: bigint; C: bigint },
  ) {}

  /** Plain data for another thread; only its owner, a `SignPrecomputation` giving itself up, calls this. */
  toParts(): AffinePrecomputationParts {
    const { tm, ...secrets } = this.take(this.key.n, this.key.C);
    return { secrets, A: this.A, E: this.E, tm, key: this.key };
  }

  static fromParts(p: AffinePrecomputationParts): AffinePrecomputation {
    return new AffinePrecomputation(p.secrets, p.A, p.E, p.tm, p.key);
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
    const gamma = tables.bases.map(() => randomSigned((1n << BigInt(aBits + EPSILON)) * rp.n));
    const m = tables.bases.map(() => randomSigned((1n << BigInt(aBits)) * rp.n));
    const rN = modPow(randomUnit(pk.n), pk.n, pk.n2);
    const A = (((cPow(alpha) * (1n + mod(beta, pk.n) * pk.n)) % pk.n2) * rN) % pk.n2;
    const E = tables.bases.map((b, j) => tables.commit(b, alpha, beta, tables.t.pow(gamma[j] as bigint)));
    const tm = m.map((mj) => tables.t.pow(mj));
    return new AffinePrecomputation({ alpha, beta, gamma, m }, A, E, tm, { n: pk.n, C: st.C });
  }

  /** Hands out the secrets once. */
  take(n: bigint, C: bigint): AffineSecrets & { tm: bigint[] } {
    if (this.used) throw new RangeError("precomputation already used");
    if (n !== this.key.n || C !== this.key.C) throw new RangeError("precomputation belongs to another key");
    this.used = true;
    return { ...this.secrets, tm: this.tm };
  }
}

function challenge(tr: Transcript, st: AffineStatement, p: Pick<AffineProof, "A" | "E" | "S">): bigint {
  tr.appendBigint("aff/N", st.pk.n).appendBigint("aff/s", st.rp.s).appendBigint("aff/t", st.rp.t);
  if (st.s2 !== undefined) tr.appendBigint("aff/s2", st.s2);
  tr.appendBigint("aff/C", st.C)
    .appendBigint("aff/D", st.D)
    .append("aff/bounds", Uint8Array.of(st.aBits >> 8, st.aBits & 0xff, st.yBits >> 8, st.yBits & 0xff))
    .appendBigint("aff/A", p.A);
  for (const E of p.E) tr.appendBigint("aff/E", E);
  for (const S of p.S) tr.appendBigint("aff/S", S);
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
  const S = tables.bases.map((b, j) => tables.commit(b, a, y, k.tm[j] as bigint));
  const first = { A: pre.A, E: pre.E, S };
  const e = challenge(tr, st, first);
  return {
    ...first,
    z1: k.alpha + e * a,
    z2: k.beta + e * y,
    z3: k.gamma.map((g, j) => g + e * (k.m[j] as bigint)),
  };
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
  const { A, E, S, z1, z2, z3 } = proof;
  if (sk.publicKey.n !== pk.n || rp.n !== pk.n || tables.rp !== rp || tables.s2 !== st.s2) return false;
  const count = tables.bases.length;
  if (E.length !== count || S.length !== count || z3.length !== count) return false;
  const ra = 1n << BigInt(st.aBits + EPSILON);
  const ry = 1n << BigInt(st.yBits + EPSILON);
  if (z1 > ra || z1 < -ra || z2 > ry || z2 < -ry) return false;
  if (z3.some((z) => bitLength(z) > z3Bits(st, rp))) return false;
  if (!sk.isCiphertext(A) || !sk.isCiphertext(st.D) || !sk.isCiphertext(st.C)) return false;
  // Ñ = N, so the Paillier key checks the ring-Pedersen elements too.
  if (![...E, ...S].every((x) => sk.isUnit(x))) return false;
  const e = challenge(tr, st, { A, E, S });
  // uⱼ^z1·vⱼ^z2·t^z3ⱼ = Eⱼ·Sⱼ^e; for a negative e, Sⱼ^−e moves to the left-hand side instead of Sⱼ
  // being inverted (the same equation, as Sⱼ is a unit).
  const holds = (commitment: bigint, first: bigint, x: bigint) =>
    e >= 0n
      ? commitment === (first * tables.group.pow(x, e)) % rp.n
      : (commitment * tables.group.pow(x, -e)) % rp.n === first;
  for (let j = 0; j < count; j++) {
    const bases = tables.bases[j] as readonly [bigint, bigint];
    if (!holds(tables.commit(bases, z1, z2, z3[j] as bigint), E[j] as bigint, S[j] as bigint)) return false;
  }
  return mod(sk.decrypt(A) + e * plain.D - z1 * plain.C - z2, pk.n) === 0n;
}

/**
 * A decoding ceiling for each z3ⱼ, not part of soundness: generous enough for masks drawn from y's
 * ranges, as provers before the paper's ranges drew the separate layout's second one.
 */
function z3Bits(st: Pick<AffineStatement, "yBits">, rp?: RingPedersenParams): number {
  return st.yBits + EPSILON + (rp ? bitLength(rp.n) : RING_PEDERSEN_MAX_BITS) + 2;
}

export function writeAffineProof(w: Writer, p: AffineProof): void {
  w.bigint(p.A);
  for (const v of [...p.E, ...p.S]) w.bigint(v);
  for (const v of [p.z1, p.z2, ...p.z3]) w.signed(v);
}

/**
 * Reads a proof for statement `st`: as many commitments as its layout has, group elements below
 * their moduli, responses within ceilings.
 */
export function readAffineProof(r: Reader, st: Omit<AffineStatement, "D" | "C">): AffineProof {
  const { pk, rp } = st;
  if (bitLength(pk.n) > PAILLIER_MAX_BITS) r.fail("modulus too large");
  const count = commitmentBases(rp, st.s2).length;
  const elements = () => Array.from({ length: count }, () => r.below(rp.n));
  const A = r.below(pk.n2);
  const E = elements();
  const S = elements();
  // Ceilings generous enough for a witness up to N: an out-of-range response from a malicious
  // prover decodes and is then rejected as a failed proof, not as bad bytes.
  const z1 = r.signed(bitLength(pk.n) + ELL + EPSILON + 2);
  const z2 = r.signed(bitLength(pk.n) + ELL + EPSILON + 2);
  const z3 = Array.from({ length: count }, () => r.signed(z3Bits(st, rp)));
  return { A, E, S, z1, z2, z3 };
}
