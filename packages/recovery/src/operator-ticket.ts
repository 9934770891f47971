/**
 * Operator tickets: what the provider signs to let one device enroll with, or ask an evaluation
 * of, the recovery operators for one enrollment. The provider still decides who may try (and
 * counts and mails its own tickets); each operator checks the ticket with the provider's ticket
 * public key and then counts and mails on its own. A ticket names the enrollment, the email the
 * operator mails, the account and the device, and lives ten minutes; an enroll ticket also names
 * the operator set and threshold the shares go to, a recover ticket the one blinded element it
 * pays for. Each purpose has exactly its own fields: a payload with another's is refused.
 *
 * Wire form: { payload: hex of the UTF-8 canonical JSON (keys sorted, no spaces, "v": 1),
 * signature: hex of Ed25519 over "keyshard-operator-ticket-v1\n" ‖ payload }. A payload is read
 * only if it re-encodes to the same bytes, so one ticket has exactly one encoding.
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from "@noble/hashes/utils.js";

export class TicketError extends Error {
  override readonly name = "TicketError";
}

export type TicketPurpose = "enroll" | "recover";

interface TicketFields {
  /** The enrollment id, a lower-case UUID. */
  enrollment: string;
  /** The account OWNER's address, lower-case: operators mail every guess there, an heir's too. */
  email: string;
  /** The account id, a lower-case UUID. */
  account: string;
  /** The device the ticket was issued to (32 lower-case hex characters). */
  device: string;
  /** When the ticket stops being accepted, in milliseconds since the epoch. */
  expiresMs: number;
}

/**
 * Lets a device register an enrollment's key shares. It names the operator set and threshold the
 * provider had configured when it issued the ticket, so an operator refuses a share dealt to
 * another set (one the device, or whoever fed it a list, picked).
 */
export interface EnrollTicket extends TicketFields {
  purpose: "enroll";
  /** How many operators answer together. */
  threshold: number;
  /** Lower-case hex of each operator's X25519 key; operator index i is at position i − 1. */
  operators: string[];
}

/**
 * One face guess. It names the blinded element the device will send, so one guess the provider
 * counted is one evaluation at each operator, of one input.
 */
export interface RecoverTicket extends TicketFields {
  purpose: "recover";
  /** Lower-case hex of the 32-byte blinded element. */
  blinded: string;
}

export type OperatorTicket = EnrollTicket | RecoverTicket;

export interface SignedTicket {
  /** Hex of the canonical JSON payload's UTF-8 bytes. */
  payload: string;
  /** Hex of the 64-byte Ed25519 signature. */
  signature: string;
}

export const TICKET_LIFETIME_MS = 10 * 60_000;
/** The most operators an enroll ticket names. */
export const MAX_TICKET_OPERATORS = 16;
/** How far ahead of a reader's clock the signer's may run before a ticket looks too long-lived. */
export const TICKET_CLOCK_SKEW_MS = 2 * 60_000;
const DOMAIN = utf8ToBytes("keyshard-operator-ticket-v1\n");
/** The longest payload: an enroll ticket naming 16 operators and a 254-character email fits. */
export const MAX_TICKET_PAYLOAD_BYTES = 2048;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const DEVICE_ID = /^[0-9a-f]{32}$/;
const HEX_32_BYTES = /^[0-9a-f]{64}$/;
const EMAIL = /^[^@\s\p{Cc}]+@[^@\s\p{Cc}]+$/u;
const HEX = /^(?:[0-9a-f]{2})*$/;
const COMMON_FIELDS = ["account", "device", "email", "enrollment", "expiresMs", "purpose", "v"];
/** Each purpose's exact field set, sorted. */
const FIELDS: Record<TicketPurpose, readonly string[]> = {
  enroll: [...COMMON_FIELDS, "operators", "threshold"].sort(),
  recover: [...COMMON_FIELDS, "blinded"].sort(),
};

/** The provider's ticket key pair from its 32-byte secret (an Ed25519 seed). */
export function ticketKeyPair(secret32: Uint8Array): { secretKey: Uint8Array; publicKey: Uint8Array } {
  if (!(secret32 instanceof Uint8Array) || secret32.length !== 32)
    throw new RangeError("a ticket key's secret is 32 bytes");
  return { secretKey: secret32, publicKey: ed25519.getPublicKey(secret32) };
}

const isPurpose = (purpose: unknown): purpose is TicketPurpose =>
  typeof purpose === "string" && Object.hasOwn(FIELDS, purpose);

function checkOperators(t: EnrollTicket): void {
  const { operators, threshold } = t;
  if (
    !Array.isArray(operators) ||
    operators.length < 2 ||
    operators.length > MAX_TICKET_OPERATORS ||
    !operators.every((key) => typeof key === "string" && HEX_32_BYTES.test(key))
  )
    throw new TicketError(
      `an enroll ticket's operators are 2 to ${MAX_TICKET_OPERATORS} keys of 32 bytes in lower-case hex`,
    );
  if (new Set(operators).size !== operators.length) throw new TicketError("an enroll ticket names an operator twice");
  if (!Number.isInteger(threshold) || threshold < 2 || threshold > operators.length)
    throw new TicketError("an enroll ticket's threshold is from 2 to the number of its operators");
}

