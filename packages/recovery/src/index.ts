/**
 * @keyshard/recovery — how a user gets a wallet back without the lost device: the face OPRF that
 * turns a face secret into a recovery key with the help of t of n recovery operators (the key
 * split among them, their answers proven, the provider's tickets that let a device ask them), the
 * claim that proves a recovery to the provider, the sealed boxes key shares wait in for the
 * recovery key, and the model-free half of face recovery (the helper data's format and its code,
 * liveness challenges) that the provider needs without loading any face model. Everything public
 * is exported from here.
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
export { generateDleqProof, readElement, verifyDleqProof } from "./dleq.js";
export {
  blindFaceSecret,
  type FaceBlind,
  faceBoxContext,
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
export {
  type EnrollTicket,
  isLoopbackHost,
  MAX_TICKET_OPERATORS,
  MAX_TICKET_PAYLOAD_BYTES,
  type OperatorTicket,
  type RecoverTicket,
  readTicket,
  type SignedTicket,
  signTicket,
  TICKET_CLOCK_SKEW_MS,
  TICKET_LIFETIME_MS,
  TicketError,
  type TicketPurpose,
  ticketKeyPair,
} from "./operator-ticket.js";
export {
  acceptReshare,
  checkShare,
  combinePartials,
  dealOprfKey,
  dealReshare,
  evaluatePartial,
  evaluateWithKey,
  type OprfKeySharing,
  operatorShareContext,
  type PartialEvaluation,
  publicShare,
  type ReshareDealing,
  reshareContext,
  ThresholdOprfError,
  verifyPartial,
} from "./threshold-oprf.js";
