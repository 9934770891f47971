/**
 * The BIP32 node of a shared key, as an extended public key carries it: depth, parent fingerprint
 * and child number agree with @scure/bip32 walking the same path from a depth-0 node, and a
 * scheme's key gives the node its signing keys derive from (Ed25519 keys none).
 */
import { HDKey } from "@scure/bip32";
import { describe, expect, it } from "vitest";
import { CURVE_ORDER, Point } from "../src/codec/codec.js";
import type { DklsShare } from "../src/dkls23/index.js";
import { frost } from "../src/frost/index.js";
import type { FrostShare } from "../src/frost/share.js";
import { DerivationError } from "../src/hd/derive.js";
import { fingerprint, hdNode } from "../src/hd/node.js";
import { randomBelow } from "../src/math/bigint.js";
import { keyNode, scheme } from "../src/schemes/registry.js";
import { runLocal } from "../src/session/run-local.js";
import { newSid } from "./helpers.js";

describe("the BIP32 node of a shared key", () => {
  it("has the depth, parent fingerprint and child number @scure/bip32 gives the same path", () => {
    const Q = Point.BASE.multiply(1n + randomBelow(CURVE_ORDER - 1n));
    const chainCode = crypto.getRandomValues(new Uint8Array(32));
    const root = new HDKey({ publicKey: Q.toBytes(true), chainCode });
    for (const path of ["m", "m/0", "m/0/7", "m/44/60/0/0/5", "m/2147483647/1"]) {
      const node = hdNode(Q, chainCode, path);
      const ref = root.derive(path);
      expect(node).toEqual({
        publicKey: ref.publicKey,
        chainCode: ref.chainCode,
        depth: ref.depth,
        parentFingerprint: ref.parentFingerprint,
        childNumber: ref.index,
      });
    }
    expect(hdNode(Q, chainCode, undefined)).toEqual(hdNode(Q, chainCode, "m"));
    expect(fingerprint(Q)).toBe(root.fingerprint);
  });

  it("refuses a hardened step, saying why a threshold key cannot derive it", () => {
    const Q = Point.BASE.multiply(7n);
    expect(() => hdNode(Q, new Uint8Array(32), "m/0/1'")).toThrow(DerivationError);
    expect(() => hdNode(Q, new Uint8Array(32), "m/0/1'")).toThrow(/private key, which a threshold key never has whole/);
  });

  it("is the node of each secp256k1 scheme's key: its children are the keys the scheme signs with", () => {
    const sid = newSid();
    const [dkls] = runLocal([scheme("dkls23").keygen(sid, 0), scheme("dkls23").keygen(sid, 1)]) as [DklsShare];
    const node = keyNode("dkls23", dkls, "m/3");
    const child = new HDKey({ ...node, index: node.childNumber, parentFingerprint: node.parentFingerprint }).derive(
      "m/9",
    );
    expect(child.publicKey).toEqual(scheme("dkls23").publicKey(dkls, "m/3/9"));

    const taprootSid = newSid();
    const [taproot] = runLocal([
      scheme("frost-taproot").keygen(taprootSid, 0),
      scheme("frost-taproot").keygen(taprootSid, 1),
    ]) as [FrostShare];
    const root = keyNode("frost-taproot", taproot);
    // BIP86: the internal key is the x coordinate of the derived child.
    expect(new HDKey(root).derive("m/4").publicKey?.subarray(1)).toEqual(frost.secp256k1tr.internalKey(taproot, "m/4"));
  });

  it("does not exist for an Ed25519 key", () => {
    const sid = newSid();
    const [ed] = runLocal([scheme("frost-ed25519").keygen(sid, 0), scheme("frost-ed25519").keygen(sid, 1)]);
    expect(() => keyNode("frost-ed25519", ed as FrostShare)).toThrow(/Ed25519 derives only hardened children/);
  });
});
