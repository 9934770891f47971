import { secp256k1 } from "@noble/curves/secp256k1.js";
import { HDKey } from "@scure/bip32";
import { beforeAll, describe, expect, it } from "vitest";
import { CURVE_ORDER, Point, Reader, Writer } from "../src/codec/codec.js";
import { compactSignature, type Signature } from "../src/ecdsa/signature.js";
import { Ecdsa2pShare, ecdsa2p } from "../src/ecdsa2p/index.js";
import { SetupParty } from "../src/ecdsa2p/setup.js";
import type { RingPedersenLogs } from "../src/ecdsa2p/share.js";
import { PrecomputationTables, SignParty, SignPrecomputation } from "../src/ecdsa2p/sign.js";
import { randomPrime } from "../src/math/primes.js";
import { PaillierSecretKey, writePaillierSecretKey } from "../src/paillier/paillier.js";
import { open, seal } from "../src/session/envelope.js";
import { type Msg, type Party, ProtocolAbort } from "../src/session/party.js";
import { asAnotherProcess } from "../src/session/round-party.js";
import { runLocal } from "../src/session/run-local.js";
import { type RingPedersenParams, type RingPedersenSecret, writeRingPedersenParams } from "../src/zk/ring-pedersen.js";
import { breathe, expectAbort, mutations, newSid, randomHash, record, replayWith, roundOf } from "./helpers.js";

function keygen(): [Ecdsa2pShare, Ecdsa2pShare] {
  const sid = newSid();
  const [a, b] = runLocal([ecdsa2p.keygen({ sid, index: 0 }), ecdsa2p.keygen({ sid, index: 1 })]);
  return [a as Ecdsa2pShare, b as Ecdsa2pShare];
}

function sign(shares: [Ecdsa2pShare, Ecdsa2pShare], messageHash: Uint8Array, path?: string): Signature[] {
  const sid = newSid();
  return runLocal(shares.map((s) => ecdsa2p.sign(s, { sid, messageHash, path })));
}

let shares: [Ecdsa2pShare, Ecdsa2pShare];

beforeAll(() => {
  shares = keygen();
});

