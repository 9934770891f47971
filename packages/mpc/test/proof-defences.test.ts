/**
 * One test per check that the zero-knowledge verifiers rely on, each built so that it fails when
 * that check alone is removed: the cheating prover computes everything else exactly as an honest
 * prover would, so the check under test is the only one its proof violates. Where a range has two
 * sides, proofs landing on both sides are tried, so dropping either comparison is caught too.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { CURVE_ORDER, Point } from "../src/codec/codec.js";
import { isqrt, jacobi, mod, modPow, randomBelow, randomSigned, randomUnit } from "../src/math/bigint.js";
import { randomPrime } from "../src/math/primes.js";
import { PaillierSecretKey } from "../src/paillier/paillier.js";
import { type EncDlogProof, type EncDlogStatement, proveEncDlog, verifyEncDlog } from "../src/zk/enc-dlog.js";
import { type NoSmallFactorProof, proveNoSmallFactor, verifyNoSmallFactor } from "../src/zk/no-small-factor.js";
import {
  AffinePrecomputation,
  type AffineProof,
  AffineProverTables,
  type AffineStatement,
  AffineVerifierTables,
  proveAffine,
  verifyAffine,
} from "../src/zk/paillier-affine.js";
import { type BlumModulusProof, proveBlumModulus, verifyBlumModulus } from "../src/zk/paillier-blum.js";
import { BINARY_CHALLENGE_REPETITIONS, ELL, EPSILON } from "../src/zk/params.js";
import {
  generateRingPedersen,
  RingPedersenGroup,
  type RingPedersenParams,
  type RingPedersenSecret,
} from "../src/zk/ring-pedersen.js";
import { Transcript } from "../src/zk/transcript.js";
import { party0RingPedersen } from "./helpers.js";

const tr = (sid = "session-1"): Transcript => new Transcript("keyshard/test", new TextEncoder().encode(sid), [1, 2]);

/**
 * Party 0's Paillier key, with ring-Pedersen parameters over the same modulus and a second base (the
 * verifier's side of Πaff), and party 1's ring-Pedersen parameters (the verifier's side of Πfac and
 * Πlog*), as in two-party ECDSA.
 */
let sk: PaillierSecretKey;
let rp0: RingPedersenParams;
let s2: bigint;
let logs0: { s: bigint; s2: bigint };
let rp1: RingPedersenParams;
let rp1Secret: RingPedersenSecret;

beforeAll(() => {
  sk = PaillierSecretKey.generate(2048);
  ({ params: rp0, s2, logs: logs0 } = party0RingPedersen(sk.p, sk.q));
  ({ params: rp1, secret: rp1Secret } = generateRingPedersen(2048));
});

/** The representative of v modulo n in (−n/2, n/2]: what a prover answers if it reduces modulo n. */
function centred(v: bigint, n: bigint): bigint {
  const r = mod(v, n);
  return 2n * r > n ? r - n : r;
}

/**
 * Proofs from `make` until one has `value` above `bound` and another below −bound. For an
 * out-of-range witness the response's sign is the challenge's, so each try lands on either side
 * with probability 1/2.
 */
function aboveAndBelow<T>(make: () => T, value: (x: T) => bigint, bound: bigint): [T, T] {
  let above: T | undefined;
  let below: T | undefined;
  for (let i = 0; i < 64 && (above === undefined || below === undefined); i++) {
    const x = make();
    const v = value(x);
    if (v > bound) above ??= x;
    else if (v < -bound) below ??= x;
  }
  if (above === undefined || below === undefined) throw new Error("no responses on both sides of the range");
  return [above, below];
}

/**
 * Every fourth root and N-th root of a Πmod proof, checked against challenges rebuilt from the
 * transcript labels of paillier-blum.ts: a proof that passes this fails the verifier for its
 * modulus only.
 */
function blumRootsHold(t: Transcript, n: bigint, proof: BlumModulusProof): boolean {
  t.appendBigint("mod/N", n).appendBigint("mod/w", proof.w);
  const ys = Array.from({ length: BINARY_CHALLENGE_REPETITIONS }, () => t.challengeBelow("mod/y", n));
  const fourth = proof.roots.every(({ x, a, b }, i) => {
    let v = b ? (proof.w * (ys[i] as bigint)) % n : (ys[i] as bigint);
    if (a) v = mod(-v, n);
    return modPow(x, 4n, n) === v;
  });
  return jacobi(proof.w, n) === -1 && fourth && proof.z.every((z, i) => modPow(z, n, n) === ys[i]);
}

