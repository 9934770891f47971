/**
 * A wallet's extended public key (xpub, tpub), for watch-only services that follow its deposit
 * addresses without any share (`watchOnly` in @keyshard/chains). Only non-hardened paths have
 * one: a threshold key never exists whole, and a hardened child is made from the private key.
 */
import {
  type BitcoinNetwork,
  encodeExtendedPublicKey,
  type WatchedAddresses,
  type WatchedAlgorithm,
  watchedAddresses,
} from "@keyshard/chains";
import { BITCOIN_NETWORKS } from "@keyshard/chains/names";
import { keyNode, scheme } from "@keyshard/mpc";
import type { Device } from "../device/device.js";
import { WalletError } from "../errors.js";
import { atPath } from "./paths.js";

export interface XpubOptions {
  /** A non-hardened path below the wallet's root ("m/0"); the root when absent. */
  path?: string;
  /** mainnet (xpub, the default), or testnet or regtest (tpub). */
  network?: BitcoinNetwork;
}

/**
 * The extended key with what it has addresses on: the chains its wallet signs for, and the one
 * Bitcoin address type the wallet spends from. A watcher passes `algorithm` to `watchOnly`.
 */
export interface ExtendedKeyExport extends WatchedAddresses {
  xpub: string;
  algorithm: WatchedAlgorithm;
}

export function xpub(device: Device, name: string, options: XpubOptions = {}): ExtendedKeyExport {
  const { path, network = "mainnet" } = options;
  if (!(BITCOIN_NETWORKS as readonly unknown[]).includes(network))
    throw new WalletError("usage", "`network` is mainnet, testnet or regtest", { parameter: "network" });
  const wallet = device.find(name);
  const { algorithm, derivesPaths } = scheme(wallet.scheme);
  if (!derivesPaths)
    throw new WalletError(
      "usage",
      `wallet ${wallet.name} is a ${wallet.scheme} key, which has no extended public key: Ed25519 derives only hardened children, which need the whole private key. Its address is the key itself`,
    );
  // A scheme that derives paths has a secp256k1 key, which signs ECDSA or BIP-340.
  const watched = algorithm as WatchedAlgorithm;
  const xpub = atPath(() => encodeExtendedPublicKey(keyNode(wallet.scheme, device.share(wallet), path), network));
  return { xpub, algorithm: watched, ...watchedAddresses(watched) };
}
