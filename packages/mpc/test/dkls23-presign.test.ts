/**
 * A DKLs23 pre-signature signs once. The share lists the pre-signatures it has issued and not
 * used, so no bound lets a used one sign again; these tests use far more pre-signatures than the
 * window the share once kept of used ones (256), restart the process between uses, and upgrade a
 * share of the version that kept that window.
 */
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { Writer } from "../src/codec/codec.js";
import { DklsShare, dkls23, type Presignature } from "../src/dkls23/index.js";
import { MAX_OUTSTANDING_PRESIGNATURES } from "../src/dkls23/share.js";
import type { Signature } from "../src/ecdsa/signature.js";
import type { Party } from "../src/session/party.js";
import { runLocal } from "../src/session/run-local.js";
import { expectAbort, newSid, randomHash } from "./helpers.js";

/** How many used pre-signature sessions a share of version 1 remembered. */
const OLD_WINDOW = 256;
/** Pre-signatures made and used after the first, well past that window. */
const USES = OLD_WINDOW + 64;
const NOT_OUTSTANDING = /not outstanding in this share: it has been used/;

type Lib = typeof import("../src/dkls23/index.js");

/** The library loaded afresh, as after a restart: nothing the process recorded carries over. */
async function restart(): Promise<Lib> {
  vi.resetModules();
  return await import("../src/dkls23/index.js");
}

/** Refused by a copy of the library other than this file's (whose ProtocolAbort is another class). */
function expectRefused(fn: () => unknown, reason: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect((caught as Error | undefined)?.name, "expected a ProtocolAbort").toBe("ProtocolAbort");
  expect((caught as { reason: string }).reason).toMatch(reason);
}

function verifies(sig: Signature, messageHash: Uint8Array, share: DklsShare): boolean {
  const compact = new secp256k1.Signature(sig.r, sig.s).toBytes("compact");
  return secp256k1.verify(compact, messageHash, share.publicKey.toBytes(true), { prehash: false, lowS: true });
}

const copies = (shares: DklsShare[]) => shares.map((s) => DklsShare.fromBytes(s.toBytes()));

function presign(shares: DklsShare[]): Presignature[] {
  const sid = newSid();
  return runLocal(shares.map((s) => dkls23.presign(s, { sid, signers: [0, 1] })));
}

function signWith(shares: DklsShare[], pres: Presignature[], h: Uint8Array, lib: Lib = { DklsShare, dkls23 }) {
  return runLocal(shares.map((s, k) => lib.dkls23.signPresigned(s, pres[k] as Presignature, h)));
}

