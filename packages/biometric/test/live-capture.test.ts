/**
 * A camera's frames as they come (an async iterable), as a browser's recovery reads them: a frame
 * without a face is skipped there (it fails a list of pictures), reading stops as soon as the
 * faces read are enough (and after `MAX_FRAMES`: capture-limit.test.ts), and a second person is
 * refused as in a list; the RGBA pixels a canvas gives are taken as RGB, checked for size. The
 * browser's model location takes http(s) folders, or an http(s) URL for each of its files.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { setFaceModelLocation } from "../src/face-api-browser.js";
import { BiometricError, captureFace, type RgbImage, readImage, rgbFromRgba } from "../src/index.js";
import { MODEL_FILES, WASM_FILES } from "../src/model-location.js";
import { PEOPLE } from "./faces.js";

const chip = (person: string, n: number) => readImage(join(PEOPLE, person, `${person}${n}.png`));
/** A frame of the wall behind the person: no face in it. */
const wall: RgbImage = { width: 320, height: 240, data: new Uint8Array(320 * 240 * 3).fill(128) };

/** `frames` one at a time, counting how many were taken. */
function camera(frames: RgbImage[]) {
  const taken = { count: 0 };
  async function* stream() {
    for (const frame of frames) {
      taken.count++;
      yield frame;
    }
  }
  return { stream: stream(), taken };
}

describe("capture from a camera's frames", () => {
  it("skips frames without a face, where a list of pictures is refused", async () => {
    const { stream } = camera([wall, chip("amy", 1), wall, chip("amy", 2)]);
    expect((await captureFace(stream)).faces).toHaveLength(2);
    await expect(captureFace([wall, chip("amy", 1)])).rejects.toMatchObject({ code: "no-face" });
    await expect(captureFace(camera([wall, wall]).stream)).rejects.toMatchObject({ code: "no-face" });
  });

  it("stops reading once the faces read are enough", async () => {
    const { stream, taken } = camera([chip("amy", 1), chip("amy", 2), chip("amy", 3), chip("amy", 4)]);
    const capture = await captureFace(stream, (faces) => faces.length >= 2);
    expect(capture.faces).toHaveLength(2);
    expect(taken.count).toBe(2);
  });

  it("refuses a second person among the frames", async () => {
    await expect(captureFace(camera([chip("amy", 1), chip("penny", 1)]).stream)).rejects.toThrow(/someone other/);
  });

  it("takes a canvas's RGBA pixels as RGB, of the size they claim", () => {
    const rgba = Uint8ClampedArray.from({ length: 32 * 32 * 4 }, (_, i) => (i % 4 === 3 ? 255 : i % 251));
    const rgb = rgbFromRgba(32, 32, rgba);
    expect(rgb.data.slice(0, 6)).toEqual(Uint8Array.of(0, 1, 2, 4, 5, 6));
    expect(() => rgbFromRgba(32, 32, rgba.subarray(4))).toThrow(BiometricError);
    expect(() => rgbFromRgba(16, 64, rgba)).toThrow(BiometricError);
    expect(() => rgbFromRgba(32.5, 32, rgba)).toThrow(BiometricError);
  });

  it("fetches the models in a browser from http(s) folders only", () => {
    for (const location of [
      { models: "face/models/", wasm: "https://wallet.example/face/wasm/" },
      { models: "https://wallet.example/face/models", wasm: "https://wallet.example/face/wasm/" },
      { models: "file:///face/models/", wasm: "https://wallet.example/face/wasm/" },
    ])
      expect(() => setFaceModelLocation(location)).toThrow(BiometricError);
    expect(() =>
      setFaceModelLocation({ models: "https://wallet.example/face/models/", wasm: "http://localhost/face/wasm/" }),
    ).not.toThrow();
    // Or each file at a URL of its own (a build's content-hashed names): every file, and no other.
    const each = (files: readonly string[], url = (file: string) => `https://wallet.example/assets/${file}`) =>
      Object.fromEntries(files.map((file) => [file, url(file)]));
    const wasm = "https://wallet.example/face/wasm/";
    expect(() => setFaceModelLocation({ models: each(MODEL_FILES), wasm: each(WASM_FILES) })).not.toThrow();
    for (const models of [
      each(MODEL_FILES.slice(1)),
      { ...each(MODEL_FILES), "age_gender_model.bin": "https://wallet.example/assets/age_gender_model.bin" },
      each(MODEL_FILES, (file) => `file:///assets/${file}`),
    ])
      expect(() => setFaceModelLocation({ models, wasm })).toThrow(BiometricError);
  });
});
