/**
 * The messages between the page and the wallet engine (a dedicated worker): a call names one
 * method of an explicit allow-list with its arguments; the engine answers with progress texts
 * and then exactly one result or error. Both sides read every message they receive through the
 * readers here, so a malformed message is refused where it arrives instead of being trusted.
 *
 * A send asks the page mid-call: the engine replies `confirm` with what the transaction's bytes do
 * (the SDK's description of them), and the page answers that call's id with `confirm-answer`;
 * nothing is signed before a `confirmed: true` comes back.
 *
 * Nothing secret travels but the unlock value (a passphrase, or a passkey's PRF output), posted
 * once by `init` or `open`; replies carry public data only (ids, names, addresses, states).
 */
import { CORE_METHODS, type CoreMethods } from "./calls/core.js";
import { DEVICES_METHODS, type DevicesMethods } from "./calls/devices.js";
import { FACE_METHODS, type FaceMethods } from "./calls/face.js";
import { POLICY_METHODS, type PolicyMethods } from "./calls/policies.js";
import { REQUESTS_METHODS, type RequestsMethods } from "./calls/requests.js";
import { SECURITY_METHODS, type SecurityMethods } from "./calls/security.js";
import { SHARED_WALLET_METHODS, type SharedWalletMethods } from "./calls/shared-wallets.js";
import {
  boolean,
  isRecord,
  literal,
  type MethodReaders,
  messageText,
  orNull,
  ProtocolError,
  type Reader,
  record,
  shortText,
  text,
} from "./readers.js";
import { type Review, review } from "./review.js";

// The core calls' shapes and input bounds, for the screens that take them from the protocol.
export {
  AMOUNT_MAX,
  BASE64URL,
  type ChainAddress,
  CODE_DIGITS,
  EMAIL_MAX,
  PASSPHRASE_MAX,
  PASSPHRASE_MIN,
  RECIPIENT_MAX,
  rpcUrlProblem,
  type SendOutcome,
  type Session,
  TOKEN_ADDRESS,
  type Unlock,
  type UnlockMethod,
  URL_MAX,
  type WalletEntry,
} from "./calls/core.js";

/** The allow-list: every area's calls. */
export interface Methods
  extends CoreMethods,
    DevicesMethods,
    RequestsMethods,
    SecurityMethods,
    PolicyMethods,
    FaceMethods,
    SharedWalletMethods {}

export type Method = keyof Methods;
export type Args<M extends Method> = Methods[M]["args"];
export type Result<M extends Method> = Methods[M]["result"];

export interface Call<M extends Method = Method> {
  id: number;
  method: M;
  args: Args<M>;
}

/** An error as the page shows it: the SDK's code kept, and what to do next when the SDK says. */
export interface EngineFailure {
  code: string;
  message: string;
  next: string | null;
}

export type Reply =
  | { id: number; kind: "progress"; text: string }
  | { id: number; kind: "confirm"; review: Review }
  | { id: number; kind: "ok"; value: unknown }
  | { id: number; kind: "error"; error: EngineFailure };

/** The page's answer to the `confirm` reply of call `id`. */
export interface ConfirmAnswer {
  id: number;
  kind: "confirm-answer";
  confirmed: boolean;
}

export const NEXT_STEP_MAX = 500;

/** Each method's readers: the engine reads `args`, the page reads `result`. */
export const METHODS: MethodReaders<Methods> = {
  ...CORE_METHODS,
  ...DEVICES_METHODS,
  ...REQUESTS_METHODS,
  ...SECURITY_METHODS,
  ...POLICY_METHODS,
  ...FACE_METHODS,
  ...SHARED_WALLET_METHODS,
};

const isMethod = (value: unknown): value is Method => typeof value === "string" && Object.hasOwn(METHODS, value);

const callId: Reader<number> = (value, what) => {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1)
    throw new ProtocolError(`${what} is not a call id`);
  return value;
};

/** A call as the engine receives it: a method of the allow-list with arguments it accepts. */
export function readCall(message: unknown): Call {
  if (!isRecord(message)) throw new ProtocolError("the call is not an object");
  const { id, method, args, ...rest } = message;
  if (Object.keys(rest).length > 0) throw new ProtocolError("the call has unexpected fields");
  if (!isMethod(method)) throw new ProtocolError(`${JSON.stringify(method)} is not a method of the engine`);
  return { id: callId(id, "the call's id"), method, args: METHODS[method].args(args, `the arguments of ${method}`) };
}

const failure = record<EngineFailure>({
  code: shortText,
  message: messageText,
  next: orNull(text({ min: 1, max: NEXT_STEP_MAX })),
});

const anything: Reader<unknown> = (value) => value;

const REPLIES = {
  progress: record<Extract<Reply, { kind: "progress" }>>({ id: callId, kind: literal("progress"), text: shortText }),
  confirm: record<Extract<Reply, { kind: "confirm" }>>({ id: callId, kind: literal("confirm"), review }),
  ok: record<Extract<Reply, { kind: "ok" }>>({ id: callId, kind: literal("ok"), value: anything }),
  error: record<Extract<Reply, { kind: "error" }>>({ id: callId, kind: literal("error"), error: failure }),
};

/** Whether `message` is meant as a progress reply, readable or not: such a one is dropped, not fatal. */
export const isProgressReply = (message: unknown): boolean => isRecord(message) && message.kind === "progress";

/** A reply as the page receives it; its value is read by its method's reader once the call is known. */
export function readReply(message: unknown): Reply {
  if (!isRecord(message)) throw new ProtocolError("the reply is not an object");
  const kind = message.kind;
  if (kind !== "progress" && kind !== "confirm" && kind !== "ok" && kind !== "error")
    throw new ProtocolError("the reply is of no known kind");
  return REPLIES[kind](message, `the ${kind} reply`);
}

/** Whether `message` is meant as an answer to a confirmation rather than as a call. */
export const isConfirmAnswer = (message: unknown): boolean => isRecord(message) && message.kind === "confirm-answer";

/** The page's answer to a confirmation, as the engine receives it. */
export const readConfirmAnswer = (message: unknown): ConfirmAnswer =>
  record<ConfirmAnswer>({ id: callId, kind: literal("confirm-answer"), confirmed: boolean })(
    message,
    "the answer to a confirmation",
  );
