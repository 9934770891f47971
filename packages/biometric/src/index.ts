/**
 * @keyshard/biometric — "the secret is in you": a face regenerates a recovery key without any
 * image or embedding being stored. Face embeddings (face-api on TensorFlow.js WASM), the fuzzy
 * extractor that turns them into stable bits, and the liveness checks run on the device, in Node
 * or in a browser (the "browser" condition: models fetched from the app, frames from a canvas). The
 * model-free parts (the helper data's format, liveness challenges) are `@keyshard/recovery`'s and
 * are re-exported here for the device's code.
 */
export {
  CHALLENGES,
  type Challenge,
  describeChallenge,
  EMBEDDING_SIZE,
  EXPRESSIONS,
  type Expression,
  type HelperData,
  newChallenge,
  parseChallenge,
} from "@keyshard/recovery";
export { setFaceModelLocation } from "#face-api";
export { decodeImage, readFrames, readImage } from "#image-files";
export { type Capture, captureFace, enrollFace, reproduceFace } from "./capture.js";
export { distance, embedChip, faceApi, meanEmbedding } from "./embedding.js";
export { BiometricError, type BiometricErrorCode } from "./errors.js";
export { enroll, MAX_ERRORS, parseHelperData } from "./extractor.js";
export { type DetectedFace, detectFace, topExpression, yaw } from "./faces.js";
export { MAX_FRAMES, mirror, type RgbImage, rgbFromRgba } from "./image.js";
export { checkLiveness } from "./liveness.js";
export type { ModelLocation } from "./model-location.js";
export { POPULATION_MEAN } from "./population-mean.js";
