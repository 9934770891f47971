/**
 * Bitcoin end to end: P2WPKH outputs spent with ECDSA from ecdsa2p and dkls23, a P2TR key-path
 * output spent with FROST (secp256k1tr), through PSBTs finalized by @scure/btc-signer; every
 * spend is accepted by bitcore-lib's script interpreter with Bitcoin Core's standard flags.
 */
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { hex } from "@scure/base";
import { p2wpkh, RawTx, SigHash, Transaction } from "@scure/btc-signer";
import bitcore from "bitcore-lib";
import { beforeAll, describe, expect, it } from "vitest";
import {
  type BitcoinNetwork,
  buildPsbt,
  ChainError,
  describeBitcoin,
  type EcdsaSigner,
  finalizePsbt,
  type OwnedOutput,
  p2trOutput,
  p2wpkhOutput,
  type SpendableOutput,
  signPsbt,
  type TaprootSigner,
} from "../src/index.js";
import { bitcoreVerdicts, funding } from "./bitcore.js";
import { dklsKey, dklsSigner, ecdsa2pKey, ecdsa2pSigner, frostKey, taprootSigner } from "./engines.js";

const u64le = (n: bigint) => Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn));
const varBytes = (b: Uint8Array) => [b.length, ...b];

function replaceLast(bytes: Uint8Array, find: number[], replace: number[]): Uint8Array {
  const text = hex.encode(bytes);
  const at = text.lastIndexOf(hex.encode(Uint8Array.from(find)));
  if (at < 0 || at % 2) throw new Error("pattern not found");
  return hex.decode(text.slice(0, at) + hex.encode(Uint8Array.from(replace)) + text.slice(at + find.length * 2));
}

const NETWORK: BitcoinNetwork = "regtest";
const PAYEE = p2wpkhOutput(secp256k1.getPublicKey(secp256k1.utils.randomSecretKey()), NETWORK);

let ecdsa2pWallet: EcdsaSigner;
let dklsWallet: EcdsaSigner;
let taprootWallet: TaprootSigner;

beforeAll(() => {
  ecdsa2pWallet = ecdsa2pSigner(ecdsa2pKey(), "m/0/5");
  dklsWallet = dklsSigner(dklsKey(), [0, 2], "m/0/5");
  taprootWallet = taprootSigner(frostKey("secp256k1tr"), [1, 2], "m/0/5");
});

async function spend(own: OwnedOutput, signers: Parameters<typeof signPsbt>[2], utxo: SpendableOutput) {
  const psbt = buildPsbt({
    network: NETWORK,
    inputs: [utxo],
    outputs: [
      { address: PAYEE.address, amount: 60_000n },
      { address: own.address, amount: utxo.amount - 60_000n - 1_000n },
    ],
  });
  const description = describeBitcoin(psbt, {
    network: NETWORK,
    keys: own.type === "p2wpkh" ? { ecdsa: [own.key] } : { taproot: [own.key] },
  });
  expect(description.transfers).toEqual([
    expect.objectContaining({ to: PAYEE.address, value: 60_000n, text: "0.0006 BTC" }),
  ]);
  expect(description.change).toEqual([expect.objectContaining({ to: own.address, value: utxo.amount - 61_000n })]);
  expect(description.fee.value).toBe(1_000n);
  expect(description.warnings).toEqual([]);

  const signed = await signPsbt(psbt, NETWORK, signers);
  expect(signed.signed).toEqual([0]);
  const { transaction, txid } = finalizePsbt(signed.psbt);
  expect(txid).toMatch(/^[0-9a-f]{64}$/);
  expect(bitcoreVerdicts(transaction, [utxo])).toEqual([true]);

  // The interpreter does check: the same witness on a transaction paying someone else fails.
  const tampered = RawTx.decode(transaction);
  (tampered.outputs[0] as { amount: bigint }).amount = 59_999n;
  expect(bitcoreVerdicts(RawTx.encode(tampered), [utxo])[0]).not.toBe(true);
}

describe("spends accepted by bitcore-lib's interpreter", () => {
  it("P2WPKH, ecdsa2p", async () => {
    const own = p2wpkhOutput(ecdsa2pWallet.publicKey, NETWORK);
    await spend(own, { ecdsa: [ecdsa2pWallet] }, funding(own.script, 100_000n, 1).utxo);
  });

  it("P2WPKH, dkls23 2-of-3", async () => {
    const own = p2wpkhOutput(dklsWallet.publicKey, NETWORK);
    await spend(own, { ecdsa: [dklsWallet] }, funding(own.script, 250_000n).utxo);
  });

  it("P2TR key path, FROST secp256k1tr 2-of-3", async () => {
    const own = p2trOutput(taprootWallet.internalKey, NETWORK);
    const { utxo } = funding(own.script, 90_000n);
    await spend(own, { taproot: [taprootWallet] }, { ...utxo, internalKey: own.key });
  });
});

