/**
 * Device identities and approvals. A device is its Ed25519 identity key: there are no passwords.
 * Every request to the provider is signed with it (`request-signature.ts`), and so is every
 * approval of a held sign request.
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
