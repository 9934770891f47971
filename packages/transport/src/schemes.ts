/**
 * The signature schemes of keyshard wallets behind one interface, so that the provider and the
 * devices drive every engine the same way: keygen and signing runs as `Party` objects, shares and
 * results as bytes. A hybrid wallet is 2-of-2 (wallet device = party 0, provider = party 1);
 * dkls23 and FROST also make t-of-n keys, signed by any `signers` of at least t. Every scheme
 * refreshes its shares; dkls23 and FROST also reshare a key to other parties or another threshold.
 */
import {
  compactSignature,
  DklsShare,
  dkls23,
  Ecdsa2pShare,
  ecdsa2p,
  FrostShare,
  frost,
  type Party,
  type ReshareMember,
  type ReshareOptions,
  type Signature,
  type SignPrecomputation,
} from "@keyshard/mpc";

export type SchemeName = "ecdsa2p" | "dkls23" | "frost-ed25519" | "frost-taproot";
export const SCHEME_NAMES: readonly SchemeName[] = ["ecdsa2p", "dkls23", "frost-ed25519", "frost-taproot"];

/** Schemes whose signatures are ECDSA over secp256k1 (Ethereum, Bitcoin P2WPKH). */
export const isEcdsa = (name: SchemeName) => name === "ecdsa2p" || name === "dkls23";

/** The parties of a key: `n` of them, any `t` can sign. Hybrid wallets are 2-of-2. */
export interface Quorum {
  t: number;
  n: number;
}

const HYBRID: Quorum = { t: 2, n: 2 };

/** The parties of a hybrid wallet. */
export const WALLET_DEVICE = 0;
export const PROVIDER = 1;

/** A decoded key share; opaque outside its scheme. Decoding is costly for ecdsa2p, so keep it. */
export type Share = unknown;

export interface Scheme {
  readonly name: SchemeName;
  /** Whether the scheme makes keys of more than two parties. */
  readonly multiparty: boolean;
  keygen(sid: Uint8Array, index: number, quorum?: Quorum): Party<unknown>;
  restoreKeygen(state: Uint8Array): Party<unknown>;
  /** A finished keygen's result is the party's share. */
  encodeShare(share: Share): Uint8Array;
  decodeShare(bytes: Uint8Array): Share;
  /**
   * `message`: the 32-byte digest (ECDSA) or the message itself (Ed25519, BIP340 sighash).
   * `signers`: the parties taking part (default: both of a hybrid wallet).
   * `precomputed`: an ecdsa2p `SignPrecomputation`, used once (party 1 only).
   */
  sign(
    share: Share,
    options: { sid: Uint8Array; message: Uint8Array; path?: string; signers?: number[]; precomputed?: unknown },
  ): Party<unknown>;
  restoreSign(share: Share, state: Uint8Array): Party<unknown>;
  /** A finished signing run's signature: r ‖ s ‖ recovery id (ECDSA, 65 bytes) or 64 bytes. */
  signatureBytes(result: unknown): Uint8Array;
  /** The public key at `path`: 33 bytes compressed (ECDSA), 32 bytes (Ed25519, Taproot output key). */
  publicKey(share: Share, path?: string): Uint8Array;
  /** New shares of the same key among the same parties; the result is the party's new share. */
  refresh(share: Share, sid: Uint8Array): Party<unknown>;
  restoreRefresh(share: Share, state: Uint8Array): Party<unknown>;
  /**
   * Moves a t-of-n key to another set of parties and/or threshold (multiparty schemes only): the
   * result is the party's new share, or null for a party that leaves the key.
   */
  reshare(share: Share | null, options: ReshareOptions): Party<unknown>;
  restoreReshare(state: Uint8Array): Party<unknown>;
}

/**
 * The participants of a reshare from `current` to `next` members (ids in party order): one entry
 * per member of `next`, in its order, with its index in `current` if it has one. A party's
 * position in the run is so its index in the new key; members that leave take no part.
 */
export function reshareMembers(current: readonly string[], next: readonly string[]): ReshareMember[] {
  return next.map((id, i) => {
    const old = current.indexOf(id);
    return { old: old < 0 ? null : old, new: i };
  });
}

const twoOfTwoOnly = (): never => {
  throw new RangeError("ecdsa2p keys are 2-of-2: only refresh changes them");
};

function ecdsaSignatureBytes(signature: Signature): Uint8Array {
  const out = new Uint8Array(65);
  out.set(compactSignature(signature));
  out[64] = signature.recovery;
  return out;
}

