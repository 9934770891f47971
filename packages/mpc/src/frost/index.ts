/**
 * `frost`: threshold Schnorr signatures (RFC 9591, computed by @noble/curves) on keyshard's
 * protocol contract — `frost.ed25519` for Solana and other Ed25519 chains, `frost.secp256k1tr`
 * for Bitcoin Taproot key-path spends (BIP340 signatures under the BIP341-tweaked key).
 */
import type { Party } from "../session/party.js";
import { CURVES, type FrostCurve } from "./curve.js";
import { type KeygenOptions, KeygenParty } from "./keygen.js";
import { type ReshareMember, type ReshareOptions, ReshareParty } from "./reshare.js";
import { FrostShare } from "./share.js";
import { type SignOptions, SignParty } from "./sign.js";
import { internalKey, outputKey } from "./signing-key.js";

export type { KeygenOptions as FrostKeygenOptions, ReshareMember, ReshareOptions, SignOptions as FrostSignOptions };
export { FrostShare };

function ownShare(curve: FrostCurve, share: FrostShare): FrostShare {
  if (!(share instanceof FrostShare) || share.curve !== curve) {
    throw new RangeError(`expected a ${curve.name} FROST share`);
  }
  return share;
}

function engine(curve: FrostCurve) {
  const curveOf = (name: string) => (name === curve.name ? curve : undefined);
  return {
    /** Distributed key generation: any `t` of the `n` parties sign; no dealer. */
    keygen(options: KeygenOptions): Party<FrostShare> {
      return new KeygenParty(curve, options);
    },

    /** Two rounds; the output is a standard 64-byte signature over `message`. */
    sign(share: FrostShare, options: SignOptions): Party<Uint8Array> {
      return new SignParty(ownShare(curve, share), options);
    },

    /** New shares of the same key among the same parties; old and new shares do not combine. */
    refresh(share: FrostShare, options: { sid: Uint8Array }): Party<FrostShare> {
      const s = ownShare(curve, share);
      const members = Array.from({ length: s.n }, (_, i) => ({ old: i, new: i }));
      return new ReshareParty(curve, s, {
        sid: options.sid,
        members,
        index: s.index,
        threshold: s.t,
      }) as Party<FrostShare>;
    },

    /**
     * Moves the key to a new set of parties and/or threshold. Dealers pass their share, newcomers
     * null (and `publicKey`); a party that leaves the set gets null as its result.
     */
    reshare(share: FrostShare | null, options: ReshareOptions): Party<FrostShare | null> {
      return new ReshareParty(curve, share === null ? null : ownShare(curve, share), options);
    },

    /** The 32-byte key signatures verify under (Taproot: the x-only output key). */
    publicKey(share: FrostShare, path?: string, options: { merkleRoot?: Uint8Array } = {}): Uint8Array {
      return outputKey(ownShare(curve, share), { path, merkleRoot: options.merkleRoot });
    },

    restoreKeygen(bytes: Uint8Array): Party<FrostShare> {
      return KeygenParty.restore(curveOf, bytes);
    },
    restoreSign(share: FrostShare, bytes: Uint8Array): Party<Uint8Array> {
      return SignParty.restore(ownShare(curve, share), bytes);
    },
    /** Restores a reshare or refresh run. */
    restoreReshare(bytes: Uint8Array): Party<FrostShare | null> {
      return ReshareParty.restore(curveOf, bytes);
    },
  };
}

const taproot = engine(CURVES.secp256k1tr);

export const frost = {
  ed25519: engine(CURVES.ed25519),
  secp256k1tr: {
    ...taproot,
    /** The x-only internal key (BIP341's P; PSBT's tap_internal_key) at `path`. */
    internalKey(share: FrostShare, path?: string): Uint8Array {
      return internalKey(ownShare(CURVES.secp256k1tr, share), path);
    },
  },
};
