import { readFileSync } from "node:fs";
import { ed25519 } from "@noble/curves/ed25519.js";
import { schnorr, secp256k1 } from "@noble/curves/secp256k1.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { HDKey } from "@scure/bip32";
import * as btc from "@scure/btc-signer";
import { beforeAll, describe, expect, it } from "vitest";
import type { Writer } from "../src/codec/codec.js";
import { CURVES, type FrostCurve } from "../src/frost/curve.js";
import { FrostShare, frost } from "../src/frost/index.js";
import { KeygenParty } from "../src/frost/keygen.js";
import { SignParty } from "../src/frost/sign.js";
import { DerivationError } from "../src/hd/derive.js";
import { open, seal } from "../src/session/envelope.js";
import type { Msg, Party, ProtocolAbort } from "../src/session/party.js";
import { asAnotherProcess } from "../src/session/round-party.js";
import { runLocal } from "../src/session/run-local.js";
import { breathe, expectAbort, expectBlamed, mutations, newSid, record, replayEach, runEach } from "./helpers.js";

type Engine = (typeof frost)["ed25519"];
const CURVE_NAMES = ["ed25519", "secp256k1tr"] as const;
type Name = (typeof CURVE_NAMES)[number];
const text = (s: string) => new TextEncoder().encode(s);
const MESSAGE = text("keyshard frost test");

function keygen(engine: Engine, n: number, t: number): FrostShare[] {
  const sid = newSid();
  return runLocal(Array.from({ length: n }, (_, index) => engine.keygen({ sid, index, n, t })));
}

function sign(
  engine: Engine,
  shares: FrostShare[],
  signers: number[],
  message = MESSAGE,
  extra: { path?: string; merkleRoot?: Uint8Array } = {},
): Uint8Array[] {
  const sid = newSid();
  const parties = signers.map((i) => engine.sign(shares[i] as FrostShare, { sid, message, signers, ...extra }));
  return runLocal(parties, { indices: signers });
}

function verify(name: Name, signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  return name === "ed25519"
    ? ed25519.verify(signature, message, publicKey, { zip215: false })
    : schnorr.verify(signature, message, publicKey);
}

function subsets(n: number, t: number): number[][] {
  if (t === 0) return [[]];
  if (n < t) return [];
  return [...subsets(n - 1, t), ...subsets(n - 1, t - 1).map((s) => [...s, n - 1])];
}

/** The group secret behind some shares (test only: what an attacker holding them would learn). */
function combine(shares: FrostShare[], t: number): Uint8Array {
  const suite = (shares[0] as FrostShare).curve.suite;
  return suite.combineSecret(
    shares.map((s) => ({ identifier: suite.Identifier.fromNumber(s.index + 1), signingShare: s.signingShare })),
    { min: t, max: Math.max(t, ...shares.map((s) => s.n)) },
  );
}
function publicOf(curve: FrostCurve, secret: Uint8Array): string {
  return bytesToHex(curve.BASE.multiplyUnsafe(curve.Fn.fromBytes(secret)).toBytes());
}

describe("RFC 9591 test vectors through keyshard's signing parties", () => {
  const vectors = JSON.parse(readFileSync(new URL("./vectors/frost-rfc9591.json", import.meta.url), "utf8"));

  for (const name of ["ed25519", "secp256k1"] as const) {
    it(`${name}: nonce commitments, signature shares and signature match`, () => {
      const v = vectors[name];
      const curve = CURVES[name];
      const shareBytes = (v.participant_shares as string[]).map((h) => hexToBytes(h));
      const verifyingShares = shareBytes.map((s) => curve.BASE.multiplyUnsafe(curve.Fn.fromBytes(s)).toBytes());
      const signers = (v.participant_list as number[]).map((id) => id - 1);
      const sid = newSid();
      const message = hexToBytes(v.message);
      const parties = signers.map((i) => {
        const share = new FrostShare({
          curve,
          index: i,
          n: 3,
          t: 2,
          signingShare: shareBytes[i] as Uint8Array,
          groupKey: hexToBytes(v.group_public_key),
          verifyingShares,
          chainCode: new Uint8Array(32),
        });
        const r1 = v.round_one[String(i + 1)];
        const randomness = [r1.hiding_nonce_randomness, r1.binding_nonce_randomness].map((h: string) => hexToBytes(h));
        return new SignParty(
          share,
          { sid, message, signers },
          undefined,
          () => randomness.shift() as Uint8Array<ArrayBuffer>,
        );
      });
      const protocol = `frost-${name}/sign`;
      const seen: string[] = [];
      const signatures = runLocal(parties, {
        indices: signers,
        intercept: (msg) => {
          const id = String(msg.from + 1);
          const round = msg.payload.length > 32 + 2 * curve.pointBytes ? 1 : 2;
          const r = open(msg, protocol, sid, round);
          if (round === 1) {
            r.fixed(32);
            expect(bytesToHex(r.fixed(curve.pointBytes))).toBe(v.round_one[id].hiding_nonce_commitment);
            expect(bytesToHex(r.fixed(curve.pointBytes))).toBe(v.round_one[id].binding_nonce_commitment);
          } else {
            expect(bytesToHex(r.fixed(32))).toBe(v.sig_shares[id]);
          }
          seen.push(`${round}/${id}`);
          return msg;
        },
      });
      expect(seen.sort()).toEqual(["1/1", "1/3", "2/1", "2/3"]);
      for (const sig of signatures) expect(bytesToHex(sig)).toBe(v.sig);
    });
  }
});

