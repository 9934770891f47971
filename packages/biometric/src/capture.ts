/**
 * A face from what the camera gave: one still picture or a short run of frames. Every frame's
 * face is found, aligned and embedded; the frames must all show one person, and the embedding is
 * their mean. Pictures under 200 pixels a side are taken as face chips already aligned (the
 * chips of `shared/faces/people` are 150 × 150) and embedded whole.
 *
 * Enrollment and recovery both go through here, so the face is read the same way each time.
 */
import { readdirSync, statSync } from "node:fs";
import { extname, join } from "node:path";
import type { HelperData } from "@keyshard/recovery";
import { distance, embedChip, meanEmbedding } from "./embedding.js";
import { BiometricError } from "./errors.js";
import { enroll, reproduce } from "./extractor.js";
import { type DetectedFace, detectFace } from "./faces.js";
import { type RgbImage, readImage } from "./image.js";
import { POPULATION_MEAN } from "./population-mean.js";

const CHIP_SIDE = 200;
/** face-api's own threshold: descriptors of one person are closer than this. */
const SAME_PERSON = 0.6;
export const MAX_FRAMES = 64;

export interface Capture {
  /** The mean embedding over the frames; it stays in memory and is never stored or sent. */
  embedding: Float32Array;
  /** Each frame's face, in order, for the liveness check. */
  faces: DetectedFace[];
}

export async function captureFace(frames: readonly RgbImage[]): Promise<Capture> {
  if (frames.length === 0) throw new BiometricError("no-face", "no picture was given");
  if (frames.length > MAX_FRAMES) throw new BiometricError("bad-image", `at most ${MAX_FRAMES} frames`);
  const faces: DetectedFace[] = [];
  const embeddings: Float32Array[] = [];
  for (const frame of frames) {
    const face = await detectFace(frame);
    const chip = frame.width < CHIP_SIDE && frame.height < CHIP_SIDE ? frame : face.chip;
    faces.push(face);
    embeddings.push(await embedChip(chip));
  }
  for (let i = 1; i < embeddings.length; i++)
    if (distance(embeddings[0] as Float32Array, embeddings[i] as Float32Array) >= SAME_PERSON)
      throw new BiometricError("no-match", `frame ${i + 1} shows someone other than frame 1`);
  return { embedding: meanEmbedding(embeddings), faces };
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

/** Enrolls the captured face against the shipped population mean. */
export const enrollFace = (capture: Capture, random?: (n: number) => Uint8Array) =>
  enroll(capture.embedding, POPULATION_MEAN, random);

/** The enrolled secret from a new capture; `no-match` when the face is too far. */
export const reproduceFace = (capture: Capture, helper: HelperData) =>
  reproduce(capture.embedding, POPULATION_MEAN, helper);
