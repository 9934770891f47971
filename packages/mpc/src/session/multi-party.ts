/**
 * Plumbing for protocols among several parties in lock-step rounds. In every round each party
 * that speaks sends each other party at most one message (one broadcast, or one addressed to it);
 * a round is handled only when every expected message is in, and anything else — a duplicate, a
 * message from a party that does not speak in that round, one addressed elsewhere, a missing
 * one — is a ProtocolAbort naming that party. Subclasses supply who speaks in which round and one
 * handler per round they receive.
 */
import type { Reader, Writer } from "../codec/codec.js";
import { open, seal } from "./envelope.js";
import { check, type Msg, ProtocolAbort } from "./party.js";
import { RoundParty } from "./round-party.js";

export abstract class MultiPartyRoundParty<T> extends RoundParty<T> {
  /** The round this party has reached: it has sent its messages of that round (if it speaks in
   *  it) and waits for the others'. */
  protected abstract get step(): number;

  /** The parties that send in `round` (this party may be among them). */
  protected abstract speakers(round: number): readonly number[];

  /** Handlers for the rounds this party receives, by round number; messages keyed by sender
   *  in speaking order. */
  protected abstract get handlers(): Record<number, (from: Map<number, Reader>) => Msg[]>;

  protected broadcast(round: number, body: (w: Writer) => void): Msg {
    return { from: this.index, to: null, payload: seal(this.protocol, this.sid, round, body) };
  }

  protected sendTo(to: number, round: number, body: (w: Writer) => void): Msg {
    return { from: this.index, to, payload: seal(this.protocol, this.sid, round, body) };
  }

  protected onRound(incoming: Msg[]): Msg[] {
    const round = this.step;
    const handler = this.handlers[round];
    if (!handler) throw new ProtocolAbort(null, "no round expected");
    const expected = this.speakers(round).filter((p) => p !== this.index);
    const byFrom = new Map<number, Reader>();
    for (const m of incoming) {
      check(expected.includes(m.from), m.from, `party does not speak in round ${round}`);
      check(m.to === null || m.to === this.index, m.from, "message addressed to another party");
      check(!byFrom.has(m.from), m.from, `two messages in round ${round}`);
      byFrom.set(m.from, open(m, this.protocol, this.sid, round));
    }
    for (const p of expected) check(byFrom.has(p), p, `sent no message in round ${round}`);
    // Handlers see the senders in the round's speaking order, not in arrival order.
    return handler(new Map(expected.map((p) => [p, byFrom.get(p) as Reader])));
  }
}

/** A key's size: integers 2 ≤ t ≤ n ≤ max (each engine has its own max). */
export function checkThreshold(n: number, t: number, max: number): void {
  if (!Number.isInteger(n) || !Number.isInteger(t) || t < 2 || t > n || n > max) {
    throw new RangeError(`need integers 2 ≤ t ≤ n ≤ ${max}, got n=${n}, t=${t}`);
  }
}

/** A party index: an integer in [0, count). */
export function checkIndex(index: number, count: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= count) throw new RangeError("index out of range");
}

/** A signer set in canonical (ascending) order: distinct indices below n, at least t, with `self`. */
export function checkSignerSet(self: number, n: number, t: number, signers: readonly number[]): number[] {
  const sorted = [...signers].sort((a, b) => a - b);
  const valid =
    sorted.every((s, i) => Number.isInteger(s) && s >= 0 && s < n && (i === 0 || s !== sorted[i - 1])) &&
    sorted.length >= t &&
    sorted.includes(self);
  if (!valid) throw new RangeError(`signers must be distinct indices below ${n}, at least ${t}, including this party`);
  return sorted;
}
