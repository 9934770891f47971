/**
 * Watch-only addresses: a wallet's deposit addresses from its extended public key alone, with no
 * share and no keyshard device — for a service that credits deposits. Each address comes from
 * the chain's own adapter, the code the wallet itself gets its addresses from, so a watcher and
 * the wallet cannot disagree on an encoding.
 *
 * The key does not say how its wallet signs, and an address the wallet cannot sign for is one
 * whose coins it cannot spend: the watcher is told, as `algorithm` (or as the Bitcoin `type`).
 *
 *     const watcher = watchOnly(xpub);
 *     watcher.address("bitcoin", "0/5", { type: "p2wpkh" }); // bc1q…
 *     watcher.address("ethereum", "0/5", { algorithm: "ecdsa" }); // 0x…
 */
import type { SignatureAlgorithm, SigningKey } from "./adapter.js";
import { taprootOutputKey } from "./bitcoin/address.js";
import { ChainError } from "./errors.js";
import { deriveExtendedPublicKey, type ExtendedPublicKey, parseExtendedPublicKey } from "./extended-key.js";
import { type BitcoinNetwork, CHAIN_NAMES, type ChainName } from "./names.js";
import { adapterOf } from "./registry.js";

/**
 * The Bitcoin output a key's address pays: P2WPKH for an ECDSA wallet (ecdsa2p, dkls23), P2TR
 * key-path (BIP86) for a Taproot one (frost-taproot). The key does not say which: each wallet
 * signs for one of them only, so a coin sent to the other is one it cannot spend.
 */
export type BitcoinAddressType = "p2wpkh" | "p2tr";
export const BITCOIN_ADDRESS_TYPES: readonly BitcoinAddressType[] = ["p2wpkh", "p2tr"];

/** How a wallet with a BIP32 (secp256k1) key signs: ECDSA (ecdsa2p, dkls23) or BIP-340 (frost-taproot). */
export type WatchedAlgorithm = Extract<SignatureAlgorithm, "ecdsa" | "bip340">;
export const WATCHED_ALGORITHMS: readonly WatchedAlgorithm[] = ["ecdsa", "bip340"];

const BITCOIN_TYPE_OF: Readonly<Record<WatchedAlgorithm, BitcoinAddressType>> = { ecdsa: "p2wpkh", bip340: "p2tr" };

/** What the key of a wallet that signs with `algorithm` has addresses on: the chains it signs for. */
export interface WatchedAddresses {
  chains: ChainName[];
  /** The Bitcoin address type the wallet spends from. */
  bitcoinType: BitcoinAddressType;
}

export function watchedAddresses(algorithm: WatchedAlgorithm): WatchedAddresses {
  const chains = CHAIN_NAMES.filter((chain) => adapterOf(chain).kinds.transaction?.includes(algorithm));
  return { chains, bitcoinType: BITCOIN_TYPE_OF[algorithm] };
}

export interface WatchAddressOptions {
  /**
   * How the key's wallet signs (`wallet.xpub` and `keyshard xpub --json` say it). Required but
   * for Bitcoin with `type`: Ethereum signs ECDSA only, so a bip340 key has no Ethereum address.
   */
  algorithm?: WatchedAlgorithm;
  /** Bitcoin only: p2wpkh for an ecdsa key, p2tr for a bip340 one; follows `algorithm` when absent. */
  type?: BitcoinAddressType;
  /** Bitcoin only: mainnet for an xpub; testnet (default) or regtest for a tpub. */
  network?: BitcoinNetwork;
}

export interface WatchOnly {
  /** The extended key as read. */
  readonly key: ExtendedPublicKey;
  /** The 33-byte compressed key `path` below the extended key ("0/5"; "" for the key itself). */
  publicKey(path?: string): Uint8Array;
  /** The address on `chain` of the key `path` below the extended key. */
  address(chain: ChainName, path?: string, options?: WatchAddressOptions): string;
}

