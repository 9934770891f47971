/**
 * @keyshard/recovery — how a user gets a wallet back without the lost device: the face OPRF that
 * turns a face secret into a recovery key with the provider's help, the claim that proves a
 * recovery to the provider, and the sealed boxes key shares wait in for the recovery key.
 * Everything public is exported from here.
 */
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
