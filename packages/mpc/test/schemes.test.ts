/**
 * The scheme registry: every name maps to its engine with the facts callers rely on (signature
 * algorithm, derivation paths, party count), and a key made, stored, signed with and refreshed
 * through the registry verifies as its algorithm says.
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { schnorr, secp256k1 } from "@noble/curves/secp256k1.js";
import { describe, expect, it } from "vitest";
import type { DklsShare } from "../src/dkls23/index.js";
import type { FrostShare } from "../src/frost/index.js";
import { frost } from "../src/frost/index.js";
import { bitcoinKeys, reshareMembers, SCHEME_NAMES, scheme } from "../src/schemes/registry.js";
import type { SchemeName, ShareOf, SignatureAlgorithm, SignResultOf } from "../src/schemes/scheme.js";
import { runLocal } from "../src/session/run-local.js";
import { newSid, randomHash } from "./helpers.js";

const FACTS: Record<SchemeName, { algorithm: SignatureAlgorithm; derivesPaths: boolean; multiparty: boolean }> = {
  ecdsa2p: { algorithm: "ecdsa", derivesPaths: true, multiparty: false },
  dkls23: { algorithm: "ecdsa", derivesPaths: true, multiparty: true },
  "frost-ed25519": { algorithm: "ed25519", derivesPaths: false, multiparty: true },
  "frost-taproot": { algorithm: "bip340", derivesPaths: true, multiparty: true },
};

function verifies(algorithm: SignatureAlgorithm, signature: Uint8Array, message: Uint8Array, key: Uint8Array) {
  if (algorithm === "ecdsa") {
    expect(signature).toHaveLength(65);
    return secp256k1.verify(signature.subarray(0, 64), message, key, { prehash: false });
  }
  expect(signature).toHaveLength(64);
  return algorithm === "bip340" ? schnorr.verify(signature, message, key) : ed25519.verify(signature, message, key);
}

describe("scheme registry", () => {
  it("names every scheme once, each with its facts; an unknown name is refused", () => {
    expect([...SCHEME_NAMES].sort()).toEqual(Object.keys(FACTS).sort());
    for (const name of SCHEME_NAMES) {
      const { algorithm, derivesPaths, multiparty } = scheme(name);
      expect({ name: scheme(name).name, algorithm, derivesPaths, multiparty }).toEqual({ name, ...FACTS[name] });
    }
    expect(() => scheme("ecdsa3p" as SchemeName)).toThrow(RangeError);
    expect(() => scheme("toString" as SchemeName)).toThrow(RangeError);
  });

  it("keeps ecdsa2p keys 2-of-2", () => {
    expect(() => scheme("ecdsa2p").keygen(newSid(), 0, { t: 2, n: 3 })).toThrow(RangeError);
    expect(() => scheme("ecdsa2p").restoreReshare(new Uint8Array(8))).toThrow(RangeError);
  });

  for (const name of ["dkls23", "frost-ed25519", "frost-taproot"] as const) {
    it(`${name}: a key made, stored, signed with and refreshed through the registry`, () => {
      type Pair = [ShareOf<typeof name>, ShareOf<typeof name>];
      const engine = scheme(name);
      const sid = newSid();
      const made = runLocal([engine.keygen(sid, 0), engine.keygen(sid, 1)]);
      const shares = made.map((s) => engine.decodeShare(engine.encodeShare(s))) as Pair;
      const key = engine.publicKey(shares[0]);
      expect(engine.publicKey(shares[1])).toEqual(key);

      const path = engine.derivesPaths ? "m/0/7" : undefined;
      const message = randomHash();
      const signSid = newSid();
      const [result] = runLocal(shares.map((s) => engine.sign(s, { sid: signSid, message, ...(path && { path }) })));
      const signature = engine.signatureBytes(result as SignResultOf<typeof name>);
      expect(verifies(engine.algorithm, signature, message, engine.publicKey(shares[0], path))).toBe(true);
      if (!engine.derivesPaths) expect(() => engine.publicKey(shares[0], "m/0/7")).toThrow();

      const refreshSid = newSid();
      const [refreshed] = runLocal(shares.map((s) => engine.refresh(s, refreshSid))) as Pair;
      expect(engine.publicKey(refreshed)).toEqual(key);
      expect(engine.encodeShare(refreshed)).not.toEqual(engine.encodeShare(shares[0]));
    });
  }

  it("gives the keys a wallet spends Bitcoin with by its algorithm", () => {
    const sid = newSid();
    const [dkls] = runLocal([scheme("dkls23").keygen(sid, 0), scheme("dkls23").keygen(sid, 1)]) as [DklsShare];
    expect(bitcoinKeys("dkls23", dkls, "m/1")).toEqual({
      ecdsa: [scheme("dkls23").publicKey(dkls, "m/1")],
    });
    const taprootSid = newSid();
    const taproot = runLocal([
      scheme("frost-taproot").keygen(taprootSid, 0),
      scheme("frost-taproot").keygen(taprootSid, 1),
    ]);
    expect(bitcoinKeys("frost-taproot", taproot[0] as FrostShare, "m/1")).toEqual({
      taproot: [frost.secp256k1tr.internalKey(taproot[0] as FrostShare, "m/1")],
    });
    const edSid = newSid();
    const ed = runLocal([scheme("frost-ed25519").keygen(edSid, 0), scheme("frost-ed25519").keygen(edSid, 1)]);
    expect(bitcoinKeys("frost-ed25519", ed[0] as FrostShare)).toEqual({});
  });

  it("numbers a reshare's participants by the new member list", () => {
    expect(reshareMembers(["a", "b", "c"], ["c", "d", "a"])).toEqual([
      { old: 2, new: 0 },
      { old: null, new: 1 },
      { old: 0, new: 2 },
    ]);
  });
});
