import { beforeAll, describe, expect, it } from "vitest";
import { CURVE_ORDER, Point, Reader, Writer } from "../src/codec/codec.js";
import { jacobi, mod, modInv, modPow, randomBelow, randomUnit } from "../src/math/bigint.js";
import { randomPrime, SMALL_PRIMES, smallFactor } from "../src/math/primes.js";
import { PaillierSecretKey } from "../src/paillier/paillier.js";
import { ProtocolAbort } from "../src/session/party.js";
import {
  type EncDlogProof,
  type EncDlogStatement,
  proveEncDlog,
  readEncDlogProof,
  verifyEncDlog,
  writeEncDlogProof,
} from "../src/zk/enc-dlog.js";
import {
  type NoSmallFactorProof,
  proveNoSmallFactor,
  readNoSmallFactorProof,
  verifyNoSmallFactor,
  writeNoSmallFactorProof,
} from "../src/zk/no-small-factor.js";
import {
  type BlumModulusProof,
  NTH_ROOT_REPETITIONS,
  proveBlumModulus,
  readBlumModulusProof,
  verifyBlumModulus,
  writeBlumModulusProof,
} from "../src/zk/paillier-blum.js";
import { ELL, EPSILON } from "../src/zk/params.js";
import {
  BINARY_CHALLENGE_REPETITIONS,
  generateRingPedersen,
  proveRingPedersen,
  type RingPedersenParams,
  type RingPedersenProof,
  type RingPedersenSecret,
  readRingPedersenParams,
  readRingPedersenProof,
  verifyRingPedersen,
  writeRingPedersenParams,
  writeRingPedersenProof,
} from "../src/zk/ring-pedersen.js";
import { Transcript } from "../src/zk/transcript.js";

const M = BINARY_CHALLENGE_REPETITIONS;
const tr = (sid = "session-1"): Transcript => new Transcript("keyshard/test", new TextEncoder().encode(sid), [1, 2]);

/** Shared keys: one Paillier key (the prover's) and one ring-Pedersen setup (the verifier's). */
let sk: PaillierSecretKey;
let n0: bigint;
let rp: RingPedersenParams;
let rpSecret: RingPedersenSecret;

beforeAll(() => {
  sk = PaillierSecretKey.generate(2048);
  n0 = sk.publicKey.n;
  ({ params: rp, secret: rpSecret } = generateRingPedersen(2048));
});

function encode<T>(write: (w: Writer, x: T) => void, x: T): Uint8Array {
  const w = new Writer();
  write(w, x);
  return w.finish();
}

/** Decodes a whole message the way a protocol does: the proof, then nothing else. */
function decode<T>(read: (r: Reader) => T, bytes: Uint8Array): T {
  const r = new Reader(bytes, 2);
  const out = read(r);
  r.end();
  return out;
}

function expectMalformed(read: (r: Reader) => unknown, bytes: Uint8Array): void {
  try {
    decode(read, bytes);
    expect.unreachable("decoding should have failed");
  } catch (e) {
    expect(e).toBeInstanceOf(ProtocolAbort);
    expect((e as ProtocolAbort).culprit).toBe(2);
  }
}

function expectTruncatedAndExtendedRejected(read: (r: Reader) => unknown, bytes: Uint8Array): void {
  for (const cut of [bytes.length - 1, bytes.length - 33, Math.floor(bytes.length / 2), 3, 0]) {
    expectMalformed(read, bytes.subarray(0, cut));
  }
  const extended = new Uint8Array(bytes.length + 1);
  extended.set(bytes);
  expectMalformed(read, extended);
}

