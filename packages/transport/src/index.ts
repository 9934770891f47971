/**
 * @keyshard/transport — how keyshard's parties reach each other: device identities and signed
 * requests to the provider, the hybrid wallet's schemes, protocol messages on the wire, sealed
 * envelopes between parties and multi-party runs through the provider's relay.
 * Everything public is exported from here.
 */

export { driveSession, MAX_OPENINGS, type RoundReply } from "./driver.js";
export {
  type Envelope,
  EnvelopeError,
  MAX_ENVELOPE_PLAINTEXT,
  openEnvelope,
  parseEnvelope,
  sealEnvelope,
} from "./envelope.js";
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
} from "./face-key.js";
export { ProviderError, signedFetch, TRIAL_HEADER } from "./http.js";
export {
  approvalSigningBytes,
  type DeviceIdentity,
  deviceId,
  newDeviceIdentity,
  REQUEST_HEADERS,
  type RequestToSign,
  requestSigningBytes,
  signApproval,
  signRequest,
  verifyApproval,
  verifyRequestSignature,
} from "./identity.js";
export { fromWire, MAX_PAYLOAD_BYTES, toWire, type WireMessage } from "./messages.js";
export {
  backupBoxContext,
  newRecoveryKey,
  openRecoveryBox,
  RecoveryBoxError,
  type RecoveryKeyPair,
  sealToRecoveryKey,
} from "./recovery-box.js";
export {
  httpRelayChannel,
  type RelayChannel,
  RelayError,
  type RelayPeer,
  type RelayRunOptions,
  RoundBuffer,
  type RoundBufferState,
  runOverRelay,
  wsRelayChannel,
} from "./relay.js";
export { REVOKED_CLOSE_CODE, type RelayWatch, watchRelay } from "./relay-watch.js";
export {
  bitcoinKeys,
  isEcdsa,
  PROVIDER,
  type Quorum,
  reshareMembers,
  SCHEME_NAMES,
  type Scheme,
  type SchemeName,
  type Share,
  scheme,
  WALLET_DEVICE,
} from "./schemes.js";
