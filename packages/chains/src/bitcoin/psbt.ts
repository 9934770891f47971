/**
 * PSBTs (BIP174) the wallet builds, reads and signs. `readPsbt` is the one strict reading used by
 * both `describeBitcoin` and `signPsbt`, so a PSBT is signed only under the same checks that
 * produced its description: the inputs we own are P2WPKH or P2TR key-path with SIGHASH_ALL
 * (or Taproot's default), and every amount the fee depends on is one our signatures commit to.
 */
import { schnorr, secp256k1 } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { concatBytes } from "@noble/hashes/utils.js";
import { hex } from "@scure/base";
import { DEFAULT_SEQUENCE, p2pkh, SigHash, Transaction } from "@scure/btc-signer";
import { ChainError } from "../errors.js";
import type { BitcoinNetwork } from "../names.js";
import type { EcdsaSigner, TaprootSigner } from "../signer.js";
import {
  bitcoinAddressScript,
  type OwnedOutput,
  p2trOutput,
  p2wpkhOutput,
  scriptAddress,
  taprootOutputKey,
} from "./address.js";
import { addInputPairs, type PsbtPair, psbtMapEnds } from "./psbt-maps.js";

export interface SpendableOutput {
  /** The previous transaction's id, hex in the usual (display) order. */
  txid: string;
  vout: number;
  amount: bigint;
  script: Uint8Array;
  /**
   * The whole previous transaction. Required to spend P2WPKH: a BIP143 signature commits to its
   * own input's amount only, so without it a PSBT could lie about amounts and hide a fee.
   */
  previousTransaction?: Uint8Array;
  /** The x-only internal key, for P2TR outputs. */
  internalKey?: Uint8Array;
}

export interface PsbtRequest {
  network: BitcoinNetwork;
  inputs: readonly SpendableOutput[];
  outputs: readonly { address: string; amount: bigint }[];
  lockTime?: number;
}

export function buildPsbt(request: PsbtRequest): Uint8Array {
  if (request.inputs.length === 0 || request.outputs.length === 0)
    throw new ChainError("invalid", "a transaction needs at least one input and one output");
  const tx = new Transaction({ version: 2, lockTime: request.lockTime ?? 0 });
  for (const input of request.inputs) {
    if (typeof input.amount !== "bigint" || input.amount <= 0n)
      throw new ChainError("invalid", "input amount must be > 0");
    libraryCall("input", () =>
      tx.addInput({
        txid: input.txid,
        index: input.vout,
        witnessUtxo: { script: input.script, amount: input.amount },
        ...(input.previousTransaction && { nonWitnessUtxo: input.previousTransaction }),
        ...(input.internalKey && { tapInternalKey: input.internalKey }),
      }),
    );
  }
  for (const output of request.outputs) {
    if (typeof output.amount !== "bigint" || output.amount <= 0n)
      throw new ChainError("invalid", "output amount must be > 0");
    const script = bitcoinAddressScript(output.address, request.network);
    libraryCall("output", () => tx.addOutput({ script, amount: output.amount }));
  }
  return tx.toPSBT(0);
}

/** The keys a wallet signs Bitcoin with; the outputs they own follow from them and the network. */
export interface BitcoinKeys {
  ecdsa?: readonly Uint8Array[];
  taproot?: readonly Uint8Array[];
}

export function ownedOutputs(keys: BitcoinKeys, network: BitcoinNetwork): OwnedOutput[] {
  return [
    ...(keys.ecdsa ?? []).map((k) => p2wpkhOutput(k, network)),
    ...(keys.taproot ?? []).map((k) => p2trOutput(k, network)),
  ];
}

