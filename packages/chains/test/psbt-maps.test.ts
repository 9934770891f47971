/**
 * Signing adds its pair to the input's map and changes no other byte: not the PSBT's version (a
 * PSBT v2 stays v2, which btc-signer would write as v0), not the order of its pairs, not the
 * pairs keyshard does not know.
 */
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { hex } from "@scure/base";
import { RawTx, Transaction } from "@scure/btc-signer";
import { describe, expect, it } from "vitest";
import { buildPsbt, type EcdsaSigner, finalizePsbt, p2wpkhOutput, readPsbt, signPsbt } from "../src/index.js";
import { bitcoreVerdicts, funding } from "./bitcore.js";

const SECRET = secp256k1.utils.randomSecretKey();
const OWN = p2wpkhOutput(secp256k1.getPublicKey(SECRET), "regtest");
const signer: EcdsaSigner = {
  publicKey: secp256k1.getPublicKey(SECRET),
  async signDigest(digest) {
    const signature = secp256k1.Signature.fromBytes(secp256k1.sign(digest, SECRET, { prehash: false }));
    return { r: signature.r, s: signature.s, recovery: 0 };
  },
};

describe("signing a PSBT", () => {
  it("keeps a PSBT v2 as v2, byte for byte, with only its partial signature added", async () => {
    const { utxo } = funding(OWN.script, 50_000n);
    const v0 = buildPsbt({ network: "regtest", inputs: [utxo], outputs: [{ address: OWN.address, amount: 40_000n }] });
    const v2 = Transaction.fromPSBT(v0).toPSBT(2);
    const { psbt: signed, signed: inputs } = await signPsbt(v2, "regtest", { ecdsa: [signer] });
    expect(inputs).toEqual([0]);
    const [key, value] = Transaction.fromPSBT(signed).getInput(0).partialSig?.[0] ?? [];
    const pair = Uint8Array.of(34, 0x02, ...(key ?? []), value?.length ?? 0, ...(value ?? []));
    expect(hex.encode(signed).replace(hex.encode(pair), "")).toBe(hex.encode(v2));
    // PSBT_GLOBAL_VERSION (0xfb) is still 2, and the spend verifies once finalized.
    expect(hex.encode(signed)).toContain("01fb0402000000");
    expect(readPsbt(signed, "regtest", []).tx.inputsLength).toBe(1);
    const { transaction } = finalizePsbt(signed);
    expect(bitcoreVerdicts(transaction, [utxo])).toEqual([true]);
  });

  it("signs a PSBT v2 input without PSBT_IN_SEQUENCE over BIP370's default, 0xffffffff", async () => {
    const { utxo } = funding(OWN.script, 50_000n);
    const v0 = buildPsbt({ network: "regtest", inputs: [utxo], outputs: [{ address: OWN.address, amount: 40_000n }] });
    const v2 = Transaction.fromPSBT(v0).toPSBT(2);
    // The input's sequence pair: key (type 0x10), then its four-byte value.
    const pair = "011004ffffffff";
    expect(hex.encode(v2).split(pair)).toHaveLength(2);
    const bare = hex.decode(hex.encode(v2).replace(pair, ""));
    expect(readPsbt(bare, "regtest", [OWN]).inputs[0]?.sequence).toBe(0xffffffff);
    const { psbt: signed } = await signPsbt(bare, "regtest", { ecdsa: [signer] });
    const { transaction } = finalizePsbt(signed);
    expect(RawTx.decode(transaction).inputs[0]?.sequence).toBe(0xffffffff);
    expect(bitcoreVerdicts(transaction, [utxo])).toEqual([true]);
  });
});