describe("ecdsa2p keygen", () => {
  it("gives both parties the same public key and chain code, and x₀ + x₁ behind it", () => {
    const [a, b] = shares;
    expect(a.publicKey.equals(b.publicKey)).toBe(true);
    expect(a.chainCode).toEqual(b.chainCode);
    expect(Point.BASE.multiply((a.x + b.x) % CURVE_ORDER).equals(a.publicKey)).toBe(true);
    expect(ecdsa2p.publicKey(a)).toEqual(ecdsa2p.publicKey(b));
    expect(ecdsa2p.publicKey(a)).toHaveLength(33);
    expect(a.paillier?.publicKey.n).toBe(b.paillierPublic.n);
    expect(a.paillierPublic.n.toString(2)).toHaveLength(2048);
    // Party 1 holds Enc(x₀): party 0 can decrypt it to its own share.
    expect(a.encryptedX0).toBe(b.encryptedX0);
    expect(a.paillier?.decrypt(b.encryptedX0)).toBe(a.x);
  });

  it("round-trips shares through bytes and rejects corrupt ones", () => {
    for (const s of shares) {
      const copy = Ecdsa2pShare.fromBytes(s.toBytes());
      expect(copy.toBytes()).toEqual(s.toBytes());
    }
    const bytes = shares[0].toBytes();
    expect(() => Ecdsa2pShare.fromBytes(bytes.slice(0, -1))).toThrow(ProtocolAbort);
    expect(() => Ecdsa2pShare.fromBytes(new Uint8Array([...bytes, 0]))).toThrow(ProtocolAbort);
    const badVersion = bytes.slice();
    badVersion[0] = 9;
    expect(() => Ecdsa2pShare.fromBytes(badVersion)).toThrow(/version/);
    const badShare = bytes.slice();
    badShare[5] = (badShare[5] as number) ^ 1; // inside x: no longer matches the public key
    expect(() => Ecdsa2pShare.fromBytes(badShare)).toThrow(ProtocolAbort);
    // Every corruption is a ProtocolAbort, never another kind of error.
    for (let i = 0; i < 200; i++) {
      const junk = bytes.slice();
      const at = Math.floor(Math.random() * junk.length);
      junk[at] = (junk[at] as number) ^ (1 << Math.floor(Math.random() * 8));
      let thrown: unknown;
      try {
        Ecdsa2pShare.fromBytes(junk);
      } catch (e) {
        thrown = e;
      }
      if (thrown !== undefined) expect(thrown).toBeInstanceOf(ProtocolAbort);
    }
    expect(() => Ecdsa2pShare.fromBytes(crypto.getRandomValues(new Uint8Array(300)))).toThrow(ProtocolAbort);
  });

  it("party 0 keeps the logs of its ring-Pedersen bases, s and s′, and a share whose logs do not match is refused", () => {
    const [a, b] = shares;
    const sk = a.paillier as PaillierSecretKey;
    const logs = a.ringPedersenLogs as RingPedersenLogs;
    expect(logs.s).toBeTypeOf("bigint");
    expect(logs.s2).toBeTypeOf("bigint");
    expect(a.ringPedersenS2).toBe(b.ringPedersenS2);
    expect(a.ringPedersenS2).not.toBe(a.ringPedersen.s);
    expect(Ecdsa2pShare.fromBytes(a.toBytes()).ringPedersenLogs).toEqual(logs);
    const fields = { ...a, locked: false };
    for (const wrong of [
      { s: logs.s + 1n, s2: logs.s2 },
      { s: logs.s, s2: (logs.s2 as bigint) + 1n },
    ])
      expect(() => Ecdsa2pShare.forParty0(fields, sk, a.encryptedX0, wrong)).toThrow(/λ does not match/);
    expect(() => Ecdsa2pShare.forParty0(fields, sk, a.encryptedX0, { s: logs.s })).toThrow(/logs do not match/);
  });

  /** The shares as versions 1 and 2 wrote them: no second base, and for version 1 no λ either. */
  function olderShare(share: Ecdsa2pShare, version: 1 | 2): Ecdsa2pShare {
    const w = new Writer();
    w.u8(version);
    w.u8(share.index);
    w.scalar(share.x);
    w.point(share.publicKey);
    w.point(share.peerPublic);
    w.fixed(share.chainCode);
    w.bool(false);
    writeRingPedersenParams(w, share.ringPedersen);
    if (share.paillier) {
      writePaillierSecretKey(w, share.paillier);
      if (version === 2) w.optional((share.ringPedersenLogs as RingPedersenLogs).s, (v) => w.bigint(v));
    } else w.bigint(share.paillierPublic.n);
    w.bigint(share.encryptedX0);
    return Ecdsa2pShare.fromBytes(w.finish());
  }

  it.each([1, 2] as const)("still reads and signs with version %i shares, which have no second base", (version) => {
    const [a, b] = shares;
    const old: [Ecdsa2pShare, Ecdsa2pShare] = [olderShare(a, version), olderShare(b, version)];
    expect(old[0].ringPedersenS2).toBeUndefined();
    expect(old[1].ringPedersenS2).toBeUndefined();
    expect(old[0].ringPedersenLogs).toEqual(version === 1 ? undefined : { s: a.ringPedersenLogs?.s });
    const messageHash = randomHash();
    const [sig] = sign(old, messageHash);
    expect(
      secp256k1.verify(compactSignature(sig as Signature), messageHash, a.publicKeyBytes(), { prehash: false }),
    ).toBe(true);
    // Written again, they are version 3 shares, still without s′ (and their fingerprints are unchanged).
    const again = Ecdsa2pShare.fromBytes(old[0].toBytes());
    expect(again.ringPedersenS2).toBeUndefined();
    expect(again.ringPedersenLogs).toEqual(old[0].ringPedersenLogs);
    expect(again.fingerprint()).toEqual(old[0].fingerprint());
    // A share with s′ and one without are for different key states: they do not sign together.
    expect(() => sign([a, old[1]], randomHash())).toThrow(ProtocolAbort);
    // A refresh gives them a second base.
    const sid = newSid();
    const fresh = runLocal(old.map((s) => ecdsa2p.refresh(s, { sid }))) as [Ecdsa2pShare, Ecdsa2pShare];
    expect(fresh[0].ringPedersenS2).toBeTypeOf("bigint");
    expect(fresh[1].ringPedersenS2).toBe(fresh[0].ringPedersenS2);
    expect(fresh[0].ringPedersenLogs?.s2).toBeTypeOf("bigint");
  });
});