describe("Πmod: the scan for factors below 2^16", () => {
  it("refuses N = 65519·P, a Blum modulus whose honest proof is otherwise perfect", () => {
    // 65519 is the largest Blum prime below 2^16, so a scan that stops anywhere short of the bound
    // misses it. P ≢ 1 (mod 65519) keeps gcd(N, φ(N)) = 1: every fourth root and N-th root exists,
    // and a prover knowing both factors computes them as for an honest key. Such an N is the lever
    // of BitForge (CVE-2023-33241): discrete logarithms modulo a small factor are easy, which lets
    // the key owner pull the other party's secrets out of values computed modulo N.
    const r = 65519n;
    let P = randomPrime(2032, true);
    while (P % r === 1n) P = randomPrime(2032, true);
    const bad = PaillierSecretKey.fromPrimes(r, P);
    const n = bad.publicKey.n;
    expect(n.toString(2)).toHaveLength(2048);
    const proof = proveBlumModulus(tr(), bad);
    expect(blumRootsHold(tr(), n, proof)).toBe(true);
    expect(verifyBlumModulus(tr(), n, proof)).toBe(false);
  });
});

/**
 * Πfac's prover with the modulus and the committed factors given separately, rebuilt from
 * no-small-factor.ts (same ranges and transcript labels): a cheater can commit to factors of its
 * choosing while the statement names its real N0. With p·q = N0 it is the honest prover. β and y
 * are returned for a cheater that recomputes z2 and w2.
 */
function proveFacAs(
  t: Transcript,
  n0: bigint,
  p: bigint,
  q: bigint,
  rp: RingPedersenParams,
): { proof: NoSmallFactorProof; beta: bigint; y: bigint } {
  const g = new RingPedersenGroup(rp);
  const mask = 1n << BigInt(ELL + EPSILON);
  const ell = 1n << BigInt(ELL);
  const alpha = randomSigned(mask * isqrt(n0));
  const beta = randomSigned(mask * isqrt(n0));
  const mu = randomSigned(ell * rp.n);
  const nu = randomSigned(ell * rp.n);
  const sigma = randomSigned(ell * n0 * rp.n);
  const r = randomSigned(mask * n0 * rp.n);
  const x = randomSigned(mask * rp.n);
  const y = randomSigned(mask * rp.n);
  const Q = g.commit(q, nu);
  const first = {
    P: g.commit(p, mu),
    Q,
    A: g.commit(alpha, x),
    B: g.commit(beta, y),
    T: g.pow2(Q, alpha, rp.t, r),
    sigma,
  };
  t.appendBigint("fac/N0", n0).appendBigint("fac/Nt", rp.n).appendBigint("fac/s", rp.s).appendBigint("fac/t", rp.t);
  for (const f of ["P", "Q", "A", "B", "T", "sigma"] as const) t.appendBigint(`fac/${f}`, first[f]);
  const e = t.challengeSignedScalar("fac/e");
  const proof = {
    ...first,
    z1: alpha + e * p,
    z2: beta + e * q,
    w1: x + e * mu,
    w2: y + e * nu,
    v: r + e * (sigma - nu * p),
  };
  return { proof, beta, y };
}

