/**
 * BIP32 extended public keys (xpub on mainnet, tpub on testnet and regtest): a strict codec, and
 * the public derivation of the nodes below one — all a watcher needs to follow a wallet's
 * addresses without any share. Children are derived by @scure/bip32, the audited implementation
 * this package's tests also hold keyshard's own derivation to.
 *
 * Only the two BIP32 public versions are read. A private extended key (xprv, tprv) is refused,
 * never decoded. SLIP-132's ypub and zpub are refused as well: their version names one Bitcoin
 * address type, while one keyshard key has an address on each chain it signs for, and Taproot
 * has no SLIP-132 version at all, so the address type is the watcher's explicit choice instead.
 */

import { secp256k1 } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { createBase58check } from "@scure/base";
import { HDKey } from "@scure/bip32";
import { ChainError } from "./errors.js";
import { BITCOIN_NETWORKS, type BitcoinNetwork } from "./names.js";

/** Which network an extended key's version names: tpub serves testnet and regtest alike. */
export type ExtendedKeyNetwork = "mainnet" | "testnet";

export interface ExtendedPublicKey {
  network: ExtendedKeyNetwork;
  /** Steps below the key's root, 0 to 255. */
  depth: number;
  /** The first four bytes of HASH160 of the parent's key, big-endian; 0 at depth 0. */
  parentFingerprint: number;
  /** The step that made this node from its parent (hardened from 2^31); 0 at depth 0. */
  childNumber: number;
  chainCode: Uint8Array;
  /** 33 bytes, compressed. */
  publicKey: Uint8Array;
}

const PUBLIC_VERSIONS: Record<ExtendedKeyNetwork, number> = { mainnet: 0x0488b21e, testnet: 0x043587cf };
const PRIVATE_VERSIONS = new Set([0x0488ade4, 0x04358394]);
const SERIALIZED_BYTES = 78;
const MAX_DEPTH = 255;
const HARDENED_OFFSET = 0x80000000;
/** Base58 of 82 bytes is at most 112 characters; anything longer is refused before decoding. */
const MAX_TEXT = 112;

const base58check = createBase58check(sha256);

const malformed = (why: string) => new ChainError("malformed", `not an extended public key: ${why}`);

/** The xpub (mainnet) or tpub (testnet, regtest) of a node. */
export function encodeExtendedPublicKey(node: Omit<ExtendedPublicKey, "network">, network: BitcoinNetwork): string {
  if (!(BITCOIN_NETWORKS as readonly unknown[]).includes(network))
    throw new ChainError("invalid", "network must be mainnet, testnet or regtest");
  checkNode(node);
  const bytes = new Uint8Array(SERIALIZED_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, PUBLIC_VERSIONS[network === "mainnet" ? "mainnet" : "testnet"]);
  bytes[4] = node.depth;
  view.setUint32(5, node.parentFingerprint);
  view.setUint32(9, node.childNumber);
  bytes.set(node.chainCode, 13);
  bytes.set(node.publicKey, 45);
  return base58check.encode(bytes);
}

/**
 * Reads an xpub or tpub strictly: its checksum, length, version, a depth-0 node without parent
 * or child number, and a compressed key on the curve. Every defect is a `ChainError`.
 */
