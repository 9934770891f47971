/**
 * The relay's WebSocket as a device opens it, on the standard WebSocket API (browsers and Node
 * alike). That API cannot send headers, so the socket proves its device in its first frame: the
 * same request signature a GET of the socket's path would carry in its headers, which the
 * provider checks as it checks any request (freshness, spent nonce, active device). Nothing else
 * is sent, and nothing the provider sends is taken, before it answers "authenticated". Frames are
 * JSON text; one over the caller's bound fails the socket. In Node that bound also bounds memory:
 * the socket (`ws`, `#websocket`) refuses a frame as soon as its header announces more. A
 * browser's WebSocket buffers a whole message before handing it over, so there the bound only
 * keeps an oversized frame from being parsed and acted on.
 */
import { openWebSocket } from "#websocket";
import type { DeviceIdentity } from "./identity.js";
import { REQUEST_HEADERS, RequestSignatureError, signRequest } from "./request-signature.js";

export class RelayError extends Error {
  override readonly name = "RelayError";
  /** The provider's close code, when the error is the provider closing the socket. */
  readonly closeCode: number | undefined;
  constructor(message: string, closeCode?: number) {
    super(message);
    this.closeCode = closeCode;
  }
}

/** The socket's path, which its authentication frame signs. */
export const RELAY_SOCKET_PATH = "/v1/relay/ws";
/** RFC 6455's "policy violation": the provider's close code for a socket that does not authenticate as it must. */
export const POLICY_VIOLATION_CLOSE_CODE = 1008;
/** How long the provider waits for a socket's authentication frame before it closes the socket. */
export const AUTHENTICATION_WAIT_MS = 5_000;
/** How long a socket waits for the provider's answer to its authentication: the provider's wait, and time for a slow check. */
const AUTHENTICATION_ANSWER_MS = AUTHENTICATION_WAIT_MS + 10_000;

/** An authentication frame's bound in bytes: three header values of at most 256 characters each, and their names. */
export const MAX_AUTHENTICATION_FRAME_BYTES = 2048;

const HEADER_NAMES: readonly string[] = Object.values(REQUEST_HEADERS);

/** The frame a socket opens with: the signed GET of the socket's path, its headers as `signRequest` writes them. */
export function authenticationFrame(identity: DeviceIdentity, now?: number): string {
  const headers = signRequest(identity, { method: "GET", path: RELAY_SOCKET_PATH, body: new Uint8Array(), now });
  return JSON.stringify({ type: "authenticate", headers });
}

/**
 * The signature headers an authentication frame carries, for `readRequestSignature`; throws
 * `RequestSignatureError` unless the frame (a text frame's bytes, undefined for a binary frame)
 * is UTF-8 JSON within its bound holding exactly a type "authenticate" and the three signature
 * headers as strings. The bound is checked before anything is decoded: a socket that has proved
 * nothing gets no more work than that.
 */
export function readAuthenticationFrame(bytes: Uint8Array | undefined): Record<string, string> {
  if (bytes === undefined) throw new RequestSignatureError("the first frame must be JSON text");
  if (bytes.length > MAX_AUTHENTICATION_FRAME_BYTES)
    throw new RequestSignatureError(`the authentication frame is over ${MAX_AUTHENTICATION_FRAME_BYTES} bytes`);
  let frame: unknown;
  try {
    frame = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw new RequestSignatureError("the first frame must be JSON");
  }
  if (!isExactly(frame, ["type", "headers"]) || frame.type !== "authenticate")
    throw new RequestSignatureError('the first frame must be { "type": "authenticate", "headers": … } and only that');
  const { headers } = frame;
  if (!isExactly(headers, HEADER_NAMES) || !HEADER_NAMES.every((name) => typeof headers[name] === "string"))
    throw new RequestSignatureError(`the authentication frame's headers must be exactly ${HEADER_NAMES.join(", ")}`);
  return headers as Record<string, string>;
}

/** Whether `value` is a plain object with exactly the keys `keys`. */
function isExactly(value: unknown, keys: readonly string[]): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const own = Object.keys(value);
  return own.length === keys.length && keys.every((key) => Object.hasOwn(value, key));
}

/** A frame from the provider: a JSON object. */
export type RelayFrame = Record<string, unknown>;

export interface RelaySocket {
  /** Sends `frame` as JSON text. */
  send(frame: RelayFrame): void;
  /** Resolves once the socket is closed: the provider's close code and reason, or why this side closed it. */
  readonly closed: Promise<{ code: number; reason: string }>;
  close(): void;
}

/**
 * Opens an authenticated relay socket to the provider at `baseUrl`; resolves once the provider
 * has answered the authentication, rejects with a `RelayError` (the provider's reason and close
 * code in it) if it closes the socket instead, or does not answer in time. Every later frame goes
 * to `onFrame`; a frame that is not a JSON object, or is over `maxFrameBytes`, closes the socket.
 */
export function openRelaySocket(
  baseUrl: string,
  identity: DeviceIdentity,
  maxFrameBytes: number,
  onFrame: (frame: RelayFrame) => void,
): Promise<RelaySocket> {
  const oversized = `the relay sent a frame over ${maxFrameBytes} bytes`;
  /** Why this side closed the socket, when it did. */
  let refusal: string | undefined;
  const socket = openWebSocket(baseUrl.replace(/^http/, "ws") + RELAY_SOCKET_PATH, maxFrameBytes, () => {
    refusal ??= oversized;
  });
  socket.binaryType = "arraybuffer";
  let authenticated = false;
  const refuse = (reason: string) => {
    refusal ??= reason;
    socket.close();
  };
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.addEventListener("close", (event) => resolve({ code: event.code, reason: refusal ?? event.reason })),
  );
  socket.addEventListener("open", () => socket.send(authenticationFrame(identity)));
  const unanswered = setTimeout(
    () => refuse(`the relay did not answer the authentication within ${AUTHENTICATION_ANSWER_MS / 1000} s`),
    AUTHENTICATION_ANSWER_MS,
  );
  return new Promise<RelaySocket>((resolve, reject) => {
    // A failed connection comes as an error event, then a close: the close says it.
    void closed.then(({ code, reason }) => {
      clearTimeout(unanswered);
      if (!authenticated)
        reject(
          new RelayError(`relay connection closed before it was authenticated: ${reason || `code ${code}`}`, code),
        );
    });
    socket.addEventListener("message", (event: MessageEvent) => {
      if (refusal !== undefined) return;
      const frame = readFrame(event.data, maxFrameBytes, oversized);
      if (typeof frame === "string") return refuse(frame);
      if (authenticated) return onFrame(frame);
      if (frame.type !== "authenticated") return refuse("the relay spoke before it authenticated the socket");
      authenticated = true;
      clearTimeout(unanswered);
      resolve({ send: (f) => socket.send(JSON.stringify(f)), closed, close: () => socket.close() });
    });
  });
}

/** A received frame as a JSON object, or why it is refused. */
function readFrame(data: unknown, maxFrameBytes: number, oversized: string): RelayFrame | string {
  if (typeof data !== "string") return "the relay sent a binary frame";
  // UTF-16 units are never more than UTF-8 bytes: only a long frame needs its bytes counted.
  if (data.length > maxFrameBytes / 3 && new TextEncoder().encode(data).length > maxFrameBytes) return oversized;
  let frame: unknown;
  try {
    frame = JSON.parse(data);
  } catch {
    return "the relay sent something that is not JSON";
  }
  if (typeof frame !== "object" || frame === null || Array.isArray(frame))
    return "the relay sent a frame that is not a JSON object";
  return frame as RelayFrame;
}
