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
   * A saved state is single-use: restore it at most once and replace it with the next save.
   * Restoring one state twice replays this party's nonces to a peer who can answer differently
   * each time, which in ECDSA gives the peer the key. Storage must consume states atomically
   * (compare-and-swap on a version), which the provider's session store does.
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
