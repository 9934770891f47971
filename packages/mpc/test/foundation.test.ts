import { secp256k1 } from "@noble/curves/secp256k1.js";
import { describe, expect, it } from "vitest";
import { bigintToBytes, bytesToBigint, CURVE_ORDER, Point, Reader, Writer } from "../src/codec/codec.js";
import { finishSignature, type Signature, verifySignature } from "../src/ecdsa/signature.js";
import {
  FixedBase,
  isConstantTimeModulus,
  modInv,
  modPow,
  opensslModPow,
  SecretExponentBase,
} from "../src/math/bigint.js";
import { mul, mulBase, mulBaseAdd } from "../src/math/secp256k1.js";
import { open, seal } from "../src/session/envelope.js";
import { type Msg, type Party, ProtocolAbort } from "../src/session/party.js";
import { runLocal } from "../src/session/run-local.js";
import { commit, verifyOpening } from "../src/zk/commitment.js";
import { proveDlog, verifyDlog } from "../src/zk/schnorr.js";
import { Transcript } from "../src/zk/transcript.js";

const sid = new Uint8Array(32).fill(7);

function abortOf(fn: () => unknown): ProtocolAbort {
  try {
    fn();
  } catch (e) {
    if (e instanceof ProtocolAbort) return e;
    throw new Error(`expected ProtocolAbort, got ${String(e)}`);
  }
  throw new Error("expected ProtocolAbort, got success");
}

describe("codec", () => {
  it("round-trips every field type", () => {
    const w = new Writer();
    const P = Point.BASE.multiply(12345n);
    w.u8(7);
    w.u32(0xdeadbeef);
    w.bytes(Uint8Array.of(1, 2, 3));
    w.string("héllo");
    w.bigint(2n ** 300n + 5n);
    w.bigint(0n);
    w.signed(-(2n ** 70n));
    w.scalar(CURVE_ORDER - 1n);
    w.point(P);
    w.list([1, 2, 3], (ww, x) => ww.u8(x));
    const r = new Reader(w.finish(), 3);
    expect(r.u8()).toBe(7);
    expect(r.u32()).toBe(0xdeadbeef);
    expect(r.bytes()).toEqual(Uint8Array.of(1, 2, 3));
    expect(r.string()).toBe("héllo");
    expect(r.bigint(301)).toBe(2n ** 300n + 5n);
    expect(r.bigint(8)).toBe(0n);
    expect(r.signed(71)).toBe(-(2n ** 70n));
    expect(r.scalar()).toBe(CURVE_ORDER - 1n);
    expect(r.point().equals(P)).toBe(true);
    expect(r.list(3, (rr) => rr.u8())).toEqual([1, 2, 3]);
    r.end();
  });

  it("rejects truncation, trailing bytes and over-long fields, naming the sender", () => {
    const w = new Writer();
    w.bigint(2n ** 64n);
    const bytes = w.finish();
    expect(abortOf(() => new Reader(bytes.slice(0, -1), 4).bigint(65)).culprit).toBe(4);
    const extended = new Uint8Array([...bytes, 0]);
    const r = new Reader(extended, 4);
    r.bigint(65);
    expect(abortOf(() => r.end()).reason).toMatch(/trailing/);
    expect(abortOf(() => new Reader(bytes, 4).bigint(64)).reason).toMatch(/too/);
    const huge = Uint8Array.of(0xff, 0xff, 0xff, 0xff);
    expect(abortOf(() => new Reader(huge, 1).bytes()).culprit).toBe(1);
  });

  it("rejects non-canonical integers, scalars ≥ n, zero scalars, off-curve points and infinity", () => {
    expect(abortOf(() => new Reader(Uint8Array.of(0, 0, 0, 2, 0, 5), 2).bigint(16)).reason).toMatch(/canonical/);
    expect(abortOf(() => new Reader(bigintToBytes(CURVE_ORDER, 32), 2).scalar()).culprit).toBe(2);
    expect(abortOf(() => new Reader(new Uint8Array(32), 2).scalar()).reason).toMatch(/zero/);
    const off = new Uint8Array(33);
    off[0] = 2;
    off[32] = 5; // x = 5: x³ + 7 = 132 is not a square mod p
    expect(abortOf(() => new Reader(off, 2).point()).culprit).toBe(2);
    expect(abortOf(() => new Reader(new Uint8Array(33), 2).point()).culprit).toBe(2);
    const badPrefix = Point.BASE.toBytes(true);
    badPrefix[0] = 5;
    expect(abortOf(() => new Reader(badPrefix, 2).point()).culprit).toBe(2);
  });

  it("rejects invalid utf-8 and booleans other than 0/1", () => {
    expect(abortOf(() => new Reader(Uint8Array.of(0, 0, 0, 1, 0xff), 0).string()).reason).toMatch(/utf-8/);
    expect(abortOf(() => new Reader(Uint8Array.of(2), 0).bool()).reason).toMatch(/boolean/);
  });
});