describe("small-factor scan the verifiers rely on", () => {
  it("agrees with plain trial division, on moduli and on numbers with factors anywhere below 2^16", () => {
    const naive = (n: bigint): number | null => {
      for (const p of SMALL_PRIMES) if (n % BigInt(p) === 0n && n !== BigInt(p)) return p;
      return null;
    };
    expect(smallFactor(n0)).toBe(null);
    expect(smallFactor(rp.n)).toBe(null);
    for (let i = 0; i < 400; i++) {
      const p = SMALL_PRIMES[(i * 17) % SMALL_PRIMES.length] as number;
      const unit = (1n << 2047n) + randomBelow(1n << 2040n) * 2n + 1n;
      for (const n of [unit, unit * BigInt(p)]) expect(smallFactor(n)).toBe(naive(n));
    }
    expect(smallFactor(65521n)).toBe(null); // the largest prime below 2^16 is not its own factor
    expect(smallFactor(65521n * 65519n)).toBe(65519);
  });
});

describe("Πprm (ring-Pedersen parameters, Fig. 17)", () => {
  let proof: RingPedersenProof;
  beforeAll(() => {
    proof = proveRingPedersen(tr(), rp, rpSecret);
  });

  it("generates parameters of the requested size with s = t^λ", () => {
    expect(rp.n.toString(2).length).toBe(2048);
    expect(rpSecret.p * rpSecret.q).toBe(rp.n);
    expect(modPow(rp.t, rpSecret.lambda, rp.n)).toBe(rp.s);
  });

  it("an honest proof verifies", () => {
    expect(proof.A.length).toBe(M);
    expect(proof.z.length).toBe(M);
    expect(verifyRingPedersen(tr(), rp, proof)).toBe(true);
  });

  it("fails under another session id", () => {
    expect(verifyRingPedersen(tr("session-2"), rp, proof)).toBe(false);
  });

  it("fails with any commitment or response altered", () => {
    for (const i of [0, 37, M - 1]) {
      const A = [...proof.A];
      A[i] = ((A[i] as bigint) * rp.t) % rp.n;
      expect(verifyRingPedersen(tr(), rp, { ...proof, A })).toBe(false);
      const z = [...proof.z];
      z[i] = (z[i] as bigint) + 1n;
      expect(verifyRingPedersen(tr(), rp, { ...proof, z })).toBe(false);
    }
  });

  it("fails with missing or extra entries", () => {
    expect(verifyRingPedersen(tr(), rp, { A: proof.A.slice(1), z: proof.z.slice(1) })).toBe(false);
    expect(verifyRingPedersen(tr(), rp, { A: [...proof.A, 1n], z: [...proof.z, 0n] })).toBe(false);
  });

  it("cannot be made for an s outside ⟨t⟩ (prover with the wrong λ)", () => {
    const r = randomUnit(rp.n);
    const bad = { ...rp, s: (r * r) % rp.n };
    expect(verifyRingPedersen(tr(), bad, proveRingPedersen(tr(), bad, rpSecret))).toBe(false);
  });

  it("rejects malformed parameters before looking at the proof", () => {
    const { n, s, t } = rp;
    expect(verifyRingPedersen(tr(), { n: n + 1n, s, t }, proof)).toBe(false); // even
    expect(verifyRingPedersen(tr(), { n: n * 3n, s, t }, proof)).toBe(false); // small factor
    expect(verifyRingPedersen(tr(), { n: n >> 2n, s: s >> 2n, t: t >> 2n }, proof)).toBe(false); // too short
    expect(verifyRingPedersen(tr(), { n, s: 1n, t }, proof)).toBe(false);
    expect(verifyRingPedersen(tr(), { n, s, t: 1n }, proof)).toBe(false);
    expect(verifyRingPedersen(tr(), { n, s: n - 1n, t }, proof)).toBe(false);
    expect(verifyRingPedersen(tr(), { n, s: rpSecret.p, t }, proof)).toBe(false); // not a unit
    expect(verifyRingPedersen(tr(), { n, s: s + n, t }, proof)).toBe(false);
  });

  it("parameters and proof survive encoding; bad bytes are rejected", () => {
    const pBytes = encode(writeRingPedersenParams, rp);
    const params = decode(readRingPedersenParams, pBytes);
    expect(params).toEqual(rp);
    expectTruncatedAndExtendedRejected(readRingPedersenParams, pBytes);

    const bytes = encode(writeRingPedersenProof, proof);
    const read = (r: Reader) => readRingPedersenProof(r, rp);
    const decoded = decode(read, bytes);
    expect(decoded).toEqual(proof);
    expect(verifyRingPedersen(tr(), params, decoded)).toBe(true);
    expectTruncatedAndExtendedRejected(read, bytes);
  });

  it("the readers enforce ranges and exact counts", () => {
    const small = { n: (1n << 2047n) - 1n, s: 2n, t: 3n };
    expectMalformed(readRingPedersenParams, encode(writeRingPedersenParams, small));
    expectMalformed(readRingPedersenParams, encode(writeRingPedersenParams, { ...rp, s: 0n }));
    expectMalformed(readRingPedersenParams, encode(writeRingPedersenParams, { ...rp, t: rp.n }));
    const read = (r: Reader) => readRingPedersenProof(r, rp);
    expectMalformed(read, encode(writeRingPedersenProof, { A: proof.A.slice(1), z: proof.z }));
    expectMalformed(read, encode(writeRingPedersenProof, { A: proof.A, z: proof.z.slice(1) }));
    expectMalformed(read, encode(writeRingPedersenProof, { A: [...proof.A, 1n], z: proof.z }));
    expectMalformed(read, encode(writeRingPedersenProof, { A: proof.A, z: [rp.n, ...proof.z.slice(1)] }));
    expectMalformed(read, encode(writeRingPedersenProof, { A: [0n, ...proof.A.slice(1)], z: proof.z }));
  });
});