describe("prepared keygen", () => {
  it("uses moduli generated ahead of time once, and the shares sign", () => {
    const pre = [ecdsa2p.prepare(0), ecdsa2p.prepare(1)] as const;
    const sid = newSid();
    const [a, b] = runLocal([
      ecdsa2p.keygen({ sid, index: 0, prepared: pre[0] }),
      ecdsa2p.keygen({ sid, index: 1, prepared: pre[1] }),
    ]) as [Ecdsa2pShare, Ecdsa2pShare];
    const h = randomHash();
    const [sig] = sign([a, b], h) as [Signature];
    expect(secp256k1.verify(compactSignature(sig), h, ecdsa2p.publicKey(a), { prehash: false })).toBe(true);
    expect(() => ecdsa2p.keygen({ sid: newSid(), index: 0, prepared: pre[0] })).toThrow(/already used/);
    expect(() => ecdsa2p.keygen({ sid: newSid(), index: 0, prepared: ecdsa2p.prepare(1) })).toThrow(/another party/);
  });
});

describe("ecdsa2p signing", () => {
  // 32: enough that both recovery ids 0 and 1, and s on both sides of n/2 before low-S
  // normalisation, come up, each but for a chance of 2⁻³¹; recovery ids 2 and 3 are the
  // signature check's tests.
  it("signs 32 random hashes: standard, low-S, recoverable, and both parties agree", async () => {
    const pub = ecdsa2p.publicKey(shares[0]);
    for (let i = 0; i < 32; i++) {
      await breathe();
      const h = randomHash();
      const [s0, s1] = sign(shares, h) as [Signature, Signature];
      expect(s1).toEqual(s0);
      const compact = compactSignature(s0);
      expect(secp256k1.verify(compact, h, pub, { prehash: false })).toBe(true);
      const parsed = new secp256k1.Signature(s0.r, s0.s, s0.recovery);
      expect(parsed.hasHighS()).toBe(false);
      expect(parsed.recoverPublicKey(h).toBytes(true)).toEqual(pub);
    }
  });

  it("signs at a non-hardened path under the key @scure/bip32 derives from the xpub", () => {
    const xpub = new HDKey({ publicKey: ecdsa2p.publicKey(shares[0]), chainCode: shares[0].chainCode });
    for (const path of ["m/0/7", "m/1/2/3"]) {
      const child = xpub.derive(path).publicKey as Uint8Array;
      expect(ecdsa2p.publicKey(shares[0], path)).toEqual(child);
      expect(ecdsa2p.publicKey(shares[1], path)).toEqual(child);
      const h = randomHash();
      const [sig] = sign(shares, h, path) as [Signature];
      expect(secp256k1.verify(compactSignature(sig), h, child, { prehash: false })).toBe(true);
      expect(secp256k1.verify(compactSignature(sig), h, ecdsa2p.publicKey(shares[0]), { prehash: false })).toBe(false);
    }
  });

  it("refuses hardened paths and disagreeing inputs", () => {
    expect(() => ecdsa2p.sign(shares[0], { sid: newSid(), messageHash: randomHash(), path: "m/0'" })).toThrow(
      /hardened/,
    );
    const sid = newSid();
    const parties = [
      ecdsa2p.sign(shares[0], { sid, messageHash: randomHash() }),
      ecdsa2p.sign(shares[1], { sid, messageHash: randomHash() }),
    ];
    expectAbort(() => runLocal(parties), 0, /disagree/);
  });

  it("uses a precomputation once and refuses it a second time", () => {
    const pre = ecdsa2p.precompute(shares[1]);
    const sid = newSid();
    const h = randomHash();
    const [sig] = runLocal([
      ecdsa2p.sign(shares[0], { sid, messageHash: h }),
      ecdsa2p.sign(shares[1], { sid, messageHash: h, precomputed: pre }),
    ]) as [Signature];
    expect(secp256k1.verify(compactSignature(sig), h, ecdsa2p.publicKey(shares[0]), { prehash: false })).toBe(true);
    expect(() => ecdsa2p.sign(shares[1], { sid: newSid(), messageHash: h, precomputed: pre })).toThrow(/already used/);
  });

  it("moves a precomputation made from public values alone to another thread, once", async () => {
    const key = ecdsa2p.precomputationKey(shares[1]);
    expect(() => ecdsa2p.precomputationKey(shares[0])).toThrow(/only party 1/);
    // What a worker does: it has party 0's public values only, and posts the parts back.
    const tables = new PrecomputationTables(structuredClone(key));
    expect(tables.isFor(key)).toBe(true);
    expect(tables.isFor({ ...key, encryptedX0: key.encryptedX0 + 1n })).toBe(false);
    expect(tables.isFor({ ...key, ringPedersen: { ...key.ringPedersen, t: key.ringPedersen.s } })).toBe(false);
    expect(tables.isFor({ ...key, ringPedersenS2: undefined })).toBe(false);
    const made = SignPrecomputation.forKey(tables);
    const parts = structuredClone(made.toParts());
    expect(() => made.toParts()).toThrow(/already used/);
    expect(Object.keys(key).sort()).toEqual(["encryptedX0", "paillierN", "ringPedersen", "ringPedersenS2"]);
    const sid = newSid();
    const h = randomHash();
    const [sig] = runLocal([
      ecdsa2p.sign(shares[0], { sid, messageHash: h }),
      ecdsa2p.sign(shares[1], { sid, messageHash: h, precomputed: SignPrecomputation.fromParts(parts) }),
    ]) as [Signature];
    expect(secp256k1.verify(compactSignature(sig), h, ecdsa2p.publicKey(shares[0]), { prehash: false })).toBe(true);
    // The tables serve the key's next precomputations too.
    const again = newSid();
    const [second] = runLocal([
      ecdsa2p.sign(shares[0], { sid: again, messageHash: h }),
      ecdsa2p.sign(shares[1], { sid: again, messageHash: h, precomputed: SignPrecomputation.forKey(tables) }),
    ]) as [Signature];
    expect(secp256k1.verify(compactSignature(second), h, ecdsa2p.publicKey(shares[0]), { prehash: false })).toBe(true);
    // Parts for another key are refused when the run takes them, not used.
    expect(() => new PrecomputationTables({ ...key, ringPedersen: { ...key.ringPedersen, n: 7n } })).toThrow(
      /ring-Pedersen/,
    );
    const foreign = SignPrecomputation.fromParts({
      ...SignPrecomputation.forKey(tables).toParts(),
      n: key.paillierN + 2n,
    });
    expect(() => ecdsa2p.sign(shares[1], { sid: newSid(), messageHash: h, precomputed: foreign })).toThrow(
      /another key/,
    );
  });
});

