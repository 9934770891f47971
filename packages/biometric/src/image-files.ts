/**
 * Pictures from files (the package's `#image-files` without the "browser" condition): PNG and
 * JPEG decoded in pure JavaScript (nothing native to build), read from paths and folders.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join } from "node:path";
import jpeg from "jpeg-js";
import { PNG } from "pngjs";
import { BiometricError } from "./errors.js";
import { MAX_FRAMES, MAX_SIDE, type RgbImage, rgbFromRgba } from "./image.js";

/** Decodes PNG or JPEG bytes (told apart by their signature). */
export function decodeImage(bytes: Uint8Array): RgbImage {
  const isPng = bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const isJpeg = bytes[0] === 0xff && bytes[1] === 0xd8;
  if (!isPng && !isJpeg) throw new BiometricError("bad-image", "an image must be PNG or JPEG");
  try {
    if (isPng) {
      const png = PNG.sync.read(Buffer.from(bytes));
      return rgbFromRgba(png.width, png.height, png.data);
    }
    const decoded = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      maxResolutionInMP: (MAX_SIDE * MAX_SIDE) / 1e6,
      maxMemoryUsageInMB: 256,
    });
    return rgbFromRgba(decoded.width, decoded.height, decoded.data);
  } catch (e) {
    if (e instanceof BiometricError) throw e;
    throw new BiometricError(
      "bad-image",
      `the image cannot be decoded (${e instanceof Error ? e.message : String(e)})`,
    );
  }
}

export function readImage(path: string): RgbImage {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch {
    throw new BiometricError("bad-image", `cannot read ${path}`);
  }
  return decodeImage(bytes);
}

/** The pictures given: files as they are, and a folder's .png and .jpg files in name order. */
export function readFrames(paths: readonly string[]): RgbImage[] {
  const files: string[] = [];
  for (const path of paths) {
    let folder = false;
    try {
      folder = statSync(path).isDirectory();
    } catch {
      throw new BiometricError("bad-image", `cannot read ${path}`);
    }
    if (!folder) files.push(path);
    else
      for (const name of readdirSync(path).sort())
        if ([".png", ".jpg", ".jpeg"].includes(extname(name).toLowerCase())) files.push(join(path, name));
  }
  if (files.length > MAX_FRAMES) throw new BiometricError("bad-image", `at most ${MAX_FRAMES} frames`);
  return files.map(readImage);
}
