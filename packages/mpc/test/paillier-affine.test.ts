import { beforeAll, describe, expect, it } from "vitest";
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
import { ringPedersenFromPrimes } from "../src/zk/ring-pedersen.js";
import { Transcript } from "../src/zk/transcript.js";

const sid = new Uint8Array(32).fill(9);
const tr = () => new Transcript("affine-test", sid, [0, 1]);
const A_BITS = 256;
const Y_BITS = 1024;

let sk: PaillierSecretKey;
let base: Omit<AffineStatement, "D">;
let x: bigint; // Dec(C), known to the verifier
let prover: AffineProverTables;
let verifier: AffineVerifierTables;
let verifierWithLambda: AffineVerifierTables;

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

/** Verifies with λ = log_t s and without it (shares made before λ was kept); the two must agree. */
const verify = (st: AffineStatement, proof: AffineProof, plainD: bigint, t = tr) => {
  const plain = { C: x, D: plainD };
  const verdict = verifyAffine(t(), st, proof, sk, plain, verifier);
  expect(verifyAffine(t(), st, proof, sk, plain, verifierWithLambda)).toBe(verdict);
  return verdict;
};

beforeAll(() => {
  sk = PaillierSecretKey.generate(2048);
  const { params: rp, secret } = ringPedersenFromPrimes(sk.p, sk.q);
  x = randomBelow(CURVE_ORDER);
  const C = sk.publicKey.encrypt(x, randomUnit(sk.publicKey.n));
  base = { pk: sk.publicKey, rp, C, aBits: A_BITS, yBits: Y_BITS };
  prover = new AffineProverTables(rp, Y_BITS);
  verifier = new AffineVerifierTables(rp, sk);
  verifierWithLambda = new AffineVerifierTables(rp, sk, secret.lambda);
});

describe("Πaff (affine operation in range, verified by the key owner)", () => {
  it("accepts an honest proof, and D decrypts to a·x + y exactly", () => {
    const a = randomBelow(CURVE_ORDER);
    const y = randomBelow(1n << BigInt(Y_BITS));
    const { st, proof, plainD } = prove(a, y);
    expect(plainD).toBe(a * x + y);
    expect(verify(st, proof, plainD)).toBe(true);
  });

  it("draws the ring-Pedersen masks of y (δ, μ) from a's ranges, as the paper does: z4 is no longer than z3", () => {
    // z3 = γ + e·m and z4 = δ + e·μ with γ, δ ← ±2^{ℓa+ε}·Ñ and m, μ ← ±2^{ℓa}·Ñ, however long y is.
    const bound = A_BITS + EPSILON + bitLength(base.rp.n) + 1;
    for (let i = 0; i < 4; i++) {
      const { proof } = prove(randomBelow(CURVE_ORDER), randomBelow(1n << BigInt(Y_BITS)));
      expect(bitLength(proof.z3)).toBeLessThanOrEqual(bound);
      expect(bitLength(proof.z4)).toBeLessThanOrEqual(bound);
    }
  });

  it("still accepts a proof whose δ and μ were drawn from y's ranges (provers before the change)", () => {
    const { pk, rp, C } = base;
    const wide = (bits: number) => randomBelow((1n << BigInt(bits)) * rp.n);
    const secrets = {
      alpha: randomBelow(1n << BigInt(A_BITS + EPSILON)),
      beta: randomBelow(1n << BigInt(Y_BITS + EPSILON)),
      gamma: wide(A_BITS + EPSILON),
      m: wide(A_BITS),
      delta: wide(Y_BITS + EPSILON),
      mu: wide(Y_BITS),
    };
    const commit = (u: bigint, v: bigint) => (modPow(rp.s, u, rp.n) * modPow(rp.t, v, rp.n)) % rp.n;
    const A =
      (((modPow(C, secrets.alpha, pk.n2) * (1n + (secrets.beta % pk.n) * pk.n)) % pk.n2) *
        modPow(randomUnit(pk.n), pk.n, pk.n2)) %
      pk.n2;
    const pre = AffinePrecomputation.fromParts({
      secrets,
      A,
      E: commit(secrets.alpha, secrets.gamma),
      F: commit(secrets.beta, secrets.delta),
      tm: modPow(rp.t, secrets.m, rp.n),
      tmu: modPow(rp.t, secrets.mu, rp.n),
      key: { n: pk.n, C },
    });
    const a = randomBelow(CURVE_ORDER);
    const y = randomBelow(1n << BigInt(Y_BITS));
    const D =
      (((modPow(C, a, pk.n2) * (1n + (y % pk.n) * pk.n)) % pk.n2) * modPow(randomUnit(pk.n), pk.n, pk.n2)) % pk.n2;
    const st = { ...base, D };
    const proof = proveAffine(tr(), st, { a, y }, pre, prover);
    expect(bitLength(proof.z4)).toBeGreaterThan(A_BITS + EPSILON + bitLength(rp.n) + 1);
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
    for (const field of ["A", "E", "F", "S", "T", "z1", "z2", "z3", "z4"] as const) {
      const bad = { ...proof, [field]: proof[field] + 1n };
      expect(verify(st, bad, plainD), field).toBe(false);
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
});