describe("save and restore", () => {
  const roundTrip = (restore: (b: Uint8Array) => Party<unknown>) => (p: Party<unknown>) => restore(p.save());

  it("keygen restored between every round gives working shares", () => {
    const sid = newSid();
    const [a, b] = runLocal([ecdsa2p.keygen({ sid, index: 0 }), ecdsa2p.keygen({ sid, index: 1 })], {
      between: roundTrip(ecdsa2p.restoreKeygen),
    }) as [Ecdsa2pShare, Ecdsa2pShare];
    expect(a.publicKey.equals(b.publicKey)).toBe(true);
    const h = randomHash();
    const [sig] = sign([a, b], h) as [Signature];
    expect(secp256k1.verify(compactSignature(sig), h, ecdsa2p.publicKey(a), { prehash: false })).toBe(true);
  });

  it("signing restored between every round gives the same valid signature at both parties", () => {
    const sid = newSid();
    const h = randomHash();
    const sigs = runLocal(
      shares.map((s) => ecdsa2p.sign(s, { sid, messageHash: h, path: "m/0/7" })),
      { between: (p, i) => ecdsa2p.restoreSign(shares[i] as Ecdsa2pShare, p.save()) },
    ) as Signature[];
    expect(sigs[0]).toEqual(sigs[1]);
    const child = ecdsa2p.publicKey(shares[0], "m/0/7");
    expect(secp256k1.verify(compactSignature(sigs[0] as Signature), h, child, { prehash: false })).toBe(true);
  });

  it("refuses a refresh state restored with another share, and corrupt states", () => {
    const other = keygen();
    const p = ecdsa2p.refresh(shares[1], { sid: newSid() });
    p.start();
    expectAbort(() => ecdsa2p.restoreRefresh(other[1], p.save()), null, /another share/);
    expectAbort(() => ecdsa2p.restoreSign(shares[0], crypto.getRandomValues(new Uint8Array(200))), null);
    expectAbort(() => ecdsa2p.restoreKeygen(new Uint8Array(0)), null);
  });

  it("refuses to restore a signing state with the wrong share", () => {
    const p = ecdsa2p.sign(shares[0], { sid: newSid(), messageHash: randomHash() });
    p.start();
    expect(() => ecdsa2p.restoreSign(shares[1], p.save())).toThrow(/other party/);
  });
});

