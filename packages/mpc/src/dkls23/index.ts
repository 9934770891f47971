/**
 * `dkls23`: threshold ECDSA over secp256k1 for any t of n (Doerner–Kondi–Lee–shelat 2023), on
 * oblivious transfer instead of Paillier: three signing rounds, the message only in the last.
 */
import type { Signature } from "../ecdsa/signature.js";
import { derive } from "../hd/derive.js";
import type { Party } from "../session/party.js";
import { DklsKeygenParty, type KeygenOptions } from "./keygen.js";
import { DklsShare } from "./share.js";
import { DklsSignParty, type SignOptions } from "./sign.js";

export type { KeygenOptions as DklsKeygenOptions, SignOptions as DklsSignOptions };
export { DklsShare };

export const dkls23 = {
  keygen(options: KeygenOptions): Party<DklsShare> {
    return new DklsKeygenParty(options);
  },
  sign(share: DklsShare, options: SignOptions): Party<Signature> {
    return new DklsSignParty(share, options);
  },
  /** 33-byte compressed public key, optionally at a non-hardened path. */
  publicKey(share: DklsShare, path?: string): Uint8Array {
    return derive(share.publicKey, share.chainCode, path).publicKey.toBytes(true);
  },
};
