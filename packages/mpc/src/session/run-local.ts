/**
 * In-process driver for tests, benchmarks and the demo: delivers every message produced in one
 * step to its recipients in the next, until all parties are done. A run in which nobody can make
 * progress is reported instead of looping forever.
 */
import { type Msg, type Party, ProtocolAbort } from "./party.js";

export interface RunLocalOptions {
  /** Called with every message in flight; may return a replacement (tests inject faults here). */
  intercept?: (msg: Msg, step: number) => Msg | null;
  /** Called between steps with each party; may return a replacement (tests save/restore here). */
  between?: (party: Party<unknown>, index: number, step: number) => Party<unknown>;
  /** Resume restored parties with these messages in flight instead of calling start(). */
  resume?: Msg[];
  /** Each entry's party index, when the run is among a subset (e.g. signers 0 and 2). */
  indices?: number[];
}

export function runLocal<T>(parties: Party<T>[], options: RunLocalOptions = {}): T[] {
  const ids = parties.map((_, i) => i);
  const indexOf = options.indices ?? ids;
  if (indexOf.length !== parties.length) throw new RangeError("one index per party");
  let inFlight: Msg[] = [];
  let step = 0;
  const deliver = (out: Msg[]) => {
    for (const m of out) {
      const replaced = options.intercept ? options.intercept(m, step) : m;
      if (replaced) inFlight.push(replaced);
    }
  };
  if (options.resume) deliver(options.resume);
  else for (const p of parties) deliver(p.start());
  while (!parties.every((p) => p.done)) {
    step++;
    if (options.between) {
      for (const i of ids) parties[i] = options.between(parties[i] as Party<unknown>, i, step) as Party<T>;
    }
    const pending = inFlight;
    inFlight = [];
    let progressed = false;
    for (const i of ids) {
      const party = parties[i] as Party<T>;
      const me = indexOf[i] as number;
      const mine = pending.filter((m) => m.from !== me && (m.to === me || m.to === null));
      if (mine.length === 0 || party.done) continue;
      progressed = true;
      deliver(party.handle(mine));
    }
    if (!progressed) throw new ProtocolAbort(null, "run stalled: no party can make progress");
  }
  return parties.map((p) => p.result());
}