describe("a DKLs23 pre-signature signs once", () => {
  let keys: DklsShare[];

  beforeAll(() => {
    const sid = newSid();
    keys = runLocal([0, 1].map((index) => dkls23.keygen({ sid, index, n: 2, t: 2 })));
  });

  it(`stays used after ${USES} others have been made and used, and after a restart`, async () => {
    const shares = copies(keys);
    const first = presign(shares);
    const firstBytes = first.map(dkls23.presignatureToBytes);
    const h = randomHash();
    expect(verifies(signWith(shares, first, h)[0] as Signature, h, keys[0] as DklsShare)).toBe(true);
    // A presigning run costs two OT-extension multiplications per pair, a hundred times its last
    // round: the others are made and used on the shares themselves, by the two calls every
    // presigning and every signing make on the record.
    for (let i = 0; i < USES; i++) {
      for (const s of shares) expect(s.usePresignature(s.issuePresignature())).toBe(true);
    }
    const m = randomHash();
    expect(verifies(signWith(shares, presign(shares), m)[0] as Signature, m, keys[0] as DklsShare)).toBe(true);
    expect(shares.map((s) => s.outstandingPresignatures)).toEqual([0, 0]);
    const again = dkls23.presignatureFromBytes(firstBytes[0] as Uint8Array);
    expectAbort(() => dkls23.signPresigned(shares[0] as DklsShare, again, randomHash()).start(), null, NOT_OUTSTANDING);

    // A new process has no record of its own: the persisted share alone refuses it.
    const persisted = shares.map((s) => s.toBytes());
    const lib = await restart();
    const loaded = persisted.map(lib.DklsShare.fromBytes);
    const reread = firstBytes.map(lib.dkls23.presignatureFromBytes);
    for (const k of [0, 1]) {
      expectRefused(
        () => lib.dkls23.signPresigned(loaded[k] as DklsShare, reread[k] as Presignature, randomHash()).start(),
        NOT_OUTSTANDING,
      );
    }
  });

  it("an issued pre-signature signs after a restart, once", async () => {
    const shares = copies(keys);
    const pres = presign(shares).map(dkls23.presignatureToBytes);
    let persisted = shares.map((s) => s.toBytes());
    let lib = await restart();
    let loaded = persisted.map(lib.DklsShare.fromBytes);
    expect(loaded.map((s) => s.outstandingPresignatures)).toEqual([1, 1]);
    const h = randomHash();
    const sigs = signWith(loaded, pres.map(lib.dkls23.presignatureFromBytes), h, lib);
    expect(verifies(sigs[0] as Signature, h, keys[0] as DklsShare)).toBe(true);
    persisted = loaded.map((s) => s.toBytes());
    lib = await restart();
    loaded = persisted.map(lib.DklsShare.fromBytes);
    expect(loaded.map((s) => s.outstandingPresignatures)).toEqual([0, 0]);
    const again = lib.dkls23.presignatureFromBytes(pres[0] as Uint8Array);
    expectRefused(() => lib.dkls23.signPresigned(loaded[0] as DklsShare, again, randomHash()).start(), NOT_OUTSTANDING);
  });

  it("two copies of a share listing one pre-signature: the process lets only one sign", () => {
    const shares = copies(keys);
    const pres = presign(shares);
    const [a, b] = [copies(shares), copies(shares)] as [DklsShare[], DklsShare[]];
    const h = randomHash();
    expect(verifies(signWith(a, pres, h)[0] as Signature, h, keys[0] as DklsShare)).toBe(true);
    expect(b.map((s) => s.outstandingPresignatures)).toEqual([1, 1]);
    expectAbort(
      () => dkls23.signPresigned(b[0] as DklsShare, pres[0] as Presignature, randomHash()).start(),
      null,
      /used in this process/,
    );
  });

  it("refuses a pre-signature the share never issued, or made by a copy never persisted", () => {
    const shares = copies(keys);
    const before = shares.map((s) => s.toBytes());
    const pres = presign(shares);
    // The share that issued them is lost before it is persisted (a crash): they cannot sign.
    const lost = before.map(DklsShare.fromBytes);
    expect(lost[0]?.outstandingPresignatures).toBe(0);
    expectAbort(
      () => dkls23.signPresigned(lost[0] as DklsShare, pres[0] as Presignature, randomHash()).start(),
      null,
      NOT_OUTSTANDING,
    );
    // Another id on a genuine pre-signature: refused, and the listed one stays listed.
    const other = presign(shares);
    const forged = { ...(other[0] as Presignature), id: crypto.getRandomValues(new Uint8Array(32)) };
    expectAbort(
      () => dkls23.signPresigned(shares[0] as DklsShare, forged, randomHash()).start(),
      null,
      NOT_OUTSTANDING,
    );
    expect(shares[0]?.outstandingPresignatures).toBe(2);
  });

  it("refuses to issue more than the cap, forgetting none; a full signing is not counted", () => {
    const shares = copies(keys);
    const fillers = Array.from({ length: MAX_OUTSTANDING_PRESIGNATURES - 1 }, () =>
      (shares[0] as DklsShare).issuePresignature(),
    );
    // Two runs started with one place left: both start, the second to finish is refused.
    const sid = newSid();
    const racing = [newSid(), newSid()].map((run) =>
      shares.map((s) => dkls23.presign(s, { sid: run, signers: [0, 1] })),
    );
    const last = runLocal(racing[0] as Party<Presignature>[]);
    expectAbort(
      () => runLocal(racing[1] as Party<Presignature>[]),
      null,
      new RegExp(`has ${MAX_OUTSTANDING_PRESIGNATURES} pre-signatures outstanding, the most it keeps`),
    );
    expect(shares[0]?.outstandingPresignatures).toBe(MAX_OUTSTANDING_PRESIGNATURES);
    // At the cap, a new run is refused before it sends anything.
    expect(() => dkls23.presign(shares[0] as DklsShare, { sid, signers: [0, 1] })).toThrow(
      /pre-signatures outstanding: sign with or discard some first/,
    );
    expect(shares[0]?.outstandingPresignatures).toBe(MAX_OUTSTANDING_PRESIGNATURES);
    const h = randomHash();
    const fullSid = newSid();
    const full = runLocal(shares.map((s) => dkls23.sign(s, { sid: fullSid, messageHash: h, signers: [0, 1] })));
    expect(verifies(full[0] as Signature, h, keys[0] as DklsShare)).toBe(true);
    expect(shares[0]?.outstandingPresignatures).toBe(MAX_OUTSTANDING_PRESIGNATURES);
    // The oldest and the newest are still listed; using or discarding one makes room.
    expect(verifies(signWith(shares, last, h)[0] as Signature, h, keys[0] as DklsShare)).toBe(true);
    (shares[0] as DklsShare).discardPresignature(fillers[0] as Uint8Array);
    expect(shares[0]?.outstandingPresignatures).toBe(MAX_OUTSTANDING_PRESIGNATURES - 2);
    presign(shares);
    // A full share round-trips through bytes.
    const full0 = DklsShare.fromBytes((shares[0] as DklsShare).toBytes());
    expect(full0.outstandingPresignatures).toBe(MAX_OUTSTANDING_PRESIGNATURES - 1);
    expect(full0.toBytes()).toEqual((shares[0] as DklsShare).toBytes());
  });

  it("a share of version 1 decodes with none outstanding; its pre-signatures cannot sign", () => {
    const shares = copies(keys);
    const pres = presign(shares);
    // Version 1: the same fields, then the sessions of (up to 256) used pre-signatures.
    const v2 = (shares[0] as DklsShare).toBytes();
    const used = new Writer();
    used.list([newSid(), newSid(), pres[0]?.sid as Uint8Array], (w, sid) => w.fixed(sid));
    const v1 = Uint8Array.from([1, ...v2.subarray(1, v2.length - 4 - 32), ...used.finish()]);
    const upgraded = DklsShare.fromBytes(v1);
    expect(upgraded.outstandingPresignatures).toBe(0);
    expect(upgraded.fingerprint()).toBe((shares[0] as DklsShare).fingerprint());
    expect(upgraded.toBytes()[0]).toBe(2);
    expect(DklsShare.fromBytes(upgraded.toBytes()).toBytes()).toEqual(upgraded.toBytes());
    expectAbort(
      () => dkls23.signPresigned(upgraded, pres[0] as Presignature, randomHash()).start(),
      null,
      NOT_OUTSTANDING,
    );
    // A pre-signature of version 1 (no id) is refused as it is read.
    const bytes = dkls23.presignatureToBytes(pres[1] as Presignature);
    const old = Uint8Array.from([1, ...bytes.subarray(1 + 32)]);
    expectAbort(() => dkls23.presignatureFromBytes(old), null, /version 1, which its share does not list/);
    // The upgraded share signs and makes new pre-signatures.
    const pair = [upgraded, DklsShare.fromBytes((shares[1] as DklsShare).toBytes())];
    const h = randomHash();
    expect(verifies(signWith(pair, presign(pair), h)[0] as Signature, h, keys[0] as DklsShare)).toBe(true);
  });

  it("a refresh lists none; a saved presigning run gives the pre-signature it made", () => {
    const shares = copies(keys);
    presign(shares);
    const sid = newSid();
    const fresh = runLocal(shares.map((s) => dkls23.refresh(s, { sid })));
    expect(fresh.map((s) => s.outstandingPresignatures)).toEqual([0, 0]);
    const presignSid = newSid();
    const pres = runLocal(
      fresh.map((s) => dkls23.presign(s, { sid: presignSid, signers: [0, 1] })),
      { between: (p, k) => dkls23.restorePresign(fresh[k] as DklsShare, p.save()) as Party<unknown> },
    );
    expect(fresh.map((s) => s.outstandingPresignatures)).toEqual([1, 1]);
    const h = randomHash();
    expect(verifies(signWith(fresh, pres, h)[0] as Signature, h, keys[0] as DklsShare)).toBe(true);
  });
});
