/**
 * A face from what the camera gave: still pictures, or a camera's frames as they come. Every
 * frame's face is found, aligned and embedded; the frames must all show one person, and the
 * embedding is their mean. Pictures under 200 pixels a side are taken as face chips already
 * aligned (the chips of `shared/faces/people` are 150 × 150) and embedded whole.
 *
 * Enrollment and recovery both go through here, so the face is read the same way each time.
 */
import type { HelperData } from "@keyshard/recovery";
import { distance, embedChip, meanEmbedding } from "./embedding.js";
import { BiometricError } from "./errors.js";
import { enroll, reproduce } from "./extractor.js";
import { type DetectedFace, detectFace } from "./faces.js";
import { MAX_FRAMES, type RgbImage } from "./image.js";
import { POPULATION_MEAN } from "./population-mean.js";

const CHIP_SIDE = 200;
/** face-api's own threshold: descriptors of one person are closer than this. */
const SAME_PERSON = 0.6;

export interface Capture {
  /** The mean embedding over the frames; it stays in memory and is never stored or sent. */
  embedding: Float32Array;
  /** Each frame's face, in order, for the liveness check. */
  faces: DetectedFace[];
}

/**
 * The face in `frames`. Pictures given as a list must each show the face. A camera's frames (an
 * async iterable) are read as they come until `enough` says the faces read so far suffice, the
 * camera stops, or `MAX_FRAMES` were read; a frame without a face (a blur, a look away) is
 * skipped there, as a person moving in front of a camera makes some.
 */
export async function captureFace(
  frames: readonly RgbImage[] | AsyncIterable<RgbImage>,
  enough?: (faces: readonly DetectedFace[]) => boolean,
): Promise<Capture> {
  const live = !Array.isArray(frames);
  if (!live && frames.length > MAX_FRAMES) throw new BiometricError("bad-image", `at most ${MAX_FRAMES} frames`);
  const faces: DetectedFace[] = [];
  const embeddings: Float32Array[] = [];
  let read = 0;
  for await (const frame of frames) {
    read++;
    let face: DetectedFace;
    try {
      face = await detectFace(frame);
    } catch (e) {
      if (!(live && e instanceof BiometricError && e.code === "no-face")) throw e;
      if (read >= MAX_FRAMES) break;
      continue;
    }
    const chip = frame.width < CHIP_SIDE && frame.height < CHIP_SIDE ? frame : face.chip;
    const embedding = await embedChip(chip);
    if (embeddings.length > 0 && distance(embeddings[0] as Float32Array, embedding) >= SAME_PERSON)
      throw new BiometricError("no-match", `frame ${read} shows someone other than the first face`);
    faces.push(face);
    embeddings.push(embedding);
    if (read >= MAX_FRAMES || enough?.(faces)) break;
  }
  if (faces.length === 0)
    throw new BiometricError("no-face", read === 0 ? "no picture was given" : "no face was found in the frames");
  return { embedding: meanEmbedding(embeddings), faces };
}

/** Enrolls the captured face against the shipped population mean. */
export const enrollFace = (capture: Capture, random?: (n: number) => Uint8Array) =>
  enroll(capture.embedding, POPULATION_MEAN, random);

/** The enrolled secret from a new capture; `no-match` when the face is too far. */
export const reproduceFace = (capture: Capture, helper: HelperData) =>
  reproduce(capture.embedding, POPULATION_MEAN, helper);
