/**
 * Common skeleton of a Party: start-once, result-once, abort stickiness, and single use.
 *
 * Once a run has aborted, every later call rethrows the same abort, so a caller cannot drive a
 * failed run on. Unexpected internal errors surface as a ProtocolAbort without their message
 * (which could carry values) rather than as a crash of the caller.
 *
 * Single use is part of the contract, not a rule for callers. A run draws a random run id when it
 * is made and counts its steps (start, then each handled round); `save()` writes both in front of
 * the engine's state. Every step first claims (run id, step) in a record this process keeps, so a
 * saved state restored twice cannot handle its next round twice — that would let a peer see two
 * answers to one commitment (an interactive proof's trapdoor, a base OT's choices, a nonce). A
 * run also claims (protocol, sid, party) when it starts: one party of one process takes part in a
 * session once. Across processes the same holds where storage consumes each saved state with a
 * compare-and-swap, keyed by `savedRun(bytes)` (the provider locks the row it restores from).
 */
import { randomBytes } from "@noble/hashes/utils.js";
import { decodeLocal, Reader, Writer } from "../codec/codec.js";
import { type Msg, type Party, ProtocolAbort } from "./party.js";
import { SingleUse } from "./single-use.js";

const RUN_HEADER_VERSION = 1;
const RUN_ID_BYTES = 16;

/** What a saved state says about its run: the run's random id and how many steps it has taken. */
export interface SavedRun {
  id: Uint8Array;
  steps: number;
}

/** What this process has done: steps taken, as (run id, step), and sessions started, as
 *  (protocol, sid, party). */
let record = { takenSteps: new SingleUse(), startedSessions: new SingleUse() };

/**
 * Runs `fn` as a second process would: with a record of its own, which starts empty, while this
 * process's record stays as it was. Tests use it to replay a recorded run from its saved states;
 * the package does not export it. What keeps two processes from resuming one state is storage
 * consuming it once.
 */
export function asAnotherProcess<T>(fn: () => T): T {
  const own = record;
  record = { takenSteps: new SingleUse(), startedSessions: new SingleUse() };
  try {
    return fn();
  } finally {
    record = own;
  }
}

function stepKey(id: Uint8Array, step: number): Uint8Array {
  const w = new Writer();
  w.fixed(id);
  w.u32(step);
  return w.finish();
}

/**
 * `state` if it is at `step`, narrowed to that step's type; a party whose state is at another
 * step has no such round to handle.
 */
export function stateAt<T extends { step: number }, S extends T["step"]>(state: T, step: S): Extract<T, { step: S }> {
  if (!isAt(state, step)) throw new ProtocolAbort(null, "no round expected");
  return state;
}

function isAt<T extends { step: number }, S extends T["step"]>(state: T, step: S): state is Extract<T, { step: S }> {
  return state.step === step;
}

/** The run header of a saved state, and the engine's state after it. */
export function openSaved(bytes: Uint8Array): { run: SavedRun; body: Uint8Array } {
  return decodeLocal("saved state", () => {
    const r = new Reader(bytes, null);
    if (r.u8() !== RUN_HEADER_VERSION) r.fail("unknown run header version");
    const run = { id: r.fixed(RUN_ID_BYTES), steps: r.u32() };
    return { run, body: r.rest() };
  });
}

/** The run id and step count of a saved state: what a store keys its compare-and-swap on. */
export function savedRun(bytes: Uint8Array): SavedRun {
  return openSaved(bytes).run;
}

export abstract class RoundParty<T> implements Party<T> {
  protected started = false;
  private output: { value: T } | undefined;
  private failure: ProtocolAbort | undefined;
  private singleUse: SavedRun = { id: randomBytes(RUN_ID_BYTES), steps: 0 };

  constructor(
    readonly index: number,
    readonly protocol: string,
    readonly sid: Uint8Array,
  ) {}

  get done(): boolean {
    return this.output !== undefined;
  }

  result(): T {
    if (this.failure) throw this.failure;
    if (!this.output) throw new ProtocolAbort(null, "protocol has not finished");
    return this.output.value;
  }

  start(): Msg[] {
    if (this.started) throw new ProtocolAbort(null, "start() called twice");
    this.started = true;
    return this.guard(() => {
      this.takeStep();
      if (this.claimsSession) {
        const w = new Writer();
        w.string(this.protocol);
        w.fixed(this.sid);
        w.u8(this.index);
        if (!record.startedSessions.claim(w.finish())) {
          throw new ProtocolAbort(null, "this party has taken part in a run under this session id; a sid is used once");
        }
      }
      return this.onStart();
    });
  }

  handle(incoming: Msg[]): Msg[] {
    if (this.failure) throw this.failure;
    if (!this.started) throw new ProtocolAbort(null, "handle() before start()");
    if (this.output) throw new ProtocolAbort(null, "protocol already finished");
    return this.guard(() => {
      this.takeStep();
      return this.onRound(incoming);
    });
  }

  /** The state to persist, behind its run header; refused once the run has aborted, so an abort
   *  cannot be undone by restoring and driving the run on. */
  save(): Uint8Array {
    if (this.failure) throw this.failure;
    const w = new Writer();
    w.u8(RUN_HEADER_VERSION);
    w.fixed(this.singleUse.id);
    w.u32(this.singleUse.steps);
    this.saveState(w);
    return w.finish();
  }

  /**
   * Whether starting claims the session (protocol, sid, party). A run that continues another
   * one's session under its protocol (a pre-signature's last round) says no: what it spends is
   * recorded elsewhere.
   */
  protected get claimsSession(): boolean {
    return true;
  }

  /** Writes the engine's state after the run header. */
  protected abstract saveState(w: Writer): void;
  protected abstract onStart(): Msg[];
  protected abstract onRound(incoming: Msg[]): Msg[];

  protected finish(value: T): void {
    this.output = { value };
  }

  /** Puts back what `save` wrote around the engine's state, for a restored party. */
  protected restoreRun(run: SavedRun, started: boolean, output: { value: T } | undefined): void {
    this.singleUse = { id: run.id.slice(), steps: run.steps };
    this.started = started;
    this.output = output;
  }

  private takeStep(): void {
    if (!record.takenSteps.claim(stepKey(this.singleUse.id, this.singleUse.steps))) {
      throw new ProtocolAbort(null, "this state has been resumed already: a saved state is restored and resumed once");
    }
    this.singleUse.steps++;
  }

  private guard(fn: () => Msg[]): Msg[] {
    try {
      return fn();
    } catch (e) {
      this.failure =
        e instanceof ProtocolAbort ? e : new ProtocolAbort(null, `internal error (${(e as Error)?.name ?? "unknown"})`);
      throw this.failure;
    }
  }
}
