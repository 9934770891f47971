/**
 * The FROST schemes behind the scheme interface: Ed25519 (Solana; no derivation paths, since
 * Ed25519 has only hardened derivation) and BIP340 Schnorr under a Taproot output key (Bitcoin).
 */
import { FrostShare, frost } from "../frost/index.js";
import type { Party } from "../session/party.js";
import { HYBRID, PROVIDER, type SchemeOf, type SignatureAlgorithm, WALLET_DEVICE } from "./scheme.js";

function frostScheme<N extends "frost-ed25519" | "frost-taproot">(
  name: N,
  algorithm: SignatureAlgorithm,
  engine: typeof frost.ed25519,
): SchemeOf<N> {
  return {
    name,
    algorithm,
    derivesPaths: algorithm !== "ed25519",
    multiparty: true,
    keygen: (sid, index, quorum = HYBRID) => engine.keygen({ sid, index, ...quorum }),
    restoreKeygen: (state) => engine.restoreKeygen(state),
    encodeShare: (share) => share.toBytes(),
    decodeShare: (bytes) => FrostShare.fromBytes(bytes),
    sign: (share, { sid, message, path, signers = [WALLET_DEVICE, PROVIDER] }) =>
      engine.sign(share, { sid, message, signers, ...(path && { path }) }),
    restoreSign: (share, state) => engine.restoreSign(share, state),
    signatureBytes: (result) => result,
    publicKey: (share, path) => engine.publicKey(share, path),
    refresh: (share, sid) => engine.refresh(share, { sid }),
    // A refresh keeps every party, so its result is never null.
    restoreRefresh: (_share, state) => engine.restoreReshare(state) as Party<FrostShare>,
    reshare: (share, options) => engine.reshare(share, options),
    restoreReshare: (state) => engine.restoreReshare(state),
  };
}

export const frostEd25519Scheme = frostScheme("frost-ed25519", "ed25519", frost.ed25519);
export const frostTaprootScheme = frostScheme("frost-taproot", "bip340", frost.secp256k1tr as typeof frost.ed25519);