/**
 * Independent Πmod algebra for the malicious cases. It rebuilds the challenges from the transcript
 * labels of paillier-blum.ts; the control tests (a valid modulus, accepted) show the two agree, so a
 * forged proof that fails does so for the reason under test.
 */
function blumChallenges(t: Transcript, n: bigint, w: bigint): bigint[] {
  t.appendBigint("mod/N", n).appendBigint("mod/w", w);
  return Array.from({ length: M }, () => t.challengeBelow("mod/y", n));
}

function blumAlgebra(t: Transcript, n: bigint, proof: BlumModulusProof): { fourth: boolean; nth: boolean } {
  const ys = blumChallenges(t, n, proof.w);
  const fourth = proof.roots.every(({ x, a, b }, i) => {
    let v = b ? (proof.w * (ys[i] as bigint)) % n : (ys[i] as bigint);
    if (a) v = mod(-v, n);
    return modPow(x, 4n, n) === v;
  });
  const nth = proof.z.every((z, i) => modPow(z, n, n) === ys[i]);
  return { fourth, nth };
}

/** A prime-power component m of N with |Z*_m| = order, the quadratic residues having odd order order/2. */
interface Component {
  m: bigint;
  order: bigint;
}

function crtAll(values: bigint[], comps: Component[], n: bigint): bigint {
  let x = 0n;
  comps.forEach((c, i) => {
    const rest = n / c.m;
    x += (values[i] as bigint) * rest * modInv(rest, c.m);
  });
  return mod(x, n);
}

/**
 * A cheating prover that knows the true structure of N: it extracts genuine fourth roots wherever
 * they exist and N-th roots where the exponent is invertible, falling back to y itself otherwise.
 */
function forgeBlum(t: Transcript, n: bigint, w: bigint, comps: Component[]): BlumModulusProof {
  const ys = blumChallenges(t, n, w);
  const root4 = (v: bigint) =>
    crtAll(
      comps.map((c) => modPow(v % c.m, modInv(4n, c.order / 2n), c.m)),
      comps,
      n,
    );
  const roots = ys.map((y) => {
    for (const a of [false, true]) {
      for (const b of [false, true]) {
        let v = b ? (w * y) % n : y;
        if (a) v = mod(-v, n);
        const x = root4(v);
        if (modPow(x, 4n, n) === v) return { x, a, b };
      }
    }
    return { x: 1n, a: false, b: false };
  });
  const z = ys.slice(0, NTH_ROOT_REPETITIONS).map((y) => {
    const parts = comps.map((c) => {
      try {
        return modPow(y % c.m, modInv(n % c.order, c.order), c.m);
      } catch {
        return y % c.m;
      }
    });
    return crtAll(parts, comps, n);
  });
  return { w, roots, z };
}

