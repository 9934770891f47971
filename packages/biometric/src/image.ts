/**
 * Images as the face models take them: 8-bit RGB, with the bounds a camera frame can reasonably
 * have. Files are decoded in `image-files.ts` (Node); a browser's frames come from a canvas's
 * RGBA pixels through `rgbFromRgba`.
 */
import { BiometricError } from "./errors.js";

export interface RgbImage {
  width: number;
  height: number;
  /** width × height × 3 bytes, row by row. */
  data: Uint8Array;
}

/** Larger frames are refused rather than decoded: 4096² RGBA is 64 MiB already. */
export const MAX_SIDE = 4096;
/** The smallest side of a picture a face can be read from. */
export const MIN_SIDE = 32;
/** The most pictures or frames one capture reads. */
export const MAX_FRAMES = 64;

export function checkSize(width: number, height: number): void {
  const fits = (side: number) => Number.isSafeInteger(side) && side >= MIN_SIDE && side <= MAX_SIDE;
  if (!fits(width) || !fits(height))
    throw new BiometricError("bad-image", `an image must be ${MIN_SIDE} to ${MAX_SIDE} pixels on each side`);
}

/** RGB from RGBA pixels (a canvas's ImageData, a decoded file), checked for size; alpha dropped. */
export function rgbFromRgba(width: number, height: number, rgba: Uint8Array | Uint8ClampedArray): RgbImage {
  checkSize(width, height);
  if (rgba.length !== width * height * 4)
    throw new BiometricError(
      "bad-image",
      `${width} × ${height} RGBA pixels are ${width * height * 4} bytes, not ${rgba.length}`,
    );
  const data = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < width * height; i++) {
    data[j++] = rgba[4 * i] as number;
    data[j++] = rgba[4 * i + 1] as number;
    data[j++] = rgba[4 * i + 2] as number;
  }
  return { width, height, data };
}

/** The image flipped left to right. */
export function mirror(image: RgbImage): RgbImage {
  const { width, height, data } = image;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      out.set(data.subarray((y * width + x) * 3, (y * width + x) * 3 + 3), (y * width + (width - 1 - x)) * 3);
  return { width, height, data: out };
}