export interface PsbtInputView {
  amount: bigint;
  script: Uint8Array;
  /** Set when one of the wallet's keys can spend this input. */
  owner?: OwnedOutput;
  /** The amount is proven by the previous transaction, which hashes to the spent txid. */
  proven: boolean;
  /** Already carries a final witness or our signature. */
  signed: boolean;
  sighash: number;
  /**
   * nSequence as the finalized transaction will carry it. A PSBT v2 may leave it out and then
   * means 0xffffffff (BIP370), which is what btc-signer writes when it extracts the transaction.
   */
  sequence: number;
}

export interface PsbtOutputView {
  amount: bigint;
  script: Uint8Array;
  address: string | null;
  owner?: OwnedOutput;
}

export interface PsbtView {
  tx: Transaction;
  inputs: PsbtInputView[];
  outputs: PsbtOutputView[];
  fee: bigint;
  /** Every input amount is either proven or committed to by a Taproot signature of ours. */
  feeCommitted: boolean;
  /** Where each key-value map of the bytes ends (`psbtMapEnds`): signatures are added there. */
  mapEnds: number[];
}

/**
 * A bound on what one PSBT makes a co-signer read and hash (its digests cost O(inputs + outputs),
 * see `bitcoinSigningDigests`). Larger consolidations are split.
 */
export const MAX_PSBT_INPUTS = 256;
export const MAX_PSBT_OUTPUTS = 256;

/**
 * How every PSBT is opened: outputs of any script, and the unknown and proprietary key-value pairs
 * kept (btc-signer drops them by default), so that a PSBT finalized here still carries what other
 * wallets and coordinators put in it. Signing does not re-encode at all (`addInputPairs`).
 */
const PSBT_OPTIONS = { allowUnknownOutputs: true, unknown: "ignore", proprietary: "ignore" } as const;

export function readPsbt(psbt: Uint8Array, network: BitcoinNetwork, owned: readonly OwnedOutput[]): PsbtView {
  if (!(psbt instanceof Uint8Array)) throw new ChainError("malformed", "PSBT must be bytes");
  const tx = libraryCall("PSBT", () => Transaction.fromPSBT(psbt, PSBT_OPTIONS));
  if (tx.inputsLength === 0 || tx.outputsLength === 0)
    throw new ChainError("malformed", "PSBT has no inputs or no outputs");
  if (tx.inputsLength > MAX_PSBT_INPUTS || tx.outputsLength > MAX_PSBT_OUTPUTS)
    throw new ChainError("unsupported", `PSBT has more than ${MAX_PSBT_INPUTS} inputs or ${MAX_PSBT_OUTPUTS} outputs`);
  const mapEnds = psbtMapEnds(psbt, { inputs: tx.inputsLength, outputs: tx.outputsLength });
  const outpoints = new Set<string>();
  const ownerOf = (script: Uint8Array) => owned.find((o) => hex.encode(o.script) === hex.encode(script));

  const inputs: PsbtInputView[] = [];
  for (let i = 0; i < tx.inputsLength; i++) {
    const input = tx.getInput(i);
    const outpoint = `${hex.encode(input.txid as Uint8Array)}:${input.index}`;
    if (outpoints.has(outpoint))
      throw new ChainError("inconsistent", `input ${i} spends the same output as an earlier one`);
    outpoints.add(outpoint);
    const prevout = input.nonWitnessUtxo?.outputs[input.index as number] ?? input.witnessUtxo;
    if (prevout === undefined) throw new ChainError("malformed", `input ${i} does not say which output it spends`);
    const owner = ownerOf(prevout.script);
    const sighash = input.sighashType ?? (owner?.type === "p2tr" ? SigHash.DEFAULT : SigHash.ALL);
    const signed =
      input.finalScriptWitness !== undefined ||
      input.finalScriptSig !== undefined ||
      input.tapKeySig !== undefined ||
      (owner !== undefined && (input.partialSig ?? []).some(([k]) => hex.encode(k) === hex.encode(owner.key)));
    const view: PsbtInputView = {
      amount: prevout.amount,
      script: prevout.script,
      proven: !!input.nonWitnessUtxo,
      signed,
      sighash,
      sequence: input.sequence ?? DEFAULT_SEQUENCE,
    };
    if (owner !== undefined) {
      view.owner = owner;
      if (sighash !== SigHash.ALL && !(owner.type === "p2tr" && sighash === SigHash.DEFAULT))
        throw new ChainError(
          "unsupported",
          `input ${i} asks for sighash type ${sighash}; keyshard signs only SIGHASH_ALL`,
        );
      if (owner.type === "p2wpkh" && !view.proven)
        throw new ChainError(
          "unsupported",
          `input ${i} is a segwit v0 (P2WPKH) input with only its witnessUtxo: its signature would commit to that amount alone (BIP143), so a PSBT could understate what the inputs hold and hide a fee; add the whole previous transaction to the input (nonWitnessUtxo, PSBT_IN_NON_WITNESS_UTXO)`,
        );
    }
    inputs.push(view);
  }

  const outputs: PsbtOutputView[] = [];
  for (let i = 0; i < tx.outputsLength; i++) {
    const output = tx.getOutput(i);
    if (output.script === undefined || output.amount === undefined)
      throw new ChainError("malformed", `output ${i} is incomplete`);
    const view: PsbtOutputView = {
      amount: output.amount,
      script: output.script,
      address: scriptAddress(output.script, network),
    };
    const owner = ownerOf(output.script);
    if (owner !== undefined) view.owner = owner;
    outputs.push(view);
  }

  const fee = inputs.reduce((s, i) => s + i.amount, 0n) - outputs.reduce((s, o) => s + o.amount, 0n);
  if (fee < 0n) throw new ChainError("inconsistent", "outputs spend more than the inputs hold");
  // A Taproot signature made now commits to every input's amount and script (BIP341).
  const taprootToSign = inputs.some((i) => i.owner?.type === "p2tr" && !i.signed);
  return { tx, inputs, outputs, fee, feeCommitted: taprootToSign || inputs.every((i) => i.proven), mapEnds };
}