describe("envelope", () => {
  const msg = (payload: Uint8Array): Msg => ({ from: 1, to: 0, payload });
  it("accepts its own session and round and rejects every other", () => {
    const p = seal("demo", sid, 2, (w) => w.u8(9));
    expect(open(msg(p), "demo", sid, 2).u8()).toBe(9);
    expect(abortOf(() => open(msg(p), "demo", new Uint8Array(32), 2)).reason).toMatch(/another session/);
    expect(abortOf(() => open(msg(p), "other", sid, 2)).reason).toMatch(/another protocol/);
    expect(abortOf(() => open(msg(p), "demo", sid, 3)).culprit).toBe(1);
  });
});

describe("transcript", () => {
  it("frames entries unambiguously", () => {
    const a = new Transcript("p", sid, [0, 1]).append("a", Uint8Array.of(1, 2)).challengeBytes("c", 32);
    const b = new Transcript("p", sid, [0, 1]).append("a", Uint8Array.of(1)).append("", Uint8Array.of(2));
    expect(b.challengeBytes("c", 32)).not.toEqual(a);
    const c = new Transcript("p", sid, [0, 1]).append("a", Uint8Array.of(1, 2)).challengeBytes("c", 32);
    expect(c).toEqual(a);
  });
  it("binds protocol, sid and party list", () => {
    const base = new Transcript("p", sid, [0, 1]).challengeBytes("c", 32);
    expect(new Transcript("q", sid, [0, 1]).challengeBytes("c", 32)).not.toEqual(base);
    expect(new Transcript("p", new Uint8Array(32), [0, 1]).challengeBytes("c", 32)).not.toEqual(base);
    expect(new Transcript("p", sid, [1, 0]).challengeBytes("c", 32)).not.toEqual(base);
  });
  it("makes each challenge depend on the previous ones and forks independently", () => {
    const t = new Transcript("p", sid, [0, 1]);
    const f = t.fork("x");
    const c1 = t.challengeBytes("c", 32);
    const c2 = t.challengeBytes("c", 32);
    expect(c1).not.toEqual(c2);
    expect(f.challengeBytes("c", 32)).not.toEqual(c1);
    const s = new Transcript("p", sid, [0, 1]).challengeBelow("e", 1000n);
    expect(s >= 0n && s < 1000n).toBe(true);
  });
});

