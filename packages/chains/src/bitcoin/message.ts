/**
 * BIP322 "simple" signed messages for the outputs keyshard keys own (P2WPKH and P2TR key path):
 * the message is committed to by a virtual `to_spend` transaction paying the address, a key
 * signs the virtual `to_sign` transaction spending it exactly as it would sign a real input,
 * and the signature is that input's witness. Neither transaction can ever be broadcast.
 */
import { schnorr } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { base64, hex } from "@scure/base";
import { p2pkh, RawWitness, SigHash, Transaction } from "@scure/btc-signer";
import { ChainError } from "../errors.js";
import type { BitcoinNetwork } from "../names.js";
import type { EcdsaSigner, RecoverableSignature, TaprootSigner } from "../signer.js";
import { bitcoinAddressScript, type OwnedOutput, p2trOutput, p2wpkhOutput, taprootOutputKey } from "./address.js";
import { checkEcdsa, ecdsaFromDer } from "./psbt.js";

const TAG = sha256(new TextEncoder().encode("BIP0322-signed-message"));

/** The BIP340-style tagged hash of the message that `to_spend` commits to. */
export function bip322MessageHash(message: Uint8Array): Uint8Array {
  if (!(message instanceof Uint8Array)) throw new ChainError("invalid", "message must be bytes");
  return sha256(Uint8Array.of(...TAG, ...TAG, ...message));
}

const VIRTUAL = { version: 0, allowUnknownVersion: true, allowUnknownInputs: true, allowUnknownOutputs: true };
const OP_0_PUSH32 = Uint8Array.of(0x00, 0x20);
const OP_RETURN = Uint8Array.of(0x6a);

/** The two virtual transactions of a message to the output `script`. */
export function bip322Transactions(
  message: Uint8Array,
  script: Uint8Array,
): { toSpend: Transaction; toSign: Transaction } {
  const toSpend = new Transaction(VIRTUAL);
  // The output first: btc-signer freezes the outputs of a transaction with a final input.
  toSpend.addOutput({ script, amount: 0n });
  toSpend.addInput({
    txid: new Uint8Array(32),
    index: 0xffffffff,
    sequence: 0,
    finalScriptSig: Uint8Array.of(...OP_0_PUSH32, ...bip322MessageHash(message)),
  });
  const toSign = new Transaction(VIRTUAL);
  toSign.addInput({ txid: toSpend.id, index: 0, sequence: 0, witnessUtxo: { script, amount: 0n } });
  toSign.addOutput({ script: OP_RETURN, amount: 0n });
  return { toSpend, toSign };
}

/** What the owner's key signs: `to_sign`'s BIP143 (P2WPKH, SIGHASH_ALL) or BIP341 sighash. */
export function bip322Digest(message: Uint8Array, owner: OwnedOutput, sighash: number = SigHash.DEFAULT): Uint8Array {
  const { toSign } = bip322Transactions(message, owner.script);
  return owner.type === "p2wpkh"
    ? toSign.preimageWitnessV0(0, p2pkh(owner.key).script, SigHash.ALL, 0n)
    : toSign.preimageWitnessV1(0, [owner.script], sighash, [0n]);
}

/** The simple signature (base64 of the witness) from an ECDSA signature, checked first. */
export function bip322EcdsaSignature(message: Uint8Array, owner: OwnedOutput, signature: RecoverableSignature): string {
  if (owner.type !== "p2wpkh") throw new ChainError("invalid", "ECDSA signs for P2WPKH outputs");
  const der = checkEcdsa(bip322Digest(message, owner), signature.r, signature.s, owner.key);
  return base64.encode(RawWitness.encode([Uint8Array.of(...der, SigHash.ALL), owner.key]));
}

/** The simple signature from a BIP340 signature under the output key, checked first. */
export function bip322TaprootSignature(message: Uint8Array, owner: OwnedOutput, signature: Uint8Array): string {
  if (owner.type !== "p2tr") throw new ChainError("invalid", "Schnorr signs for P2TR outputs");
  if (
    !(signature instanceof Uint8Array) ||
    signature.length !== 64 ||
    !schnorr.verify(signature, bip322Digest(message, owner), taprootOutputKey(owner.key))
  )
    throw new ChainError("bad-signature", "the Schnorr signature does not verify under the output key");
  return base64.encode(RawWitness.encode([signature]));
}

export async function signBitcoinMessage(
  message: Uint8Array,
  network: BitcoinNetwork,
  signer: EcdsaSigner | TaprootSigner,
): Promise<{ address: string; signature: string }> {
  const request = { kind: "bitcoin-message", message } as const;
  if ("signDigest" in signer) {
    const owner = p2wpkhOutput(signer.publicKey, network);
    const signature = await signer.signDigest(bip322Digest(message, owner), request);
    return { address: owner.address, signature: bip322EcdsaSignature(message, owner, signature) };
  }
  const owner = p2trOutput(signer.internalKey, network);
  const signature = await signer.signSchnorr(bip322Digest(message, owner), request);
  return { address: owner.address, signature: bip322TaprootSignature(message, owner, signature) };
}

/**
 * Whether `signature` is a valid simple BIP322 signature of `message` by `address` (P2WPKH or
 * P2TR key path; other address types are refused, not guessed at).
 */
export function verifyBitcoinMessage(
  message: Uint8Array,
  address: string,
  signature: string,
  network: BitcoinNetwork,
): boolean {
  const script = bitcoinAddressScript(address, network);
  let stack: Uint8Array[];
  try {
    stack = RawWitness.decode(base64.decode(signature));
  } catch {
    return false;
  }
  const { toSign } = bip322Transactions(message, script);
  if (script.length === 22 && script[0] === 0x00 && script[1] === 0x14) {
    const [sig, key] = stack;
    if (stack.length !== 2 || sig === undefined || key === undefined || sig.at(-1) !== SigHash.ALL) return false;
    const owner = tryOwner(() => p2wpkhOutput(key, network));
    if (owner === undefined || hex.encode(owner.script) !== hex.encode(script)) return false;
    const parsed = ecdsaFromDer(sig.subarray(0, -1));
    if (parsed === undefined) return false;
    const digest = toSign.preimageWitnessV0(0, p2pkh(key).script, SigHash.ALL, 0n);
    return tryOwner(() => checkEcdsa(digest, parsed.r, parsed.s, key)) !== undefined;
  }
  if (script.length === 34 && script[0] === 0x51 && script[1] === 0x20) {
    const [sig] = stack;
    if (stack.length !== 1 || sig === undefined || (sig.length !== 64 && sig.length !== 65)) return false;
    const sighash = sig.length === 65 ? (sig[64] as number) : SigHash.DEFAULT;
    if (sig.length === 65 && sighash !== SigHash.ALL) return false;
    const digest = toSign.preimageWitnessV1(0, [script], sighash, [0n]);
    return schnorr.verify(sig.subarray(0, 64), digest, script.subarray(2));
  }
  throw new ChainError("unsupported", "keyshard signs and checks messages of P2WPKH and P2TR addresses only");
}

function tryOwner<T>(make: () => T): T | undefined {
  try {
    return make();
  } catch {
    return undefined;
  }
}
