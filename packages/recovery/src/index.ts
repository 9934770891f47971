/**
 * @keyshard/recovery — how a user gets a wallet back without the lost device: the face OPRF that
 * turns a face secret into a recovery key with the provider's help, the claim that proves a
 * recovery to the provider, the sealed boxes key shares wait in for the recovery key, and the
 * model-free half of face recovery (the helper data's format and its code, liveness challenges)
 * that the provider needs without loading any face model. Everything public is exported from here.
 */
export * as bch from "./bch.js";
export {
  backupBoxContext,
  newRecoveryKey,
  openRecoveryBox,
  RecoveryBoxError,
  type RecoveryKeyPair,
  sealToRecoveryKey,
} from "./boxes.js";
export {
  blindFaceSecret,
  evaluateBlinded,
  type FaceBlind,
  faceBoxContext,
  faceOprfKey,
  faceWrapKey,
  recoveryAuthKey,
  signRecoveryClaim,
  unwrapRecoveryKey,
  verifyRecoveryClaim,
  wrapRecoveryKey,
} from "./face-oprf.js";
export {
  EMBEDDING_SIZE,
  type HelperData,
  HelperDataError,
  offsetFromHex,
  offsetToHex,
  parseHelperData,
} from "./helper-data.js";
export {
  CHALLENGES,
  type Challenge,
  ChallengeError,
  describeChallenge,
  EXPRESSIONS,
  type Expression,
  newChallenge,
  parseChallenge,
} from "./liveness-challenge.js";