function pickW(n: bigint, extra: (w: bigint) => boolean = () => true): bigint {
  for (;;) {
    const w = randomUnit(n);
    if (jacobi(w, n) === -1 && extra(w)) return w;
  }
}

describe("Πmod (Paillier–Blum modulus, Fig. 16)", () => {
  let proof: BlumModulusProof;
  beforeAll(() => {
    proof = proveBlumModulus(tr(), sk);
  });

  it("an honest proof verifies", () => {
    expect(proof.roots.length).toBe(M);
    expect(proof.z.length).toBe(NTH_ROOT_REPETITIONS);
    expect(verifyBlumModulus(tr(), n0, proof)).toBe(true);
  });

  it("fails under another session id or for another modulus", () => {
    expect(verifyBlumModulus(tr("session-2"), n0, proof)).toBe(false);
    const other = PaillierSecretKey.fromPrimes(sk.p, randomPrime(1024, true)).publicKey.n;
    expect(verifyBlumModulus(tr(), other, proof)).toBe(false);
  });

  it("fails with any field altered", () => {
    // w·4 keeps the Jacobi symbol −1, so this exercises the transcript rather than the symbol check.
    expect(verifyBlumModulus(tr(), n0, { ...proof, w: (proof.w * 4n) % n0 })).toBe(false);
    expect(verifyBlumModulus(tr(), n0, { ...proof, w: (proof.w * (n0 - 1n)) % n0 })).toBe(false);
    for (const i of [0, 41, M - 1]) {
      const entry = proof.roots[i] as BlumModulusProof["roots"][number];
      for (const changed of [
        { ...entry, x: (entry.x + 1n) % n0 },
        { ...entry, x: (entry.x * 2n) % n0 },
        { ...entry, a: !entry.a },
        { ...entry, b: !entry.b },
      ]) {
        const roots = [...proof.roots];
        roots[i] = changed;
        expect(verifyBlumModulus(tr(), n0, { ...proof, roots })).toBe(false);
      }
    }
    for (const i of [0, NTH_ROOT_REPETITIONS - 1]) {
      const z = [...proof.z];
      z[i] = ((z[i] as bigint) * 2n) % n0;
      expect(verifyBlumModulus(tr(), n0, { ...proof, z })).toBe(false);
    }
  });

  it("fails with wrong counts or out-of-range values", () => {
    expect(verifyBlumModulus(tr(), n0, { ...proof, roots: proof.roots.slice(1) })).toBe(false);
    expect(verifyBlumModulus(tr(), n0, { ...proof, z: proof.z.slice(1) })).toBe(false);
    expect(verifyBlumModulus(tr(), n0, { ...proof, z: [...proof.z, 1n] })).toBe(false);
    expect(verifyBlumModulus(tr(), n0, { ...proof, w: proof.w + n0 })).toBe(false);
    const roots = [...proof.roots];
    roots[0] = { ...(roots[0] as BlumModulusProof["roots"][number]), x: 0n };
    expect(verifyBlumModulus(tr(), n0, { ...proof, roots })).toBe(false);
    const z = [...proof.z];
    z[0] = sk.p; // not a unit
    expect(verifyBlumModulus(tr(), n0, { ...proof, z })).toBe(false);
  });

  it("an independently forged proof for a valid modulus verifies (control for the cases below)", () => {
    const comps = [
      { m: sk.p, order: sk.p - 1n },
      { m: sk.q, order: sk.q - 1n },
    ];
    const forged = forgeBlum(tr(), n0, pickW(n0), comps);
    expect(blumAlgebra(tr(), n0, forged)).toEqual({ fourth: true, nth: true });
    expect(blumAlgebra(tr(), n0, proof)).toEqual({ fourth: true, nth: true });
    expect(verifyBlumModulus(tr(), n0, forged)).toBe(true);
  });

  it("rejects N = p·q with p ≡ 1 (mod 4)", () => {
    let p = randomPrime(1024);
    while (p % 4n !== 1n) p = randomPrime(1024);
    const bad = PaillierSecretKey.fromPrimes(p, randomPrime(1024, true));
    const n = bad.publicKey.n;
    const honest = proveBlumModulus(tr(), bad);
    expect(blumAlgebra(tr(), n, honest).fourth).toBe(false);
    expect(verifyBlumModulus(tr(), n, honest)).toBe(false);
  });

  it("rejects N with a factor below 2^16 even when everything else checks out", () => {
    // 3 is a Blum prime and P ≡ 2 (mod 3) keeps gcd(N, φ(N)) = 1, so the honest prover's proof for
    // N = 3·P is algebraically perfect: only the small-factor check can reject it.
    let P = randomPrime(2047, true);
    while (P % 3n !== 2n) P = randomPrime(2047, true);
    const bad = PaillierSecretKey.fromPrimes(3n, P);
    const n = bad.publicKey.n;
    const honest = proveBlumModulus(tr(), bad);
    expect(blumAlgebra(tr(), n, honest)).toEqual({ fourth: true, nth: true });
    expect(verifyBlumModulus(tr(), n, honest)).toBe(false);
  });

  it("rejects N = p²·q, whose fourth roots exist but N-th roots do not", () => {
    const p = randomPrime(512, true);
    const q = randomPrime(1026, true);
    const n = p * p * q;
    const bad = PaillierSecretKey.fromPrimes(p * p, q);
    expect(verifyBlumModulus(tr(), n, proveBlumModulus(tr(), bad))).toBe(false);
    // A cheater that knows the real structure gets every fourth root right and still fails.
    const comps = [
      { m: p * p, order: p * (p - 1n) },
      { m: q, order: q - 1n },
    ];
    const forged = forgeBlum(
      tr(),
      n,
      pickW(n, (w) => jacobi(w, p) === 1),
      comps,
    );
    expect(blumAlgebra(tr(), n, forged)).toEqual({ fourth: true, nth: false });
    expect(verifyBlumModulus(tr(), n, forged)).toBe(false);
  });

  it("rejects a prime N, for which every root exists", () => {
    const P = randomPrime(2048, true);
    const forged = forgeBlum(tr(), P, pickW(P), [{ m: P, order: P - 1n }]);
    expect(blumAlgebra(tr(), P, forged)).toEqual({ fourth: true, nth: true });
    expect(verifyBlumModulus(tr(), P, forged)).toBe(false);
  });

  it("rejects moduli that are even or shorter than 2048 bits", () => {
    const short = PaillierSecretKey.generate(1024);
    const shortProof = proveBlumModulus(tr(), short);
    expect(blumAlgebra(tr(), short.publicKey.n, shortProof)).toEqual({ fourth: true, nth: true });
    expect(verifyBlumModulus(tr(), short.publicKey.n, shortProof)).toBe(false);
    expect(verifyBlumModulus(tr(), n0 * 2n, proof)).toBe(false);
  });

  it("survives encoding; bad bytes are rejected", () => {
    const bytes = encode(writeBlumModulusProof, proof);
    const read = (r: Reader) => readBlumModulusProof(r, n0);
    const decoded = decode(read, bytes);
    expect(decoded).toEqual(proof);
    expect(verifyBlumModulus(tr(), n0, decoded)).toBe(true);
    expectTruncatedAndExtendedRejected(read, bytes);
    expectMalformed(read, encode(writeBlumModulusProof, { ...proof, roots: proof.roots.slice(1) }));
    expectMalformed(read, encode(writeBlumModulusProof, { ...proof, z: proof.z.slice(1) }));
    expectMalformed(read, encode(writeBlumModulusProof, { ...proof, z: [...proof.z, 1n] }));
    expectMalformed(read, encode(writeBlumModulusProof, { ...proof, w: n0 }));
  });
});

