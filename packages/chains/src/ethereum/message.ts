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

export async function signPersonalMessage(message: SignableMessage, signer: EcdsaSigner): Promise<Hex> {
  const digest = personalMessageDigest(message);
  return serializeEthereumSignature(digest, await signer.signDigest(digest), signer.publicKey);
}

export async function signTypedData(typedData: TypedDataDefinition, signer: EcdsaSigner): Promise<Hex> {
  const digest = typedDataDigest(typedData);
  return serializeEthereumSignature(digest, await signer.signDigest(digest), signer.publicKey);
}
