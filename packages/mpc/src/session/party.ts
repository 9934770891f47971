/**
 * The protocol contract every keyshard engine follows: a round-based state machine with pure
 * message-in, message-out. Transport, persistence and encryption wrap it; a protocol never
 * performs I/O, reads a clock or keeps global state.
 */

/** One protocol message. `to: null` is a broadcast to every other party of the run. */
export interface Msg {
  from: number;
  to: number | null;
  payload: Uint8Array;
}

export interface Party<T> {
  /** First round's outgoing messages (possibly none, when this party speaks second). */
  start(): Msg[];
  /** One whole round of incoming messages in, the next round's messages out. */
  handle(incoming: Msg[]): Msg[];
  readonly done: boolean;
  /** The output; throws until `done`. */
  result(): T;
  /**
   * The whole state, to persist between requests; the protocol's `restore` rebuilds it.
   * A saved state is single use: its next step is taken once. It carries the run's random id and
   * how many steps the run has taken; a process refuses a step it has taken before, however the
   * state got back to it (a restored copy, the live party after a save). Across processes this
   * rests on storage consuming each state once — a compare-and-swap keyed by `savedRun(bytes)`,
   * or a row lock as in the provider's session store — since a state resumed twice would show a
   * peer two answers to one commitment, which in ECDSA gives it the key.
   */
  save(): Uint8Array;
}

/**
 * A run ended because a check failed. `culprit` is the index of the party the failure is
 * attributable to, or null when it cannot be told (or the fault is local, e.g. a corrupt share).
 * `reason` never contains secret material.
 */
export class ProtocolAbort extends Error {
  readonly culprit: number | null;
  readonly reason: string;

  constructor(culprit: number | null, reason: string) {
    super(culprit === null ? `protocol aborted: ${reason}` : `protocol aborted by party ${culprit}: ${reason}`);
    this.name = "ProtocolAbort";
    this.culprit = culprit;
    this.reason = reason;
  }
}

/** Throws a ProtocolAbort naming `culprit` unless `ok`. */
export function check(ok: boolean, culprit: number | null, reason: string): asserts ok {
  if (!ok) throw new ProtocolAbort(culprit, reason);
}