describe("refresh", () => {
  it("keeps the public key, unlocks, and old shares do not combine with new ones", () => {
    const sid = newSid();
    const [a, b] = runLocal(shares.map((s) => ecdsa2p.refresh(s, { sid }))) as [Ecdsa2pShare, Ecdsa2pShare];
    expect(a.publicKey.equals(shares[0].publicKey)).toBe(true);
    expect(a.chainCode).toEqual(shares[0].chainCode);
    expect(a.x).not.toBe(shares[0].x);
    expect(a.paillierPublic.n).not.toBe(shares[0].paillierPublic.n);
    const h = randomHash();
    const [sig] = sign([a, b], h) as [Signature];
    expect(secp256k1.verify(compactSignature(sig), h, ecdsa2p.publicKey(a), { prehash: false })).toBe(true);
    expectAbort(() => sign([shares[0], b], h), 0, /disagree/);
    expectAbort(() => sign([a, shares[1]], h), 0, /disagree/);
  });

  it("restored between every round still refreshes", () => {
    const sid = newSid();
    const [a, b] = runLocal(
      shares.map((s) => ecdsa2p.refresh(s, { sid })),
      { between: (p, i) => ecdsa2p.restoreRefresh(shares[i] as Ecdsa2pShare, p.save()) },
    ) as [Ecdsa2pShare, Ecdsa2pShare];
    expect(a.publicKey.equals(b.publicKey) && a.publicKey.equals(shares[0].publicKey)).toBe(true);
  });
});

/** A party 1 that multiplies Enc(x₀) by a + q·2^600 (≡ a mod q): the wrap-around oracle of CVE-2023-33242. */
class OracleParty1 extends SignParty {
  protected override affineCoefficient(a: bigint): bigint {
    return a + (CURVE_ORDER << 600n);
  }
}

/** A party 1 that applies an in-range but wrong multiplier: Πaff passes, the signature cannot. */
class WrongMultiplierParty1 extends SignParty {
  protected override affineCoefficient(a: bigint): bigint {
    return (a + 1n) % CURVE_ORDER;
  }
}

/** A party 0 that encrypts something other than its share in keygen. */
class LyingParty0 extends SetupParty {
  constructor(
    sid: Uint8Array,
    private readonly lie: (x0: bigint) => bigint,
  ) {
    super("keygen", 0, sid, 2048, undefined);
  }
  protected override plaintextOfShare(x0: bigint): bigint {
    return this.lie(x0);
  }
}

/**
 * A party 0 whose second ring-Pedersen base is −t^λ′, outside ⟨t⟩ (−1 is not a square mod a Blum
 * modulus): commitments under it would show party 0 something of y, so party 1 must refuse it.
 */
class OutsideBaseParty0 extends SetupParty {
  constructor(sid: Uint8Array) {
    super("keygen", 0, sid, 2048, undefined);
  }
  protected override secondBase(params: RingPedersenParams, secret: RingPedersenSecret) {
    const honest = super.secondBase(params, secret);
    return { params: { ...honest.params, s: params.n - honest.params.s }, secret: honest.secret };
  }
}

function keygenWithPaillier(sk: PaillierSecretKey): Party<Ecdsa2pShare>[] {
  const sid = newSid();
  return [
    new SetupParty("keygen", 0, sid, 2048, undefined, { step: 0, paillier: sk }),
    ecdsa2p.keygen({ sid, index: 1 }),
  ];
}

