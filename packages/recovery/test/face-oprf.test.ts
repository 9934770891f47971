/**
 * The face OPRF: RFC 9497's test vector, the wrapped recovery key that only the same face, email,
 * OPRF key (and its public key K) and enrollment unwrap, strict element checks, and the recovery
 * claim's binding.
 */
import { randomUUID } from "node:crypto";
import { ed25519, ristretto255, ristretto255_hasher, ristretto255_oprf } from "@noble/curves/ed25519.js";
import { hexToBytes } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import {
  blindFaceSecret,
  dealOprfKey,
  evaluateWithKey,
  faceWrapKey,
  newRecoveryKey,
  RecoveryBoxError,
  recoveryAuthKey,
  signRecoveryClaim,
  unwrapRecoveryKey,
  verifyRecoveryClaim,
  wrapRecoveryKey,
} from "../src/index.js";

const { key, publicKey } = dealOprfKey(2, [1, 2, 3]);
const id = randomUUID();
const email = "amy@example.com";

function wrapKeyFor(secret: Uint8Array, oprfKey = key, who = email) {
  const blind = blindFaceSecret(id, who, secret);
  return faceWrapKey(blind, evaluateWithKey(oprfKey, blind.blinded));
}

describe("face recovery key", () => {
  it("follows RFC 9497's ristretto255-SHA512 OPRF test vector 1", () => {
    // RFC 9497 appendix A.1.1: Seed = a3…a3, KeyInfo = "test key", Input = 00.
    const keys = ristretto255_oprf.oprf.deriveKeyPair(
      new Uint8Array(32).fill(0xa3),
      new TextEncoder().encode("test key"),
    );
    expect(Buffer.from(keys.secretKey).toString("hex")).toBe(
      "5ebcea5ee37023ccb9fc2d2019f9d7737be85591ae8652ffa9ef0f4d37063b0e",
    );
    const blind = hexToBytes("64d37aed22a27f5191de1c1d69fadb899d8862b58eb4220029e036ec4c1f6706");
    const input = Uint8Array.of(0);
    // blind() draws its own scalar, so the vector's Blind is applied by hand: HashToGroup(input)·Blind.
    const point = ristretto255_hasher.hashToCurve(input, {
      DST: new TextEncoder().encode("HashToGroup-OPRFV1-\x00-ristretto255-SHA512"),
    });
    const blinded = point.multiply(ristretto255.Point.Fn.fromBytes(blind)).toBytes();
    expect(Buffer.from(blinded).toString("hex")).toBe(
      "609a0ae68c15a3cf6903766461307e5c8bb2f95e7e6550e1ffa2dc99e412803c",
    );
    const evaluated = ristretto255_oprf.oprf.blindEvaluate(keys.secretKey, blinded);
    expect(Buffer.from(evaluated).toString("hex")).toBe(
      "7ec6578ae5120958eb2db1745758ff379e77cb64fe77b0b2d8cc917ea0869c7e",
    );
    expect(Buffer.from(ristretto255_oprf.oprf.finalize(input, blind, evaluated)).toString("hex")).toBe(
      "527759c3d9366f277d8c6020418d96bb393ba2afb20ff90df23fb7708264e2f3ab9135e3bd69955851de4b1f9fe8a0973396719b7912ba9ee8aa7d0b5e24bcf6",
    );
  });

  it("wraps the recovery key so that only the same face secret, email, OPRF key and enrollment unwrap it", () => {
    const recovery = newRecoveryKey();
    const secret = Uint8Array.of(1, 2, 3);
    const wrapped = wrapRecoveryKey(wrapKeyFor(secret), id, recovery, publicKey);
    const back = unwrapRecoveryKey(wrapKeyFor(secret), id, recovery.publicKey, wrapped, publicKey);
    expect(back.secretKey).toEqual(recovery.secretKey);
    // Another face secret, another email, another OPRF key, another enrollment: no key.
    expect(() =>
      unwrapRecoveryKey(wrapKeyFor(Uint8Array.of(1, 2, 4)), id, recovery.publicKey, wrapped, publicKey),
    ).toThrow(RecoveryBoxError);
    expect(() =>
      unwrapRecoveryKey(wrapKeyFor(secret, key, "penny@example.com"), id, recovery.publicKey, wrapped, publicKey),
    ).toThrow(RecoveryBoxError);
    const other = dealOprfKey(2, [1, 2, 3]);
    expect(() =>
      unwrapRecoveryKey(wrapKeyFor(secret, other.key), id, recovery.publicKey, wrapped, other.publicKey),
    ).toThrow(RecoveryBoxError);
    expect(() => unwrapRecoveryKey(wrapKeyFor(secret), randomUUID(), recovery.publicKey, wrapped, publicKey)).toThrow(
      RecoveryBoxError,
    );
    // The right face under a claimed OPRF public key other than the one it was wrapped with fails:
    // K is bound into the wrap, so a swapped key set is noticed even when the evaluation is right.
    expect(() => unwrapRecoveryKey(wrapKeyFor(secret), id, recovery.publicKey, wrapped, other.publicKey)).toThrow(
      RecoveryBoxError,
    );
    // A tampered wrapped key or a swapped public key fails cleanly.
    const tampered = wrapped.slice();
    tampered[20] = (tampered[20] as number) ^ 1;
    expect(() => unwrapRecoveryKey(wrapKeyFor(secret), id, recovery.publicKey, tampered, publicKey)).toThrow(
      RecoveryBoxError,
    );
    expect(() => unwrapRecoveryKey(wrapKeyFor(secret), id, newRecoveryKey().publicKey, wrapped, publicKey)).toThrow(
      RecoveryBoxError,
    );
    expect(() => unwrapRecoveryKey(wrapKeyFor(secret), id, recovery.publicKey, wrapped.subarray(1), publicKey)).toThrow(
      RecoveryBoxError,
    );
    expect(() => unwrapRecoveryKey(wrapKeyFor(secret), id, recovery.publicKey, wrapped, publicKey.subarray(1))).toThrow(
      RangeError,
    );
    expect(() => wrapRecoveryKey(wrapKeyFor(secret), id.toUpperCase(), recovery, publicKey)).toThrow(RangeError);
  });

  it("refuses evaluated strings that are not group elements", () => {
    const blind = blindFaceSecret(id, email, Uint8Array.of(9));
    expect(() => faceWrapKey(blind, new Uint8Array(32).fill(0xff))).toThrow(RecoveryBoxError);
    expect(() => blindFaceSecret("not-a-uuid", email, Uint8Array.of(9))).toThrow(RangeError);
  });

  it("proves a recovery for one enrollment and one new device only", () => {
    const recovery = newRecoveryKey();
    const auth = recoveryAuthKey(recovery).publicKey;
    const signature = signRecoveryClaim(recovery, id, "aa".repeat(16));
    expect(verifyRecoveryClaim(auth, id, "aa".repeat(16), signature)).toBe(true);
    expect(verifyRecoveryClaim(auth, id, "bb".repeat(16), signature)).toBe(false);
    expect(verifyRecoveryClaim(auth, randomUUID(), "aa".repeat(16), signature)).toBe(false);
    expect(verifyRecoveryClaim(recoveryAuthKey(newRecoveryKey()).publicKey, id, "aa".repeat(16), signature)).toBe(
      false,
    );
    expect(verifyRecoveryClaim(auth, id, "aa".repeat(16), new Uint8Array(64))).toBe(false);
    expect(ed25519.getPublicKey(recoveryAuthKey(recovery).secretKey)).toEqual(auth);
  });
});