/** A watcher over `xpub` (or tpub), read strictly: a malformed key is a `ChainError`. */
export function watchOnly(xpub: string): WatchOnly {
  const key = parseExtendedPublicKey(xpub);
  const publicKey = (path = "") => deriveExtendedPublicKey(key, path).publicKey;
  return {
    key,
    publicKey,
    address(chain, path = "", options = {}) {
      const adapter = adapterOf(chain);
      const network = chain === "bitcoin" ? bitcoinNetwork(key, options.network) : undefined;
      if (chain !== "bitcoin" && options.type !== undefined)
        throw new ChainError("invalid", `type names a Bitcoin address type; ${chain} has one kind of address`);
      const signs = adapter.kinds.transaction ?? [];
      if (!WATCHED_ALGORITHMS.some((algorithm) => signs.includes(algorithm)))
        throw new ChainError(
          "unsupported",
          `an extended public key is a secp256k1 key, which has no ${chain} address: a ${chain} wallet's key is ${signs.join(" or ")}`,
        );
      const algorithm =
        chain === "bitcoin" ? bitcoinAlgorithm(options.algorithm, options.type) : algorithmOf(options.algorithm, chain);
      if (!signs.includes(algorithm))
        throw new ChainError(
          "unsupported",
          `a ${algorithm} key has no ${chain} address its wallet can sign for: ${chain} signs ${signs.join(" or ")} only`,
        );
      return adapter.address(keyOf(publicKey(path), algorithm), network);
    },
  };
}

/** The key as the adapters take it: the internal key of a BIP86 output for bip340, else an ECDSA key. */
function keyOf(publicKey: Uint8Array, algorithm: WatchedAlgorithm): SigningKey {
  if (algorithm === "ecdsa") return { algorithm, publicKey, bitcoin: { ecdsa: [publicKey] } };
  // BIP86 takes the x coordinate of the derived key as the internal key, whatever its Y.
  const internal = publicKey.subarray(1);
  return { algorithm: "bip340", publicKey: taprootOutputKey(internal), bitcoin: { taproot: [internal] } };
}

/** The signing algorithm asked for, which a chain other than Bitcoin cannot do without. */
function algorithmOf(algorithm: unknown, chain: ChainName): WatchedAlgorithm {
  if (algorithm === undefined)
    throw new ChainError(
      "invalid",
      `a ${chain} address needs the key's algorithm: ecdsa for an ecdsa2p or dkls23 wallet, bip340 for frost-taproot; a coin sent to an address the wallet cannot sign for cannot be spent`,
    );
  if (!(WATCHED_ALGORITHMS as readonly unknown[]).includes(algorithm))
    throw new ChainError("invalid", `algorithm must be ${WATCHED_ALGORITHMS.join(" or ")}`);
  return algorithm as WatchedAlgorithm;
}

/** The algorithm of a Bitcoin address: from `type`, or from `algorithm`, and the two must agree. */
function bitcoinAlgorithm(algorithm: WatchedAlgorithm | undefined, type: unknown): WatchedAlgorithm {
  if (type === undefined) {
    if (algorithm === undefined)
      throw new ChainError(
        "invalid",
        "a Bitcoin address needs its type: p2wpkh for an ECDSA wallet (ecdsa2p, dkls23), p2tr for frost-taproot; a coin sent to the other type cannot be spent by the wallet",
      );
    return algorithmOf(algorithm, "bitcoin");
  }
  const byType = WATCHED_ALGORITHMS.find((a) => BITCOIN_TYPE_OF[a] === type);
  if (byType === undefined) throw new ChainError("invalid", `type must be ${BITCOIN_ADDRESS_TYPES.join(" or ")}`);
  if (algorithm !== undefined && algorithmOf(algorithm, "bitcoin") !== byType)
    throw new ChainError(
      "invalid",
      `a ${algorithm} key's Bitcoin address is ${BITCOIN_TYPE_OF[algorithm]}, not ${type}`,
    );
  return byType;
}

/** The network asked for, which must be one the key's version names. */
function bitcoinNetwork(key: ExtendedPublicKey, network: BitcoinNetwork | undefined): BitcoinNetwork {
  if (network === undefined) return key.network;
  const fits = key.network === "mainnet" ? network === "mainnet" : network === "testnet" || network === "regtest";
  if (!fits)
    throw new ChainError(
      "wrong-network",
      `this is a ${key.network === "mainnet" ? "mainnet key (xpub)" : "testnet and regtest key (tpub)"}: it has no ${String(network)} address`,
    );
  return network;
}