export interface BitcoinSigners {
  ecdsa?: readonly EcdsaSigner[];
  taproot?: readonly TaprootSigner[];
}

const u32le = (n: number) => {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n >>> 0, true);
  return out;
};
const u64le = (n: bigint) => {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, n, true);
  return out;
};
/** A script with its CompactSize length, as transactions serialize it. */
function varBytes(bytes: Uint8Array): Uint8Array {
  const n = bytes.length;
  const size =
    n < 0xfd
      ? Uint8Array.of(n)
      : n <= 0xffff
        ? Uint8Array.of(0xfd, n & 0xff, n >> 8)
        : concatBytes(Uint8Array.of(0xfe), u32le(n));
  return concatBytes(size, bytes);
}
const sha256d = (...parts: Uint8Array[]) => sha256(sha256(concatBytes(...parts)));
const tapSighashTag = sha256(new TextEncoder().encode("TapSighash"));

/**
 * The parts of BIP143's and BIP341's SIGHASH_ALL messages that are the same for every input,
 * hashed once per PSBT: btc-signer hashes them again for each input, which makes a PSBT's
 * digests cost O(inputs × (inputs + outputs)).
 */
function sighashParts(view: PsbtView) {
  const { tx } = view;
  const inputs = Array.from({ length: tx.inputsLength }, (_, i) => tx.getInput(i));
  const outpoints = inputs.map((i) => concatBytes((i.txid as Uint8Array).slice().reverse(), u32le(i.index as number)));
  const sequences = view.inputs.map((i) => u32le(i.sequence));
  const outputs = view.outputs.map((o) => concatBytes(u64le(o.amount), varBytes(o.script)));
  const amounts = view.inputs.map((i) => u64le(i.amount));
  const scripts = view.inputs.map((i) => varBytes(i.script));
  const single = (parts: Uint8Array[]) => sha256(concatBytes(...parts));
  return {
    version: u32le(tx.version),
    lockTime: u32le(tx.lockTime),
    outpoints,
    sequences,
    v0: { prevouts: sha256d(...outpoints), sequences: sha256d(...sequences), outputs: sha256d(...outputs) },
    v1: {
      prevouts: single(outpoints),
      amounts: single(amounts),
      scripts: single(scripts),
      sequences: single(sequences),
      outputs: single(outputs),
    },
  };
}

