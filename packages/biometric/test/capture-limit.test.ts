/**
 * A camera that never stops is read for `MAX_FRAMES` frames at most, whether they show no face or
 * faces that are never enough. Face detection and embedding are stood in for, so that the
 * limit, not the models, is what runs.
 */
import { describe, expect, it, vi } from "vitest";
import { BiometricError } from "../src/errors.js";
import type { DetectedFace } from "../src/faces.js";
import { MAX_FRAMES, type RgbImage } from "../src/image.js";

/** Whether the stand-in detector finds a face in the frames. */
const seen = vi.hoisted(() => ({ face: false }));

vi.mock("../src/faces.js", async (original) => ({
  ...(await original<typeof import("../src/faces.js")>()),
  detectFace: async (frame: RgbImage): Promise<DetectedFace> => {
    if (!seen.face) throw new BiometricError("no-face", "no face was found in the picture");
    return { box: { x: 0, y: 0, width: 1, height: 1 }, landmarks: [], expressions: {} as never, chip: frame };
  },
}));
vi.mock("../src/embedding.js", async (original) => ({
  ...(await original<typeof import("../src/embedding.js")>()),
  embedChip: async () => new Float32Array(128),
}));

const { captureFace } = await import("../src/capture.js");

const frame: RgbImage = { width: 64, height: 64, data: new Uint8Array(64 * 64 * 3) };

/** A camera's frames that never end, counting how many were taken. */
function endless() {
  const taken = { count: 0 };
  async function* stream() {
    for (;;) {
      taken.count++;
      yield frame;
    }
  }
  return { stream: stream(), taken };
}

describe("a camera that never stops", () => {
  it("is read for MAX_FRAMES frames without a face, then refused", async () => {
    seen.face = false;
    const { stream, taken } = endless();
    await expect(captureFace(stream, () => false)).rejects.toMatchObject({ code: "no-face" });
    expect(taken.count).toBe(MAX_FRAMES);
  });

  it("is read for MAX_FRAMES faces that are never enough", async () => {
    seen.face = true;
    const { stream, taken } = endless();
    expect((await captureFace(stream, () => false)).faces).toHaveLength(MAX_FRAMES);
    expect(taken.count).toBe(MAX_FRAMES);
  });
});
