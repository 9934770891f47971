/**
 * Decoded key shares of this process, with precomputed signing work. Decoding an ecdsa2p share
 * rebuilds its Paillier tables (hundreds of milliseconds), so a share is decoded once and kept,
 * keyed by wallet and by a fingerprint of its sealed bytes (a refreshed share is a new entry).
 * ecdsa2p's message-independent work is done ahead, when the process is idle, and each piece is
 * handed out once. Nothing here is persisted: a replica that restarts simply starts cold.
 */

import { type SchemeName, type Share, scheme } from "@keyshard/transport";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import type { MasterKey } from "../store/master-key.js";

interface Entry {
  fingerprint: string;
  scheme: SchemeName;
  share: Share;
  precomputed: unknown[];
  refilling: boolean;
}

/** Precomputations kept per wallet. */
const POOL = 2;
/** The process counts as idle when no share was asked for during this long. */
const IDLE_MS = 20;

export class ShareCache {
  readonly #entries = new Map<string, Entry>();
  readonly #masterKey: MasterKey;
  readonly #capacity: number;
  #lastUse = 0;

  constructor(masterKey: MasterKey, capacity = 1000) {
    this.#masterKey = masterKey;
    this.#capacity = capacity;
  }

  /** The decoded share of `walletId`, whose sealed bytes are `sealed`. */
  get(walletId: string, schemeName: SchemeName, sealed: Uint8Array): Share {
    this.#lastUse = performance.now();
    const fingerprint = bytesToHex(sha256(sealed));
    const cached = this.#entries.get(walletId);
    if (cached !== undefined && cached.fingerprint === fingerprint) {
      this.#entries.delete(walletId);
      this.#entries.set(walletId, cached);
      return cached.share;
    }
    const share = scheme(schemeName).decodeShare(this.#masterKey.open(sealed, `share:${walletId}`));
    this.#entries.delete(walletId);
    this.#entries.set(walletId, { fingerprint, scheme: schemeName, share, precomputed: [], refilling: false });
    while (this.#entries.size > this.#capacity) this.#entries.delete(this.#entries.keys().next().value as string);
    return share;
  }

  /** One precomputation for the wallet's next signing run, never handed out twice; then refills. */
  takePrecomputation(walletId: string): unknown {
    this.#lastUse = performance.now();
    const entry = this.#entries.get(walletId);
    const taken = entry?.precomputed.shift();
    if (entry !== undefined) this.#refill(entry);
    return taken;
  }

  /** Precomputes while nothing else asks for shares: the work must not delay a signing in progress. */
  #refill(entry: Entry): void {
    if (entry.refilling || entry.precomputed.length >= POOL) return;
    entry.refilling = true;
    const attempt = () => {
      if (performance.now() - this.#lastUse < IDLE_MS) return void setTimeout(attempt, IDLE_MS).unref();
      entry.refilling = false;
      const piece = scheme(entry.scheme).precompute(entry.share);
      if (piece === undefined) return;
      entry.precomputed.push(piece);
      this.#refill(entry);
    };
    setTimeout(attempt, IDLE_MS).unref();
  }
}
