/**
 * Ethereum transactions keyshard signs: EIP-1559 (type 2), EIP-2930 (type 1: an access list, and
 * gasPrice for its fee) and legacy with EIP-155 replay protection. The unsigned bytes are the unit of work: they are what `describeEthereum` reads,
 * what the digest is computed from, and what the signature is attached to, so the transaction a
 * device approved is the one that is signed.
 */
import { secp256k1 } from "@noble/curves/secp256k1.js";
import {
  type Address,
  bytesToHex,
  encodeFunctionData,
  erc20Abi,
  type Hex,
  hexToBytes,
  keccak256,
  parseTransaction,
  serializeTransaction,
  type TransactionSerializableEIP1559,
  type TransactionSerializableEIP2930,
  type TransactionSerializableLegacy,
  toHex,
} from "viem";
import { ChainError, decodeOrThrow } from "../errors.js";
import type { EcdsaSigner, RecoverableSignature } from "../signer.js";
import { publicKeyPoint } from "./address.js";

/** An unsigned transaction keyshard accepts: always with a chain id, never with a signature. */
export type EthereumTransaction =
  | (TransactionSerializableEIP1559 & { chainId: number })
  | (TransactionSerializableEIP2930 & { chainId: number })
  | (TransactionSerializableLegacy & { chainId: number });

/** Serializes an unsigned transaction after checking it is one keyshard signs. */
export function buildEthereumTransaction(tx: EthereumTransaction): Uint8Array {
  const bytes = decodeOrThrow("transaction", () => hexToBytes(serializeTransaction(tx)));
  parseEthereumTransaction(bytes);
  return bytes;
}

/** Call data of ERC-20 `transfer(to, amount)`. */
export function erc20TransferData(to: Address, amount: bigint): Hex {
  return encodeFunctionData({ abi: erc20Abi, functionName: "transfer", args: [to, amount] });
}

/** Call data of ERC-20 `approve(spender, amount)`. */
export function erc20ApproveData(spender: Address, amount: bigint): Hex {
  return encodeFunctionData({ abi: erc20Abi, functionName: "approve", args: [spender, amount] });
}

/** The EIP-2718 type bytes of the typed transactions keyshard signs. */
const SIGNED_TYPE_BYTES = new Set([0x01, 0x02]);

/**
 * Decodes unsigned transaction bytes strictly: type 2, type 1 or EIP-155 legacy, a positive chain
 * id, no signature, and canonical encoding (serializing the result gives back the same bytes).
 */
export function parseEthereumTransaction(bytes: Uint8Array): EthereumTransaction {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0)
    throw new ChainError("malformed", "transaction bytes are empty");
  const first = bytes[0] as number;
  if (first < 0xc0 && !SIGNED_TYPE_BYTES.has(first))
    throw new ChainError("unsupported", `transaction type 0x${first.toString(16)} is not signed by keyshard`);
  const hex = bytesToHex(bytes);
  const tx = decodeOrThrow("transaction", () => parseTransaction(hex));
  if ("r" in tx || "s" in tx || "v" in tx || "yParity" in tx)
    throw new ChainError("invalid", "transaction is already signed");
  if (tx.type !== "eip1559" && tx.type !== "eip2930" && tx.type !== "legacy")
    throw new ChainError("unsupported", `transaction type ${tx.type} is not signed by keyshard`);
  if (tx.chainId === undefined || tx.chainId <= 0)
    throw new ChainError("unsupported", "legacy transaction without EIP-155 chain id can be replayed on any chain");
  if (!Number.isSafeInteger(tx.chainId)) throw new ChainError("invalid", "chain id is out of range");
  if (decodeOrThrow("transaction", () => serializeTransaction(tx)) !== hex)
    throw new ChainError("malformed", "transaction is not canonically encoded");
  return tx as EthereumTransaction;
}

/** The 32-byte digest the key signs: Keccak-256 of the unsigned bytes. */
export function ethereumSigningDigest(bytes: Uint8Array): Uint8Array {
  parseEthereumTransaction(bytes);
  return hexToBytes(keccak256(bytes));
}

/**
 * Checks that `signature` is a low-S signature of `digest` by `publicKey` and returns its
 * y parity. Ethereum cannot express recovery ids 2 and 3 (probability ~2⁻¹²⁷); they are refused.
 */
export function checkEthereumSignature(
  digest: Uint8Array,
  signature: RecoverableSignature,
  publicKey: Uint8Array,
): 0 | 1 {
  const { r, s, recovery } = signature;
  if (recovery !== 0 && recovery !== 1)
    throw new ChainError("bad-signature", "signature has a recovery id Ethereum cannot express; sign again");
  let recovered: InstanceType<typeof secp256k1.Point>;
  try {
    const sig = new secp256k1.Signature(r, s, recovery);
    if (sig.hasHighS()) throw new Error("high S");
    recovered = sig.recoverPublicKey(digest);
  } catch {
    throw new ChainError("bad-signature", "signer returned a malformed signature");
  }
  if (!recovered.equals(publicKeyPoint(publicKey)))
    throw new ChainError("bad-signature", "signature does not recover to the signer's key");
  return recovery;
}

/** The broadcastable signed transaction. */
export function attachEthereumSignature(
  bytes: Uint8Array,
  signature: RecoverableSignature,
  publicKey: Uint8Array,
): Uint8Array {
  const tx = parseEthereumTransaction(bytes);
  const yParity = checkEthereumSignature(hexToBytes(keccak256(bytes)), signature, publicKey);
  const r = toHex(signature.r, { size: 32 });
  const s = toHex(signature.s, { size: 32 });
  return hexToBytes(serializeTransaction(tx, { r, s, yParity, v: 27n + BigInt(yParity) }));
}

/** Digest, signature by the signer, attachment: the unsigned bytes in, broadcastable bytes out. */
export async function signEthereumTransaction(bytes: Uint8Array, signer: EcdsaSigner): Promise<Uint8Array> {
  const signature = await signer.signDigest(ethereumSigningDigest(bytes), {
    kind: "ethereum-transaction",
    transaction: bytes,
  });
  return attachEthereumSignature(bytes, signature, signer.publicKey);
}