function checkTicket(t: OperatorTicket): void {
  if (!isPurpose(t.purpose)) throw new TicketError("a ticket's purpose is enroll or recover");
  if (typeof t.enrollment !== "string" || !UUID.test(t.enrollment))
    throw new TicketError("a ticket's enrollment is a lower-case UUID");
  if (typeof t.account !== "string" || !UUID.test(t.account))
    throw new TicketError("a ticket's account is a lower-case UUID");
  if (typeof t.device !== "string" || !DEVICE_ID.test(t.device))
    throw new TicketError("a ticket's device is 32 lower-case hex characters");
  if (typeof t.email !== "string" || t.email.length > 254 || !EMAIL.test(t.email) || t.email !== t.email.toLowerCase())
    throw new TicketError("a ticket's email is one lower-case address of at most 254 characters");
  if (!Number.isSafeInteger(t.expiresMs) || t.expiresMs <= 0)
    throw new TicketError("a ticket's expiry is a positive integer of milliseconds");
  if (t.purpose === "enroll") checkOperators(t);
  else if (typeof t.blinded !== "string" || !HEX_32_BYTES.test(t.blinded))
    throw new TicketError("a recover ticket's blinded element is 32 bytes of lower-case hex");
}

/** Exactly the fields of the ticket's purpose, nothing a caller's object carried beside them. */
function ticketFields(t: OperatorTicket): OperatorTicket {
  const { purpose, enrollment, email, account, device, expiresMs } = t;
  const common = { enrollment, email, account, device, expiresMs };
  return purpose === "enroll"
    ? { purpose, ...common, threshold: t.threshold, operators: [...t.operators] }
    : { purpose, ...common, blinded: t.blinded };
}

/** The one encoding of a ticket: JSON with sorted keys and no spaces. */
function canonicalPayload(t: OperatorTicket): string {
  // JSON.stringify keeps insertion order for these (non-numeric) keys, and gives a string, a safe
  // integer or an array of strings one form.
  const fields: Record<string, unknown> = { ...ticketFields(t), v: 1 };
  return JSON.stringify(
    Object.fromEntries(
      Object.keys(fields)
        .sort()
        .map((k) => [k, fields[k]]),
    ),
  );
}

const signedBytes = (payload: Uint8Array) => concatBytes(DOMAIN, payload);

export function signTicket(secretKey: Uint8Array, ticket: OperatorTicket): SignedTicket {
  if (!(secretKey instanceof Uint8Array) || secretKey.length !== 32) throw new RangeError("a ticket key is 32 bytes");
  checkTicket(ticket);
  const payload = utf8ToBytes(canonicalPayload(ticket));
  return { payload: bytesToHex(payload), signature: bytesToHex(ed25519.sign(signedBytes(payload), secretKey)) };
}

/**
 * The ticket in `signed` if the provider's key `ticketKey` signed it and it has not expired at
 * `nowMs`; otherwise `TicketError`. Strict: exactly the wire shape, lower-case hex, a payload in
 * its canonical encoding, a canonical signature, an expiry at most one lifetime ahead.
 */
export function readTicket(signed: unknown, ticketKey: Uint8Array, nowMs: number): OperatorTicket {
  if (!(ticketKey instanceof Uint8Array) || ticketKey.length !== 32) throw new RangeError("a ticket key is 32 bytes");
  if (!Number.isSafeInteger(nowMs)) throw new RangeError("the time is an integer of milliseconds");
  if (typeof signed !== "object" || signed === null || Array.isArray(signed))
    throw new TicketError("a ticket is an object");
  const { payload, signature, ...rest } = signed as Record<string, unknown>;
  if (Object.keys(rest).length > 0) throw new TicketError("a ticket has only a payload and a signature");
  if (
    typeof payload !== "string" ||
    payload.length === 0 ||
    payload.length > 2 * MAX_TICKET_PAYLOAD_BYTES ||
    !HEX.test(payload)
  )
    throw new TicketError("a ticket's payload is lower-case hex of at most 2048 bytes");
  if (typeof signature !== "string" || signature.length !== 128 || !HEX.test(signature))
    throw new TicketError("a ticket's signature is 64 bytes of lower-case hex");
  const payloadBytes = hexToBytes(payload);
  let valid: boolean;
  try {
    valid = ed25519.verify(hexToBytes(signature), signedBytes(payloadBytes), ticketKey, { zip215: false });
  } catch {
    valid = false;
  }
  if (!valid) throw new TicketError("the ticket's signature is not the provider's");

  let json: string;
  let parsed: unknown;
  try {
    json = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(payloadBytes);
    parsed = JSON.parse(json);
  } catch {
    throw new TicketError("a ticket's payload is UTF-8 JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw new TicketError("a ticket's payload is a JSON object");
  const { purpose, v } = parsed as { purpose?: unknown; v?: unknown };
  if (!isPurpose(purpose)) throw new TicketError("a ticket's purpose is enroll or recover");
  const keys = Object.keys(parsed).sort();
  const expected = FIELDS[purpose];
  if (keys.length !== expected.length || keys.some((k, i) => k !== expected[i]))
    throw new TicketError(`a ${purpose} ticket's payload has exactly the fields ${expected.join(", ")}`);
  if (v !== 1) throw new TicketError("unknown ticket version");
  // Its field set is its purpose's; checkTicket checks every field's value.
  const ticket = parsed as OperatorTicket;
  checkTicket(ticket);
  if (canonicalPayload(ticket) !== json) throw new TicketError("a ticket's payload is not in its canonical encoding");
  if (ticket.expiresMs <= nowMs) throw new TicketError("the ticket has expired");
  if (ticket.expiresMs > nowMs + TICKET_LIFETIME_MS + TICKET_CLOCK_SKEW_MS)
    throw new TicketError("the ticket claims to live longer than a ticket lives");
  return ticketFields(ticket);
}

/**
 * Whether plain http may reach a recovery operator at `hostname` (a WHATWG URL's): on this machine
 * only, where no one between can read or replay a ticket. Everywhere else it is https.
 */
export const isLoopbackHost = (hostname: string): boolean =>
  hostname === "localhost" || hostname === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
