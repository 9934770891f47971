/**
 * The signing digests of a PSBT's inputs, hashed once per PSBT for what every input shares, are
 * byte for byte the ones @scure/btc-signer computes input by input (BIP143 for P2WPKH, BIP341 for
 * P2TR key path), on a PSBT mixing both, with a lock time, a foreign input and a long script.
 */
import { schnorr, secp256k1 } from "@noble/curves/secp256k1.js";
import { hex } from "@scure/base";
import { p2pkh, Transaction } from "@scure/btc-signer";
import { expect, it } from "vitest";
import { bitcoinSigningDigests, buildPsbt, ownedOutputs, readPsbt } from "../src/index.js";

it("match btc-signer's per-input digests for P2WPKH and P2TR inputs", () => {
  const network = "regtest" as const;
  const taprootKey = schnorr.getPublicKey(secp256k1.utils.randomSecretKey());
  const owned = ownedOutputs(
    { ecdsa: [secp256k1.getPublicKey(secp256k1.utils.randomSecretKey())], taproot: [taprootKey] },
    network,
  );
  const foreign = ownedOutputs({ ecdsa: [secp256k1.getPublicKey(secp256k1.utils.randomSecretKey())] }, network)[0];
  const spent = [owned[0], owned[1], owned[0], foreign, owned[1]];
  const inputs = spent.map((own, i) => {
    const previous = new Transaction({ version: 2 });
    previous.addInput({ txid: new Uint8Array(32).fill(i + 1), index: i, finalScriptSig: new Uint8Array() });
    previous.addOutput({ script: own?.script as Uint8Array, amount: 10_000n + BigInt(i) });
    return {
      txid: previous.id,
      vout: 0,
      amount: 10_000n + BigInt(i),
      script: own?.script as Uint8Array,
      previousTransaction: previous.toBytes(true, false),
      ...(own?.type === "p2tr" && { internalKey: taprootKey }),
    };
  });
  const psbt = buildPsbt({
    network,
    inputs,
    outputs: [
      { address: owned[0]?.address as string, amount: 1_000n },
      { address: owned[1]?.address as string, amount: 2_000n },
    ],
    lockTime: 500_000,
  });
  const view = readPsbt(psbt, network, owned);
  const digests = bitcoinSigningDigests(view);
  expect(digests.map((d) => d.index)).toEqual([0, 1, 2, 4]);
  const scripts = view.inputs.map((i) => i.script);
  const amounts = view.inputs.map((i) => i.amount);
  for (const { index, owner, digest, sighash } of digests) {
    const input = view.inputs[index] as (typeof view.inputs)[number];
    const expected =
      owner.type === "p2wpkh"
        ? view.tx.preimageWitnessV0(index, p2pkh(owner.key).script, sighash, input.amount)
        : view.tx.preimageWitnessV1(index, scripts, sighash, amounts);
    expect(hex.encode(digest)).toBe(hex.encode(expected));
  }
});
