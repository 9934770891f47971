/**
 * Decoded key shares of this process, with precomputed signing work. Decoding an ecdsa2p share
 * rebuilds its Paillier tables (hundreds of milliseconds), so a share is decoded once and kept,
 * keyed by wallet and by a fingerprint of its sealed bytes (a refreshed share is a new entry).
 * ecdsa2p's message-independent work is made ahead on worker threads (`precompute-threads.ts`)
 * and each piece is handed out once; a run that finds none makes its own. Nothing here is
 * persisted: a replica that restarts simply starts cold.
 */

import {
  type Ecdsa2pShare,
  ecdsa2p,
  type SchemeName,
  type Share,
  type SignPrecomputation,
  scheme,
} from "@keyshard/mpc";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { conflict } from "../errors.js";
import type { MasterKey } from "../store/master-key.js";
import type { PrecomputeThreads } from "./precompute-threads.js";

interface Entry {
  walletId: string;
  fingerprint: string;
  scheme: SchemeName;
  share: Share;
  precomputed: SignPrecomputation[];
  /** Precomputations asked of the threads and not yet back. */
  pending: number;
}

/**
 * Precomputations kept, or on their way, per wallet. Several are asked for at once so that a
 * worker goes straight from one to the next, without waiting for this thread to ask again.
 */
const POOL = 4;

export class ShareCache {
  readonly #entries = new Map<string, Entry>();
  readonly #masterKey: MasterKey;
  readonly #threads: PrecomputeThreads;
  readonly #capacity: number;
  /** Precomputations handed to signing runs, by where they were made. */
  readonly handedOut = { ahead: 0, none: 0 };

  constructor(masterKey: MasterKey, threads: PrecomputeThreads, capacity = 1000) {
    this.#masterKey = masterKey;
    this.#threads = threads;
    this.#capacity = capacity;
  }

  /** The decoded share of `walletId`, whose sealed bytes are `sealed`. */
  get(walletId: string, schemeName: SchemeName, sealed: Uint8Array): Share {
    const fingerprint = bytesToHex(sha256(sealed));
    const cached = this.#entries.get(walletId);
    if (cached !== undefined && cached.fingerprint === fingerprint) {
      this.#entries.delete(walletId);
      this.#entries.set(walletId, cached);
      return cached.share;
    }
    const share = scheme(schemeName).decodeShare(this.#masterKey.open(sealed, `share:${walletId}`));
    this.#entries.delete(walletId);
    this.#entries.set(walletId, {
      walletId,
      fingerprint,
      scheme: schemeName,
      share,
      precomputed: [],
      pending: 0,
    });
    while (this.#entries.size > this.#capacity) this.#entries.delete(this.#entries.keys().next().value as string);
    return share;
  }

  /**
   * One precomputation for the wallet's next signing run, never handed out twice, or undefined
   * (the run then makes its own); the wallet's pool refills in the background.
   */
  takePrecomputation(walletId: string): SignPrecomputation | undefined {
    const entry = this.#entries.get(walletId);
    if (entry === undefined || !precomputes(entry)) return undefined;
    const taken = entry.precomputed.shift();
    if (taken === undefined) this.handedOut.none++;
    else this.handedOut.ahead++;
    this.#refill(entry);
    return taken;
  }

  /** Asks the threads for the pool's missing pieces, while the entry is current. */
  #refill(entry: Entry): void {
    while (entry.precomputed.length + entry.pending < POOL && this.#threads.enabled) {
      entry.pending++;
      this.#threads.make(ecdsa2p.precomputationKey(entry.share as Ecdsa2pShare)).then(
        (made) => {
          entry.pending--;
          if (this.#entries.get(entry.walletId) === entry) entry.precomputed.push(made);
        },
        () => {
          // A failed thread leaves the pool short; runs make their own until the next take asks again.
          entry.pending--;
        },
      );
    }
  }
}

/** Only ecdsa2p's party 1 has message-independent signing work. */
const precomputes = (entry: Entry) => entry.scheme === "ecdsa2p" && (entry.share as Ecdsa2pShare).index === 1;

/**
 * The share a run of the provider's needs: it holds none of a wallet whose devices keep the whole
 * key (taken into self-custody, or a t-of-n wallet it only relays for). A device can reach this by
 * sending a round of a run that outlived its wallet's share, so it is a conflict, not a fault.
 */
export function heldShare(share: Share | null): Share {
  if (share === null) throw conflict("the provider holds no share of this wallet");
  return share;
}
