/**
 * `ecdsa2p`: the hybrid engine. Two-party ECDSA over secp256k1 with additive shares
 * (party 0 owns the Paillier key), non-hardened BIP32 derivation, refresh, and save/restore.
 */

import type { Signature } from "../ecdsa/signature.js";
import { derive } from "../hd/derive.js";
import type { Party } from "../session/party.js";
import { type KeygenOptions, PreParams, type RefreshOptions, SetupParty } from "./setup.js";
import { Ecdsa2pShare } from "./share.js";
import {
  createSignParty,
  type PrecomputationKey,
  PrecomputationTables,
  precomputationKey,
  type SignOptions,
  SignParty,
  SignPrecomputation,
  type SignPrecomputationParts,
} from "./sign.js";

export type { KeygenOptions, PrecomputationKey, RefreshOptions, SignOptions, SignPrecomputationParts };
export { Ecdsa2pShare, PrecomputationTables, PreParams, SignPrecomputation };

const DEFAULT_BITS = 2048;

export const ecdsa2p = {
  keygen(options: KeygenOptions): Party<Ecdsa2pShare> {
    const bits = options.paillierBits ?? DEFAULT_BITS;
    const start = options.prepared?.take(options.index, bits);
    return new SetupParty("keygen", options.index, options.sid, bits, undefined, start);
  },

  sign(share: Ecdsa2pShare, options: SignOptions): Party<Signature> {
    return createSignParty(share, options);
  },

  refresh(share: Ecdsa2pShare, options: RefreshOptions): Party<Ecdsa2pShare> {
    const bits = options.paillierBits ?? DEFAULT_BITS;
    const start = options.prepared?.take(share.index, bits);
    return new SetupParty("refresh", share.index, options.sid, bits, share, start);
  },

  /** The expensive, message-independent part of keygen/refresh for one party, to do ahead of time. */
  prepare(index: 0 | 1, options: { paillierBits?: number } = {}): PreParams {
    return PreParams.generate(index, options.paillierBits ?? DEFAULT_BITS);
  },

  /** Party 1's message-independent signing work (a Paillier randomiser), to do ahead of time. */
  precompute(share: Ecdsa2pShare): SignPrecomputation {
    return SignPrecomputation.forShare(share);
  },

  /** Party 1: the public values `SignPrecomputation.forKey` needs, to precompute on another thread. */
  precomputationKey(share: Ecdsa2pShare): PrecomputationKey {
    return precomputationKey(share);
  },

  /** 33-byte compressed public key, optionally at a non-hardened path. */
  publicKey(share: Ecdsa2pShare, path?: string): Uint8Array {
    return derive(share.publicKey, share.chainCode, path).publicKey.toBytes(true);
  },

  restoreKeygen(bytes: Uint8Array): Party<Ecdsa2pShare> {
    return SetupParty.restore(bytes);
  },
  restoreRefresh(share: Ecdsa2pShare, bytes: Uint8Array): Party<Ecdsa2pShare> {
    return SetupParty.restore(bytes, share);
  },
  restoreSign(share: Ecdsa2pShare, bytes: Uint8Array): Party<Signature> {
    return SignParty.restore(share, bytes);
  },
};