describe("commitments and Schnorr proofs", () => {
  it("opens only to the committed message, session and committer", () => {
    const { commitment, opening } = commit(sid, 0, Uint8Array.of(1, 2, 3));
    expect(verifyOpening(sid, 0, commitment, opening)).toBe(true);
    expect(verifyOpening(sid, 1, commitment, opening)).toBe(false);
    expect(verifyOpening(new Uint8Array(32), 0, commitment, opening)).toBe(false);
    expect(verifyOpening(sid, 0, commitment, { ...opening, message: Uint8Array.of(1, 2, 4) })).toBe(false);
  });
  it("accepts an honest proof and rejects a wrong statement, transcript or response", () => {
    const x = 123456789n;
    const X = Point.BASE.multiply(x);
    const t = () => new Transcript("schnorr-test", sid, [0, 1]);
    const proof = proveDlog(t(), x, X);
    expect(verifyDlog(t(), X, proof)).toBe(true);
    expect(verifyDlog(t(), X.add(Point.BASE), proof)).toBe(false);
    expect(verifyDlog(new Transcript("other", sid, [0, 1]), X, proof)).toBe(false);
    expect(verifyDlog(t(), X, { ...proof, z: (proof.z + 1n) % CURVE_ORDER })).toBe(false);
    expect(verifyDlog(t(), X, { ...proof, z: 0n })).toBe(false);
    expect(secp256k1.Point.BASE.equals(Point.BASE)).toBe(true);
  });
});

describe("secp256k1 multiplication through libsecp256k1", () => {
  const scalar = () => 1n + (bytesToBigint(crypto.getRandomValues(new Uint8Array(32))) % (CURVE_ORDER - 1n));
  const affine = (P: Point) => {
    const { x, y } = P.toAffine();
    return [x.toString(16), y.toString(16)];
  };

  it("gives the standard multiples of G", () => {
    expect(affine(mulBase(1n))).toEqual(affine(Point.BASE));
    expect(affine(mulBase(2n))).toEqual([
      "c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5",
      "1ae168fea63dc339a3c58419466ceaeef7f632653266d0e1236431a950cfe52a",
    ]);
    expect(affine(mulBase(3n))).toEqual([
      "f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9",
      "388f7b0f632de8140fe337e62a37f3566500a99934c2231b6cb9fd7584b8e672",
    ]);
    expect(mulBase(CURVE_ORDER - 1n).equals(Point.BASE.negate())).toBe(true);
  });

  it("agrees with @noble/curves on random points and scalars", () => {
    for (let i = 0; i < 20; i++) {
      const [k, a, b] = [scalar(), scalar(), scalar()];
      const P = Point.BASE.multiply(scalar());
      expect(mulBase(k).equals(Point.BASE.multiply(k))).toBe(true);
      expect(mul(P, k).equals(P.multiply(k))).toBe(true);
      expect(mulBaseAdd(a, P, b).equals(Point.BASE.multiply(a).add(P.multiply(b)))).toBe(true);
    }
  });

  it("handles zero terms and a sum at infinity", () => {
    const a = scalar();
    const P = Point.BASE.multiply(scalar());
    expect(mulBaseAdd(0n, P, 0n).is0()).toBe(true);
    expect(mulBaseAdd(a, P, 0n).equals(Point.BASE.multiply(a))).toBe(true);
    expect(mulBaseAdd(0n, P, a).equals(P.multiply(a))).toBe(true);
    expect(mulBaseAdd(a, Point.ZERO, a).equals(Point.BASE.multiply(a))).toBe(true);
    expect(mulBaseAdd(a, Point.BASE, CURVE_ORDER - a).is0()).toBe(true);
    expect(mul(Point.ZERO, a).is0()).toBe(true);
  });

  it("refuses scalars outside their range", () => {
    for (const k of [0n, CURVE_ORDER, CURVE_ORDER + 1n, -1n]) {
      expect(() => mulBase(k)).toThrow(RangeError);
      expect(() => mul(Point.BASE, k)).toThrow(RangeError);
    }
    for (const k of [CURVE_ORDER, -1n]) {
      expect(() => mulBaseAdd(k, Point.BASE, 1n)).toThrow(RangeError);
      expect(() => mulBaseAdd(1n, Point.BASE, k)).toThrow(RangeError);
    }
  });
});

describe("runLocal", () => {
  it("reports a run in which nobody can make progress instead of hanging", () => {
    const silent: Party<number> = {
      start: () => [],
      handle: () => [],
      done: false,
      result: () => 0,
      save: () => new Uint8Array(),
    };
    expect(abortOf(() => runLocal([silent, silent])).reason).toMatch(/stalled/);
  });
});

