/**
 * @keyshard/transport — how keyshard's parties reach each other: device identities and signed
 * requests to the provider, protocol messages on the wire, sealed envelopes between parties,
 * two-party sessions with the provider and multi-party runs through its relay.
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
export { ProviderError, signedFetch, TRIAL_HEADER } from "./http.js";
export {
  approvalSigningBytes,
  type DeviceIdentity,
  deviceId,
  newDeviceIdentity,
  signApproval,
  verifyApproval,
} from "./identity.js";
export { fromWire, MAX_PAYLOAD_BYTES, toWire, type WireMessage } from "./messages.js";
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
export {
  AUTHENTICATION_WAIT_MS,
  authenticationFrame,
  MAX_AUTHENTICATION_FRAME_BYTES,
  POLICY_VIOLATION_CLOSE_CODE,
  RELAY_SOCKET_PATH,
  type RelayFrame,
  type RelaySocket,
  readAuthenticationFrame,
} from "./relay-socket.js";
export { REVOKED_CLOSE_CODE, type RelayWatch, watchRelay } from "./relay-watch.js";
export {
  type BareItem,
  contentDigest,
  REQUEST_HEADERS,
  REQUIRED_COMPONENTS,
  type ReceivedSignature,
  RequestSignatureError,
  readRequestSignature,
  SIGNATURE_ALGORITHM,
  SIGNATURE_LABEL,
  SIGNATURE_PARAMETERS,
  type SignatureParameters,
  type SignedRequestTarget,
  signatureBase,
  signRequest,
  verifyRequestSignature,
} from "./request-signature.js";