describe("Πfac: the range of z1, z2 and the equations that tie them to N0", () => {
  /** N0 = small·big with a 256-bit factor, where Πfac asks for two of about √N0. */
  let small: bigint;
  let big: bigint;
  let n0: bigint;
  let range: bigint;
  beforeAll(() => {
    small = randomPrime(256, true);
    big = randomPrime(1792, true);
    n0 = small * big;
    range = (1n << BigInt(ELL + EPSILON)) * (isqrt(n0) + 1n);
  });

  it("the rebuilt prover is accepted for a modulus with balanced factors (control for the cheaters below)", () => {
    const n = sk.publicKey.n;
    expect(verifyNoSmallFactor(tr(), n, rp1, proveFacAs(tr(), n, sk.p, sk.q, rp1).proof, rp1Secret)).toBe(true);
  });

  // With the 1792-bit factor as q, z2 = β + e·q is out of range; as p, z1 is. Each case is refused
  // by its own half of the range check alone: every equation holds for the real factors.
  it.each([
    { smallIs: "p", field: "z2" as const },
    { smallIs: "q", field: "z1" as const },
  ])(
    "refuses N0 with a 256-bit factor, proved with its real factors (the small one as $smallIs)",
    ({ smallIs, field }) => {
      const key = smallIs === "p" ? PaillierSecretKey.fromPrimes(small, big) : PaillierSecretKey.fromPrimes(big, small);
      expect(key.publicKey.n.toString(2)).toHaveLength(2048);
      const proofs = aboveAndBelow(
        () => proveNoSmallFactor(tr(), key, rp1),
        (proof) => proof[field],
        range,
      );
      for (const proof of proofs) {
        expect(verifyNoSmallFactor(tr(), n0, rp1, proof, rp1Secret)).toBe(false);
        expect(verifyNoSmallFactor(tr(), n0, rp1, proof)).toBe(false);
      }
    },
  );

  it("refuses commitments to balanced factors p′·q′ ≠ N0 (the third equation, Q^z1·t^v = T·R^e)", () => {
    // p′ = ⌊√N0⌋, q′ = ⌊N0/p′⌋ + 1 keep z1 and z2 in range and p′·q′ within p′ of N0; only
    // R = s^N0·t^σ, which Q^p′·t^σ̂ equals only when p′·q′ = N0, tells them apart.
    const p = isqrt(n0);
    const q = n0 / p + 1n;
    expect(p * q - n0 > 0n && p * q - n0 <= p).toBe(true);
    const { proof } = proveFacAs(tr(), n0, p, q, rp1);
    expect(verifyNoSmallFactor(tr(), n0, rp1, proof, rp1Secret)).toBe(false);
    expect(verifyNoSmallFactor(tr(), n0, rp1, proof)).toBe(false);
  });

  it("refuses a z2 that leaves out e·q, the term that would show q's size (the second equation)", () => {
    // Committed to the real factors, small as p: z1 is in range and the third equation holds, and
    // z2 = β, w2 = y are in range; only s^z2·t^w2 = B·Q^e notices that Q's opening is missing.
    const { proof, beta, y } = proveFacAs(tr(), n0, small, big, rp1);
    const cheat = { ...proof, z2: beta, w2: y };
    expect(verifyNoSmallFactor(tr(), n0, rp1, cheat, rp1Secret)).toBe(false);
    expect(verifyNoSmallFactor(tr(), n0, rp1, cheat)).toBe(false);
  });
});

const A_BITS = 256;
const Y_BITS = 1024;

/** One of Πaff's layouts under party 0's key: the joint commitment s^a·s′^y·t^m, or s^a·t^m and s^y·t^μ. */
interface Layout {
  base: Omit<AffineStatement, "D">;
  prover: AffineProverTables;
  verifiers: AffineVerifierTables[];
}

