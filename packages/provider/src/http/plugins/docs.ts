/**
 * The OpenAPI description at /docs, generated from the routes' schemas. Its one security scheme,
 * `deviceSignature`, says exactly how a request is signed (an RFC 9421 HTTP Message Signature
 * by the device's Ed25519 identity key, `@keyshard/transport`'s `request-signature.ts`), so a
 * client generated from the document alone can sign; the auth plugin puts the scheme on each
 * operation it authenticates.
 */
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import {
  REQUEST_HEADERS,
  REQUIRED_COMPONENTS,
  SIGNATURE_ALGORITHM,
  SIGNATURE_LABEL,
  SIGNATURE_PARAMETERS,
} from "@keyshard/transport";
import type { App } from "../app.js";
import { REQUEST_WINDOW_MS, SECURITY_SCHEME } from "./auth.js";

const components = REQUIRED_COMPONENTS.map((c) => `"${c}"`).join(" ");

/** The scheme: OpenAPI has no type for HTTP Message Signatures, so an apiKey header with the rest in words and in `x-http-message-signature`. */
const deviceSignature = {
  type: "apiKey",
  in: "header",
  name: "Signature",
  description: [
    "Every request is signed by the calling device's Ed25519 identity key as an HTTP Message Signature",
    `(RFC 9421) with exactly one signature, labelled "${SIGNATURE_LABEL}" in both headers. The signature covers exactly the`,
    `components (${components}), no fewer and no more, with exactly the parameters ${SIGNATURE_PARAMETERS.join(", ")}:`,
    `created is the signing time in Unix seconds (refused more than ${REQUEST_WINDOW_MS / 1000} s away from the provider's clock);`,
    "nonce is 16 random bytes in lower-case hex, never sent twice by a device (a replay is refused);",
    "keyid is the device id, the first 16 bytes of SHA-256 of the device's 32-byte Ed25519 public key in lower-case hex;",
    `alg is "${SIGNATURE_ALGORITHM}". "@query" is the query with its leading "?", or "?" alone when there is none.`,
    "Content-Digest (RFC 9530) is required on every request, the empty body's included: `sha-256=:<base64 of SHA-256 of the body bytes>:`.",
    `Headers: Signature-Input: ${SIGNATURE_LABEL}=(${components});created=…;nonce="…";keyid="…";alg="${SIGNATURE_ALGORITHM}"`,
    `Signature: ${SIGNATURE_LABEL}=:<base64 of the 64-byte Ed25519 signature of the signature base>:`,
    "A missing, malformed, stale, replayed or non-verifying signature, a signature covering other components or",
    "parameters, a digest that is not the body's and an unknown keyid are all refused with 401 `unauthorized`,",
    "a request signed the old way (x-keyshard-* headers) with 401 `outdated-client`;",
    "a revoked device gets 403 `device-revoked`, a device in a state the operation does not allow 403 `forbidden`.",
  ].join(" "),
  "x-http-message-signature": {
    specification: "RFC 9421",
    label: SIGNATURE_LABEL,
    coveredComponents: [...REQUIRED_COMPONENTS],
    parameters: [...SIGNATURE_PARAMETERS],
    algorithm: SIGNATURE_ALGORITHM,
    keyid: "device id: hex(SHA-256(Ed25519 public key)[0..16])",
    nonce: "16 random bytes, lower-case hex, single use per device",
    createdToleranceSeconds: REQUEST_WINDOW_MS / 1000,
    contentDigest: { specification: "RFC 9530", algorithm: "sha-256", requiredOnEmptyBody: true },
    headers: {
      [REQUEST_HEADERS.signatureInput]:
        "a dictionary of one member: the covered components, an inner list, with the parameters",
      [REQUEST_HEADERS.signature]: "a dictionary of one member, the same label: the signature as a byte sequence",
      [REQUEST_HEADERS.contentDigest]: "a dictionary of one member, sha-256: the body's digest as a byte sequence",
    },
  },
};

export async function docsPlugin(app: App): Promise<void> {
  await app.register(swagger, {
    openapi: {
      info: {
        title: "keyshard provider",
        version: "1",
        description:
          "The Security Provider's API. Operations with the deviceSignature security requirement are signed by a " +
          "device identity key as that scheme says; the relay's WebSocket is GET /v1/relay/ws.",
      },
      components: { securitySchemes: { [SECURITY_SCHEME]: deviceSignature as never } },
    },
  });
  await app.register(swaggerUi, { routePrefix: "/docs" });
}
