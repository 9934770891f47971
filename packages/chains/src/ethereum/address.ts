/**
 * Ethereum addresses: Keccak-256 of the uncompressed public key, last 20 bytes, EIP-55 checksum.
 */
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { type Address, bytesToHex, getAddress, isAddress } from "viem";
import { publicKeyToAddress } from "viem/accounts";
import { ChainError } from "../errors.js";

/** The EIP-55 address of a secp256k1 public key (33-byte compressed or 65-byte uncompressed). */
export function ethereumAddress(publicKey: Uint8Array): Address {
  return publicKeyToAddress(bytesToHex(publicKeyPoint(publicKey).toBytes(false)));
}

export function publicKeyPoint(publicKey: Uint8Array): InstanceType<typeof secp256k1.Point> {
  try {
    return secp256k1.Point.fromBytes(publicKey);
  } catch {
    throw new ChainError("invalid", "public key is not a secp256k1 point");
  }
}

/**
 * Reads an address typed by a person or sent by a client. All-lowercase and all-uppercase hex
 * are accepted as they carry no checksum; mixed case must be a correct EIP-55 checksum, which is
 * what catches a mistyped character.
 */
export function parseEthereumAddress(text: string): Address {
  if (typeof text !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(text))
    throw new ChainError("invalid", "an Ethereum address is 0x followed by 40 hex digits");
  if (!isAddress(text, { strict: true }))
    throw new ChainError("invalid", `address ${text} has a wrong EIP-55 checksum`);
  return getAddress(text);
}