describe("PSBT with inputs of several owners", () => {
  it("signs the inputs we own, leaves the others, and the other owner completes it", async () => {
    const own = p2trOutput(taprootWallet.internalKey, NETWORK);
    const mine = p2wpkhOutput(dklsWallet.publicKey, NETWORK);
    const theirKey = secp256k1.utils.randomSecretKey();
    const theirs = p2wpkh(secp256k1.getPublicKey(theirKey, true));
    const a = funding(own.script, 40_000n).utxo;
    const b = funding(theirs.script, 30_000n).utxo;
    const c = funding(mine.script, 20_000n).utxo;
    const psbt = buildPsbt({
      network: NETWORK,
      inputs: [{ ...a, internalKey: own.key }, b, c],
      outputs: [{ address: PAYEE.address, amount: 88_000n }],
    });
    const keys = { taproot: [own.key], ecdsa: [mine.key] };
    expect(describeBitcoin(psbt, { network: NETWORK, keys }).warnings).toEqual(["1 input(s) belong to other wallets"]);

    const ours = await signPsbt(psbt, NETWORK, { taproot: [taprootWallet], ecdsa: [dklsWallet] });
    expect(ours.signed).toEqual([0, 2]);
    expect(() => finalizePsbt(ours.psbt)).toThrow(ChainError);

    const other = Transaction.fromPSBT(ours.psbt);
    expect(other.signIdx(theirKey, 1)).toBe(true);
    const { transaction } = finalizePsbt(other.toPSBT());
    expect(bitcoreVerdicts(transaction, [a, b, c])).toEqual([true, true, true]);
  });

  it("a signed PSBT signs nothing twice", async () => {
    const own = p2wpkhOutput(ecdsa2pWallet.publicKey, NETWORK);
    const psbt = buildPsbt({
      network: NETWORK,
      inputs: [funding(own.script, 10_000n).utxo],
      outputs: [{ address: PAYEE.address, amount: 9_000n }],
    });
    const once = await signPsbt(psbt, NETWORK, { ecdsa: [ecdsa2pWallet] });
    expect((await signPsbt(once.psbt, NETWORK, { ecdsa: [ecdsa2pWallet] })).signed).toEqual([]);
  });
});

describe("addresses", () => {
  it("P2WPKH and P2TR on mainnet, testnet and regtest read back by bitcore-lib", () => {
    const prefixes = {
      mainnet: ["bc1q", "bc1p", "livenet"],
      testnet: ["tb1q", "tb1p", "testnet"],
      regtest: ["bcrt1q", "bcrt1p", "regtest"],
    };
    for (const [network, [wpkh, tr, name]] of Object.entries(prefixes) as [BitcoinNetwork, string[]][]) {
      for (const [output, prefix] of [
        [p2wpkhOutput(dklsWallet.publicKey, network), wpkh],
        [p2trOutput(taprootWallet.internalKey, network), tr],
      ] as const) {
        expect(output.address.startsWith(prefix as string)).toBe(true);
        const parsed = new bitcore.Address(output.address);
        expect(parsed.network.name).toBe(name);
        expect(hex.encode(bitcore.Script.fromAddress(parsed).toBuffer())).toBe(hex.encode(output.script));
      }
    }
  });
});

