/**
 * Device identities and signed requests. A device is its Ed25519 identity key: there are no
 * passwords. Every request to the provider is signed over its method, path, body, a timestamp and
 * a fresh nonce, so a captured request can be neither altered nor replayed.
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import { signEd25519, verifyEd25519 } from "./ed25519.js";

export interface DeviceIdentity {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

export function newDeviceIdentity(): DeviceIdentity {
  const secretKey = ed25519.utils.randomSecretKey();
  return { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
}

/** A device's name on the wire: the first 16 bytes of SHA-256 of its identity key, in hex. */
export function deviceId(publicKey: Uint8Array): string {
  return bytesToHex(sha256(publicKey).subarray(0, 16));
}

export const REQUEST_HEADERS = {
  device: "x-keyshard-device",
  timestamp: "x-keyshard-timestamp",
  nonce: "x-keyshard-nonce",
  signature: "x-keyshard-signature",
} as const;

export interface RequestToSign {
  method: string;
  /** Path and query exactly as sent, e.g. "/v1/wallets?limit=10". */
  path: string;
  body: Uint8Array;
  timestamp: number;
  nonce: string;
}

/** The bytes a request signature covers; every field is length-delimited by a newline it cannot contain. */
export function requestSigningBytes(request: RequestToSign): Uint8Array {
  for (const field of [request.method, request.path, request.nonce])
    if (field.includes("\n")) throw new RangeError("request fields cannot contain newlines");
  return utf8ToBytes(
    [
      "keyshard-request-v1",
      request.method.toUpperCase(),
      request.path,
      String(request.timestamp),
      request.nonce,
      bytesToHex(sha256(request.body)),
    ].join("\n"),
  );
}

/** Headers that authenticate one request as `identity`'s. */
export function signRequest(
  identity: DeviceIdentity,
  request: { method: string; path: string; body: Uint8Array; now?: number },
): Record<string, string> {
  const timestamp = request.now ?? Date.now();
  const nonce = bytesToHex(crypto.getRandomValues(new Uint8Array(16)));
  const signature = signEd25519(requestSigningBytes({ ...request, timestamp, nonce }), identity.secretKey);
  return {
    [REQUEST_HEADERS.device]: deviceId(identity.publicKey),
    [REQUEST_HEADERS.timestamp]: String(timestamp),
    [REQUEST_HEADERS.nonce]: nonce,
    [REQUEST_HEADERS.signature]: bytesToHex(signature),
  };
}

export function verifyRequestSignature(publicKey: Uint8Array, request: RequestToSign, signature: Uint8Array): boolean {
  return verifyEd25519(signature, requestSigningBytes(request), publicKey);
}

/**
 * What a device signs to approve a held sign request: the request id and the SHA-256 of the
 * exact bytes it was shown, so an approval can neither move to another request nor to other bytes.
 */
export function approvalSigningBytes(requestId: string, payload: Uint8Array): Uint8Array {
  if (requestId.includes("\n")) throw new RangeError("request ids cannot contain newlines");
  return utf8ToBytes(["keyshard-approval-v1", requestId, bytesToHex(sha256(payload))].join("\n"));
}

export function signApproval(identity: DeviceIdentity, requestId: string, payload: Uint8Array): Uint8Array {
  return signEd25519(approvalSigningBytes(requestId, payload), identity.secretKey);
}

export function verifyApproval(
  publicKey: Uint8Array,
  requestId: string,
  payload: Uint8Array,
  signature: Uint8Array,
): boolean {
  return verifyEd25519(signature, approvalSigningBytes(requestId, payload), publicKey);
}
