/**
 * Off-chain signatures: EIP-191 `personal_sign` and EIP-712 typed data, in the 65-byte r ‖ s ‖ v
 * form (v = 27 + y parity) that wallets return and viem's verifiers check.
 */
import {
  type Hex,
  hashMessage,
  hashTypedData,
  hexToBytes,
  type SignableMessage,
  serializeSignature,
  stringToBytes,
  type TypedDataDefinition,
  toHex,
} from "viem";
import { decodeOrThrow } from "../errors.js";
import type { EcdsaSigner, RecoverableSignature } from "../signer.js";
import { checkEthereumSignature } from "./transaction.js";

/** EIP-191 version 0x45 digest of text (UTF-8) or `{ raw }` bytes, as `personal_sign` hashes it. */
export function personalMessageDigest(message: SignableMessage): Uint8Array {
  return hexToBytes(decodeOrThrow("message", () => hashMessage(message)));
}

export function typedDataDigest(typedData: TypedDataDefinition): Uint8Array {
  return hexToBytes(decodeOrThrow("typed data", () => hashTypedData(typedData)));
}

export function serializeEthereumSignature(
  digest: Uint8Array,
  signature: RecoverableSignature,
  publicKey: Uint8Array,
): Hex {
  const yParity = checkEthereumSignature(digest, signature, publicKey);
  return serializeSignature({ r: toHex(signature.r, { size: 32 }), s: toHex(signature.s, { size: 32 }), yParity });
}

/** The bytes `personal_sign` signs: text as UTF-8, `{ raw }` as given. */
export function personalMessageBytes(message: SignableMessage): Uint8Array {
  if (typeof message === "string") return stringToBytes(message);
  const { raw } = message;
  return typeof raw === "string" ? decodeOrThrow("message", () => hexToBytes(raw)) : new Uint8Array(raw);
}

export async function signPersonalMessage(message: SignableMessage, signer: EcdsaSigner): Promise<Hex> {
  const bytes = personalMessageBytes(message);
  const digest = personalMessageDigest({ raw: bytes });
  const signature = await signer.signDigest(digest, { kind: "ethereum-message", message: bytes });
  return serializeEthereumSignature(digest, signature, signer.publicKey);
}

export async function signTypedData(typedData: TypedDataDefinition, signer: EcdsaSigner): Promise<Hex> {
  const digest = typedDataDigest(typedData);
  const signature = await signer.signDigest(digest, { kind: "ethereum-typed-data", typedData });
  return serializeEthereumSignature(digest, signature, signer.publicKey);
}
