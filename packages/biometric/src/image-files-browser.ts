/**
 * Pictures from files in a browser (the package's `#image-files` under the "browser" condition):
 * a browser has no files to read and no PNG decoder here; its frames come from a canvas
 * (`rgbFromRgba` of an ImageData's pixels), so each of these refuses with a typed error.
 */
import { BiometricError } from "./errors.js";
import type { RgbImage } from "./image.js";

const noFiles = (): never => {
  throw new BiometricError("bad-image", "in a browser, frames come from the camera's canvas, not from image files");
};

export const decodeImage: (bytes: Uint8Array) => RgbImage = noFiles;
export const readImage: (path: string) => RgbImage = noFiles;
export const readFrames: (paths: readonly string[]) => RgbImage[] = noFiles;
