/**
 * The signature schemes of keyshard wallets by name. A hybrid wallet is 2-of-2 (wallet device =
 * party 0, provider = party 1); dkls23 and FROST also make t-of-n keys, signed by any `signers`
 * of at least t. Every scheme refreshes its shares; dkls23 and FROST also reshare a key to other
 * parties or another threshold.
 */

import { Point } from "../codec/codec.js";
import type { DklsShare } from "../dkls23/index.js";
import type { Ecdsa2pShare } from "../ecdsa2p/index.js";
import { type FrostShare, frost } from "../frost/index.js";
import type { ReshareMember } from "../frost/reshare.js";
import { DerivationError } from "../hd/derive.js";
import { type HdNode, hdNode } from "../hd/node.js";
import { dkls23Scheme, ecdsa2pScheme } from "./ecdsa.js";
import { frostEd25519Scheme, frostTaprootScheme } from "./frost.js";
import type { SchemeName, SchemeOf, Share } from "./scheme.js";

const SCHEMES: { readonly [N in SchemeName]: SchemeOf<N> } = {
  ecdsa2p: ecdsa2pScheme,
  dkls23: dkls23Scheme,
  "frost-ed25519": frostEd25519Scheme,
  "frost-taproot": frostTaprootScheme,
};

export const SCHEME_NAMES = Object.keys(SCHEMES) as readonly SchemeName[];

/**
 * Whether `name` names a scheme, as a name read from storage, a request or a reply is checked:
 * own keys only, so that such a name never reaches Object.prototype.
 */
export const isSchemeName = (name: string): name is SchemeName => Object.hasOwn(SCHEMES, name);

/** The scheme called `name`; a union of names gives a scheme over the union of their shares. */
export function scheme<N extends SchemeName>(name: N): SchemeOf<N> {
  if (!isSchemeName(name)) throw new RangeError(`unknown scheme ${String(name)}`);
  return SCHEMES[name] as SchemeOf<N>;
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

/**
 * The keys a wallet spends Bitcoin with at `path`: the compressed key of its P2WPKH output
 * (ECDSA schemes) or the x-only internal key of its P2TR output (BIP340); an Ed25519 wallet has
 * none.
 */
export function bitcoinKeys(
  name: SchemeName,
  share: Share,
  path?: string,
): { ecdsa?: Uint8Array[]; taproot?: Uint8Array[] } {
  const entry = scheme(name);
  if (entry.algorithm === "ecdsa") return { ecdsa: [entry.publicKey(share, path)] };
  if (entry.algorithm === "bip340") return { taproot: [frost.secp256k1tr.internalKey(share as FrostShare, path)] };
  return {};
}

/**
 * The BIP32 node of a wallet's key at `path` (its root when absent), for an extended public key:
 * the joint key and the chain code from key generation, derived along non-hardened steps. For a
 * Taproot key this is the internal key's node (BIP86 derives the output key from each child).
 * An Ed25519 key has no such node: Ed25519 derives only hardened children (SLIP-10).
 */
export function keyNode(name: SchemeName, share: Share, path?: string): HdNode {
  const entry = scheme(name);
  if (!entry.derivesPaths)
    throw new DerivationError(
      `${name} keys have no extended public key: Ed25519 derives only hardened children, which need the whole private key`,
    );
  if (entry.algorithm === "ecdsa") {
    const ecdsa = share as Ecdsa2pShare | DklsShare;
    return hdNode(ecdsa.publicKey, ecdsa.chainCode, path);
  }
  const frostShare = share as FrostShare;
  return hdNode(Point.fromBytes(frostShare.groupKey), frostShare.chainCode, path);
}
