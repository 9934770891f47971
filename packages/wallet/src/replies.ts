/**
 * The provider's replies where the contract leaves a field loose (optional, a free-form object, a
 * plain string) and a flow needs it in one definite shape. Each shape is checked here: a reply
 * without it is the provider's fault, refused as `provider-refused` before the flow acts on it.
 */
import { isSchemeName, type SchemeName } from "@keyshard/mpc";
import type { RoundReply, WireMessage } from "@keyshard/transport";
import { WalletError } from "./errors.js";
import type { Member } from "./state.js";

/**
 * The provider's reply to a round of a two-party session, checked, with the key the session made
 * once done (key generation, refresh).
 */
export type CheckedRoundReply = RoundReply & { publicKey?: string };

/** A session the provider started: its first round, under its sid. */
export type StartedSession = CheckedRoundReply & { sid: string };

/** A two-party session signing the request's signature `index`. */
export type SigningSession = StartedSession & { index: number };

/** A run over the relay signing the request's signature `index`, among `parties`. */
export interface RelayedSigning {
  relayId: string;
  sid: string;
  index: number;
  parties: number[];
  members: Member[];
}

const malformed = (what: string) => new WalletError("provider-refused", `the provider's reply ${what}`);

/** The fields of a free-form value of a reply (none when it is no object), each still to be checked. */
export const fieldsOf = (value: unknown): Record<string, unknown> =>
  typeof value === "object" && value !== null ? Object.fromEntries(Object.entries(value)) : {};

const isInteger = (value: unknown): value is number => Number.isInteger(value);

function isWireMessage(value: unknown): value is WireMessage {
  const { from, to, payload } = fieldsOf(value);
  return isInteger(from) && (to === null || isInteger(to)) && typeof payload === "string";
}

/** `value`, which the flow needs though the contract may leave it out. */
export function present<T>(value: T | null | undefined, what: string): T {
  if (value === undefined || value === null) throw malformed(`has no ${what}`);
  return value;
}

export function schemeOf(name: string): SchemeName {
  if (!isSchemeName(name)) throw malformed("names a scheme this device does not know");
  return name;
}

export function checkedRoundReply(reply: unknown): CheckedRoundReply {
  const { sessionId, round, messages, done, publicKey } = fieldsOf(reply);
  if (
    typeof sessionId !== "string" ||
    !isInteger(round) ||
    !Array.isArray(messages) ||
    !messages.every(isWireMessage) ||
    typeof done !== "boolean" ||
    (publicKey !== undefined && typeof publicKey !== "string")
  )
    throw malformed("is not a round of a session");
  return { sessionId, round, messages, done, ...(publicKey !== undefined && { publicKey }) };
}

export function startedSession(reply: unknown): StartedSession {
  const { sid } = fieldsOf(reply);
  if (typeof sid !== "string") throw malformed("starts a session without its id");
  return { ...checkedRoundReply(reply), sid };
}

export function signingSession(reply: unknown): SigningSession {
  const { index } = fieldsOf(reply);
  if (!isInteger(index)) throw malformed("starts a session for no signature");
  return { ...startedSession(reply), index };
}

/**
 * A wallet's members in party order: member `i` has party index `i`, and no device is listed
 * twice. A list that permuted the indices or repeated a device would have this device take some
 * other party's place, or count itself among its peers.
 */
export function membersOf(list: unknown): Member[] {
  if (!Array.isArray(list)) throw malformed("lists no members");
  const members = list.map((value, position): Member => {
    const { index, deviceId, identityKey, provider } = fieldsOf(value);
    if (
      !isInteger(index) ||
      typeof deviceId !== "string" ||
      typeof identityKey !== "string" ||
      typeof provider !== "boolean"
    )
      throw malformed("lists a member malformed");
    if (index !== position) throw malformed("lists the members out of their party order");
    return { index, deviceId, identityKey, provider };
  });
  if (new Set(members.map((m) => m.deviceId)).size !== members.length) throw malformed("lists a device twice");
  return members;
}

export function relayedSigning(reply: unknown): RelayedSigning {
  const { relayId, sid, index, parties, members } = fieldsOf(reply);
  if (
    typeof relayId !== "string" ||
    typeof sid !== "string" ||
    !isInteger(index) ||
    !Array.isArray(parties) ||
    !parties.every(isInteger)
  )
    throw malformed("starts a run over the relay malformed");
  return { relayId, sid, index, parties, members: membersOf(members) };
}