describe.each(["joint", "separate"] as const)("Πaff, %s commitments", (name) => {
  let layout: Layout;
  /** Dec(C), which the verifier (the key owner) knows. */
  let x: bigint;
  let n: bigint;
  /** (N+1)/2 ≡ 2⁻¹ (mod N): a·x wraps around N for every x ≥ 2, and its parity decides where to. */
  let half: bigint;
  const ra = 1n << BigInt(A_BITS + EPSILON);
  const ry = 1n << BigInt(Y_BITS + EPSILON);

  beforeAll(() => {
    const pk = sk.publicKey;
    n = pk.n;
    half = (n + 1n) / 2n;
    x = 2n + randomBelow(CURVE_ORDER - 2n);
    const C = pk.encrypt(x, randomUnit(n));
    const joint = name === "joint";
    const withS2 = joint ? s2 : undefined;
    layout = {
      base: { pk, rp: rp0, s2: withS2, C, aBits: A_BITS, yBits: Y_BITS },
      prover: new AffineProverTables(rp0, withS2, Y_BITS),
      // With the logs of the bases and without them (shares made before they were kept).
      verifiers: [
        new AffineVerifierTables(rp0, sk, withS2),
        new AffineVerifierTables(rp0, sk, withS2, joint ? logs0 : { s: logs0.s }),
      ],
    };
  });

  /** D = C^a·Enc(y) and the honest prover's proof for (a, y), whatever their size. */
  function prove(a: bigint, y: bigint): { st: AffineStatement; proof: AffineProof; plainD: bigint } {
    const { pk, C } = layout.base;
    const D = pk.add(pk.mulPlain(C, a), pk.encrypt(y, randomUnit(pk.n)));
    const st = { ...layout.base, D };
    const pre = AffinePrecomputation.create(layout.base, (k) => modPow(C, k, pk.n2), layout.prover);
    return { st, proof: proveAffine(tr(), st, { a, y }, pre, layout.prover), plainD: sk.decryptSigned(D) };
  }

  /** The verdict under each verifier table. */
  const verify = (st: AffineStatement, proof: AffineProof, plainD: bigint): boolean[] =>
    layout.verifiers.map((tables) => verifyAffine(tr(), st, proof, sk, { C: x, D: plainD }, tables));

  /**
   * The proof for (a, y) with `field` answered modulo N: α + e·(N+1)/2 ≡ α + e/2 (mod N) for an even
   * e, so half of all tries give a response in range that is right modulo N, and the Paillier
   * equation, checked modulo N, holds. The prover retries until the challenge is even.
   */
  function answeredModN(a: bigint, y: bigint, field: "z1" | "z2") {
    const bound = field === "z1" ? ra : ry;
    for (let i = 0; i < 64; i++) {
      const honest = prove(a, y);
      const z = centred(honest.proof[field], n);
      if (z <= bound && z >= -bound) return { ...honest, honest: honest.proof, proof: { ...honest.proof, [field]: z } };
    }
    throw new Error("no even challenge in 64 tries");
  }

  it("accepts an honest proof (control for the cheaters below)", () => {
    const { st, proof, plainD } = prove(randomBelow(CURVE_ORDER), randomBelow(1n << BigInt(Y_BITS)));
    expect(verify(st, proof, plainD)).toEqual([true, true]);
  });

  it("refuses a multiplier ≡ 2⁻¹ (mod N), whose a·x wraps around N (the range of z1)", () => {
    // The lever of CVE-2023-33242: where party 0's decryption wraps depends on its secret x.
    const [above, below] = aboveAndBelow(
      () => prove(half, 7n),
      (c) => c.proof.z1,
      ra,
    );
    expect(mod(above.plainD, n)).toBe(mod(half * x + 7n, n));
    expect(above.plainD).not.toBe(half * x + 7n);
    for (const { st, proof, plainD } of [above, below]) expect(verify(st, proof, plainD)).toEqual([false, false]);
  });

  it("refuses an addend ≡ 2⁻¹ (mod N), far outside its range (the range of z2)", () => {
    const [above, below] = aboveAndBelow(
      () => prove(5n, half),
      (c) => c.proof.z2,
      ry,
    );
    for (const { st, proof, plainD } of [above, below]) expect(verify(st, proof, plainD)).toEqual([false, false]);
  });

  it("refuses that multiplier answered modulo N: z1 in range, but not an opening of S (the commitment equation)", () => {
    const cheat = answeredModN(half, 7n, "z1");
    expect(mod(cheat.proof.z1 - cheat.honest.z1, n)).toBe(0n);
    expect(verify(cheat.st, cheat.proof, cheat.plainD)).toEqual([false, false]);
  });

  it("refuses that addend answered modulo N: z2 in range, but not an opening of S (the commitment equation)", () => {
    // In the separate layout y has its own commitment s^y·t^μ and its own equation: this is the
    // case that fails without it.
    const cheat = answeredModN(5n, half, "z2");
    expect(mod(cheat.proof.z2 - cheat.honest.z2, n)).toBe(0n);
    expect(verify(cheat.st, cheat.proof, cheat.plainD)).toEqual([false, false]);
  });
});

describe("Πlog*: the range of z1, which bounds the encrypted share", () => {
  let n0: bigint;
  beforeAll(() => {
    n0 = sk.publicKey.n;
  });

  /** C = Enc(x) and X = (x mod q)·G: consistent for any integer x, as a cheating party 0 would send. */
  function proveFor(x: bigint): { st: EncDlogStatement; proof: EncDlogProof } {
    const { c, r } = sk.publicKey.encryptRandom(x);
    const st = { n: n0, ringPedersen: rp1, C: c, X: Point.BASE.multiplyUnsafe(mod(x, CURVE_ORDER)) };
    return { st, proof: proveEncDlog(tr(), { key: sk, ringPedersen: rp1, C: c, X: st.X, x, rho: r }) };
  }
  const range = 1n << BigInt(ELL + EPSILON);

  it("accepts x at the top of the honest range (control for the cases below)", () => {
    const { st, proof } = proveFor((1n << BigInt(ELL)) - 1n);
    expect(verifyEncDlog(tr(), st, proof, rp1Secret)).toBe(true);
  });

  it("refuses a share lifted to about N/2 (same X, so the same share mod q)", () => {
    // Party 1's affine operation on such a C wraps around N, whatever range Πaff then proves.
    const x0 = 1n + randomBelow(CURVE_ORDER - 1n);
    const lifted = x0 + CURVE_ORDER * (n0 / (2n * CURVE_ORDER));
    const [above, below] = aboveAndBelow(
      () => proveFor(lifted),
      (c) => c.proof.z1,
      range,
    );
    expect(above.st.X.equals(Point.BASE.multiply(x0))).toBe(true);
    for (const { st, proof } of [above, below]) expect(verifyEncDlog(tr(), st, proof, rp1Secret)).toBe(false);
  });

  it("refuses x = 2^(ℓ+ε) + 1, just past the range of the mask α, so that no α hides e·x", () => {
    const { st, proof } = proveFor(range + 1n);
    expect(verifyEncDlog(tr(), st, proof, rp1Secret)).toBe(false);
  });
});