describe("Πfac (no small factor, Fig. 28)", () => {
  let proof: NoSmallFactorProof;
  beforeAll(() => {
    proof = proveNoSmallFactor(tr(), sk, rp);
  });

  it("an honest proof verifies, with and without the verifier's trapdoor", () => {
    expect(verifyNoSmallFactor(tr(), n0, rp, proof, rpSecret)).toBe(true);
    expect(verifyNoSmallFactor(tr(), n0, rp, proof)).toBe(true);
  });

  it("fails under another session id, modulus or ring-Pedersen setup", () => {
    expect(verifyNoSmallFactor(tr("session-2"), n0, rp, proof, rpSecret)).toBe(false);
    expect(verifyNoSmallFactor(tr(), n0 + 2n, rp, proof, rpSecret)).toBe(false);
    expect(verifyNoSmallFactor(tr(), n0, { ...rp, s: rp.t, t: rp.s }, proof)).toBe(false);
  });

  it("fails with any field altered", () => {
    const fields = ["P", "Q", "A", "B", "T", "sigma", "z1", "z2", "w1", "w2", "v"] as const;
    for (const f of fields) {
      expect(verifyNoSmallFactor(tr(), n0, rp, { ...proof, [f]: proof[f] + 1n }, rpSecret)).toBe(false);
    }
    expect(verifyNoSmallFactor(tr(), n0, rp, { ...proof, z1: proof.z1 + 1n })).toBe(false);
    expect(verifyNoSmallFactor(tr(), n0, rp, { ...proof, v: proof.v - 1n })).toBe(false);
  });

  it("fails with out-of-range or non-unit values", () => {
    const range = (1n << BigInt(ELL + EPSILON)) * (1n << 1024n);
    expect(verifyNoSmallFactor(tr(), n0, rp, { ...proof, z1: range + 1n }, rpSecret)).toBe(false);
    expect(verifyNoSmallFactor(tr(), n0, rp, { ...proof, z2: -range - 1n }, rpSecret)).toBe(false);
    expect(verifyNoSmallFactor(tr(), n0, rp, { ...proof, P: 0n }, rpSecret)).toBe(false);
    expect(verifyNoSmallFactor(tr(), n0, rp, { ...proof, Q: rp.n }, rpSecret)).toBe(false);
    expect(verifyNoSmallFactor(tr(), n0, rp, { ...proof, T: rpSecret.q }, rpSecret)).toBe(false);
    expect(verifyNoSmallFactor(tr(), n0, rp, { ...proof, v: 1n << 20000n }, rpSecret)).toBe(false);
  });

  it("rejects a modulus with unbalanced factors (200 and 1848 bits)", () => {
    const bad = PaillierSecretKey.fromPrimes(randomPrime(200), randomPrime(1848));
    const n = bad.publicKey.n;
    expect(n.toString(2).length).toBe(2048);
    const honest = proveNoSmallFactor(tr(), bad, rp);
    expect(verifyNoSmallFactor(tr(), n, rp, honest, rpSecret)).toBe(false);
    expect(verifyNoSmallFactor(tr(), n, rp, honest)).toBe(false);
    // On the wire it decodes (the ceilings are loose) and fails as a proof, not as bad bytes.
    const decoded = decode((r) => readNoSmallFactorProof(r, n, rp), encode(writeNoSmallFactorProof, honest));
    expect(verifyNoSmallFactor(tr(), n, rp, decoded, rpSecret)).toBe(false);
  });

  it("survives encoding, with or without the moduli at hand; bad bytes are rejected", () => {
    const bytes = encode(writeNoSmallFactorProof, proof);
    for (const read of [(r: Reader) => readNoSmallFactorProof(r, n0, rp), (r: Reader) => readNoSmallFactorProof(r)]) {
      const decoded = decode(read, bytes);
      expect(decoded).toEqual(proof);
      expect(verifyNoSmallFactor(tr(), n0, rp, decoded, rpSecret)).toBe(true);
      expectTruncatedAndExtendedRejected(read, bytes);
      expectMalformed(read, encode(writeNoSmallFactorProof, { ...proof, v: 1n << 20000n }));
      expectMalformed(read, encode(writeNoSmallFactorProof, { ...proof, z1: -(1n << 9000n) }));
    }
    const read = (r: Reader) => readNoSmallFactorProof(r, n0, rp);
    expectMalformed(read, encode(writeNoSmallFactorProof, { ...proof, v: 1n << 6000n }));
    expectMalformed(read, encode(writeNoSmallFactorProof, { ...proof, z1: -(1n << 2400n) }));
    expectMalformed(read, encode(writeNoSmallFactorProof, { ...proof, P: rp.n }));
  });
});

