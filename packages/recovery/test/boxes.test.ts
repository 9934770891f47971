/**
 * Recovery boxes: only the recovery key opens one, under the context it was sealed for; any
 * changed byte, a small-order ephemeral key or a wrong version is refused with RecoveryBoxError.
 */
import { describe, expect, it } from "vitest";
import { newRecoveryKey, openRecoveryBox, RecoveryBoxError, sealToRecoveryKey } from "../src/boxes.js";

const recovery = newRecoveryKey();
const secret = new TextEncoder().encode("the provider's key share");

describe("recovery boxes", () => {
  it("the recovery key opens it; the box does not contain the plaintext", () => {
    const box = sealToRecoveryKey(recovery.publicKey, "backup:wallet-1", secret);
    expect(Buffer.from(box).includes(Buffer.from(secret))).toBe(false);
    expect(openRecoveryBox(recovery, "backup:wallet-1", box)).toEqual(secret);
    // Two boxes of the same plaintext differ (fresh ephemeral key).
    expect(sealToRecoveryKey(recovery.publicKey, "backup:wallet-1", secret)).not.toEqual(box);
  });

  it("another key or another context does not open it", () => {
    const box = sealToRecoveryKey(recovery.publicKey, "backup:wallet-1", secret);
    expect(() => openRecoveryBox(newRecoveryKey(), "backup:wallet-1", box)).toThrow(RecoveryBoxError);
    expect(() => openRecoveryBox(recovery, "backup:wallet-2", box)).toThrow(RecoveryBoxError);
  });

  it("every byte is authenticated", () => {
    const box = sealToRecoveryKey(recovery.publicKey, "c", secret);
    for (const i of [0, 1, 20, 33, 40, box.length - 1]) {
      const bad = box.slice();
      bad[i] = (bad[i] as number) ^ 1;
      expect(() => openRecoveryBox(recovery, "c", bad)).toThrow(RecoveryBoxError);
    }
    expect(() => openRecoveryBox(recovery, "c", box.subarray(0, 40))).toThrow(RecoveryBoxError);
  });

  it("a small-order ephemeral key is refused, not used", () => {
    const box = sealToRecoveryKey(recovery.publicKey, "c", secret);
    const bad = box.slice();
    bad.fill(0, 1, 33); // the all-zero point: the shared secret would be zero
    expect(() => openRecoveryBox(recovery, "c", bad)).toThrow(RecoveryBoxError);
  });

  it("bad arguments are RangeErrors", () => {
    expect(() => sealToRecoveryKey(new Uint8Array(31), "c", secret)).toThrow(RangeError);
    expect(() => sealToRecoveryKey(recovery.publicKey, "", secret)).toThrow(RangeError);
    expect(() => sealToRecoveryKey(recovery.publicKey, "a\nb", secret)).toThrow(RangeError);
  });
});
