/**
 * `dkls23`: threshold ECDSA over secp256k1 for any t of n (Doerner–Kondi–Lee–shelat 2023), on
 * oblivious transfer instead of Paillier: three signing rounds, the message only in the last.
 */
import type { Signature } from "../ecdsa/signature.js";
import type { ReshareOptions } from "../frost/reshare.js";
import { derive } from "../hd/derive.js";
import type { Party } from "../session/party.js";
import { DklsFinishParty, type Presignature, presignatureFromBytes, presignatureToBytes } from "./presign.js";
import { DklsSetupParty, type KeygenOptions } from "./setup.js";
import { DklsShare, MAX_OUTSTANDING_PRESIGNATURES } from "./share.js";
import { DklsSignParty, type SignOptions } from "./sign.js";

export type { KeygenOptions as DklsKeygenOptions, Presignature, SignOptions as DklsSignOptions };
export { DklsShare };

export const dkls23 = {
  /** Distributed key generation and the pairwise set-up signing reuses; 2 ≤ t ≤ n ≤ 16. */
  keygen(options: KeygenOptions): Party<DklsShare> {
    return new DklsSetupParty({ kind: "keygen", options }) as Party<DklsShare>;
  },

  /** Three rounds; the message hash is used in the last one only. */
  sign(share: DklsShare, options: SignOptions & { messageHash: Uint8Array }): Party<Signature> {
    if (!options.messageHash) throw new RangeError("messageHash is required (or use presign)");
    return new DklsSignParty(share, options) as Party<Signature>;
  },

  /**
   * Rounds 1–2 ahead of the message: a pre-signature, secret and single use. The share lists it
   * as outstanding when it is made: persist the share then, and again after `signPresigned`,
   * which takes it off the list. At most MAX_OUTSTANDING_PRESIGNATURES are outstanding; past that
   * this refuses before any message is sent.
   */
  presign(share: DklsShare, options: Omit<SignOptions, "messageHash">): Party<Presignature> {
    if (share.outstandingPresignatures >= MAX_OUTSTANDING_PRESIGNATURES) {
      throw new RangeError(
        `this share has ${MAX_OUTSTANDING_PRESIGNATURES} pre-signatures outstanding: sign with or discard some first`,
      );
    }
    return new DklsSignParty(share, {
      sid: options.sid,
      signers: options.signers,
      ...(options.path === undefined ? {} : { path: options.path }),
    }) as Party<Presignature>;
  },

  /** The last round, from a pre-signature: every signer of the pre-signature takes part. */
  signPresigned(share: DklsShare, presignature: Presignature, messageHash: Uint8Array): Party<Signature> {
    return new DklsFinishParty(share, presignature, messageHash);
  },

  /** New shares and a new pairwise set-up (fresh base OTs, bans lifted), same key and parties. */
  refresh(share: DklsShare, options: { sid: Uint8Array }): Party<DklsShare> {
    const members = Array.from({ length: share.n }, (_, i) => ({ old: i, new: i }));
    const plan = {
      kind: "reshare" as const,
      share,
      options: { sid: options.sid, members, index: share.index, threshold: share.t },
    };
    return new DklsSetupParty(plan) as Party<DklsShare>;
  },

  /**
   * Moves the key to a new set of parties and/or threshold (members as in `frost.reshare`; a
   * newcomer passes null and `publicKey`, the 33-byte key). A party leaving the set gets null.
   */
  reshare(share: DklsShare | null, options: ReshareOptions): Party<DklsShare | null> {
    return new DklsSetupParty({ kind: "reshare", share, options });
  },

  /** 33-byte compressed public key, optionally at a non-hardened path. */
  publicKey(share: DklsShare, path?: string): Uint8Array {
    return derive(share.publicKey, share.chainCode, path).publicKey.toBytes(true);
  },

  restoreKeygen(bytes: Uint8Array): Party<DklsShare> {
    return DklsSetupParty.restore(bytes) as Party<DklsShare>;
  },
  /** Restores a refresh or reshare run. */
  restoreReshare(bytes: Uint8Array): Party<DklsShare | null> {
    return DklsSetupParty.restore(bytes);
  },
  restoreSign(share: DklsShare, bytes: Uint8Array): Party<Signature> {
    return DklsSignParty.restore(share, bytes) as Party<Signature>;
  },
  restorePresign(share: DklsShare, bytes: Uint8Array): Party<Presignature> {
    return DklsSignParty.restore(share, bytes) as Party<Presignature>;
  },
  restoreSignPresigned(share: DklsShare, bytes: Uint8Array): Party<Signature> {
    return DklsFinishParty.restore(share, bytes);
  },
  presignatureToBytes,
  presignatureFromBytes,
};
