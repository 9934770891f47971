/**
 * Protocol messages on the wire: `{ from, to, payload }` with the payload in base64. Decoding is
 * strict, because these come from another party.
 */
import type { Msg } from "@keyshard/mpc";
import { base64 } from "@scure/base";
import { CANONICAL_BASE64 } from "./base64.js";

export interface WireMessage {
  from: number;
  to: number | null;
  payload: string;
}

/** Largest payload accepted from a peer (ecdsa2p's Paillier proofs are the largest, ~100 kB). */
export const MAX_PAYLOAD_BYTES = 512 * 1024;

export function toWire(messages: readonly Msg[]): WireMessage[] {
  return messages.map((m) => ({ from: m.from, to: m.to, payload: base64.encode(m.payload) }));
}

/** Messages from `from`, each checked to come from it and to go to `to` (or everyone). */
export function fromWire(messages: unknown, expected: { from: number; to: number }): Msg[] {
  if (!Array.isArray(messages)) throw new RangeError("messages must be an array");
  return messages.map((m: unknown) => {
    const { from, to, payload } = (m ?? {}) as Partial<WireMessage>;
    if (from !== expected.from) throw new RangeError(`a message claims to be from party ${String(from)}`);
    if (to !== expected.to && to !== null) throw new RangeError(`a message is addressed to party ${String(to)}`);
    if (
      typeof payload !== "string" ||
      payload.length > (MAX_PAYLOAD_BYTES * 4) / 3 + 4 ||
      !CANONICAL_BASE64.test(payload)
    )
      throw new RangeError("a message payload is not base64 of an acceptable size");
    return { from, to, payload: base64.decode(payload) };
  });
}
