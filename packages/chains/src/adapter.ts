/**
 * What every chain provides to sign a request, so that the device and the provider read a request
 * with the same code: the digests each party signs, what the bytes do, and the signed result. A
 * new chain is one folder with an `adapter.ts` of this shape and its entry in `registry.ts`.
 *
 * Kinds other than transactions (messages, typed data, bare hashes) belong to the adapter of the
 * chain they are asked on, so a request has exactly one place that reads it.
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { schnorr } from "@noble/curves/secp256k1.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { taprootOutputKey } from "./bitcoin/address.js";
import type { BitcoinKeys } from "./bitcoin/psbt.js";
import type { TransactionDescription } from "./describe.js";
import { ChainError } from "./errors.js";
import { serializeEthereumSignature } from "./ethereum/message.js";
import type { TypedDataDescription } from "./ethereum/typed-data.js";
import type { MessageDescription } from "./message-description.js";
import type { ChainName, RequestKind } from "./names.js";
import { kindOf, payloadOf, type SigningRequest } from "./request.js";
import type { RecoverableSignature } from "./signer.js";

/**
 * How a key signs: secp256k1 ECDSA, BIP340 Schnorr under a Taproot output key, or Ed25519. The
 * caller maps its signature scheme to one of these; this package knows no scheme.
 */
export type SignatureAlgorithm = "ecdsa" | "bip340" | "ed25519";

/** The wallet's key at the request's path, in the forms the chains need. */
export interface SigningKey {
  readonly algorithm: SignatureAlgorithm;
  /** 33-byte compressed (ECDSA) or 32-byte (Ed25519, Taproot output key) public key. */
  readonly publicKey: Uint8Array;
  /** Which Bitcoin outputs the key owns: they decide the inputs it signs and what is change. */
  readonly bitcoin: BitcoinKeys;
}

/** One message a party signs. */
export interface ToSign {
  message: Uint8Array;
  /** The PSBT input this signature is for (Bitcoin). */
  input?: number;
}

/** What a request's bytes do, one shape per kind. */
export type RequestDescription =
  | { kind: "transaction"; transaction: TransactionDescription }
  /** `address`: the Bitcoin address a BIP322 message is signed for, when the key is known. */
  | { kind: "message"; message: MessageDescription; address?: string }
  | { kind: "typed-data"; typedData: TypedDataDescription }
  | { kind: "raw-hash"; hash: Uint8Array };

export interface SignedResult {
  /** The signed transaction (hex for Ethereum and Bitcoin, base64 wire bytes for Solana) or signature. */
  signed: string;
  /** Known before any broadcast for Bitcoin: the finalized transaction's id. */
  transactionId?: string;
  /** The address a Bitcoin message was signed for. */
  address?: string;
}

/** Limits a co-signer puts on what it reads; past them the adapter throws `ChainError("too-large")`. */
export interface ReadLimits {
  /** Most inputs a Bitcoin transaction may have. */
  maxInputs?: number;
}

/** How a chain names its networks. */
export interface ChainNetworks {
  /** What a request's `network` field may say on this chain; empty when the chain is named otherwise. */
  readonly requestNames: readonly string[];
  /** The network as a description and a policy name it: "eip155:<chain id>", "bitcoin:regtest", "solana". */
  readonly pattern: RegExp;
}

