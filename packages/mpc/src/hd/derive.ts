/**
 * Non-hardened BIP32 derivation on a shared key. Public derivation needs only the joint public
 * key and chain code; the private side is the same additive tweak δ = Σ IL, which one party adds
 * to its share, so the child key is x + δ without anyone holding x.
 */
import { hmac } from "@noble/hashes/hmac.js";
import { sha512 } from "@noble/hashes/sha2.js";
import { bytesToBigint, CURVE_ORDER, type Point } from "../codec/codec.js";
import { mulBase } from "../math/secp256k1.js";

export const HARDENED_OFFSET = 0x80000000;

export class DerivationError extends Error {
  override name = "DerivationError";
}

/** Parses "m/0/7" into [0, 7]; hardened steps are refused (they need the private key). */
/** The longest valid path: "m" and 255 steps of up to 10 digits. */
export const MAX_PATH_LENGTH = 1 + 255 * 11;

export function parsePath(path: string): number[] {
  if (typeof path !== "string" || path.length > MAX_PATH_LENGTH) throw new DerivationError("path too long");
  const parts = path.split("/");
  if (parts[0] !== "m") throw new DerivationError(`path must start with "m": ${JSON.stringify(path)}`);
  if (parts.length > 256) throw new DerivationError("path deeper than 255 levels");
  return parts.slice(1).map((p) => {
    if (/['hH]$/.test(p))
      throw new DerivationError(
        `hardened step "${p}" cannot be derived from a shared key: a hardened child is made from the private key, which a threshold key never has whole`,
      );
    if (!/^(0|[1-9][0-9]{0,9})$/.test(p)) throw new DerivationError(`invalid path step "${p}"`);
    const i = Number(p);
    if (i >= HARDENED_OFFSET) throw new DerivationError(`path step ${p} is out of the non-hardened range`);
    return i;
  });
}

export interface Derived {
  publicKey: Point;
  chainCode: Uint8Array;
  /** Sum of the IL tweaks mod n: child private key = parent private key + tweak. */
  tweak: bigint;
}

export function derive(publicKey: Point, chainCode: Uint8Array, path: string | undefined): Derived {
  let key = publicKey;
  let cc = chainCode;
  let tweak = 0n;
  for (const index of path === undefined ? [] : parsePath(path)) {
    const data = new Uint8Array(37);
    data.set(key.toBytes(true), 0);
    new DataView(data.buffer).setUint32(33, index);
    const I = hmac(sha512, cc, data);
    const il = bytesToBigint(I.subarray(0, 32));
    // BIP32: such an index is invalid (probability < 2^-127); the caller must skip it.
    if (il >= CURVE_ORDER) throw new DerivationError(`index ${index} yields an invalid child; use the next index`);
    const child = il === 0n ? key : key.add(mulBase(il));
    if (child.is0()) throw new DerivationError(`index ${index} yields an invalid child; use the next index`);
    key = child;
    cc = I.slice(32);
    tweak = (tweak + il) % CURVE_ORDER;
  }
  return { publicKey: key, chainCode: cc, tweak };
}