describe("ECDSA signature check", () => {
  const secret = secp256k1.utils.randomSecretKey();
  const Q = Point.fromBytes(secp256k1.getPublicKey(secret));
  const signed = (hash: Uint8Array): Signature => {
    const sig = secp256k1.Signature.fromBytes(
      secp256k1.sign(hash, secret, { prehash: false, format: "recovered" }),
      "recovered",
    );
    return { r: sig.r, s: sig.s, recovery: sig.recovery as number };
  };

  it("accepts @noble/curves' low-S signatures with their recovery ids, and only those", () => {
    for (let i = 0; i < 8; i++) {
      const hash = crypto.getRandomValues(new Uint8Array(32));
      const sig = signed(hash);
      expect(verifySignature(sig, hash, Q)).toBe(true);
      const other = crypto.getRandomValues(new Uint8Array(32));
      const wrong: Signature[] = [
        { ...sig, recovery: sig.recovery ^ 1 },
        { ...sig, recovery: sig.recovery ^ 2 },
        { ...sig, recovery: 4 },
        { ...sig, recovery: 0.5 },
        { ...sig, s: CURVE_ORDER - sig.s },
        { ...sig, s: CURVE_ORDER - sig.s, recovery: sig.recovery ^ 1 }, // the high-S twin: valid, but not low-S
        { ...sig, r: sig.r + 1n },
        { ...sig, r: 0n },
        { ...sig, s: 0n },
        { ...sig, r: sig.r + CURVE_ORDER },
      ];
      expect(wrong.filter((w) => verifySignature(w, hash, Q))).toEqual([]);
      expect(verifySignature(sig, other, Q)).toBe(false);
      expect(verifySignature(sig, hash, Q.double())).toBe(false);
      expect(verifySignature(sig, hash.subarray(1), Q)).toBe(false);
    }
  });

  it("refuses every signature for the point at infinity, and handles a message hash of 0 mod n", () => {
    // For Q = 0 anyone could pick k, r = (k·G).x and s = m/k: the check must refuse the key itself.
    const hash = crypto.getRandomValues(new Uint8Array(32));
    const k = 7777n;
    const R = Point.BASE.multiply(k).toAffine();
    const m = bytesToBigint(hash) % CURVE_ORDER;
    const forged = finishSignature(Point.BASE.multiply(k), (m * secp256k1.Point.Fn.inv(k)) % CURVE_ORDER);
    expect(forged.r).toBe(R.x % CURVE_ORDER);
    expect(verifySignature(forged, hash, Point.ZERO)).toBe(false);
    const zero = bigintToBytes(CURVE_ORDER, 32);
    const sig = signed(zero);
    expect(verifySignature(sig, zero, Q)).toBe(true);
    expect(verifySignature({ ...sig, recovery: sig.recovery ^ 1 }, zero, Q)).toBe(false);
  });

  it("reads recovery ids 2 and 3: a nonce point whose x is at least n", () => {
    // No one can sign with such an R for a given key, but a key can be made for a given signature:
    // Q = r⁻¹·(s·R − m·G) makes (r, s) valid with verification point R.
    let R: Point | undefined;
    for (let x = CURVE_ORDER + 1n; R === undefined; x++) {
      try {
        R = Point.fromBytes(Uint8Array.of(2, ...bigintToBytes(x, 32)));
      } catch {}
    }
    const { x, y } = R.toAffine();
    const hash = crypto.getRandomValues(new Uint8Array(32));
    const m = bytesToBigint(hash) % CURVE_ORDER;
    const r = x % CURVE_ORDER;
    const s = 12345n;
    const Fn = secp256k1.Point.Fn;
    const key = R.multiply(s).subtract(Point.BASE.multiply(m)).multiply(Fn.inv(r));
    const recovery = 2 | Number(y & 1n);
    expect(verifySignature({ r, s, recovery }, hash, key)).toBe(true);
    expect([recovery ^ 1, recovery ^ 2].filter((id) => verifySignature({ r, s, recovery: id }, hash, key))).toEqual([]);
    expect(new secp256k1.Signature(r, s, recovery).recoverPublicKey(hash).equals(key)).toBe(true);
  });

  it("agrees with recovery on signatures finished from a nonce point (finishSignature)", () => {
    for (let i = 0; i < 8; i++) {
      const hash = crypto.getRandomValues(new Uint8Array(32));
      const k = bytesToBigint(crypto.getRandomValues(new Uint8Array(32))) % CURVE_ORDER;
      const x = bytesToBigint(secret) % CURVE_ORDER;
      const R = Point.BASE.multiply(k);
      const r = R.toAffine().x % CURVE_ORDER;
      const m = bytesToBigint(hash) % CURVE_ORDER;
      const kInv = secp256k1.Point.Fn.inv(k);
      const sig = finishSignature(R, (kInv * ((m + r * x) % CURVE_ORDER)) % CURVE_ORDER);
      expect(verifySignature(sig, hash, Q)).toBe(true);
      const recovered = new secp256k1.Signature(sig.r, sig.s, sig.recovery).recoverPublicKey(hash);
      expect(recovered.equals(Q)).toBe(true);
    }
  });
});