export function parseExtendedPublicKey(text: string): ExtendedPublicKey {
  if (typeof text !== "string" || text.length === 0 || text.length > MAX_TEXT)
    throw malformed(`expected the base58 text of ${SERIALIZED_BYTES} bytes`);
  let bytes: Uint8Array;
  try {
    bytes = base58check.decode(text);
  } catch (e) {
    throw new ChainError("malformed", "not an extended public key: its base58 checksum does not match (mistyped?)", {
      cause: e,
    });
  }
  if (bytes.length !== SERIALIZED_BYTES) throw malformed(`${bytes.length} bytes instead of ${SERIALIZED_BYTES}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(0);
  if (PRIVATE_VERSIONS.has(version))
    throw new ChainError(
      "unsupported",
      "this is a private extended key (xprv/tprv): keyshard never reads one, and it must not be shared; give the xpub",
    );
  const network = (Object.keys(PUBLIC_VERSIONS) as ExtendedKeyNetwork[]).find((n) => PUBLIC_VERSIONS[n] === version);
  if (network === undefined)
    throw new ChainError(
      "unsupported",
      `extended key version 0x${version.toString(16).padStart(8, "0")} is neither xpub (mainnet) nor tpub (testnet, regtest); SLIP-132 keys (ypub, zpub…) are not read`,
    );
  const node: ExtendedPublicKey = {
    network,
    depth: bytes[4] as number,
    parentFingerprint: view.getUint32(5),
    childNumber: view.getUint32(9),
    chainCode: bytes.slice(13, 45),
    publicKey: bytes.slice(45),
  };
  checkNode(node);
  return node;
}

function checkNode(node: Omit<ExtendedPublicKey, "network">): void {
  const u32 = (n: unknown) => Number.isInteger(n) && (n as number) >= 0 && (n as number) <= 0xffffffff;
  if (!Number.isInteger(node.depth) || node.depth < 0 || node.depth > MAX_DEPTH)
    throw malformed(`depth must be 0 to ${MAX_DEPTH}`);
  if (!u32(node.parentFingerprint) || !u32(node.childNumber))
    throw malformed("parent fingerprint and child number are 32-bit");
  if (node.depth === 0 && (node.parentFingerprint !== 0 || node.childNumber !== 0))
    throw malformed("a depth-0 node has no parent: its fingerprint and child number must be 0");
  if (!(node.chainCode instanceof Uint8Array) || node.chainCode.length !== 32)
    throw malformed("the chain code is 32 bytes");
  if (!(node.publicKey instanceof Uint8Array) || node.publicKey.length !== 33)
    throw malformed("the key must be a 33-byte compressed public key");
  try {
    secp256k1.Point.fromBytes(node.publicKey);
  } catch (e) {
    throw new ChainError("malformed", "not an extended public key: its key is not a point on secp256k1", {
      cause: e,
    });
  }
}

/**
 * The steps of a path below an extended key: "0/5", or "" for the key itself. "m/0/5" is read
 * only from a depth-0 key, which is then the wallet's root: below a deeper key "m" would name a
 * root this key is not, and a deposit address taken from the wrong node is lost to the watcher.
 */
function relativePath(node: ExtendedPublicKey, path: string): number[] {
  if (typeof path !== "string" || path.length > MAX_DEPTH * 11 + 1) throw new ChainError("invalid", "path too long");
  const fromRoot = path === "m" || path.startsWith("m/");
  if (fromRoot && node.depth !== 0)
    throw new ChainError(
      "invalid",
      `path ${JSON.stringify(path)} starts at the root "m", but this key is ${node.depth} steps below a root: give the steps below the key ("0/5")`,
    );
  const below = fromRoot ? path.slice(1) : path;
  const steps = below === "" ? [] : (fromRoot ? below.slice(1) : below).split("/");
  if (node.depth + steps.length > MAX_DEPTH)
    throw new ChainError(
      "invalid",
      `path ${JSON.stringify(path)} goes past depth ${MAX_DEPTH}, the deepest BIP32 node`,
    );
  return steps.map((step) => {
    if (/['hH]$/.test(step))
      throw new ChainError(
        "invalid",
        `hardened step "${step}" cannot be derived from an extended public key: a hardened child is made from the private key, which a threshold wallet never has whole`,
      );
    if (!/^(0|[1-9][0-9]{0,9})$/.test(step) || Number(step) >= HARDENED_OFFSET)
      throw new ChainError("invalid", `invalid path step "${step}": a whole number below 2^31`);
    return Number(step);
  });
}

/** The node `path` below `node` (see `relativePath`), with its depth, parent and child number. */
export function deriveExtendedPublicKey(node: ExtendedPublicKey, path: string): ExtendedPublicKey {
  let key = new HDKey({
    publicKey: node.publicKey,
    chainCode: node.chainCode,
    depth: node.depth,
    index: node.childNumber,
    parentFingerprint: node.parentFingerprint,
  });
  // An index whose child is invalid (a chance below 2^-127) gives the next index's child, as
  // BIP32 says to proceed; the wallet itself refuses such a path rather than sign at another.
  for (const step of relativePath(node, path)) key = key.deriveChild(step);
  return {
    network: node.network,
    depth: key.depth,
    parentFingerprint: key.parentFingerprint,
    childNumber: key.index,
    chainCode: key.chainCode as Uint8Array,
    publicKey: key.publicKey as Uint8Array,
  };
}
