/**
 * What the chain adapters need from a key: a public key and a way to sign. The engines of
 * @keyshard/mpc (or a single key in tests) are plugged in behind these interfaces, so this
 * package depends on no engine; every signature a signer returns is verified before it is
 * attached to anything.
 *
 * A digest alone says nothing a person or a policy can judge, so every call also carries the
 * `SigningContext` it was computed from. A co-signer (the provider, a confirmation device)
 * describes the request itself, recomputes the digest from it, and signs only if both agree.
 */
import type { TypedDataDefinition } from "viem";
import type { BitcoinNetwork } from "./names.js";

export type SigningContext =
  /** Unsigned transaction bytes (EIP-1559, EIP-2930 or EIP-155); the digest is their Keccak-256. */
  | { kind: "ethereum-transaction"; transaction: Uint8Array }
  /** EIP-191 `personal_sign` of these bytes. */
  | { kind: "ethereum-message"; message: Uint8Array }
  | { kind: "ethereum-typed-data"; typedData: TypedDataDefinition }
  /** One input of a PSBT; the digest is its BIP143 or BIP341 sighash. */
  | { kind: "bitcoin-psbt"; psbt: Uint8Array; input: number; network: BitcoinNetwork }
  /** A BIP322 message; the digest is its virtual `to_sign` transaction's sighash. */
  | { kind: "bitcoin-message"; message: Uint8Array }
  /** A compiled Solana message; Ed25519 signs these bytes themselves. */
  | { kind: "solana-message"; message: Uint8Array };

/** A recoverable secp256k1 ECDSA signature with low S, as ecdsa2p and dkls23 return it. */
export interface RecoverableSignature {
  r: bigint;
  s: bigint;
  /** 0..3: bit 0 is the nonce point's y parity, bit 1 set when its x exceeded the group order. */
  recovery: number;
}

/** A secp256k1 key that signs 32-byte digests with ECDSA (Ethereum, Bitcoin P2WPKH). */
export interface EcdsaSigner {
  /** The 33-byte compressed public key of the (already derived) signing key. */
  readonly publicKey: Uint8Array;
  signDigest(digest: Uint8Array, context: SigningContext): Promise<RecoverableSignature>;
}

/** A Taproot key that signs 32-byte sighashes with BIP340 under its BIP86-tweaked output key. */
export interface TaprootSigner {
  /** The 32-byte x-only internal key; the output key is derived from it as BIP86 says. */
  readonly internalKey: Uint8Array;
  signSchnorr(digest: Uint8Array, context: SigningContext): Promise<Uint8Array>;
}

/** An Ed25519 key (Solana) that signs messages with RFC 8032 Ed25519. */
export interface Ed25519Signer {
  readonly publicKey: Uint8Array;
  signEd25519(message: Uint8Array, context: SigningContext): Promise<Uint8Array>;
}