const ecdsa2pScheme: Scheme = {
  name: "ecdsa2p",
  multiparty: false,
  keygen: (sid, index, quorum = HYBRID) => {
    if (quorum.t !== 2 || quorum.n !== 2) throw new RangeError("ecdsa2p keys are 2-of-2");
    return ecdsa2p.keygen({ sid, index: index as 0 | 1 });
  },
  restoreKeygen: (state) => ecdsa2p.restoreKeygen(state),
  encodeShare: (share) => (share as Ecdsa2pShare).toBytes(),
  decodeShare: (bytes) => Ecdsa2pShare.fromBytes(bytes),
  sign: (share, { sid, message, path, precomputed }) =>
    ecdsa2p.sign(share as Ecdsa2pShare, {
      sid,
      messageHash: message,
      ...(path && { path }),
      ...(precomputed !== undefined && { precomputed: precomputed as SignPrecomputation }),
    }),
  restoreSign: (share, state) => ecdsa2p.restoreSign(share as Ecdsa2pShare, state),
  signatureBytes: (result) => ecdsaSignatureBytes(result as Signature),
  publicKey: (share, path) => ecdsa2p.publicKey(share as Ecdsa2pShare, path),
  refresh: (share, sid) => ecdsa2p.refresh(share as Ecdsa2pShare, { sid }),
  restoreRefresh: (share, state) => ecdsa2p.restoreRefresh(share as Ecdsa2pShare, state),
  reshare: twoOfTwoOnly,
  restoreReshare: twoOfTwoOnly,
};

const dkls23Scheme: Scheme = {
  name: "dkls23",
  multiparty: true,
  keygen: (sid, index, quorum = HYBRID) => dkls23.keygen({ sid, index, ...quorum }),
  restoreKeygen: (state) => dkls23.restoreKeygen(state),
  encodeShare: (share) => (share as DklsShare).toBytes(),
  decodeShare: (bytes) => DklsShare.fromBytes(bytes),
  sign: (share, { sid, message, path, signers = [WALLET_DEVICE, PROVIDER] }) =>
    dkls23.sign(share as DklsShare, { sid, messageHash: message, signers, ...(path && { path }) }),
  restoreSign: (share, state) => dkls23.restoreSign(share as DklsShare, state),
  signatureBytes: (result) => ecdsaSignatureBytes(result as Signature),
  publicKey: (share, path) => dkls23.publicKey(share as DklsShare, path),
  refresh: (share, sid) => dkls23.refresh(share as DklsShare, { sid }),
  restoreRefresh: (_share, state) => dkls23.restoreReshare(state),
  reshare: (share, options) => dkls23.reshare(share as DklsShare | null, options),
  restoreReshare: (state) => dkls23.restoreReshare(state),
};

function frostScheme(name: "frost-ed25519" | "frost-taproot", engine: typeof frost.ed25519): Scheme {
  return {
    name,
    multiparty: true,
    keygen: (sid, index, quorum = HYBRID) => engine.keygen({ sid, index, ...quorum }),
    restoreKeygen: (state) => engine.restoreKeygen(state),
    encodeShare: (share) => (share as FrostShare).toBytes(),
    decodeShare: (bytes) => FrostShare.fromBytes(bytes),
    sign: (share, { sid, message, path, signers = [WALLET_DEVICE, PROVIDER] }) =>
      engine.sign(share as FrostShare, { sid, message, signers, ...(path && { path }) }),
    restoreSign: (share, state) => engine.restoreSign(share as FrostShare, state),
    signatureBytes: (result) => result as Uint8Array,
    publicKey: (share, path) => engine.publicKey(share as FrostShare, path),
    refresh: (share, sid) => engine.refresh(share as FrostShare, { sid }),
    restoreRefresh: (_share, state) => engine.restoreReshare(state),
    reshare: (share, options) => engine.reshare(share as FrostShare | null, options),
    restoreReshare: (state) => engine.restoreReshare(state),
  };
}

const SCHEMES: Record<SchemeName, Scheme> = {
  ecdsa2p: ecdsa2pScheme,
  dkls23: dkls23Scheme,
  "frost-ed25519": frostScheme("frost-ed25519", frost.ed25519),
  "frost-taproot": frostScheme("frost-taproot", frost.secp256k1tr as typeof frost.ed25519),
};

export function scheme(name: SchemeName): Scheme {
  const found = SCHEMES[name];
  if (found === undefined) throw new RangeError(`unknown scheme ${String(name)}`);
  return found;
}

/**
 * The keys a wallet spends Bitcoin with at `path`: the compressed key of its P2WPKH output
 * (ECDSA schemes) or the x-only internal key of its P2TR output (FROST on secp256k1); an Ed25519
 * wallet has none.
 */
export function bitcoinKeys(
  name: SchemeName,
  share: Share,
  path?: string,
): { ecdsa?: Uint8Array[]; taproot?: Uint8Array[] } {
  if (isEcdsa(name)) return { ecdsa: [scheme(name).publicKey(share, path)] };
  if (name === "frost-taproot") return { taproot: [frost.secp256k1tr.internalKey(share as FrostShare, path)] };
  return {};
}
