import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { bitLength, CURVE_ORDER, Reader, Writer } from "../src/codec/codec.js";
import { modPow, randomBelow, randomUnit } from "../src/math/bigint.js";
import { PaillierSecretKey } from "../src/paillier/paillier.js";
import { ProtocolAbort } from "../src/session/party.js";
import {
  AffinePrecomputation,
  type AffineProof,
  AffineProverTables,
  type AffineStatement,
  AffineVerifierTables,
  proveAffine,
  readAffineProof,
  verifyAffine,
  writeAffineProof,
} from "../src/zk/paillier-affine.js";
import { EPSILON } from "../src/zk/params.js";
import type { RingPedersenParams } from "../src/zk/ring-pedersen.js";
import { Transcript } from "../src/zk/transcript.js";
import { party0RingPedersen } from "./helpers.js";

const sid = new Uint8Array(32).fill(9);
const tr = () => new Transcript("affine-test", sid, [0, 1]);
const A_BITS = 256;
const Y_BITS = 1024;

let sk: PaillierSecretKey;
let x: bigint; // Dec(C), known to the verifier
let C: bigint;
let rp: RingPedersenParams;
let s2: bigint;
let logs: { s: bigint; s2: bigint };

/** One layout's statement and tables: with the second base s′ (joint) or without (separate). */
interface Layout {
  base: Omit<AffineStatement, "D">;
  prover: AffineProverTables;
  verifier: AffineVerifierTables;
  verifierWithLogs: AffineVerifierTables;
}
const layouts: Record<"joint" | "separate", Layout> = {} as Record<"joint" | "separate", Layout>;
let base: Omit<AffineStatement, "D">;
let prover: AffineProverTables;
let verifier: AffineVerifierTables;
let verifierWithLogs: AffineVerifierTables;

/** D = C^a · (1+N)^y · r^N and an honest proof of it. */
function prove(a: bigint, y: bigint): { st: AffineStatement; proof: AffineProof; plainD: bigint } {
  const { pk, C } = base;
  const D =
    (((modPow(C, a, pk.n2) * (1n + (((y % pk.n) + pk.n) % pk.n) * pk.n)) % pk.n2) *
      modPow(randomUnit(pk.n), pk.n, pk.n2)) %
    pk.n2;
  const st = { ...base, D };
  const pre = AffinePrecomputation.create(base, (k) => modPow(C, k, pk.n2), prover);
  return { st, proof: proveAffine(tr(), st, { a, y }, pre, prover), plainD: sk.decryptSigned(D) };
}

/** Verifies with the logs of the bases and without them (shares made before λ was kept); the two must agree. */
const verify = (st: AffineStatement, proof: AffineProof, plainD: bigint, t = tr) => {
  const plain = { C: x, D: plainD };
  const verdict = verifyAffine(t(), st, proof, sk, plain, verifier);
  expect(verifyAffine(t(), st, proof, sk, plain, verifierWithLogs)).toBe(verdict);
  return verdict;
};

beforeAll(() => {
  sk = PaillierSecretKey.generate(2048);
  ({ params: rp, s2, logs } = party0RingPedersen(sk.p, sk.q));
  x = randomBelow(CURVE_ORDER);
  C = sk.publicKey.encrypt(x, randomUnit(sk.publicKey.n));
  const common = { pk: sk.publicKey, rp, C, aBits: A_BITS, yBits: Y_BITS };
  layouts.joint = {
    base: { ...common, s2 },
    prover: new AffineProverTables(rp, s2, Y_BITS),
    verifier: new AffineVerifierTables(rp, sk, s2),
    verifierWithLogs: new AffineVerifierTables(rp, sk, s2, logs),
  };
  layouts.separate = {
    base: common,
    prover: new AffineProverTables(rp, undefined, Y_BITS),
    verifier: new AffineVerifierTables(rp, sk, undefined),
    verifierWithLogs: new AffineVerifierTables(rp, sk, undefined, { s: logs.s }),
  };
});

