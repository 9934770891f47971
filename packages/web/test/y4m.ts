/**
 * A camera's video for Chromium's fake capture device (`--use-file-for-fake-video-capture`):
 * YUV4MPEG2 (Y4M), 4:2:0, written from pictures decoded in Node. Each picture is centred on a
 * grey frame, as a face sits in front of a plain wall, and held for `holdFrames` frames; Chromium
 * plays the file in a loop.
 */
import { writeFileSync } from "node:fs";
import type { RgbImage } from "@keyshard/biometric";

export interface Y4mOptions {
  width: number;
  height: number;
  framesPerSecond: number;
  /** How many frames each picture is shown for. */
  holdFrames: number;
}

/** `picture` centred on a mid-grey frame of `width` × `height`. */
function framed(picture: RgbImage, width: number, height: number): RgbImage {
  if (picture.width > width || picture.height > height) throw new Error("a picture is larger than the video's frame");
  const data = new Uint8Array(width * height * 3).fill(128);
  const dx = Math.floor((width - picture.width) / 2);
  const dy = Math.floor((height - picture.height) / 2);
  for (let y = 0; y < picture.height; y++)
    data.set(picture.data.subarray(y * picture.width * 3, (y + 1) * picture.width * 3), ((y + dy) * width + dx) * 3);
  return { width, height, data };
}

const clamp = (v: number) => Math.max(0, Math.min(255, Math.round(v)));

/**
 * One frame's planes: BT.601 in limited ("video") range — luma 16 to 235, chroma 16 to 240 —
 * which is how Chromium reads a camera's I420 frames (the file's header cannot say otherwise);
 * chroma averaged over each 2 × 2 block.
 */
function yuv420(frame: RgbImage): Uint8Array {
  const { width, height, data } = frame;
  const luma = new Uint8Array(width * height);
  const chroma = (width / 2) * (height / 2);
  const u = new Uint8Array(chroma);
  const v = new Uint8Array(chroma);
  for (let i = 0; i < width * height; i++) {
    const [r, g, b] = [data[3 * i] as number, data[3 * i + 1] as number, data[3 * i + 2] as number];
    luma[i] = clamp(16 + (219 / 255) * (0.299 * r + 0.587 * g + 0.114 * b));
  }
  for (let y = 0; y < height; y += 2)
    for (let x = 0; x < width; x += 2) {
      let [su, sv] = [0, 0];
      for (const [ox, oy] of [
        [0, 0],
        [1, 0],
        [0, 1],
        [1, 1],
      ] as const) {
        const i = (y + oy) * width + (x + ox);
        const [r, g, b] = [data[3 * i] as number, data[3 * i + 1] as number, data[3 * i + 2] as number];
        su += (224 / 255) * (-0.168736 * r - 0.331264 * g + 0.5 * b) + 128;
        sv += (224 / 255) * (0.5 * r - 0.418688 * g - 0.081312 * b) + 128;
      }
      const c = (y / 2) * (width / 2) + x / 2;
      u[c] = clamp(su / 4);
      v[c] = clamp(sv / 4);
    }
  const planes = new Uint8Array(luma.length + 2 * chroma);
  planes.set(luma, 0);
  planes.set(u, luma.length);
  planes.set(v, luma.length + chroma);
  return planes;
}

/** Writes `pictures`, each held for `holdFrames` frames, as a Y4M file at `path`. */
export function writeY4m(path: string, pictures: readonly RgbImage[], options: Y4mOptions): void {
  const { width, height, framesPerSecond, holdFrames } = options;
  if (width % 2 !== 0 || height % 2 !== 0) throw new Error("4:2:0 needs even sides");
  const header = new TextEncoder().encode(`YUV4MPEG2 W${width} H${height} F${framesPerSecond}:1 Ip A1:1 C420jpeg\n`);
  const marker = new TextEncoder().encode("FRAME\n");
  const chunks: Uint8Array[] = [header];
  for (const picture of pictures) {
    const planes = yuv420(framed(picture, width, height));
    for (let i = 0; i < holdFrames; i++) chunks.push(marker, planes);
  }
  writeFileSync(path, Buffer.concat(chunks));
}
