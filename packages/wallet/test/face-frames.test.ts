/**
 * A camera's frames at recovery are watched until they answer the liveness challenge: a few
 * faces are not enough until they do what the challenge asks: a change to the expression asked,
 * which a still picture never shows. At enrollment they need a few faces. A recovered box names
 * its wallet by the provider's rule.
 */
import { type DetectedFace, EXPRESSIONS, type Expression } from "@keyshard/biometric";
import { SCHEME_NAMES } from "@keyshard/mpc";
import { faceBoxContext, newRecoveryKey, sealToRecoveryKey } from "@keyshard/recovery";
import { bytesToHex } from "@noble/hashes/utils.js";
import { describe, expect, it, vi } from "vitest";
import { enoughFaces, enrollFaceAt, type FaceLink, walletFromBox } from "../src/face-recovery.js";

// The faces a camera's frames give are stood in for: how many of them the models would find.
const found = vi.hoisted(() => ({ faces: 0 }));
vi.mock("@keyshard/biometric", async (original) => {
  const actual = await original<typeof import("@keyshard/biometric")>();
  return {
    ...actual,
    captureFace: async () => ({
      embedding: new Float32Array(128),
      faces: Array.from({ length: found.faces }, () => face("neutral")),
    }),
  };
});

/** A face facing the camera that shows `expression`. */
function face(expression: Expression): DetectedFace {
  const expressions = Object.fromEntries(EXPRESSIONS.map((e) => [e, e === expression ? 0.9 : 0.1 / 6])) as Record<
    Expression,
    number
  >;
  // Jaw ends at x = 0 and 100, the nose tip between them: yaw 0.
  const landmarks = Array.from({ length: 68 }, (_, i) => ({ x: i === 16 ? 100 : i === 30 ? 50 : 0, y: 0 }));
  return {
    box: { x: 0, y: 0, width: 100, height: 100 },
    landmarks,
    expressions,
    chip: { width: 1, height: 1, data: new Uint8Array(3) },
  };
}

describe("a camera's frames at recovery", () => {
  const happy = { kind: "expression", expression: "happy" } as const;

  it("are enough once they answer the challenge, and not before", () => {
    const neutral = [face("neutral"), face("neutral"), face("neutral")];
    expect(enoughFaces(happy)(neutral)).toBe(false);
    expect(enoughFaces(happy)([...neutral, face("happy")])).toBe(true);
    // Too few faces for a steady embedding, whatever they show.
    expect(enoughFaces(happy)([face("neutral"), face("happy")])).toBe(false);
    // A still picture that shows the expression asked, however long it is watched.
    expect(enoughFaces(happy)([face("happy"), face("happy"), face("happy"), face("happy")])).toBe(false);
  });

  it("are enough with a few faces where no challenge is asked (enrollment)", () => {
    expect(enoughFaces()([face("neutral"), face("neutral")])).toBe(false);
    expect(enoughFaces()([face("neutral"), face("neutral"), face("neutral")])).toBe(true);
  });
});

describe("a camera's frames at enrollment", () => {
  async function* camera() {
    yield { width: 64, height: 64, data: new Uint8Array(64 * 64 * 3) };
  }

  it("need a few faces: frames without one are skipped, and too few faces enroll nothing", async () => {
    found.faces = 2;
    // Refused before anything is asked of the provider: the link is never used.
    await expect(enrollFaceAt({} as FaceLink, camera())).rejects.toThrow(/only 2 of the camera's frames showed a face/);
  });
});

describe("a recovered box", () => {
  /** A box sealed to a new recovery key, naming its wallet `name`; its share is none. */
  function boxNaming(name: string) {
    const recovery = newRecoveryKey();
    const content = { id: "w1", name, scheme: SCHEME_NAMES[0], publicKey: "00", share: "00", index: 0 };
    const sealed = sealToRecoveryKey(
      recovery.publicKey,
      faceBoxContext("w1"),
      new TextEncoder().encode(JSON.stringify({ ...content, threshold: 2, members: null, epoch: 0 })),
    );
    return () => walletFromBox(recovery, { walletId: "w1", epoch: 0, box: bytesToHex(sealed) });
  }

  it("names its wallet in 1 to 64 characters, as the provider does", () => {
    for (const name of ["", "w".repeat(65)]) expect(boxNaming(name)).toThrow(/names the wallet in other than 1 to 64/);
    // A name within the rule is read on, to the share (none here).
    expect(boxNaming("w".repeat(64))).toThrow(/holds no share|share of another key/);
  });
});
