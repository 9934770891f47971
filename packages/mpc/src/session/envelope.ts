/**
 * The frame around every protocol payload: format version, protocol tag, session id and round.
 * Checking it first is what rejects replays from another session, another protocol or another
 * round before any field of the body is read.
 */
import { Reader, Writer } from "../codec/codec.js";
import { check, type Msg } from "./party.js";

const ENVELOPE_VERSION = 1;
export const SID_BYTES = 32;

/** A session id is 32 bytes, chosen by the caller and never reused. */
export function checkSid(sid: Uint8Array): void {
  if (!(sid instanceof Uint8Array) || sid.length !== SID_BYTES) throw new RangeError("sid must be 32 bytes");
}

export function seal(protocol: string, sid: Uint8Array, round: number, body: (w: Writer) => void): Uint8Array {
  const w = new Writer();
  w.u8(ENVELOPE_VERSION);
  w.string(protocol);
  w.fixed(sid);
  w.u8(round);
  body(w);
  return w.finish();
}

/** Opens a message's envelope; any mismatch is a ProtocolAbort naming the sender. */
export function open(msg: Msg, protocol: string, sid: Uint8Array, round: number): Reader {
  const r = new Reader(msg.payload, msg.from);
  check(r.u8() === ENVELOPE_VERSION, msg.from, "unknown envelope version");
  check(r.string(64) === protocol, msg.from, "message belongs to another protocol");
  const theirSid = r.fixed(sid.length);
  check(equalBytes(theirSid, sid), msg.from, "message belongs to another session");
  check(r.u8() === round, msg.from, `message is not for round ${round}`);
  return r;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

/** Picks the single message a two-party round expects from `from`, rejecting extras. */
export function expectOne(incoming: Msg[], from: number, self: number): Msg {
  check(incoming.length === 1, from, `expected one message, got ${incoming.length}`);
  const m = incoming[0] as Msg;
  check(m.from === from, m.from, "message from an unexpected party");
  check(m.to === self || m.to === null, m.from, "message addressed to another party");
  return m;
}
