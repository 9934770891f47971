/**
 * The one interface the provider and the devices drive every signature scheme through, so that a
 * wallet's scheme is a name in storage and every engine runs the same way: keygen and signing as
 * `Party` objects, shares and results as bytes. Each scheme's share and signing result keep their
 * own types (`SchemeTypes`), so code holding a scheme name gets a typed union, not `unknown`.
 */
import type { DklsShare } from "../dkls23/index.js";
import type { Signature } from "../ecdsa/signature.js";
import type { Ecdsa2pShare, SignPrecomputation } from "../ecdsa2p/index.js";
import type { FrostShare, ReshareOptions } from "../frost/index.js";
import type { Party } from "../session/party.js";

/** What each scheme's runs produce: a key share, and a signing run's result. */
export interface SchemeTypes {
  ecdsa2p: { share: Ecdsa2pShare; signature: Signature };
  dkls23: { share: DklsShare; signature: Signature };
  "frost-ed25519": { share: FrostShare; signature: Uint8Array };
  "frost-taproot": { share: FrostShare; signature: Uint8Array };
}

export type SchemeName = keyof SchemeTypes;

/** The decoded key share of scheme `N` (of any scheme by default). Decoding is costly for ecdsa2p, so keep it. */
export type ShareOf<N extends SchemeName = SchemeName> = SchemeTypes[N]["share"];

/** A decoded key share of any scheme. */
export type Share = ShareOf;

/** A finished signing run's result for scheme `N`. */
export type SignResultOf<N extends SchemeName = SchemeName> = SchemeTypes[N]["signature"];

/**
 * The signature a scheme's runs produce, as chains name what they verify: ECDSA over secp256k1
 * (Ethereum, Bitcoin P2WPKH), BIP340 Schnorr under a Taproot output key, or Ed25519.
 */
export type SignatureAlgorithm = "ecdsa" | "bip340" | "ed25519";

/** The parties of a key: `n` of them, any `t` can sign. Hybrid wallets are 2-of-2. */
export interface Quorum {
  t: number;
  n: number;
}

export const HYBRID: Quorum = { t: 2, n: 2 };

/** The parties of a hybrid wallet. */
export const WALLET_DEVICE = 0;
export const PROVIDER = 1;

export interface SignRunOptions {
  sid: Uint8Array;
  /** The 32-byte digest (ECDSA) or the message itself (Ed25519, BIP340 sighash). */
  message: Uint8Array;
  path?: string;
  /** The parties taking part (default: both of a hybrid wallet). */
  signers?: number[];
  /** ecdsa2p party 1's message-independent work, used once; the other schemes have none. */
  precomputed?: SignPrecomputation;
}

/** Scheme `N` with its own share and result types. */
export type SchemeOf<N extends SchemeName> = Scheme<ShareOf<N>, SignResultOf<N>>;

export interface Scheme<S extends Share = Share, R extends SignResultOf = SignResultOf> {
  readonly name: SchemeName;
  /** The signatures it makes, so a caller knows which chains and message kinds it serves. */
  readonly algorithm: SignatureAlgorithm;
  /** Whether keys derive children along non-hardened BIP32 paths (Ed25519 keys do not). */
  readonly derivesPaths: boolean;
  /** Whether the scheme makes keys of more than two parties. */
  readonly multiparty: boolean;
  /** A finished keygen's result is the party's share. */
  keygen(sid: Uint8Array, index: number, quorum?: Quorum): Party<S>;
  restoreKeygen(state: Uint8Array): Party<S>;
  encodeShare(share: S): Uint8Array;
  decodeShare(bytes: Uint8Array): S;
  sign(share: S, options: SignRunOptions): Party<R>;
  restoreSign(share: S, state: Uint8Array): Party<R>;
  /** A finished signing run's signature: r ‖ s ‖ recovery id (ECDSA, 65 bytes) or 64 bytes. */
  signatureBytes(result: R): Uint8Array;
  /** The public key at `path`: 33 bytes compressed (ECDSA), 32 bytes (Ed25519, Taproot output key). */
  publicKey(share: S, path?: string): Uint8Array;
  /** New shares of the same key among the same parties; the result is the party's new share. */
  refresh(share: S, sid: Uint8Array): Party<S>;
  restoreRefresh(share: S, state: Uint8Array): Party<S>;
  /**
   * Moves a t-of-n key to another set of parties and/or threshold (multiparty schemes only): the
   * result is the party's new share, or null for a party that leaves the key.
   */
  reshare(share: S | null, options: ReshareOptions): Party<S | null>;
  restoreReshare(state: Uint8Array): Party<S | null>;
}
