import { beforeAll, describe, expect, it } from "vitest";
import { bitLength, Reader, Writer } from "../src/codec/codec.js";
import { randomBelow, randomUnit } from "../src/math/bigint.js";
import { randomPrime } from "../src/math/primes.js";
import {
  PAILLIER_MIN_BITS,
  PaillierPublicKey,
  PaillierSecretKey,
  readPaillierPublicKey,
  writePaillierPublicKey,
} from "../src/paillier/paillier.js";
import { ProtocolAbort } from "../src/session/party.js";

let sk: PaillierSecretKey;
let pk: PaillierPublicKey;
let n: bigint;

beforeAll(() => {
  sk = PaillierSecretKey.generate(2048);
  pk = sk.publicKey;
  n = pk.n;
});

describe("Paillier key generation", () => {
  it("produces a 2048-bit modulus of two distinct Blum primes", () => {
    expect(bitLength(n)).toBe(2048);
    expect(sk.p * sk.q).toBe(n);
    expect(sk.p).not.toBe(sk.q);
    expect(sk.p % 4n).toBe(3n);
    expect(sk.q % 4n).toBe(3n);
    expect(bitLength(sk.p)).toBe(1024);
    expect(bitLength(sk.q)).toBe(1024);
    expect(sk.phi()).toBe((sk.p - 1n) * (sk.q - 1n));
  });

  it("fromPrimes rejects factors the arithmetic cannot use", () => {
    expect(() => PaillierSecretKey.fromPrimes(sk.p, sk.p)).toThrow(RangeError);
    expect(() => PaillierSecretKey.fromPrimes(4n, sk.q)).toThrow(RangeError);
    expect(() => PaillierSecretKey.fromPrimes(1n, sk.q)).toThrow(RangeError);
    expect(() => PaillierSecretKey.fromPrimes(3n * sk.q, sk.q)).toThrow(RangeError);
  });
});

describe("Paillier encryption", () => {
  it("decrypts what it encrypts, including the edges of the plaintext space", () => {
    for (const m of [0n, 1n, n - 1n, randomBelow(n), randomBelow(n)]) {
      const { c } = pk.encryptRandom(m);
      expect(pk.isCiphertext(c)).toBe(true);
      expect(sk.decrypt(c)).toBe(m);
    }
  });

  it("takes plaintexts mod N, so negative values round-trip through decryptSigned", () => {
    const r = randomUnit(n);
    expect(pk.encrypt(-5n, r)).toBe(pk.encrypt(n - 5n, r));
    expect(pk.encrypt(n + 7n, r)).toBe(pk.encrypt(7n, r));
    expect(sk.decrypt(pk.encrypt(-5n, r))).toBe(n - 5n);
    expect(sk.decryptSigned(pk.encrypt(-5n, r))).toBe(-5n);
    expect(sk.decryptSigned(pk.encrypt(123n, r))).toBe(123n);
  });

  it("decryptSigned maps [0, N) onto (−N/2, N/2]", () => {
    const half = (n - 1n) / 2n; // N is odd
    expect(sk.decryptSigned(pk.encrypt(half, 2n))).toBe(half);
    expect(sk.decryptSigned(pk.encrypt(half + 1n, 2n))).toBe(half + 1n - n);
    expect(sk.decryptSigned(pk.encrypt(n - 1n, 2n))).toBe(-1n);
  });

  it("is additively homomorphic", () => {
    const m1 = randomBelow(n);
    const m2 = randomBelow(n);
    const c1 = pk.encryptRandom(m1).c;
    const c2 = pk.encryptRandom(m2).c;
    expect(sk.decrypt(pk.add(c1, c2))).toBe((m1 + m2) % n);
    expect(sk.decrypt(pk.addPlain(c1, m2))).toBe((m1 + m2) % n);
    expect(sk.decrypt(pk.addPlain(c1, -1n))).toBe((m1 - 1n + n) % n);
  });

  it("multiplies by plaintext scalars, negative ones included", () => {
    const m = randomBelow(1n << 256n);
    const c = pk.encryptRandom(m).c;
    const k = randomBelow(1n << 256n);
    expect(sk.decrypt(pk.mulPlain(c, k))).toBe((k * m) % n);
    expect(sk.decryptSigned(pk.mulPlain(c, -k))).toBe(-k * m);
    expect(sk.decrypt(pk.mulPlain(c, 0n))).toBe(0n);
  });

  it("CRT encryption with the secret key equals public encryption", () => {
    for (const m of [0n, 42n, -42n, randomBelow(n)]) {
      const r = randomUnit(n);
      expect(sk.encrypt(m, r)).toBe(pk.encrypt(m, r));
    }
  });

  it("a key rebuilt with fromPrimes behaves the same", () => {
    const again = PaillierSecretKey.fromPrimes(sk.p, sk.q);
    const m = randomBelow(n);
    const r = randomUnit(n);
    expect(again.encrypt(m, r)).toBe(pk.encrypt(m, r));
    expect(again.decrypt(pk.encrypt(m, r))).toBe(m);
  });

  it("CRT encryption stays correct for a key whose 'primes' are not prime", () => {
    // p²·q shape as a malicious party would build it: the shortcut must not be taken.
    const p = randomPrime(256);
    const q = randomPrime(512);
    const bad = PaillierSecretKey.fromPrimes(p * p, q);
    const r = randomUnit(bad.publicKey.n);
    expect(bad.encrypt(99n, r)).toBe(bad.publicKey.encrypt(99n, r));
  });
});