for (const name of CURVE_NAMES) {
  const engine: Engine = frost[name];

  describe(`frost.${name}`, () => {
    const keys = new Map<string, FrostShare[]>();
    beforeAll(() => {
      for (const [n, t] of [
        [2, 2],
        [3, 2],
        [5, 3],
      ] as const) {
        keys.set(`${n},${t}`, keygen(engine, n, t));
      }
    });

    for (const [n, t] of [
      [2, 2],
      [3, 2],
      [5, 3],
    ] as const) {
      it(`(${n},${t}): keygen, then every ${t}-subset signs a standard signature`, async () => {
        const shares = keys.get(`${n},${t}`) as FrostShare[];
        const publicKey = engine.publicKey(shares[0] as FrostShare);
        expect(publicKey).toHaveLength(32);
        for (const s of shares) {
          expect(bytesToHex(engine.publicKey(s))).toBe(bytesToHex(publicKey));
          expect(bytesToHex(s.chainCode)).toBe(bytesToHex((shares[0] as FrostShare).chainCode));
        }
        // The shares are a t-of-n sharing of one secret behind the group key, and t − 1 are not.
        const curve = (shares[0] as FrostShare).curve;
        expect(publicOf(curve, combine(shares.slice(0, t), t))).toBe(bytesToHex((shares[0] as FrostShare).groupKey));
        for (const signers of subsets(n, t)) {
          const message = text(`message for ${signers.join(",")}`);
          const signatures = sign(engine, shares, signers, message);
          for (const sig of signatures) {
            expect(sig).toHaveLength(64);
            expect(bytesToHex(sig)).toBe(bytesToHex(signatures[0] as Uint8Array));
          }
          expect(verify(name, signatures[0] as Uint8Array, message, publicKey)).toBe(true);
          expect(verify(name, signatures[0] as Uint8Array, text("another message"), publicKey)).toBe(false);
          await breathe();
        }
        // More than t signers also sign.
        const all = shares.map((s) => s.index);
        expect(verify(name, sign(engine, shares, all)[0] as Uint8Array, MESSAGE, publicKey)).toBe(true);
      });
    }

    it("shares round-trip through bytes and refuse corruption", () => {
      const shares = keys.get("3,2") as FrostShare[];
      const share = shares[1] as FrostShare;
      const copy = FrostShare.fromBytes(share.toBytes());
      expect(bytesToHex(copy.toBytes())).toBe(bytesToHex(share.toBytes()));
      const sig = sign(engine, [shares[0] as FrostShare, copy], [0, 1])[0] as Uint8Array;
      expect(verify(name, sig, MESSAGE, engine.publicKey(share))).toBe(true);
      const bytes = share.toBytes();
      // Every field but the chain code is checked algebraically; the keystore's encryption
      // (its authentication tag) is what protects the chain code at rest.
      for (const pos of [0, 3, 20, bytes.length - 33, bytes.length - 1]) {
        const bad = bytes.slice();
        bad[pos] = (bad[pos] as number) ^ 0x04;
        expectAbort(() => FrostShare.fromBytes(bad), null);
      }
      expectAbort(() => FrostShare.fromBytes(bytes.slice(0, -1)), null);
      expectAbort(() => FrostShare.fromBytes(new Uint8Array([...bytes, 0])), null);
    });

    it("refresh keeps the key; old and new shares do not combine", () => {
      const shares = keys.get("3,2") as FrostShare[];
      const sid = newSid();
      const fresh = runLocal(shares.map((s) => engine.refresh(s, { sid })));
      const publicKey = engine.publicKey(shares[0] as FrostShare);
      for (const s of fresh) expect(bytesToHex(engine.publicKey(s))).toBe(bytesToHex(publicKey));
      expect(bytesToHex((fresh[0] as FrostShare).signingShare)).not.toBe(
        bytesToHex((shares[0] as FrostShare).signingShare),
      );
      expect(verify(name, sign(engine, fresh, [0, 2])[0] as Uint8Array, MESSAGE, publicKey)).toBe(true);
      // An old share with a new one: the signing run fails, and together they give no key.
      const mixed = [shares[0] as FrostShare, fresh[1] as FrostShare];
      expectAbort(() => sign(engine, mixed, [0, 1]), 1, /different message, key/);
      const curve = (shares[0] as FrostShare).curve;
      expect(publicOf(curve, combine(mixed, 2))).not.toBe(bytesToHex((shares[0] as FrostShare).groupKey));
    });

    it("reshare 2-of-3 → 3-of-5 (two devices added) → 2-of-2 (three removed): same key, removed shares useless", async () => {
      const shares = keys.get("3,2") as FrostShare[];
      const publicKey = engine.publicKey(shares[0] as FrostShare);
      // Parties 0 and 2 deal; 1 stays without dealing; two newcomers join.
      const grow = [
        { old: 0, new: 0 },
        { old: 2, new: 2 },
        { old: null, new: 1 },
        { old: null, new: 3 },
        { old: null, new: 4 },
      ];
      const sid = newSid();
      const dealers: (FrostShare | null)[] = [shares[0] as FrostShare, shares[2] as FrostShare, null, null, null];
      const grown = runLocal(
        grow.map((_, index) =>
          engine.reshare(dealers[index] ?? null, { sid, members: grow, index, threshold: 3, publicKey }),
        ),
      ).map((s) => s as FrostShare);
      const byIndex = [...grown].sort((a, b) => a.index - b.index);
      for (const s of byIndex) {
        expect([s.n, s.t]).toEqual([5, 3]);
        expect(bytesToHex(engine.publicKey(s))).toBe(bytesToHex(publicKey));
      }
      for (const signers of [
        [0, 1, 2],
        [1, 3, 4],
        [0, 2, 4],
      ]) {
        expect(verify(name, sign(engine, byIndex, signers)[0] as Uint8Array, MESSAGE, publicKey)).toBe(true);
        await breathe();
      }
      // Two of the new set are below the new threshold.
      expect(() => sign(engine, byIndex, [0, 1])).toThrow(RangeError);

      // Shrink to 2-of-2 among new parties 3 and 4; 0 leaves but deals, 1 and 2 are gone.
      const shrink = [
        { old: 0, new: null },
        { old: 3, new: 0 },
        { old: 4, new: 1 },
      ];
      const sid2 = newSid();
      const [left, a, b] = runLocal(
        shrink.map((m, index) =>
          engine.reshare(byIndex[m.old] as FrostShare, { sid: sid2, members: shrink, index, threshold: 2 }),
        ),
      );
      expect(left).toBeNull();
      const pair = [a as FrostShare, b as FrostShare];
      expect(verify(name, sign(engine, pair, [0, 1])[0] as Uint8Array, MESSAGE, publicKey)).toBe(true);
      // The removed parties' shares interpolate to nothing with the new ones.
      const curve = (pair[0] as FrostShare).curve;
      expect(publicOf(curve, combine(pair, 2))).toBe(bytesToHex((pair[0] as FrostShare).groupKey));
      expect(publicOf(curve, combine([byIndex[1] as FrostShare, pair[0] as FrostShare], 2))).not.toBe(
        bytesToHex((pair[0] as FrostShare).groupKey),
      );
    });

    it("replacing a lost device: the lost device's old share cannot take part", () => {
      const shares = keys.get("3,2") as FrostShare[];
      const publicKey = engine.publicKey(shares[0] as FrostShare);
      // Device 1 is lost; a new device takes index 1; devices 0 and 2 deal.
      const members = [
        { old: 0, new: 0 },
        { old: 2, new: 2 },
        { old: null, new: 1 },
      ];
      const sid = newSid();
      const dealers = [shares[0] as FrostShare, shares[2] as FrostShare, null];
      const replaced = runLocal(
        members.map((_, index) =>
          engine.reshare(dealers[index] ?? null, { sid, members, index, threshold: 2, publicKey }),
        ),
      ).map((s) => s as FrostShare);
      const byIndex = [...replaced].sort((x, y) => x.index - y.index);
      expect(verify(name, sign(engine, byIndex, [0, 1])[0] as Uint8Array, MESSAGE, publicKey)).toBe(true);
      // The lost share has the same index, n and t as the new device's, and still cannot sign.
      const lost = shares[1] as FrostShare;
      expectAbort(() => sign(engine, [byIndex[0] as FrostShare, lost], [0, 1]), 1, /different message, key/);
      const curve = lost.curve;
      expect(publicOf(curve, combine([byIndex[0] as FrostShare, lost], 2))).not.toBe(bytesToHex(lost.groupKey));
      expect(publicOf(curve, combine([byIndex[0] as FrostShare, byIndex[1] as FrostShare], 2))).toBe(
        bytesToHex(lost.groupKey),
      );
    });

    it("a newcomer refuses a key other than the one it expects", () => {
      const shares = keys.get("2,2") as FrostShare[];
      const other = keys.get("3,2") as FrostShare[];
      const members = [
        { old: 0, new: 0 },
        { old: 1, new: 1 },
        { old: null, new: 2 },
      ];
      const sid = newSid();
      const parties = members.map((m, index) =>
        engine.reshare(m.old === null ? null : (shares[m.old] as FrostShare), {
          sid,
          members,
          index,
          threshold: 2,
          publicKey: engine.publicKey(other[0] as FrostShare),
        }),
      );
      expectAbort(() => runLocal(parties), 0, /other than the expected/);
    });

    it("save and restore between every round: keygen, signing and reshare", () => {
      const sid = newSid();
      const shares = runLocal(
        [0, 1, 2].map((index) => engine.keygen({ sid, index, n: 3, t: 2 })),
        { between: (p) => engine.restoreKeygen(p.save()) as Party<unknown> as Party<FrostShare> },
      );
      const publicKey = engine.publicKey(shares[0] as FrostShare);
      const signSid = newSid();
      const signers = [1, 2];
      const sigs = runLocal(
        signers.map((i) => engine.sign(shares[i] as FrostShare, { sid: signSid, message: MESSAGE, signers })),
        {
          indices: signers,
          between: (p, position) =>
            engine.restoreSign(shares[signers[position] as number] as FrostShare, p.save()) as Party<unknown>,
        },
      );
      expect(verify(name, sigs[0] as Uint8Array, MESSAGE, publicKey)).toBe(true);
      const refreshSid = newSid();
      const fresh = runLocal(
        shares.map((s) => engine.refresh(s, { sid: refreshSid })),
        { between: (p) => engine.restoreReshare(p.save()) as Party<unknown> },
      );
      expect(verify(name, sign(engine, fresh, [0, 1])[0] as Uint8Array, MESSAGE, publicKey)).toBe(true);
    });

    it("a signing state cannot be resumed into a second signature share", () => {
      const shares = keys.get("2,2") as FrostShare[];
      const sid = newSid();
      const signers = [0, 1];
      const p0 = engine.sign(shares[0] as FrostShare, { sid, message: MESSAGE, signers });
      const p1 = engine.sign(shares[1] as FrostShare, { sid, message: MESSAGE, signers });
      const r1 = [...p0.start(), ...p1.start()];
      const saved = p0.save();
      const first = engine.restoreSign(shares[0] as FrostShare, saved);
      expect(first.handle(r1.filter((m) => m.from === 1))).toHaveLength(1);
      const second = engine.restoreSign(shares[0] as FrostShare, saved);
      expectAbort(() => second.handle(r1.filter((m) => m.from === 1)), null, /resumed already/);
      // Also through a share decoded afresh, as a service loads it for each request.
      const reloaded = engine.restoreSign(FrostShare.fromBytes((shares[0] as FrostShare).toBytes()), saved);
      expectAbort(() => reloaded.handle(r1.filter((m) => m.from === 1)), null, /resumed already/);
      // And the live party whose state was saved cannot sign either.
      expectAbort(() => p0.handle(r1.filter((m) => m.from === 1)), null, /resumed already/);
    });

    it("refuses bad options and foreign states", () => {
      const shares = keys.get("3,2") as FrostShare[];
      const share = shares[0] as FrostShare;
      const sid = newSid();
      expect(() => engine.keygen({ sid, index: 0, n: 3, t: 1 })).toThrow(RangeError);
      expect(() => engine.keygen({ sid, index: 3, n: 3, t: 2 })).toThrow(RangeError);
      expect(() => engine.keygen({ sid: new Uint8Array(31), index: 0, n: 3, t: 2 })).toThrow(RangeError);
      expect(() => engine.sign(share, { sid, message: MESSAGE, signers: [0] })).toThrow(RangeError);
      expect(() => engine.sign(share, { sid, message: MESSAGE, signers: [1, 2] })).toThrow(RangeError);
      expect(() => engine.sign(share, { sid, message: MESSAGE, signers: [0, 0, 1] })).toThrow(RangeError);
      expect(() => engine.sign(share, { sid, message: MESSAGE, signers: [0, 3] })).toThrow(RangeError);
      const other = frost[name === "ed25519" ? "secp256k1tr" : "ed25519"];
      expect(() => other.sign(share, { sid, message: MESSAGE, signers: [0, 1] })).toThrow(/FROST share/);
      const p = engine.sign(share, { sid, message: MESSAGE, signers: [0, 1] });
      p.start();
      expectAbort(() => engine.restoreSign(shares[1] as FrostShare, p.save()), null, /another party/);
      expectAbort(() => engine.restoreSign(share, p.save().slice(0, 50)), null);
      expectAbort(() => engine.restoreKeygen(p.save()), null);
      // A newcomer names the key it joins as publicKey() gives it (32 bytes).
      const members = [
        { old: 0, new: 0 },
        { old: null, new: 1 },
      ];
      expect(() =>
        engine.reshare(null, { sid, members, index: 1, threshold: 2, publicKey: new Uint8Array(33) }),
      ).toThrow(RangeError);
      // An aborted run cannot be saved, so it cannot be restored and driven on.
      const q = engine.sign(share, { sid: newSid(), message: MESSAGE, signers: [0, 1] });
      q.start();
      expectAbort(() => q.handle([{ from: 1, to: null, payload: new Uint8Array(3) }]), 1);
      expectAbort(() => q.save(), 1);
    });

    describe("a malicious party", () => {
      it("a bad proof of knowledge in key generation is named", () => {
        const sid = newSid();
        const parties = [0, 1, 2].map((index) => engine.keygen({ sid, index, n: 3, t: 2 }));
        const [, from1, from2] = parties.map((p) => p.start()[0] as Msg) as [Msg, Msg, Msg];
        // Party 1 sends party 2's proof (a valid proof, of another statement).
        const { pointBytes } = CURVES[name];
        const proofAt = 1 + 4 + `frost-${name}/keygen`.length + 32 + 1 + 2 * pointBytes;
        const bad = from1.payload.slice();
        bad.set(from2.payload.slice(proofAt, proofAt + pointBytes + 32), proofAt);
        expectAbort(
          () => (parties[0] as Party<FrostShare>).handle([{ ...from1, payload: bad }, from2]),
          1,
          /proof of knowledge/,
        );
      });

      it("a wrong share sent to one party is named", () => {
        const sid = newSid();
        const parties = [0, 1, 2].map((index) => engine.keygen({ sid, index, n: 3, t: 2 }));
        expectAbort(
          () =>
            runLocal(parties, {
              intercept: (msg, step) => {
                if (step !== 1 || msg.from !== 1 || msg.to !== 0) return msg;
                const payload = msg.payload.slice();
                const at = payload.length - 4 * 32;
                const pos = at + (name === "ed25519" ? 0 : 31); // share ± 1, still a valid scalar
                payload[pos] = (payload[pos] as number) ^ 1;
                return { ...msg, payload };
              },
            }),
          1,
          /secret share does not match/,
        );
      });

      it("a commitment replayed from another session is refused, re-wrapped or not", () => {
        const oldSid = newSid();
        const old = record([0, 1, 2].map((index) => engine.keygen({ sid: oldSid, index, n: 3, t: 2 })));
        const oldRound1 = old.sent.find((s) => s.step === 0 && s.msg.from === 1)?.msg as Msg;
        const protocol = `frost-${name}/keygen`;
        const body = open(oldRound1, protocol, oldSid, 1).rest();
        const rewrap = (sid: Uint8Array) => ({
          ...oldRound1,
          payload: seal(protocol, sid, 1, (w: Writer) => w.fixed(body)),
        });
        for (const [replay, reason] of [
          [() => oldRound1, /another session/],
          [rewrap, /proof of knowledge/],
        ] as const) {
          const sid = newSid();
          const replayed = replay(sid);
          const parties = [0, 1, 2].map((index) => engine.keygen({ sid, index, n: 3, t: 2 }));
          expectAbort(
            () => runLocal(parties, { intercept: (msg, step) => (step === 0 && msg.from === 1 ? replayed : msg) }),
            1,
            reason,
          );
        }
        // In signing, a nonce commitment from another session fails the context check.
        const shares = keys.get("2,2") as FrostShare[];
        const oldSign = record(
          [0, 1].map((i) => engine.sign(shares[i] as FrostShare, { sid: oldSid, message: MESSAGE, signers: [0, 1] })),
        );
        const oldCommit = oldSign.sent.find((s) => s.step === 0 && s.msg.from === 1)?.msg as Msg;
        const signProtocol = `frost-${name}/sign`;
        const signBody = open(oldCommit, signProtocol, oldSid, 1).rest();
        const sid = newSid();
        const rewrappedCommit = { ...oldCommit, payload: seal(signProtocol, sid, 1, (w: Writer) => w.fixed(signBody)) };
        const signers = [0, 1].map((i) =>
          engine.sign(shares[i] as FrostShare, { sid, message: MESSAGE, signers: [0, 1] }),
        );
        expectAbort(
          () => runLocal(signers, { intercept: (msg, step) => (step === 0 && msg.from === 1 ? rewrappedCommit : msg) }),
          1,
          /different message/,
        );
      });

      it("a bad signature share is named by its receiver, and no party outputs an invalid signature", () => {
        const shares = keys.get("3,2") as FrostShare[];
        const sid = newSid();
        const signers = [0, 2];
        const parties = signers.map((i) => engine.sign(shares[i] as FrostShare, { sid, message: MESSAGE, signers }));
        const round1 = parties.flatMap((p) => p.start());
        const round2 = parties.flatMap((p, k) =>
          p.handle(round1.filter((m) => m.from !== signers[k])).map((msg) => {
            if (msg.from !== 2) return msg;
            const payload = msg.payload.slice();
            const pos = payload.length - (name === "ed25519" ? 32 : 1);
            payload[pos] = (payload[pos] as number) ^ 1;
            return { ...msg, payload };
          }),
        );
        const [at0, at2] = runEach(parties, { resume: round2, indices: signers });
        expect(at0 && "abort" in at0 && at0.abort.culprit).toBe(2);
        expect(at0 && "abort" in at0 && at0.abort.reason).toMatch(/signature share does not verify/);
        // Party 2 got an honest share from party 0: its signature is valid.
        expect(
          at2 && "result" in at2 && verify(name, at2.result, MESSAGE, engine.publicKey(shares[0] as FrostShare)),
        ).toBe(true);
      });

      it("a party that equivocates its round-1 broadcast stops every honest party; none blames an honest one", () => {
        const sid = newSid();
        const parties = [0, 1, 2].map((index) => engine.keygen({ sid, index, n: 3, t: 2 }));
        // A second, equally valid round-1 message of party 1 (from another process), sent to party 2 only.
        const twin = asAnotherProcess(
          () => new KeygenParty(CURVES[name], { sid, index: 1, n: 3, t: 2 }).start()[0] as Msg,
        );
        const round1 = parties.flatMap((p, i) =>
          i === 1
            ? [
                { ...(p.start()[0] as Msg), to: 0 },
                { ...twin, to: 2 },
              ]
            : p.start(),
        );
        const outcomes = runEach(parties, { resume: round1, indices: [0, 1, 2] });
        for (const honest of [outcomes[0], outcomes[2]]) {
          expect(honest && "abort" in honest).toBe(true);
          if (honest && "abort" in honest) expect([1, null]).toContain(honest.abort.culprit);
        }
        const first = outcomes[0] as { abort: ProtocolAbort };
        expect(first.abort.reason).toMatch(/different round-1/);
      });

      it("a dealer that reshares something other than its own share is named", () => {
        const shares = keys.get("3,2") as FrostShare[];
        const sid = newSid();
        const parties = [0, 1, 2].map((index) => engine.refresh(shares[index] as FrostShare, { sid }));
        // Party 1 sends party 0 a dealing of party 2's share (envelopes do not name the sender).
        const forged = asAnotherProcess(
          () =>
            engine
              .refresh(shares[2] as FrostShare, { sid })
              .start()
              .find((m) => m.to === 0) as Msg,
        );
        expectAbort(
          () =>
            runLocal(parties, {
              intercept: (msg, step) =>
                step === 0 && msg.from === 1 && msg.to === 0 ? { ...msg, payload: forged.payload } : msg,
            }),
          1,
          /own key share/,
        );
      });
    });

    describe("tampered messages", () => {
      it("every round of keygen: flipped, truncated or extended bytes abort naming the sender", () => {
        const sid = newSid();
        const rec = record([0, 1, 2].map((index) => engine.keygen({ sid, index, n: 3, t: 2 })));
        expect(rec.sent).toHaveLength(3 + 6);
        rec.sent.forEach(({ msg, step }, k) => {
          // Round 2 ends with the round-1 digest: a change there is indistinguishable from equivocation.
          // (Positions: envelope, protocol, share, chain-code nonce, chain-code contribution.)
          const length = msg.payload.length;
          const positions = step === 0 ? undefined : [0, 5, length - 4 * 32, Math.floor(length / 2), length - 33];
          for (const [, bad] of mutations(msg, positions)) {
            expectBlamed(
              replayEach(rec, k, bad, (_, state) => engine.restoreKeygen(state)),
              rec.indices,
              msg.from,
            );
          }
        });
      });

      it("every round of signing: flipped, truncated or extended bytes abort naming the sender", async () => {
        const shares = keys.get("3,2") as FrostShare[];
        const signers = [0, 2];
        // Fresh parties for every mutation of the k-th message sent: replaying one recorded run
        // would reuse its nonces, which the signing parties refuse (and must).
        const run = (k: number, mutate: (msg: Msg) => Msg) => {
          const sid = newSid();
          let sent = 0;
          const parties = signers.map((i) => engine.sign(shares[i] as FrostShare, { sid, message: MESSAGE, signers }));
          return runEach(parties, { indices: signers, intercept: (msg) => (sent++ === k ? mutate(msg) : msg) });
        };
        for (let k = 0; k < 4; k++) {
          for (let m = 0; m < 6; m++) {
            let from = -1;
            const outcomes = run(k, (msg) => {
              from = msg.from;
              return (mutations(msg)[m] as [string, Msg])[1];
            });
            expectBlamed(outcomes, signers, from);
            // A party that got only honest messages may finish; what it outputs is a valid signature.
            for (const o of outcomes) {
              if ("result" in o)
                expect(verify(name, o.result, MESSAGE, engine.publicKey(shares[0] as FrostShare))).toBe(true);
            }
          }
          await breathe();
        }
      });

      it("every round of reshare: flipped, truncated or extended bytes abort naming the sender", () => {
        const shares = keys.get("2,2") as FrostShare[];
        const members = [
          { old: 0, new: 0 },
          { old: 1, new: 1 },
          { old: null, new: 2 },
        ];
        const sid = newSid();
        const publicKey = engine.publicKey(shares[0] as FrostShare);
        const rec = record(
          members.map((m, index) =>
            engine.reshare(m.old === null ? null : (shares[m.old] as FrostShare), {
              sid,
              members,
              index,
              threshold: 2,
              publicKey,
            }),
          ),
        );
        rec.sent.forEach(({ msg, step }, k) => {
          // Round 2 is only a digest: a change there is indistinguishable from a dealer's equivocation.
          if (step !== 0) {
            for (const [, bad] of mutations(msg).slice(-2)) {
              expectBlamed(
                replayEach(rec, k, bad, (_, state) => engine.restoreReshare(state)),
                rec.indices,
                msg.from,
              );
            }
            return;
          }
          for (const [, bad] of mutations(msg)) {
            expectBlamed(
              replayEach(rec, k, bad, (_, state) => engine.restoreReshare(state)),
              rec.indices,
              msg.from,
            );
          }
        });
      });
    });
  });
}