describe("Πaff's layouts", () => {
  it("commits to a and y once with the second base, twice without it", () => {
    expect(layouts.joint.prover.bases).toEqual([[rp.s, s2]]);
    expect(layouts.separate.prover.bases).toEqual([
      [rp.s, 1n],
      [1n, rp.s],
    ]);
  });

  it("refuses logs that do not cover the key's bases", () => {
    expect(() => new AffineVerifierTables(rp, sk, s2, { s: logs.s })).toThrow(/logs/);
    expect(() => new AffineVerifierTables(rp, sk, undefined, logs)).toThrow(/logs/);
  });

  it("binds a proof to its layout: a joint proof fails as a separate one, and the other way round", () => {
    for (const [from, to] of [
      ["joint", "separate"],
      ["separate", "joint"],
    ] as const) {
      useLayout(from);
      const { st, proof, plainD } = prove(5n, 6n);
      const w = new Writer();
      writeAffineProof(w, proof);
      useLayout(to);
      let decoded: AffineProof | undefined;
      try {
        const r = new Reader(w.finish(), 1);
        decoded = readAffineProof(r, base);
        r.end();
      } catch (e) {
        expect(e).toBeInstanceOf(ProtocolAbort);
      }
      if (decoded) expect(verify({ ...st, s2: base.s2 }, decoded, plainD)).toBe(false);
    }
  });
});

function useLayout(name: "joint" | "separate"): void {
  ({ base, prover, verifier, verifierWithLogs } = layouts[name]);
}