describe("Paillier well-formedness checks", () => {
  // The secret key's checks divide by its primes instead of taking a gcd; both must agree.
  const checkers = () => [
    { by: "the public key", key: pk },
    { by: "the secret key", key: sk },
  ];

  it("isCiphertext rejects 0, N², values above, and multiples of a factor", () => {
    const { c } = pk.encryptRandom(5n);
    for (const { by, key } of checkers()) {
      expect(
        [c, 1n].map((x) => key.isCiphertext(x)),
        by,
      ).toEqual([true, true]);
      const bad = [0n, -c, pk.n2, pk.n2 + 1n, sk.p, 7n * sk.p, sk.q * sk.q, n];
      expect(
        bad.filter((x) => key.isCiphertext(x)),
        by,
      ).toEqual([]);
    }
  });

  it("isUnit accepts exactly the units below N", () => {
    const unit = randomUnit(n);
    for (const { by, key } of checkers()) {
      expect(key.isUnit(unit), by).toBe(true);
      expect(
        [0n, n, n + 1n, sk.p, 3n * sk.q].filter((x) => key.isUnit(x)),
        by,
      ).toEqual([]);
    }
  });

  it("a secret key whose factors are not prime checks by gcd, and still finds their factors", () => {
    const p = randomPrime(256);
    const q = randomPrime(512);
    const bad = PaillierSecretKey.fromPrimes(p * p, q);
    expect(bad.isCiphertext(p)).toBe(false);
    expect(bad.isUnit(5n * p)).toBe(false);
    expect(bad.isCiphertext(bad.publicKey.encryptRandom(3n).c)).toBe(true);
    // Factors that fool a Fermat test: 341 = 11·31 (a base-2 pseudoprime), 1105 = 5·13·17 (Carmichael).
    for (const [pseudo, factor] of [
      [341n, 11n],
      [1105n, 13n],
    ]) {
      const fooled = PaillierSecretKey.fromPrimes(pseudo as bigint, q);
      expect(fooled.isUnit(factor as bigint)).toBe(false);
      expect(fooled.isCiphertext((factor as bigint) * 3n)).toBe(false);
    }
  });
});

describe("Paillier public key codec", () => {
  const encode = (x: bigint): Uint8Array => {
    const w = new Writer();
    w.bigint(x);
    return w.finish();
  };

  it("round-trips", () => {
    const w = new Writer();
    writePaillierPublicKey(w, pk);
    const r = new Reader(w.finish(), 1);
    expect(readPaillierPublicKey(r).n).toBe(n);
    r.end();
  });

  it("rejects short, even and oversized moduli, naming the sender", () => {
    const short = (1n << BigInt(PAILLIER_MIN_BITS - 1)) - 1n; // 2047 bits, odd
    expect(() => readPaillierPublicKey(new Reader(encode(short), 1))).toThrow(ProtocolAbort);
    expect(() => readPaillierPublicKey(new Reader(encode(n + 1n), 1))).toThrow(ProtocolAbort);
    expect(() => readPaillierPublicKey(new Reader(encode((1n << 8192n) + 1n), 1))).toThrow(ProtocolAbort);
    try {
      readPaillierPublicKey(new Reader(encode(n - 1n), 4));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ProtocolAbort);
      expect((e as ProtocolAbort).culprit).toBe(4);
    }
  });

  it("accepts the largest allowed size", () => {
    const big = (1n << 8192n) - 1n;
    expect(readPaillierPublicKey(new Reader(encode(big), 1)).n).toBe(big);
  });

  it("rejects truncated bytes", () => {
    const w = new Writer();
    writePaillierPublicKey(w, pk);
    const bytes = w.finish();
    expect(() => readPaillierPublicKey(new Reader(bytes.subarray(0, bytes.length - 1), 1))).toThrow(ProtocolAbort);
  });
});

describe("PaillierPublicKey", () => {
  it("rejects a degenerate modulus", () => {
    expect(() => new PaillierPublicKey(1n)).toThrow(RangeError);
  });
});
