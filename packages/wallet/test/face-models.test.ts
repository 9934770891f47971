import { BiometricError } from "@keyshard/biometric";
import { describe, expect, it, vi } from "vitest";
import { enrollFaceAt, type FaceLink } from "../src/face-recovery.js";

// The face models ship inside an npm package and load here; a broken install is simulated.
vi.mock("@keyshard/biometric", async (original) => ({
  ...(await original<typeof import("@keyshard/biometric")>()),
  readFrames: () => [],
  captureFace: () => Promise.reject(new BiometricError("models", "the face models did not load: missing file")),
}));

describe("face capture errors", () => {
  it("a face model that does not load is `face-models`, and nothing reaches the provider", async () => {
    const call = vi.fn();
    const link = { client: { call }, email: "a@example.com" } as unknown as FaceLink;
    await expect(enrollFaceAt(link, ["face.jpg"])).rejects.toMatchObject({
      name: "WalletError",
      code: "face-models",
      message: "face: the face models did not load: missing file",
    });
    expect(call).not.toHaveBeenCalled();
  });
});
