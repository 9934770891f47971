/**
 * Ed25519 signatures for identities, requests, approvals and envelopes: OpenSSL through
 * `node:crypto` where the runtime has it (≈ 0.15 ms to verify against noble's ≈ 2.3 ms, which
 * is a tenth of the provider's CPU per signature), noble elsewhere (browsers). Both produce the
 * same deterministic RFC 8032 signatures; both verifiers refuse S ≥ L, and a self-test at load
 * keeps the native path only if it agrees with noble.
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { equalBytes } from "@noble/curves/utils.js";
import { bytesToHex, concatBytes, hexToBytes } from "@noble/hashes/utils.js";

interface NodeCrypto {
  createPublicKey(options: { key: Uint8Array; format: "der"; type: "spki" }): object;
  createPrivateKey(options: { key: Uint8Array; format: "der"; type: "pkcs8" }): object;
  sign(algorithm: null, data: Uint8Array, key: object): Uint8Array;
  verify(algorithm: null, data: Uint8Array, key: object, signature: Uint8Array): boolean;
}

/** DER prefixes that wrap a raw 32-byte Ed25519 key (RFC 8410). */
const SPKI_PREFIX = hexToBytes("302a300506032b6570032100");
const PKCS8_PREFIX = hexToBytes("302e020100300506032b657004220420");
/** Keys kept imported: the provider sees the same few devices' keys again and again. */
const KEY_CACHE = 4096;

interface Ed25519 {
  sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array;
  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
}

const noble: Ed25519 = {
  sign: (message, secretKey) => ed25519.sign(message, secretKey),
  verify: (signature, message, publicKey) => {
    try {
      return ed25519.verify(signature, message, publicKey, { zip215: false });
    } catch {
      return false;
    }
  },
};

function cached<K>(cache: Map<string, K>, raw: Uint8Array, make: () => K): K {
  const id = bytesToHex(raw);
  let key = cache.get(id);
  if (key === undefined) {
    key = make();
    if (cache.size >= KEY_CACHE) cache.delete(cache.keys().next().value as string);
    cache.set(id, key);
  }
  return key;
}

function openssl(crypto: NodeCrypto): Ed25519 {
  const publicKeys = new Map<string, object>();
  const secretKeys = new Map<string, object>();
  return {
    sign(message, secretKey) {
      if (secretKey.length !== 32) throw new RangeError("an Ed25519 secret key is 32 bytes");
      const key = cached(secretKeys, secretKey, () =>
        crypto.createPrivateKey({ key: concatBytes(PKCS8_PREFIX, secretKey), format: "der", type: "pkcs8" }),
      );
      return new Uint8Array(crypto.sign(null, message, key));
    },
    verify(signature, message, publicKey) {
      if (signature.length !== 64 || publicKey.length !== 32) return false;
      try {
        const key = cached(publicKeys, publicKey, () =>
          crypto.createPublicKey({ key: concatBytes(SPKI_PREFIX, publicKey), format: "der", type: "spki" }),
        );
        return crypto.verify(null, message, key, signature);
      } catch {
        return false;
      }
    },
  };
}

function agrees(candidate: Ed25519): boolean {
  try {
    const secretKey = ed25519.utils.randomSecretKey();
    const publicKey = ed25519.getPublicKey(secretKey);
    const message = Uint8Array.of(1, 2, 3);
    const signature = candidate.sign(message, secretKey);
    const forged = signature.slice();
    forged[0] = (forged[0] as number) ^ 1;
    return (
      equalBytes(signature, noble.sign(message, secretKey)) &&
      candidate.verify(signature, message, publicKey) &&
      !candidate.verify(forged, message, publicKey)
    );
  } catch {
    return false;
  }
}

const native = (() => {
  const runtime = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const crypto = runtime?.getBuiltinModule?.("node:crypto") as NodeCrypto | undefined;
  if (crypto?.createPublicKey === undefined) return undefined;
  const candidate = openssl(crypto);
  return agrees(candidate) ? candidate : undefined;
})();

const engine: Ed25519 = native ?? noble;

/** RFC 8032 Ed25519 signature of `message` by `secretKey` (its 32-byte seed). */
export const signEd25519 = (message: Uint8Array, secretKey: Uint8Array): Uint8Array => engine.sign(message, secretKey);

/** Whether `signature` is `publicKey`'s over `message`; false for anything malformed, never a throw. */
export const verifyEd25519 = (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean =>
  engine.verify(signature, message, publicKey);