function blumPrime(bits: number, wanted: bigint): bigint {
  for (;;) {
    const p = randomPrime(bits);
    if (p % 4n === wanted) return p;
  }
}

describe("a malicious party 0 in keygen", () => {
  it("is caught using a Paillier modulus with a small factor", () => {
    const small = PaillierSecretKey.fromPrimes(3n, blumPrime(2047, 3n));
    expectAbort(() => runLocal(keygenWithPaillier(small)), 0, /Πmod/);
  });

  it("is caught using a modulus with an unbalanced (too small) factor", () => {
    const p = randomPrime(256, true);
    const q = randomPrime(1792, true);
    expectAbort(() => runLocal(keygenWithPaillier(PaillierSecretKey.fromPrimes(p, q))), 0, /Πfac/);
  });

  it("is caught using a modulus that is not Paillier–Blum", () => {
    const notBlum = PaillierSecretKey.fromPrimes(blumPrime(1024, 1n), blumPrime(1024, 3n));
    expectAbort(() => runLocal(keygenWithPaillier(notBlum)), 0, /Πmod/);
  });

  it("is caught using a second ring-Pedersen base outside ⟨t⟩", () => {
    const sid = newSid();
    expectAbort(() => runLocal([new OutsideBaseParty0(sid), ecdsa2p.keygen({ sid, index: 1 })]), 0, /second base/);
  });

  it("is caught encrypting a value out of range", () => {
    const sid = newSid();
    const parties = [new LyingParty0(sid, (x) => x + (CURVE_ORDER << 800n)), ecdsa2p.keygen({ sid, index: 1 })];
    expectAbort(() => runLocal(parties), 0, /Πlog/);
  });

  it("is caught encrypting a value that does not match its public share", () => {
    const sid = newSid();
    const parties = [new LyingParty0(sid, (x) => (x + 1n) % CURVE_ORDER), ecdsa2p.keygen({ sid, index: 1 })];
    expectAbort(() => runLocal(parties), 0, /Πlog/);
  });
});

describe("tampered and replayed messages", () => {
  it("every round of keygen: flipped, truncated or extended bytes abort naming the sender", () => {
    const sid = newSid();
    const rec = record([ecdsa2p.keygen({ sid, index: 0 }), ecdsa2p.keygen({ sid, index: 1 })]);
    expect(rec.sent).toHaveLength(6);
    rec.sent.forEach(({ msg }, k) => {
      for (const [, bad] of mutations(msg)) {
        expectAbort(
          replayWith(rec, k, bad, (_, state) => ecdsa2p.restoreKeygen(state)),
          msg.from,
        );
      }
    });
  });

  it("every round of signing: flipped, truncated or extended bytes abort naming the sender, never a wrong signature", () => {
    const sid = newSid();
    const h = randomHash();
    const rec = record(shares.map((s) => ecdsa2p.sign(s, { sid, messageHash: h })));
    expect(rec.sent).toHaveLength(5);
    rec.sent.forEach(({ msg }, k) => {
      for (const [, bad] of mutations(msg)) {
        // Copies of the shares, so that a lock caused here does not affect the other tests.
        const copies = shares.map((s) => Ecdsa2pShare.fromBytes(s.toBytes()));
        expectAbort(
          replayWith(rec, k, bad, (i, state) => ecdsa2p.restoreSign(copies[i] as Ecdsa2pShare, state)),
          msg.from,
        );
      }
    });
  });

  it("a message from another session is refused", () => {
    const h = randomHash();
    const otherSid = newSid();
    const other = record(shares.map((s) => ecdsa2p.sign(s, { sid: otherSid, messageHash: h })));
    const sid = newSid();
    const parties = shares.map((s) => ecdsa2p.sign(s, { sid, messageHash: h }));
    const first = other.sent[0]?.msg as Msg;
    (parties[0] as Party<Signature>).start();
    (parties[1] as Party<Signature>).start();
    expectAbort(() => (parties[1] as Party<Signature>).handle([first]), 0, /another session/);
  });

  it("a wrong nonce commitment opening is caught", () => {
    const sid = newSid();
    const h = randomHash();
    const r3 = roundOf(record(shares.map((s) => ecdsa2p.sign(s, { sid, messageHash: h }))), 2);
    const body = open(r3.msg, "ecdsa2p/sign", sid, 3);
    const nonce = body.fixed(32);
    const opened = new Reader(body.bytes(), 0);
    opened.point();
    const w = new Writer();
    w.point(Point.BASE.multiply(42n)); // a different R₀, with the original proof bytes
    const rest = r3.msg.payload.slice(r3.msg.payload.length - 65);
    const forged = seal("ecdsa2p/sign", sid, 3, (ww) => {
      ww.fixed(nonce);
      ww.bytes(new Uint8Array([...w.finish(), ...rest]));
    });
    // The recorded run has resumed that state in this process already: replay it as another would.
    expectAbort(
      () => asAnotherProcess(() => ecdsa2p.restoreSign(shares[1], r3.state).handle([{ ...r3.msg, payload: forged }])),
      0,
      /opening/,
    );
  });
});