describe("Taproot keys", () => {
  let shares: FrostShare[];
  beforeAll(() => {
    shares = keygen(frost.secp256k1tr, 3, 2);
  });

  it("the output key is BIP341's tweak of the internal key, as @scure/btc-signer makes a P2TR address", () => {
    for (const path of [undefined, "m/0/7", "m/1/2/3"]) {
      const internal = frost.secp256k1tr.internalKey(shares[0] as FrostShare, path);
      const output = frost.secp256k1tr.publicKey(shares[0] as FrostShare, path);
      const p2tr = btc.p2tr(internal);
      expect(bytesToHex(p2tr.tweakedPubkey)).toBe(bytesToHex(output));
      expect(btc.Address(btc.NETWORK).encode({ type: "tr", pubkey: output })).toBe(p2tr.address);
      const sig = sign(frost.secp256k1tr, shares, [1, 2], MESSAGE, path === undefined ? {} : { path })[0] as Uint8Array;
      expect(schnorr.verify(sig, MESSAGE, output)).toBe(true);
    }
  });

  it("the internal key at a path is BIP32 public derivation from the group key and chain code", () => {
    const share = shares[0] as FrostShare;
    const root = new HDKey({ publicKey: share.groupKey, chainCode: share.chainCode });
    const child = root.derive("m/0/7").publicKey as Uint8Array;
    expect(bytesToHex(frost.secp256k1tr.internalKey(share, "m/0/7"))).toBe(bytesToHex(child.subarray(1)));
    expect(() => frost.secp256k1tr.publicKey(share, "m/0'/1")).toThrow(DerivationError);
    // An invalid path is refused also once the key without a path is cached.
    sign(frost.secp256k1tr, shares, [0, 1]);
    expect(() => sign(frost.secp256k1tr, shares, [0, 1], MESSAGE, { path: "" })).toThrow(DerivationError);
  });

  it("signs at the deepest path, and such a run saves and restores", () => {
    const path = `m${"/1000000000".repeat(255)}`;
    const signers = [0, 2];
    const sid = newSid();
    const sigs = runLocal(
      signers.map((i) => frost.secp256k1tr.sign(shares[i] as FrostShare, { sid, message: MESSAGE, signers, path })),
      {
        indices: signers,
        between: (p, position) =>
          frost.secp256k1tr.restoreSign(shares[signers[position] as number] as FrostShare, p.save()) as Party<unknown>,
      },
    );
    expect(
      schnorr.verify(sigs[0] as Uint8Array, MESSAGE, frost.secp256k1tr.publicKey(shares[0] as FrostShare, path)),
    ).toBe(true);
  });

  it("a merkle root commits to a script tree, and signing under it verifies", () => {
    const merkleRoot = crypto.getRandomValues(new Uint8Array(32));
    const internal = frost.secp256k1tr.internalKey(shares[0] as FrostShare);
    const output = frost.secp256k1tr.publicKey(shares[0] as FrostShare, undefined, { merkleRoot });
    expect(bytesToHex(output)).not.toBe(bytesToHex(frost.secp256k1tr.publicKey(shares[0] as FrostShare)));
    const tweak = schnorr.utils.taggedHash("TapTweak", internal, merkleRoot);
    const expected = schnorr.utils
      .lift_x(BigInt(`0x${bytesToHex(internal)}`))
      .add(secp256k1.Point.BASE.multiply(BigInt(`0x${bytesToHex(tweak)}`)));
    expect(bytesToHex(output)).toBe(bytesToHex(expected.toBytes(true).subarray(1)));
    const sig = sign(frost.secp256k1tr, shares, [0, 1], MESSAGE, { merkleRoot })[0] as Uint8Array;
    expect(schnorr.verify(sig, MESSAGE, output)).toBe(true);
    expect(() =>
      frost.secp256k1tr.publicKey(shares[0] as FrostShare, undefined, { merkleRoot: new Uint8Array(31) }),
    ).toThrow(RangeError);
  });
});

describe("Ed25519 keys", () => {
  it("refuse a derivation path clearly", () => {
    const shares = keygen(frost.ed25519, 2, 2);
    expect(() => frost.ed25519.publicKey(shares[0] as FrostShare, "m/0/1")).toThrow(DerivationError);
    expect(() =>
      frost.ed25519.sign(shares[0] as FrostShare, { sid: newSid(), message: MESSAGE, signers: [0, 1], path: "m/0" }),
    ).toThrow(/cannot be derived/);
  });
});
