/**
 * What the chain adapters need from a key: a public key and a way to sign. The engines of
 * @keyshard/mpc (or a single key in tests) are plugged in behind these interfaces, so this
 * package depends on no engine; every signature a signer returns is verified before it is
 * attached to anything.
 */

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
  signDigest(digest: Uint8Array): Promise<RecoverableSignature>;
}

/** A Taproot key that signs 32-byte sighashes with BIP340 under its BIP86-tweaked output key. */
export interface TaprootSigner {
  /** The 32-byte x-only internal key; the output key is derived from it as BIP86 says. */
  readonly internalKey: Uint8Array;
  signSchnorr(digest: Uint8Array): Promise<Uint8Array>;
}

/** An Ed25519 key (Solana) that signs messages with RFC 8032 Ed25519. */
export interface Ed25519Signer {
  readonly publicKey: Uint8Array;
  signEd25519(message: Uint8Array): Promise<Uint8Array>;
}