describe("a malicious party 1 in signing (CVE-2023-33242)", () => {
  it("an out-of-range multiplier on Enc(x₀) is caught by Πaff before any signature is formed", () => {
    const own = Ecdsa2pShare.fromBytes(shares[0].toBytes());
    const sid = newSid();
    const h = randomHash();
    const parties = [ecdsa2p.sign(own, { sid, messageHash: h }), new OracleParty1(shares[1], sid, h, undefined)];
    expectAbort(() => runLocal(parties), 1, /Πaff/);
    expect(own.locked).toBe(true);
  });

  it("an in-range wrong multiplier passes Πaff but never yields a wrong signature", () => {
    const own = Ecdsa2pShare.fromBytes(shares[0].toBytes());
    const sid = newSid();
    const h = randomHash();
    const parties = [
      ecdsa2p.sign(own, { sid, messageHash: h }),
      new WrongMultiplierParty1(shares[1], sid, h, undefined),
    ];
    expectAbort(() => runLocal(parties), 1, /signature does not verify/);
    expect(own.locked).toBe(true);
  });

  it("a bad final ciphertext aborts, locks party 0's share, and only a refresh unlocks it", () => {
    const own = Ecdsa2pShare.fromBytes(shares[0].toBytes());
    const sid = newSid();
    const h = randomHash();
    const rec = record([ecdsa2p.sign(own, { sid, messageHash: h }), ecdsa2p.sign(shares[1], { sid, messageHash: h })]);
    const r4 = roundOf(rec, 3);
    const body = open(r4.msg, "ecdsa2p/sign", sid, 4);
    const c3 = body.bigint(16384);
    const proofBytes = body.rest();
    const pk = own.paillierPublic;
    const shifted = (c3 * (1n + pk.n)) % pk.n2; // plaintext + 1: still a valid ciphertext
    const forged = seal("ecdsa2p/sign", sid, 4, (w) => {
      w.bigint(shifted);
      w.fixed(proofBytes);
    });
    expectAbort(
      () => asAnotherProcess(() => ecdsa2p.restoreSign(own, r4.state).handle([{ ...r4.msg, payload: forged }])),
      1,
      /Πaff.*locked/,
    );
    expect(own.locked).toBe(true);
    // Restoring the state saved before round 5 does not buy a second decryption, even in a process
    // that has not resumed it yet: the lock is in the share.
    expectAbort(() => asAnotherProcess(() => ecdsa2p.restoreSign(own, r4.state).handle([r4.msg])), null, /locked/);
    // The lock is part of the share and survives persistence.
    const persisted = Ecdsa2pShare.fromBytes(own.toBytes());
    expect(persisted.locked).toBe(true);
    expectAbort(() => ecdsa2p.sign(persisted, { sid: newSid(), messageHash: h }).start(), null, /locked/);
    const refreshSid = newSid();
    const [a, b] = runLocal([
      ecdsa2p.refresh(persisted, { sid: refreshSid }),
      ecdsa2p.refresh(shares[1], { sid: refreshSid }),
    ]) as [Ecdsa2pShare, Ecdsa2pShare];
    expect(a.locked).toBe(false);
    const [sig] = sign([a, b], h) as [Signature];
    expect(secp256k1.verify(compactSignature(sig), h, ecdsa2p.publicKey(a), { prehash: false })).toBe(true);
  });
});
