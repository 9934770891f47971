/**
 * @keyshard/transport — how keyshard's parties reach each other: device identities and signed
 * requests to the provider. Everything public is exported from here.
 */
export {
  type DeviceIdentity,
  deviceId,
  newDeviceIdentity,
  REQUEST_HEADERS,
  type RequestToSign,
  requestSigningBytes,
  signRequest,
  verifyRequestSignature,
} from "./identity.js";
