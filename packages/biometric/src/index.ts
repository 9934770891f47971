/**
 * @keyshard/biometric — "the secret is in you": a face regenerates a recovery key without any
 * image or embedding being stored. Face embeddings (face-api on TensorFlow.js WASM), the fuzzy
 * extractor that turns them into stable bits, and the liveness checks run on the device.
 */
export { type Capture, captureFace, enrollFace, MAX_FRAMES, readFrames, reproduceFace } from "./capture.js";
export { distance, EMBEDDING_SIZE, embedChip, faceApi, meanEmbedding } from "./embedding.js";
export { BiometricError, type BiometricErrorCode } from "./errors.js";
export { enroll, type HelperData, MAX_ERRORS, parseHelperData } from "./extractor.js";
export { type DetectedFace, detectFace, EXPRESSIONS, type Expression, topExpression, yaw } from "./faces.js";
export { decodeImage, mirror, type RgbImage, readImage } from "./image.js";
export {
  CHALLENGES,
  type Challenge,
  checkLiveness,
  describeChallenge,
  newChallenge,
  parseChallenge,
} from "./liveness.js";
export { POPULATION_MEAN } from "./population-mean.js";