describe("Πlog* (Paillier encryption of a discrete log, Fig. 25)", () => {
  let x: bigint;
  let rho: bigint;
  let st: EncDlogStatement;
  let proof: EncDlogProof;
  beforeAll(() => {
    x = 1n + randomBelow(CURVE_ORDER - 1n);
    const enc = sk.publicKey.encryptRandom(x);
    rho = enc.r;
    st = { n: n0, ringPedersen: rp, C: enc.c, X: Point.BASE.multiply(x) };
    proof = proveEncDlog(tr(), { key: sk, ringPedersen: rp, C: st.C, X: st.X, x, rho });
  });

  /** A consistent statement for any integer x: C = Enc(x), X = (x mod q)·G. */
  const statementFor = (x: bigint): { st: EncDlogStatement; rho: bigint } => {
    const { c, r } = sk.publicKey.encryptRandom(x);
    return { st: { n: n0, ringPedersen: rp, C: c, X: Point.BASE.multiplyUnsafe(mod(x, CURVE_ORDER)) }, rho: r };
  };
  const prove = (s: EncDlogStatement, x: bigint, rho: bigint): EncDlogProof =>
    proveEncDlog(tr(), { key: sk, ringPedersen: s.ringPedersen, C: s.C, X: s.X, x, rho });

  it("an honest proof verifies, with and without the verifier's trapdoor", () => {
    expect(verifyEncDlog(tr(), st, proof, rpSecret)).toBe(true);
    expect(verifyEncDlog(tr(), st, proof)).toBe(true);
  });

  it("a prover holding only the public key produces a valid proof too", () => {
    const p = proveEncDlog(tr(), { key: sk.publicKey, ringPedersen: rp, C: st.C, X: st.X, x, rho });
    expect(verifyEncDlog(tr(), st, p, rpSecret)).toBe(true);
  });

  it("covers the whole range |x| ≤ 2^ℓ, negative values and x ≡ 0 (mod q)", () => {
    for (const v of [(1n << BigInt(ELL)) - 1n, -5n, CURVE_ORDER]) {
      const s = statementFor(v);
      expect(verifyEncDlog(tr(), s.st, prove(s.st, v, s.rho), rpSecret)).toBe(true);
    }
  });

  it("fails under another session id or statement", () => {
    expect(verifyEncDlog(tr("session-2"), st, proof, rpSecret)).toBe(false);
    expect(verifyEncDlog(tr(), { ...st, C: sk.publicKey.encryptRandom(x).c }, proof, rpSecret)).toBe(false);
    expect(verifyEncDlog(tr(), { ...st, X: st.X.add(Point.BASE) }, proof, rpSecret)).toBe(false);
    expect(verifyEncDlog(tr(), { ...st, n: n0 + 2n }, proof)).toBe(false);
    expect(verifyEncDlog(tr(), { ...st, ringPedersen: { ...rp, s: rp.t, t: rp.s } }, proof)).toBe(false);
  });

  it("fails with any field altered", () => {
    const tampered: EncDlogProof[] = [
      { ...proof, S: (proof.S * 4n) % rp.n },
      { ...proof, A: (proof.A * (1n + n0)) % (n0 * n0) },
      { ...proof, Y: proof.Y.add(Point.BASE) },
      { ...proof, D: (proof.D * 4n) % rp.n },
      { ...proof, z1: proof.z1 + 1n },
      { ...proof, z2: (proof.z2 * 2n) % n0 },
      { ...proof, z3: proof.z3 + 1n },
    ];
    for (const p of tampered) expect(verifyEncDlog(tr(), st, p, rpSecret)).toBe(false);
    expect(verifyEncDlog(tr(), st, tampered[6] as EncDlogProof)).toBe(false);
  });

  it("fails with malformed values", () => {
    expect(verifyEncDlog(tr(), st, { ...proof, z2: sk.p }, rpSecret)).toBe(false);
    expect(verifyEncDlog(tr(), st, { ...proof, A: n0 * n0 }, rpSecret)).toBe(false);
    expect(verifyEncDlog(tr(), { ...st, C: sk.q }, proof, rpSecret)).toBe(false);
    expect(verifyEncDlog(tr(), st, { ...proof, S: 0n }, rpSecret)).toBe(false);
    expect(verifyEncDlog(tr(), st, { ...proof, z1: (1n << BigInt(ELL + EPSILON)) + 1n }, rpSecret)).toBe(false);
    expect(verifyEncDlog(tr(), st, { ...proof, z3: 1n << 20000n }, rpSecret)).toBe(false);
    expect(verifyEncDlog(tr(), { ...st, n: n0 * 2n }, proof, rpSecret)).toBe(false);
  });

  it("rejects x out of range (x = q·2^800 + 12345), consistently encrypted and committed", () => {
    const big = CURVE_ORDER * (1n << 800n) + 12345n;
    const s = statementFor(big);
    expect(s.st.X.equals(Point.BASE.multiply(12345n))).toBe(true);
    const p = prove(s.st, big, s.rho);
    expect(verifyEncDlog(tr(), s.st, p, rpSecret)).toBe(false);
    // On the wire it decodes (the ceilings are loose) and fails as a proof, not as bad bytes.
    const decoded = decode((r) => readEncDlogProof(r, n0, rp), encode(writeEncDlogProof, p));
    expect(verifyEncDlog(tr(), s.st, decoded, rpSecret)).toBe(false);
    const neg = statementFor(-big);
    expect(verifyEncDlog(tr(), neg.st, prove(neg.st, -big, neg.rho), rpSecret)).toBe(false);
  });

  it("rejects X not matching x, and C not encrypting x", () => {
    const wrongX = { ...st, X: Point.BASE.multiply(x + 1n) };
    expect(verifyEncDlog(tr(), wrongX, prove(wrongX, x, rho), rpSecret)).toBe(false);
    const wrongC = { ...st, C: sk.publicKey.encrypt(x + 1n, rho) };
    expect(verifyEncDlog(tr(), wrongC, prove(wrongC, x, rho), rpSecret)).toBe(false);
  });

  it("survives encoding, with or without the moduli at hand; bad bytes are rejected", () => {
    const bytes = encode(writeEncDlogProof, proof);
    for (const read of [(r: Reader) => readEncDlogProof(r, n0, rp), (r: Reader) => readEncDlogProof(r)]) {
      const decoded = decode(read, bytes);
      expect(decoded.Y.equals(proof.Y)).toBe(true);
      expect({ ...decoded, Y: null }).toEqual({ ...proof, Y: null });
      expect(verifyEncDlog(tr(), st, decoded, rpSecret)).toBe(true);
      expectTruncatedAndExtendedRejected(read, bytes);
      expectMalformed(read, encode(writeEncDlogProof, { ...proof, z1: 1n << 9000n }));
      expectMalformed(read, encode(writeEncDlogProof, { ...proof, z3: 1n << 12000n }));
    }
    const read = (r: Reader) => readEncDlogProof(r, n0, rp);
    expectMalformed(read, encode(writeEncDlogProof, { ...proof, z1: 1n << 2400n }));
    expectMalformed(read, encode(writeEncDlogProof, { ...proof, z2: n0 }));
    expectMalformed(read, encode(writeEncDlogProof, { ...proof, S: rp.n }));
    expectMalformed(read, encode(writeEncDlogProof, { ...proof, A: n0 * n0 }));
  });
});
