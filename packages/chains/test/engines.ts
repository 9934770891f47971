/**
 * keyshard's engines as the chain adapters' signers: every signature in these tests is made
 * jointly by the parties of ecdsa2p, dkls23 or FROST, run in one process.
 */
import {
  type DklsShare,
  dkls23,
  type Ecdsa2pShare,
  ecdsa2p,
  type FrostShare,
  frost,
  runLocal,
  type Signature,
} from "@keyshard/mpc";
import type { EcdsaSigner, Ed25519Signer, TaprootSigner } from "../src/index.js";

const sid = () => crypto.getRandomValues(new Uint8Array(32));

export function ecdsa2pKey(): Ecdsa2pShare[] {
  const keygen = sid();
  return runLocal([ecdsa2p.keygen({ sid: keygen, index: 0 }), ecdsa2p.keygen({ sid: keygen, index: 1 })]);
}

export function ecdsa2pSigner(shares: Ecdsa2pShare[], path?: string): EcdsaSigner {
  return {
    publicKey: ecdsa2p.publicKey(shares[0] as Ecdsa2pShare, path),
    async signDigest(messageHash) {
      const session = sid();
      const [signature] = runLocal(shares.map((s) => ecdsa2p.sign(s, { sid: session, messageHash, path })));
      return signature as Signature;
    },
  };
}

/** A 2-of-3 DKLs23 key. */
export function dklsKey(): DklsShare[] {
  const keygen = sid();
  return runLocal([0, 1, 2].map((index) => dkls23.keygen({ sid: keygen, index, n: 3, t: 2 })));
}

export function dklsSigner(shares: DklsShare[], signers: number[], path?: string): EcdsaSigner {
  return {
    publicKey: dkls23.publicKey(shares[0] as DklsShare, path),
    async signDigest(messageHash) {
      const session = sid();
      const parties = signers.map((i) =>
        dkls23.sign(shares[i] as DklsShare, { sid: session, messageHash, signers, path }),
      );
      const [signature] = runLocal(parties, { indices: signers });
      return signature as Signature;
    },
  };
}

/** A 2-of-3 FROST key on `curve`. */
export function frostKey(curve: "ed25519" | "secp256k1tr"): FrostShare[] {
  const keygen = sid();
  return runLocal([0, 1, 2].map((index) => frost[curve].keygen({ sid: keygen, index, n: 3, t: 2 })));
}

function frostSign(
  curve: "ed25519" | "secp256k1tr",
  shares: FrostShare[],
  signers: number[],
  message: Uint8Array,
  path?: string,
) {
  const session = sid();
  const parties = signers.map((i) =>
    frost[curve].sign(shares[i] as FrostShare, { sid: session, message, signers, path }),
  );
  return runLocal(parties, { indices: signers })[0] as Uint8Array;
}

export function taprootSigner(shares: FrostShare[], signers: number[], path?: string): TaprootSigner {
  return {
    internalKey: frost.secp256k1tr.internalKey(shares[0] as FrostShare, path),
    signSchnorr: async (digest) => frostSign("secp256k1tr", shares, signers, digest, path),
  };
}

export function ed25519Signer(shares: FrostShare[], signers: number[], path?: string): Ed25519Signer {
  return {
    publicKey: frost.ed25519.publicKey(shares[0] as FrostShare, path),
    signEd25519: async (message) => frostSign("ed25519", shares, signers, message, path),
  };
}
