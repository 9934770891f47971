/**
 * Common skeleton of a Party: start-once, result-once, and abort stickiness. Once a run has
 * aborted, every later call rethrows the same abort, so a caller cannot drive a failed run on.
 * Unexpected internal errors surface as a ProtocolAbort without their message (which could
 * carry values) rather than as a crash of the caller.
 */
import { type Msg, type Party, ProtocolAbort } from "./party.js";

export abstract class RoundParty<T> implements Party<T> {
  protected started = false;
  private output: { value: T } | undefined;
  private failure: ProtocolAbort | undefined;

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
    return this.guard(() => this.onStart());
  }

  handle(incoming: Msg[]): Msg[] {
    if (this.failure) throw this.failure;
    if (!this.started) throw new ProtocolAbort(null, "handle() before start()");
    if (this.output) throw new ProtocolAbort(null, "protocol already finished");
    return this.guard(() => this.onRound(incoming));
  }

  /** The state to persist; refused once the run has aborted, so an abort cannot be undone by
   *  restoring and driving the run on. */
  save(): Uint8Array {
    if (this.failure) throw this.failure;
    return this.saveState();
  }

  protected abstract saveState(): Uint8Array;
  protected abstract onStart(): Msg[];
  protected abstract onRound(incoming: Msg[]): Msg[];

  protected finish(value: T): void {
    this.output = { value };
  }

  /** Restores the flags a subclass saved with `saveFlags`. */
  protected restoreFlags(started: boolean, output: { value: T } | undefined): void {
    this.started = started;
    this.output = output;
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
