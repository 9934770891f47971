/**
 * The ECDSA schemes over secp256k1 behind the scheme interface: ecdsa2p (Lindell, 2-of-2 only,
 * so hybrid wallets) and dkls23 (any t of n). Both sign 32-byte digests and derive BIP32 paths.
 */
import { DklsShare, dkls23 } from "../dkls23/index.js";
import { compactSignature, type Signature } from "../ecdsa/signature.js";
import { Ecdsa2pShare, ecdsa2p } from "../ecdsa2p/index.js";
import type { Party } from "../session/party.js";
import { HYBRID, PROVIDER, type SchemeOf, WALLET_DEVICE } from "./scheme.js";

const twoOfTwoOnly = (): never => {
  throw new RangeError("ecdsa2p keys are 2-of-2: only refresh changes them");
};

/** r ‖ s ‖ recovery id, the 65 bytes chains recover the signer from. */
function ecdsaSignatureBytes(signature: Signature): Uint8Array {
  const out = new Uint8Array(65);
  out.set(compactSignature(signature));
  out[64] = signature.recovery;
  return out;
}

export const ecdsa2pScheme: SchemeOf<"ecdsa2p"> = {
  name: "ecdsa2p",
  algorithm: "ecdsa",
  derivesPaths: true,
  multiparty: false,
  keygen: (sid, index, quorum = HYBRID) => {
    if (quorum.t !== 2 || quorum.n !== 2) throw new RangeError("ecdsa2p keys are 2-of-2");
    return ecdsa2p.keygen({ sid, index: index as 0 | 1 });
  },
  restoreKeygen: (state) => ecdsa2p.restoreKeygen(state),
  encodeShare: (share) => share.toBytes(),
  decodeShare: (bytes) => Ecdsa2pShare.fromBytes(bytes),
  sign: (share, { sid, message, path, precomputed }) =>
    ecdsa2p.sign(share, {
      sid,
      messageHash: message,
      ...(path && { path }),
      ...(precomputed !== undefined && { precomputed }),
    }),
  restoreSign: (share, state) => ecdsa2p.restoreSign(share, state),
  signatureBytes: ecdsaSignatureBytes,
  publicKey: (share, path) => ecdsa2p.publicKey(share, path),
  refresh: (share, sid) => ecdsa2p.refresh(share, { sid }),
  restoreRefresh: (share, state) => ecdsa2p.restoreRefresh(share, state),
  reshare: twoOfTwoOnly,
  restoreReshare: twoOfTwoOnly,
};

export const dkls23Scheme: SchemeOf<"dkls23"> = {
  name: "dkls23",
  algorithm: "ecdsa",
  derivesPaths: true,
  multiparty: true,
  keygen: (sid, index, quorum = HYBRID) => dkls23.keygen({ sid, index, ...quorum }),
  restoreKeygen: (state) => dkls23.restoreKeygen(state),
  encodeShare: (share) => share.toBytes(),
  decodeShare: (bytes) => DklsShare.fromBytes(bytes),
  sign: (share, { sid, message, path, signers = [WALLET_DEVICE, PROVIDER] }) =>
    dkls23.sign(share, { sid, messageHash: message, signers, ...(path && { path }) }),
  restoreSign: (share, state) => dkls23.restoreSign(share, state),
  signatureBytes: ecdsaSignatureBytes,
  publicKey: (share, path) => dkls23.publicKey(share, path),
  refresh: (share, sid) => dkls23.refresh(share, { sid }),
  // A refresh keeps every party, so its result is never null.
  restoreRefresh: (_share, state) => dkls23.restoreReshare(state) as Party<DklsShare>,
  reshare: (share, options) => dkls23.reshare(share, options),
  restoreReshare: (state) => dkls23.restoreReshare(state),
};
