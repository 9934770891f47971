/**
 * The BIP32 node of a shared key at a non-hardened path, with the fields an extended public key
 * (xpub) carries, so that a watcher holding it derives exactly the children the parties sign for.
 * A key made by key generation has no BIP32 parent: its root is serialized as BIP32 serializes a
 * master node (depth 0, parent fingerprint 0, child number 0), and every node below it counts
 * depth, parent and child number from there.
 */
import { ripemd160 } from "@noble/hashes/legacy.js";
import { sha256 } from "@noble/hashes/sha2.js";
import type { Point } from "../codec/codec.js";
import { derive, parsePath } from "./derive.js";

export interface HdNode {
  /** 33 bytes, compressed. */
  publicKey: Uint8Array;
  chainCode: Uint8Array;
  /** Steps below the key's root, 0 to 255. */
  depth: number;
  /** The first four bytes of HASH160 of the parent's compressed key, big-endian; 0 at the root. */
  parentFingerprint: number;
  /** The last step of the path; 0 at the root. */
  childNumber: number;
}

/** BIP32's key fingerprint: what a child's serialization names its parent by. */
export function fingerprint(publicKey: Point): number {
  const hash = ripemd160(sha256(publicKey.toBytes(true)));
  return new DataView(hash.buffer, hash.byteOffset, 4).getUint32(0);
}

/** The node at `path` ("m/0/5"; the root when absent) below `publicKey` and `chainCode`. */
export function hdNode(publicKey: Point, chainCode: Uint8Array, path: string | undefined): HdNode {
  const steps = path === undefined ? [] : parsePath(path);
  const last = steps.at(-1);
  if (last === undefined)
    return {
      publicKey: publicKey.toBytes(true),
      chainCode: chainCode.slice(),
      depth: 0,
      parentFingerprint: 0,
      childNumber: 0,
    };
  const parent = derive(publicKey, chainCode, ["m", ...steps.slice(0, -1)].join("/"));
  const child = derive(parent.publicKey, parent.chainCode, `m/${last}`);
  return {
    publicKey: child.publicKey.toBytes(true),
    chainCode: child.chainCode,
    depth: steps.length,
    parentFingerprint: fingerprint(parent.publicKey),
    childNumber: last,
  };
}