export interface ChainAdapter {
  readonly name: ChainName;
  readonly networks: ChainNetworks;
  /** For each kind the chain signs, the algorithms that may sign it. */
  readonly kinds: Readonly<Partial<Record<RequestKind, readonly SignatureAlgorithm[]>>>;
  /** An address as policies and allow-lists compare it (case folded where the chain ignores case). */
  normalizeAddress(address: string): string;
  /** Whether `address` is an address of this chain (Bitcoin: on any of its networks). */
  isAddress(address: string): boolean;
  /** The key's address on this chain (Bitcoin: on `network`, mainnet unless said). */
  address(key: SigningKey, network?: string): string;
  /**
   * What the bytes do. Without the key a Bitcoin transaction's change cannot be told from a
   * payment, and a BIP322 message's address is not known.
   */
  describe(request: SigningRequest, key?: SigningKey): RequestDescription;
  /** The exact messages to sign, in the order the provider numbers them. */
  digests(request: SigningRequest, key: SigningKey, limits?: ReadLimits): ToSign[];
  /** The signed result, each signature (one per digest, in order) verified under the key first. */
  attach(request: SigningRequest, signatures: readonly Uint8Array[], key: SigningKey): Promise<SignedResult>;
}

/** Whether `parse` returns rather than throws. */
export function succeeds(parse: () => unknown): boolean {
  try {
    parse();
    return true;
  } catch {
    return false;
  }
}

export const refusedRequest = (message: string) => new ChainError("invalid-request", message);

/** Refuses a request whose kind the chain does not sign, or does not sign with the key's algorithm. */
export function checkAccepted(adapter: ChainAdapter, request: SigningRequest, algorithm: SignatureAlgorithm): void {
  const kind = kindOf(request);
  const algorithms = adapter.kinds[kind];
  if (algorithms === undefined) throw refusedRequest(`${kind} signing is not offered on ${adapter.name}`);
  if (!algorithms.includes(algorithm))
    throw refusedRequest(`an ${algorithm} key does not sign ${adapter.name} ${kind} requests`);
}

function verifiesRaw(key: SigningKey, hash: Uint8Array, signature: Uint8Array): boolean {
  const [internalKey] = key.bitcoin.taproot ?? [];
  try {
    return key.algorithm === "ed25519"
      ? ed25519.verify(signature, hash, key.publicKey, { zip215: false })
      : internalKey !== undefined && schnorr.verify(signature, hash, taprootOutputKey(internalKey));
  } catch {
    return false;
  }
}

/** A 65-byte r ‖ s ‖ recovery signature, as the ECDSA engines return it. */
export const recoverableSignature = (signature: Uint8Array): RecoverableSignature => ({
  r: BigInt(`0x${bytesToHex(signature.subarray(0, 32))}`),
  s: BigInt(`0x${bytesToHex(signature.subarray(32, 64))}`),
  recovery: signature[64] as number,
});

/** The one signature a single-digest request gets back. */
export function onlySignature(signatures: readonly Uint8Array[]): Uint8Array {
  const [signature] = signatures;
  if (signature === undefined) throw new ChainError("bad-signature", "no signature came back");
  return signature;
}

/**
 * A bare hash is signed as it is: 32 bytes for secp256k1 keys, any message for Ed25519, which
 * hashes what it signs itself. Nothing can be said about what it commits to.
 */
export const rawHash = {
  describe: (request: SigningRequest): RequestDescription => ({ kind: "raw-hash", hash: payloadOf(request) }),
  digests(request: SigningRequest, key: SigningKey): ToSign[] {
    const hash = payloadOf(request);
    if (key.algorithm !== "ed25519" && hash.length !== 32) throw refusedRequest("a raw hash is 32 bytes");
    return [{ message: hash }];
  },
  /**
   * ECDSA: r ‖ s ‖ v as Ethereum writes it; Ed25519 and BIP340 (under the Taproot output key, as
   * every Taproot signature of the wallet): the 64-byte signature. All hex.
   */
  attach(request: SigningRequest, signatures: readonly Uint8Array[], key: SigningKey): SignedResult {
    const hash = payloadOf(request);
    const signature = onlySignature(signatures);
    if (key.algorithm === "ecdsa")
      return { signed: serializeEthereumSignature(hash, recoverableSignature(signature), key.publicKey) };
    if (!verifiesRaw(key, hash, signature))
      throw new ChainError("bad-signature", "the signature does not verify under the wallet's key");
    return { signed: `0x${bytesToHex(signature)}` };
  },
};