describe("hostile PSBTs", () => {
  const own = () => p2wpkhOutput(ecdsa2pWallet.publicKey, NETWORK);
  const keys = () => ({ ecdsa: [ecdsa2pWallet.publicKey] });

  it("a witness UTXO that lies about the amount of the previous transaction is refused", () => {
    const { utxo } = funding(own().script, 50_000n);
    const psbt = buildPsbt({
      network: NETWORK,
      inputs: [utxo],
      outputs: [{ address: PAYEE.address, amount: 40_000n }],
    });
    expect(describeBitcoin(psbt, { network: NETWORK, keys: keys() }).fee.value).toBe(10_000n);
    // The previous transaction says 50 000 sat; make the witness UTXO record (written after it) claim 5 000 000.
    const lying = replaceLast(
      psbt,
      [...u64le(50_000n), ...varBytes(utxo.script)],
      [...u64le(5_000_000n), ...varBytes(utxo.script)],
    );
    expect(() => describeBitcoin(lying, { network: NETWORK, keys: keys() })).toThrow(
      expect.objectContaining({ code: "inconsistent" }),
    );
  });

  it("a P2WPKH input of ours without its previous transaction is refused, for describe and for signing", async () => {
    const { utxo } = funding(own().script, 50_000n);
    const psbt = buildPsbt({
      network: NETWORK,
      inputs: [{ ...utxo, previousTransaction: undefined }],
      outputs: [{ address: PAYEE.address, amount: 40_000n }],
    });
    // The refusal says why (BIP143 commits to the input's own amount only) and what to add.
    const why = /only its witnessUtxo.*BIP143.*hide a fee.*add the whole previous transaction.*nonWitnessUtxo/;
    expect(() => describeBitcoin(psbt, { network: NETWORK, keys: keys() })).toThrow(
      expect.objectContaining({ code: "unsupported", message: expect.stringMatching(why) }),
    );
    await expect(signPsbt(psbt, NETWORK, { ecdsa: [ecdsa2pWallet] })).rejects.toMatchObject({
      code: "unsupported",
      message: expect.stringMatching(why),
    });
  });

  it("sighash types other than ALL are refused on our inputs", () => {
    for (const sighashType of [SigHash.NONE, SigHash.SINGLE, SigHash.ALL_ANYONECANPAY]) {
      const { utxo } = funding(own().script, 50_000n);
      const tx = Transaction.fromPSBT(
        buildPsbt({ network: NETWORK, inputs: [utxo], outputs: [{ address: PAYEE.address, amount: 40_000n }] }),
      );
      tx.updateInput(0, { sighashType });
      expect(() => describeBitcoin(tx.toPSBT(0), { network: NETWORK, keys: keys() })).toThrow(
        expect.objectContaining({ code: "unsupported" }),
      );
    }
  });

  it("outputs above the inputs, garbage bytes, and a foreign-network address are refused", () => {
    const { utxo } = funding(own().script, 50_000n);
    const tx = Transaction.fromPSBT(
      buildPsbt({ network: NETWORK, inputs: [utxo], outputs: [{ address: PAYEE.address, amount: 40_000n }] }),
    );
    tx.updateOutput(0, { amount: 60_000n });
    expect(() => describeBitcoin(tx.toPSBT(0), { network: NETWORK, keys: keys() })).toThrow(
      expect.objectContaining({ code: "inconsistent" }),
    );
    expect(() =>
      describeBitcoin(new Uint8Array([0x70, 0x73, 0x62, 0x74, 0xff, 1]), { network: NETWORK, keys: keys() }),
    ).toThrow(expect.objectContaining({ code: "malformed" }));
    const mainnetPayee = p2wpkhOutput(PAYEE.key, "mainnet").address;
    expect(() =>
      buildPsbt({ network: NETWORK, inputs: [utxo], outputs: [{ address: mainnetPayee, amount: 1n }] }),
    ).toThrow(expect.objectContaining({ code: "invalid" }));
  });

  it("a foreign input's unproven amount is flagged, since only Taproot signatures commit to it", () => {
    const mine = funding(own().script, 50_000n).utxo;
    const theirs = funding(PAYEE.script, 30_000n).utxo;
    const psbt = buildPsbt({
      network: NETWORK,
      inputs: [mine, { ...theirs, previousTransaction: undefined }],
      outputs: [{ address: PAYEE.address, amount: 70_000n }],
    });
    expect(describeBitcoin(psbt, { network: NETWORK, keys: keys() }).warnings).toContain(
      "the fee relies on input amounts claimed by the PSBT for other wallets' inputs",
    );
  });

  it("duplicate inputs and oversized PSBTs are refused", () => {
    const { utxo } = funding(own().script, 50_000n);
    const twice = new Transaction({ allowUnknownInputs: true });
    for (let i = 0; i < 2; i++)
      twice.addInput({
        txid: utxo.txid,
        index: 0,
        witnessUtxo: { script: utxo.script, amount: utxo.amount },
        nonWitnessUtxo: utxo.previousTransaction,
      });
    twice.addOutput({ script: PAYEE.script, amount: 90_000n });
    expect(() => describeBitcoin(twice.toPSBT(0), { network: NETWORK, keys: keys() })).toThrow(
      expect.objectContaining({ code: "inconsistent" }),
    );
    const many = new Transaction();
    for (let i = 0; i < 257; i++)
      many.addInput({
        txid: hex.encode(Uint8Array.of(i >> 8, i & 255, ...new Uint8Array(30))),
        index: 0,
        witnessUtxo: { script: PAYEE.script, amount: 1_000n },
      });
    many.addOutput({ script: PAYEE.script, amount: 1_000n });
    expect(() => describeBitcoin(many.toPSBT(0), { network: NETWORK, keys: keys() })).toThrow(
      expect.objectContaining({ code: "unsupported" }),
    );
  });

  it("a signer that returns a bad signature is caught before it reaches the PSBT", async () => {
    const { utxo } = funding(own().script, 50_000n);
    const psbt = buildPsbt({
      network: NETWORK,
      inputs: [utxo],
      outputs: [{ address: PAYEE.address, amount: 40_000n }],
    });
    const broken: EcdsaSigner = {
      publicKey: ecdsa2pWallet.publicKey,
      signDigest: async (digest, request) =>
        ecdsa2pWallet.signDigest(
          digest.map((b) => b ^ 1),
          request,
        ),
    };
    await expect(signPsbt(psbt, NETWORK, { ecdsa: [broken] })).rejects.toMatchObject({ code: "bad-signature" });
  });
});