describe.each(["joint", "separate"] as const)(
  "Πaff, %s commitments (affine operation in range, verified by the key owner)",
  (layout) => {
    beforeEach(() => useLayout(layout));

    it("accepts an honest proof, and D decrypts to a·x + y exactly", () => {
      const a = randomBelow(CURVE_ORDER);
      const y = randomBelow(1n << BigInt(Y_BITS));
      const { st, proof, plainD } = prove(a, y);
      expect(plainD).toBe(a * x + y);
      expect(verify(st, proof, plainD)).toBe(true);
    });

    it("draws every commitment's masks from a's ranges, as the paper does, however long y is", () => {
      // z3ⱼ = γⱼ + e·mⱼ with γⱼ ← ±2^{ℓa+ε}·Ñ and mⱼ ← ±2^{ℓa}·Ñ.
      const bound = A_BITS + EPSILON + bitLength(base.rp.n) + 1;
      for (let i = 0; i < 4; i++) {
        const { proof } = prove(randomBelow(CURVE_ORDER), randomBelow(1n << BigInt(Y_BITS)));
        expect(proof.z3).toHaveLength(layout === "joint" ? 1 : 2);
        for (const z of proof.z3) expect(bitLength(z)).toBeLessThanOrEqual(bound);
      }
    });

    it("still accepts a proof whose masks were drawn from y's ranges (the separate layout's provers before the change)", () => {
      const { pk, rp, C } = base;
      const wide = (bits: number) => randomBelow((1n << BigInt(bits)) * rp.n);
      const count = prover.bases.length;
      const secrets = {
        alpha: randomBelow(1n << BigInt(A_BITS + EPSILON)),
        beta: randomBelow(1n << BigInt(Y_BITS + EPSILON)),
        gamma: Array.from({ length: count }, () => wide(Y_BITS + EPSILON)),
        m: Array.from({ length: count }, () => wide(Y_BITS)),
      };
      const tPow = (e: bigint) => modPow(rp.t, e, rp.n);
      const A =
        (((modPow(C, secrets.alpha, pk.n2) * (1n + (secrets.beta % pk.n) * pk.n)) % pk.n2) *
          modPow(randomUnit(pk.n), pk.n, pk.n2)) %
        pk.n2;
      const pre = AffinePrecomputation.fromParts({
        secrets,
        A,
        E: prover.bases.map((b, j) => prover.commit(b, secrets.alpha, secrets.beta, tPow(secrets.gamma[j] as bigint))),
        tm: secrets.m.map(tPow),
        key: { n: pk.n, C },
      });
      const a = randomBelow(CURVE_ORDER);
      const y = randomBelow(1n << BigInt(Y_BITS));
      const D =
        (((modPow(C, a, pk.n2) * (1n + (y % pk.n) * pk.n)) % pk.n2) * modPow(randomUnit(pk.n), pk.n, pk.n2)) % pk.n2;
      const st = { ...base, D };
      const proof = proveAffine(tr(), st, { a, y }, pre, prover);
      for (const z of proof.z3) expect(bitLength(z)).toBeGreaterThan(A_BITS + EPSILON + bitLength(rp.n) + 1);
      const encoded = new Writer();
      writeAffineProof(encoded, proof);
      const decoded = readAffineProof(new Reader(encoded.finish(), 1), base);
      expect(verify(st, decoded, sk.decryptSigned(D))).toBe(true);
    });

    it("accepts negative witnesses within range", () => {
      const { st, proof, plainD } = prove(-5n, -(1n << 900n));
      expect(verify(st, proof, plainD)).toBe(true);
    });

    it("rejects a multiplier or an addend out of range (the wrap-around oracle)", () => {
      const a = randomBelow(CURVE_ORDER) + (CURVE_ORDER << 600n);
      const big = prove(a, 7n);
      expect(verify(big.st, big.proof, big.plainD)).toBe(false);
      const far = prove(3n, 1n << BigInt(Y_BITS + 600));
      expect(verify(far.st, far.proof, far.plainD)).toBe(false);
    });

    it("rejects a proof for another D, another transcript, or a wrong plaintext claim", () => {
      const { st, proof, plainD } = prove(11n, 13n);
      const other = prove(11n, 14n);
      expect(verify(other.st, proof, other.plainD)).toBe(false);
      expect(verify(st, proof, plainD, () => new Transcript("other", sid, [0, 1]))).toBe(false);
      expect(verify(st, proof, plainD + 1n)).toBe(false);
    });

    it("rejects every tampered field", () => {
      const { st, proof, plainD } = prove(randomBelow(CURVE_ORDER), 99n);
      for (const field of ["A", "z1", "z2"] as const) {
        const bad = { ...proof, [field]: proof[field] + 1n };
        expect(verify(st, bad, plainD), field).toBe(false);
      }
      for (const field of ["E", "S", "z3"] as const) {
        proof[field].forEach((_, j) => {
          const bad = { ...proof, [field]: proof[field].map((v, i) => (i === j ? v + 1n : v)) };
          expect(verify(st, bad, plainD), `${field}[${j}]`).toBe(false);
        });
        expect(verify(st, { ...proof, [field]: proof[field].slice(1) }, plainD), `${field} short`).toBe(false);
      }
    });

    it("hands out a precomputation once", () => {
      const pre = AffinePrecomputation.create(base, (k) => modPow(base.C, k, base.pk.n2), prover);
      const st = { ...base, D: base.C };
      proveAffine(tr(), st, { a: 1n, y: 0n }, pre, prover);
      expect(() => proveAffine(tr(), st, { a: 1n, y: 0n }, pre, prover)).toThrow(/already used/);
    });

    it("round-trips through the codec and rejects truncated or extended bytes", () => {
      const { st, proof, plainD } = prove(5n, 6n);
      const w = new Writer();
      writeAffineProof(w, proof);
      const bytes = w.finish();
      const r = new Reader(bytes, 1);
      const back = readAffineProof(r, base);
      r.end();
      expect(verify(st, back, plainD)).toBe(true);
      expect(() => readAffineProof(new Reader(bytes.slice(0, -1), 1), base)).toThrow(ProtocolAbort);
      const extended = new Reader(new Uint8Array([...bytes, 0]), 1);
      readAffineProof(extended, base);
      expect(() => extended.end()).toThrow(ProtocolAbort);
    });
  },
);
