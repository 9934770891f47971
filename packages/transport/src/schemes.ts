/**
 * The signature schemes of a hybrid wallet (wallet device = party 0, provider = party 1), behind
 * one interface so that the provider and the wallet drive every engine the same way: keygen and
 * signing runs as `Party` objects, shares and results as bytes.
 */
import { compactSignature, Ecdsa2pShare, ecdsa2p, FrostShare, frost, type Party, type Signature } from "@keyshard/mpc";

export type SchemeName = "ecdsa2p" | "frost-ed25519" | "frost-taproot";
export const SCHEME_NAMES: readonly SchemeName[] = ["ecdsa2p", "frost-ed25519", "frost-taproot"];

/** The parties of a hybrid wallet. */
export const WALLET_DEVICE = 0;
export const PROVIDER = 1;

export interface Scheme {
  readonly name: SchemeName;
  keygen(sid: Uint8Array, index: number): Party<unknown>;
  restoreKeygen(state: Uint8Array): Party<unknown>;
  /** `message`: the 32-byte digest (ECDSA) or the message itself (Ed25519, BIP340 sighash). */
  sign(share: Uint8Array, options: { sid: Uint8Array; message: Uint8Array; path?: string }): Party<unknown>;
  restoreSign(share: Uint8Array, state: Uint8Array): Party<unknown>;
  /** A finished keygen's share as bytes. */
  shareBytes(result: unknown): Uint8Array;
  /** A finished signing run's signature: r ‖ s ‖ recovery id (ECDSA, 65 bytes) or 64 bytes. */
  signatureBytes(result: unknown): Uint8Array;
  /** The public key at `path`: 33 bytes compressed (ECDSA), 32 bytes (Ed25519, Taproot output key). */
  publicKey(share: Uint8Array, path?: string): Uint8Array;
}

function ecdsaSignatureBytes(signature: Signature): Uint8Array {
  const out = new Uint8Array(65);
  out.set(compactSignature(signature));
  out[64] = signature.recovery;
  return out;
}

const ecdsa2pScheme: Scheme = {
  name: "ecdsa2p",
  keygen: (sid, index) => ecdsa2p.keygen({ sid, index: index as 0 | 1 }),
  restoreKeygen: (state) => ecdsa2p.restoreKeygen(state),
  sign: (share, { sid, message, path }) =>
    ecdsa2p.sign(Ecdsa2pShare.fromBytes(share), { sid, messageHash: message, ...(path && { path }) }),
  restoreSign: (share, state) => ecdsa2p.restoreSign(Ecdsa2pShare.fromBytes(share), state),
  shareBytes: (result) => (result as Ecdsa2pShare).toBytes(),
  signatureBytes: (result) => ecdsaSignatureBytes(result as Signature),
  publicKey: (share, path) => ecdsa2p.publicKey(Ecdsa2pShare.fromBytes(share), path),
};

function frostScheme(name: "frost-ed25519" | "frost-taproot", engine: typeof frost.ed25519): Scheme {
  const signers = [WALLET_DEVICE, PROVIDER];
  return {
    name,
    keygen: (sid, index) => engine.keygen({ sid, index, n: 2, t: 2 }),
    restoreKeygen: (state) => engine.restoreKeygen(state),
    sign: (share, { sid, message, path }) =>
      engine.sign(FrostShare.fromBytes(share), { sid, message, signers, ...(path && { path }) }),
    restoreSign: (share, state) => engine.restoreSign(FrostShare.fromBytes(share), state),
    shareBytes: (result) => (result as FrostShare).toBytes(),
    signatureBytes: (result) => result as Uint8Array,
    publicKey: (share, path) => engine.publicKey(FrostShare.fromBytes(share), path),
  };
}

const SCHEMES: Record<SchemeName, Scheme> = {
  ecdsa2p: ecdsa2pScheme,
  "frost-ed25519": frostScheme("frost-ed25519", frost.ed25519),
  "frost-taproot": frostScheme("frost-taproot", frost.secp256k1tr as typeof frost.ed25519),
};

export function scheme(name: SchemeName): Scheme {
  const found = SCHEMES[name];
  if (found === undefined) throw new RangeError(`unknown scheme ${String(name)}`);
  return found;
}