/**
 * The digest each input we own and have not signed yet needs, exactly as BIP143/BIP341 define it
 * for the sighash types `readPsbt` lets through (SIGHASH_ALL, and Taproot's default).
 */
export function bitcoinSigningDigests(
  view: PsbtView,
): { index: number; owner: OwnedOutput; digest: Uint8Array; sighash: number }[] {
  const toSign = view.inputs.flatMap((input, index) =>
    input.owner === undefined || input.signed ? [] : [{ index, owner: input.owner, input }],
  );
  if (toSign.length === 0) return [];
  const parts = sighashParts(view);
  return toSign.map(({ index, owner, input }) => {
    if (input.sighash !== SigHash.ALL && !(owner.type === "p2tr" && input.sighash === SigHash.DEFAULT))
      throw new ChainError("unsupported", `input ${index} asks for sighash type ${input.sighash}`);
    const digest =
      owner.type === "p2wpkh"
        ? sha256d(
            parts.version,
            parts.v0.prevouts,
            parts.v0.sequences,
            parts.outpoints[index] as Uint8Array,
            varBytes(p2pkh(owner.key).script),
            u64le(input.amount),
            parts.sequences[index] as Uint8Array,
            parts.v0.outputs,
            parts.lockTime,
            u32le(input.sighash),
          )
        : sha256(
            concatBytes(
              tapSighashTag,
              tapSighashTag,
              Uint8Array.of(0, input.sighash),
              parts.version,
              parts.lockTime,
              parts.v1.prevouts,
              parts.v1.amounts,
              parts.v1.scripts,
              parts.v1.sequences,
              parts.v1.outputs,
              Uint8Array.of(0),
              u32le(index),
            ),
          );
    return { index, owner, digest, sighash: input.sighash };
  });
}

/** BIP174's key types for what signing adds to an input. */
const PSBT_IN_PARTIAL_SIG = 0x02;
const PSBT_IN_TAP_KEY_SIG = 0x13;
const PSBT_IN_TAP_INTERNAL_KEY = 0x17;

/**
 * Signs every input the signers' keys own and leaves the others as they are. Each signature is
 * verified before it goes into the PSBT: a partial_sig (P2WPKH) or tap_key_sig (P2TR, with the
 * internal key when the PSBT lacks it) added to the input's map, every other byte kept.
 */
export async function signPsbt(
  psbt: Uint8Array,
  network: BitcoinNetwork,
  signers: BitcoinSigners,
): Promise<{ psbt: Uint8Array; signed: number[] }> {
  const ecdsa = new Map((signers.ecdsa ?? []).map((s) => [hex.encode(s.publicKey), s]));
  const taproot = new Map((signers.taproot ?? []).map((s) => [hex.encode(s.internalKey), s]));
  const view = readPsbt(
    psbt,
    network,
    ownedOutputs(
      { ecdsa: [...ecdsa.values()].map((s) => s.publicKey), taproot: [...taproot.values()].map((s) => s.internalKey) },
      network,
    ),
  );
  const added = new Map<number, PsbtPair[]>();
  for (const { index, owner, digest, sighash } of bitcoinSigningDigests(view)) {
    const request = { kind: "bitcoin-psbt", psbt, input: index, network } as const;
    if (owner.type === "p2wpkh") {
      const signer = ecdsa.get(hex.encode(owner.key)) as EcdsaSigner;
      const { r, s } = await signer.signDigest(digest, request);
      const der = checkEcdsa(digest, r, s, owner.key);
      added.set(index, [
        { key: Uint8Array.of(PSBT_IN_PARTIAL_SIG, ...owner.key), value: Uint8Array.of(...der, sighash) },
      ]);
    } else {
      const signer = taproot.get(hex.encode(owner.key)) as TaprootSigner;
      const signature = await signer.signSchnorr(digest, request);
      if (
        !(signature instanceof Uint8Array) ||
        signature.length !== 64 ||
        !schnorr.verify(signature, digest, taprootOutputKey(owner.key))
      )
        throw new ChainError(
          "bad-signature",
          `Taproot signature for input ${index} does not verify under the output key`,
        );
      const tapKeySig = sighash === SigHash.DEFAULT ? signature : Uint8Array.of(...signature, sighash);
      added.set(index, [
        { key: Uint8Array.of(PSBT_IN_TAP_KEY_SIG), value: tapKeySig },
        ...(view.tx.getInput(index).tapInternalKey === undefined
          ? [{ key: Uint8Array.of(PSBT_IN_TAP_INTERNAL_KEY), value: owner.key }]
          : []),
      ]);
    }
  }
  return { psbt: addInputPairs(psbt, view.mapEnds, added), signed: [...added.keys()] };
}

