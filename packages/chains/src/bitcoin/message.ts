/**
 * BIP322 "simple" signed messages for the outputs keyshard keys own (P2WPKH and P2TR key path):
 * the message is committed to by a virtual `to_spend` transaction paying the address, a key
 * signs the virtual `to_sign` transaction spending it exactly as it would sign a real input,
 * and the signature is that input's witness. Neither transaction can ever be broadcast.
 *
 * Verification also accepts the older "Bitcoin Signed Message" signatures (BIP137: a compact
 * ECDSA signature whose key is recovered, not given) for P2PKH, P2SH-P2WPKH and P2WPKH
 * addresses, which wallets and exchanges still use to prove who owns an address.
 */
import { schnorr, secp256k1 } from "@noble/curves/secp256k1.js";
import { equalBytes } from "@noble/curves/utils.js";
import { ripemd160 } from "@noble/hashes/legacy.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { concatBytes } from "@noble/hashes/utils.js";
import { base64, hex } from "@scure/base";
import { CompactSize, OutScript, p2pkh, RawWitness, SigHash, Transaction } from "@scure/btc-signer";
import { ChainError } from "../errors.js";
import type { BitcoinNetwork } from "../names.js";
import type { EcdsaSigner, RecoverableSignature, TaprootSigner } from "../signer.js";
import { bitcoinAddressScript, type OwnedOutput, p2trOutput, p2wpkhOutput, taprootOutputKey } from "./address.js";
import { checkEcdsa, ecdsaFromDer } from "./psbt.js";

const TAG = sha256(new TextEncoder().encode("BIP0322-signed-message"));

/** The BIP340-style tagged hash of the message that `to_spend` commits to. */
export function bip322MessageHash(message: Uint8Array): Uint8Array {
  if (!(message instanceof Uint8Array)) throw new ChainError("invalid", "message must be bytes");
  // Not spread into arguments: a message of a megabyte would overflow the stack.
  return sha256(concatBytes(TAG, TAG, message));
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
 * Whether `signature` proves that `address` signed `message`: a simple BIP322 signature (P2WPKH,
 * P2TR key path) or a BIP137 one (P2PKH, P2SH-P2WPKH, P2WPKH). Any other address type, and any
 * signature that does not decode, is `false`; only an address that is not one of `network` is
 * an error (`ChainError("invalid")`).
 */
export function verifyBitcoinMessage(
  message: Uint8Array,
  address: string,
  signature: string,
  network: BitcoinNetwork,
): boolean {
  const script = bitcoinAddressScript(address, network);
  let bytes: Uint8Array;
  try {
    bytes = base64.decode(signature);
  } catch {
    return false;
  }
  return verifyLegacySignature(message, script, bytes) || verifyBip322Signature(message, script, bytes, network);
}

function verifyBip322Signature(
  message: Uint8Array,
  script: Uint8Array,
  signature: Uint8Array,
  network: BitcoinNetwork,
): boolean {
  let stack: Uint8Array[];
  try {
    stack = RawWitness.decode(signature);
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
  return false;
}

const LEGACY_PREFIX = new TextEncoder().encode("\x18Bitcoin Signed Message:\n");

/** What a BIP137 signature signs: double SHA-256 of the prefix, the message's CompactSize length and the message. */
export function legacyMessageHash(message: Uint8Array): Uint8Array {
  if (!(message instanceof Uint8Array)) throw new ChainError("invalid", "message must be bytes");
  const length = CompactSize.encode(BigInt(message.length));
  return sha256(sha256(concatBytes(LEGACY_PREFIX, length, message)));
}

/**
 * The address type each BIP137 header range (27 + 4·index + recovery id) claims, and how the
 * recovered key is serialized before hashing: the claim is part of what must match, so a
 * signature made for one address type never verifies for another type of the same key.
 */
const LEGACY_HEADER_TYPES = [
  { type: "pkh", compressed: false },
  { type: "pkh", compressed: true },
  { type: "sh-wpkh", compressed: true },
  { type: "wpkh", compressed: true },
] as const;

function verifyLegacySignature(message: Uint8Array, script: Uint8Array, signature: Uint8Array): boolean {
  const header = signature[0];
  if (signature.length !== 65 || header === undefined || header < 27 || header > 42) return false;
  const digest = legacyMessageHash(message);
  const claim = LEGACY_HEADER_TYPES[(header - 27) >> 2] as (typeof LEGACY_HEADER_TYPES)[number];
  // Recovery accepts high-S signatures, as Bitcoin Core's verifymessage does: either form proves the key.
  const key = tryOwner(() =>
    secp256k1.Signature.fromBytes(signature.subarray(1), "compact")
      .addRecoveryBit((header - 27) & 3)
      .recoverPublicKey(digest)
      .toBytes(claim.compressed),
  );
  if (key === undefined) return false;
  const keyHash = hash160(key);
  const expected =
    claim.type === "pkh"
      ? OutScript.encode({ type: "pkh", hash: keyHash })
      : claim.type === "wpkh"
        ? OutScript.encode({ type: "wpkh", hash: keyHash })
        : OutScript.encode({ type: "sh", hash: hash160(OutScript.encode({ type: "wpkh", hash: keyHash })) });
  return equalBytes(expected, script);
}

function hash160(bytes: Uint8Array): Uint8Array {
  return ripemd160(sha256(bytes));
}

function tryOwner<T>(make: () => T): T | undefined {
  try {
    return make();
  } catch {
    return undefined;
  }
}
