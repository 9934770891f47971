/**
 * Images as the face models take them: 8-bit RGB, decoded in pure JavaScript from PNG or JPEG
 * (nothing native to build), with the bounds a camera frame can reasonably have.
 */
import { readFileSync } from "node:fs";
import jpeg from "jpeg-js";
import { PNG } from "pngjs";
import { BiometricError } from "./errors.js";

export interface RgbImage {
  width: number;
  height: number;
  /** width × height × 3 bytes, row by row. */
  data: Uint8Array;
}

/** Larger frames are refused rather than decoded: 4096² RGBA is 64 MiB already. */
const MAX_SIDE = 4096;

function fromRgba(width: number, height: number, rgba: Uint8Array): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < width * height; i++) {
    data[j++] = rgba[4 * i] as number;
    data[j++] = rgba[4 * i + 1] as number;
    data[j++] = rgba[4 * i + 2] as number;
  }
  return { width, height, data };
}

/** Decodes PNG or JPEG bytes (told apart by their signature). */
export function decodeImage(bytes: Uint8Array): RgbImage {
  const isPng = bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const isJpeg = bytes[0] === 0xff && bytes[1] === 0xd8;
  if (!isPng && !isJpeg) throw new BiometricError("bad-image", "an image must be PNG or JPEG");
  try {
    if (isPng) {
      const png = PNG.sync.read(Buffer.from(bytes));
      checkSize(png.width, png.height);
      return fromRgba(png.width, png.height, png.data);
    }
    const decoded = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      maxResolutionInMP: (MAX_SIDE * MAX_SIDE) / 1e6,
      maxMemoryUsageInMB: 256,
    });
    checkSize(decoded.width, decoded.height);
    return fromRgba(decoded.width, decoded.height, decoded.data);
  } catch (e) {
    if (e instanceof BiometricError) throw e;
    throw new BiometricError(
      "bad-image",
      `the image cannot be decoded (${e instanceof Error ? e.message : String(e)})`,
    );
  }
}

function checkSize(width: number, height: number): void {
  if (width < 32 || height < 32 || width > MAX_SIDE || height > MAX_SIDE)
    throw new BiometricError("bad-image", `an image must be 32 to ${MAX_SIDE} pixels on each side`);
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

/** The image flipped left to right. */
export function mirror(image: RgbImage): RgbImage {
  const { width, height, data } = image;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      out.set(data.subarray((y * width + x) * 3, (y * width + x) * 3 + 3), (y * width + (width - 1 - x)) * 3);
  return { width, height, data: out };
}