describe("modPow", () => {
  /** Plain square-and-multiply, written independently of the code under test. */
  const reference = (b: bigint, e: bigint, m: bigint) => {
    let r = 1n % m;
    b = ((b % m) + m) % m;
    for (; e > 0n; e >>= 1n, b = (b * b) % m) if (e & 1n) r = (r * b) % m;
    return r;
  };
  const random = (bits: number) =>
    bytesToBigint(crypto.getRandomValues(new Uint8Array(Math.ceil(bits / 8)))) >> BigInt((8 - (bits % 8)) % 8);
  const modInvOrNull = (a: bigint, m: bigint) => {
    try {
      return modInv(a, m);
    } catch {
      return null;
    }
  };

  it("agrees with square-and-multiply on the OpenSSL path and every fallback", () => {
    const odd = random(2048) | 1n | (1n << 2047n);
    const square = odd * odd;
    const prime = (1n << 1279n) - 1n;
    const cases: [bigint, bigint, bigint][] = [
      [random(2040), odd, square],
      [random(1000), random(1024), odd],
      [2n, random(1024), odd],
      [3n, random(1000), prime],
      [random(1200), random(1270), prime],
      [square - 1n, random(512), square],
      [random(2040), 0n, odd],
      [random(2040), 1n, odd],
      [random(2040), square + 7n, odd],
      [random(2040), random(1024), odd + 1n],
      [random(200), random(300), (1n << 255n) - 19n],
      // Above OpenSSL's Diffie-Hellman size limit: BigInt computes it.
      [random(2040), random(64), (1n << 10241n) + 1n],
    ];
    for (const [b, e, m] of cases) expect(modPow(b, e, m)).toBe(reference(b, e, m));
    // Negative exponents go through the inverse; mod a prime every non-zero base has one.
    const unit = random(1000) | 1n;
    expect((modPow(unit, -5n, prime) * modPow(unit, 5n, prime)) % prime).toBe(1n);
  });

  // The constant-time claims rest on OpenSSL computing these powers, not on a silent BigInt fallback:
  // the checks below call the native path directly and require an answer from it.
  const mersenne = (1n << 1279n) - 1n;
  const hasOpenssl = isConstantTimeModulus(mersenne);

  it.runIf(hasOpenssl)("OpenSSL computes the exponent shapes sent to it, longer than the modulus included", () => {
    const odd = random(2048) | 1n | (1n << 2047n);
    const shapes: [bigint, bigint, bigint][] = [
      [random(2040), 2n, odd],
      [random(2040), random(64), odd],
      [random(2040), random(2048) | (1n << 2047n), odd],
      // Πfac's masks: up to ℓ+ε+|N0|+|Ñ| = 4864 bits modulo a 2048-bit Ñ.
      [random(2040), random(4864) | (1n << 4863n), odd],
      [random(2040), random(9000), odd],
      // Shifted secret exponents: exactly bits + 2 bits, top bits 11.
      [random(2040), (3n << 2816n) + random(2816) - (1n << 2815n), odd],
      [random(2040), random(1024), mersenne * mersenne],
      [random(1200), random(1278), mersenne],
    ];
    for (const [b, e, m] of shapes) expect(opensslModPow(b, e, m)).toBe(reference(b, e, m));
  });

  it.runIf(hasOpenssl)("results 1 and m − 1, which OpenSSL's Diffie-Hellman refuses, still come from OpenSSL", () => {
    // Mod a prime P, b^((P−1)/2) is the Legendre symbol: 1 or P − 1.
    const half = (mersenne - 1n) / 2n;
    const seen = new Set<bigint>();
    for (const b of [2n, 3n, 5n, 7n, 11n, 13n, random(1200)]) {
      const r = opensslModPow(b, half, mersenne);
      expect(r).toBe(reference(b, half, mersenne));
      seen.add(r as bigint);
    }
    expect(seen).toEqual(new Set([1n, mersenne - 1n]));
    // Paillier decryption of an encryption of 0: c = r^P mod P², and c^(P−1) ≡ 1 (mod P²).
    const p2 = mersenne * mersenne;
    const c = modPow(random(2000), mersenne, p2);
    expect(opensslModPow(c, mersenne - 1n, p2)).toBe(1n);
    expect(modPow(c, mersenne - 1n, p2)).toBe(1n);
    // A power that is 0 (a base sharing every prime of the modulus) is left to BigInt.
    expect(opensslModPow(mersenne * 5n, 3n, p2)).toBeUndefined();
    expect(modPow(mersenne * 5n, 3n, p2)).toBe(0n);
  });

  it("secret-exponent powers agree with it for every sign, length and route", () => {
    const odd = random(2048) | 1n | (1n << 2047n);
    // OpenSSL (a 2048-bit composite like Ñ, the prime P, P²) and BigInt (a 521-bit modulus).
    for (const m of [odd, mersenne, mersenne * mersenne, (1n << 521n) - 1n]) {
      let g = random(1000) | 1n;
      while (modInvOrNull(g, m) === null) g += 2n;
      const base = new SecretExponentBase(g, m);
      const ref = (e: bigint) => (e < 0n ? reference(modInv(g, m), -e, m) : reference(g, e, m));
      // Corrections from scratch (769, then 256 below every known one) and from shorter ones.
      for (const bits of [769, 2304, 4864, 256]) {
        const bound = 1n << BigInt(bits);
        const exps = [0n, 1n, -1n, 2n, bound - 1n, 1n - bound, random(bits), -random(bits), random(bits - 8)];
        for (const e of exps) expect(base.pow(e, bits)).toBe(ref(e));
        // Beyond the bound (a cheating prover's witness): still the right power.
        for (const e of [bound, -bound, bound * 3n + 5n, -(random(bits + 900) | (bound << 900n))])
          expect(base.pow(e, bits)).toBe(ref(e));
      }
    }
    // Bases 1 and m − 1 take the plain route.
    const m = odd;
    expect(new SecretExponentBase(1n, m).pow(-12345n, 64)).toBe(1n);
    expect(new SecretExponentBase(m - 1n, m).pow(-12345n, 64)).toBe(m - 1n);
    expect(new SecretExponentBase(m - 1n, m).pow(12344n, 64)).toBe(1n);
  });

  it("fixed-base tables agree with it, for negative exponents and ones longer than the table too", () => {
    // Mersenne primes, so every base is invertible: one for OpenSSL, one below its threshold (tables).
    for (const m of [(1n << 1279n) - 1n, (1n << 521n) - 1n]) {
      const g = random(500) | 1n;
      const fixed = new FixedBase(g, m, 300);
      for (const e of [0n, 1n, random(300), random(600)]) {
        expect(fixed.pow(e)).toBe(reference(g, e, m));
        expect(fixed.pow(-e)).toBe(reference(modInv(g, m), e, m));
      }
    }
  });
});