/**
 * Output `vout` of a raw transaction, with that transaction's id: a coin as its own bytes prove
 * it, ready to be spent as a `SpendableOutput`.
 */
export function previousOutput(
  transaction: Uint8Array,
  vout: number,
): { txid: string; vout: number; amount: bigint; script: Uint8Array } {
  const tx = libraryCall("transaction", () => Transaction.fromRaw(transaction, { allowUnknownOutputs: true }));
  if (!Number.isInteger(vout) || vout < 0 || vout >= tx.outputsLength)
    throw new ChainError("invalid", `transaction ${tx.id} has no output ${vout}`);
  const output = tx.getOutput(vout);
  if (output.script === undefined || output.amount === undefined)
    throw new ChainError("malformed", `output ${vout} of ${tx.id} is incomplete`);
  return { txid: tx.id, vout, amount: output.amount, script: output.script };
}

/**
 * Finalizes every input; returns the finalized PSBT (unknown and proprietary pairs kept), the
 * network serialization and its txid.
 */
export function finalizePsbt(psbt: Uint8Array): { psbt: Uint8Array; transaction: Uint8Array; txid: string } {
  const tx = libraryCall("PSBT", () => Transaction.fromPSBT(psbt, PSBT_OPTIONS));
  libraryCall("PSBT finalization", () => tx.finalize());
  return { psbt: tx.toPSBT(0), transaction: tx.extract(), txid: tx.id };
}

/** The DER encoding of a low-S ECDSA signature that verifies under `publicKey`; throws otherwise. */
export function checkEcdsa(digest: Uint8Array, r: bigint, s: bigint, publicKey: Uint8Array): Uint8Array {
  try {
    const sig = new secp256k1.Signature(r, s);
    if (!sig.hasHighS() && secp256k1.verify(sig.toBytes("compact"), digest, publicKey, { prehash: false }))
      return sig.toBytes("der");
  } catch {}
  throw new ChainError("bad-signature", "ECDSA signature does not verify under the input's key");
}

/** r and s of a strict DER signature; undefined for anything else. */
export function ecdsaFromDer(der: Uint8Array): { r: bigint; s: bigint } | undefined {
  try {
    const sig = secp256k1.Signature.fromBytes(der, "der");
    return { r: sig.r, s: sig.s };
  } catch {
    return undefined;
  }
}

/**
 * btc-signer refuses inconsistent PSBTs (a witness UTXO that disagrees with the previous
 * transaction, a previous transaction with another txid) with plain Errors; they become typed here.
 */
function libraryCall<T>(what: string, call: () => T): T {
  try {
    return call();
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    const code = /nonWitnessUtxo|witnessUtxo different/.test(reason) ? "inconsistent" : "malformed";
    throw new ChainError(code, `${what}: ${reason}`);
  }
}
