/**
 * Test helpers shared by the protocol suites: recording an honest run, replaying it from any
 * message with that message replaced, message mutations, and abort assertions.
 */
import { expect } from "vitest";
import { type Msg, type Party, ProtocolAbort } from "../src/session/party.js";
import { asAnotherProcess } from "../src/session/round-party.js";
import { runLocal } from "../src/session/run-local.js";
import { anotherBase, type RingPedersenParams, ringPedersenFromPrimes } from "../src/zk/ring-pedersen.js";

/** Lets the test runner's worker talk to its parent during long CPU-bound loops. */
export const breathe = () => new Promise((resolve) => setImmediate(resolve));
export const newSid = () => crypto.getRandomValues(new Uint8Array(32));
export const randomHash = () => crypto.getRandomValues(new Uint8Array(32));

export function expectAbort(fn: () => unknown, culprit: number | null, reason?: RegExp): ProtocolAbort {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, "expected a ProtocolAbort").toBeInstanceOf(ProtocolAbort);
  const abort = caught as ProtocolAbort;
  expect(abort.culprit, abort.message).toBe(culprit);
  if (reason) expect(abort.reason).toMatch(reason);
  return abort;
}

/** An honest run, recorded: every message with the step it was sent at, every state at every step. */
export interface Recording {
  sent: { msg: Msg; step: number }[];
  /** Saved states by `${step}/${position}`. */
  states: Map<string, Uint8Array>;
  /** The party index of each position (runLocal's `indices`). */
  indices: number[];
}

export function record<T>(parties: Party<T>[], indices: number[] = parties.map((_, i) => i)): Recording {
  const rec: Recording = { sent: [], states: new Map(), indices };
  runLocal(parties, {
    indices,
    intercept: (msg, step) => {
      rec.sent.push({ msg, step });
      return msg;
    },
    between: (party, position, step) => {
      rec.states.set(`${step}/${position}`, party.save());
      return party;
    },
  });
  return rec;
}

/** The k-th message and its (two-party) receiver's state just before handling it. */
export function roundOf(rec: Recording, k: number): { msg: Msg; state: Uint8Array } {
  const { msg, step } = rec.sent[k] as { msg: Msg; step: number };
  return { msg, state: rec.states.get(`${step + 1}/${rec.indices.indexOf(msg.to as number)}`) as Uint8Array };
}

/**
 * Replays the recording from the step where the k-th message is delivered, with that message
 * replaced, and runs the protocol to its end — as another process, since this one has already
 * resumed those states in the recorded run. (A message is handled one step after it is sent.)
 * Parties that had finished by then stay finished.
 */
export function replayWith<T>(
  rec: Recording,
  k: number,
  bad: Msg,
  restore: (position: number, state: Uint8Array) => Party<T>,
): () => T[] {
  const { step } = rec.sent[k] as { step: number };
  const inFlight = rec.sent.filter((s) => s.step === step).map((s) => (s === rec.sent[k] ? bad : s.msg));
  return () =>
    asAnotherProcess(() => {
      const parties = rec.indices.map((_, p) => restore(p, rec.states.get(`${step + 1}/${p}`) as Uint8Array));
      return runLocal(parties, { resume: inFlight, indices: rec.indices });
    });
}

export type Outcome<T> = { result: T } | { abort: ProtocolAbort } | { stopped: true };

/**
 * Like runLocal, but every party's own outcome: the parties that aborted, those that finished,
 * and those stopped because the run ended (after the first step in which anybody aborted, no
 * more messages flow, as a party that aborts sends nothing further).
 */
export function runEach<T>(
  parties: Party<T>[],
  options: { indices: number[]; resume?: Msg[]; intercept?: (msg: Msg) => Msg },
): Outcome<T>[] {
  const aborts: (ProtocolAbort | undefined)[] = parties.map(() => undefined);
  const send = (out: Msg[]) => (options.intercept ? out.map(options.intercept) : out);
  let inFlight = options.resume ?? parties.flatMap((p) => send(p.start()));
  while (inFlight.length > 0 && !aborts.some((a) => a !== undefined)) {
    const pending = inFlight;
    inFlight = [];
    parties.forEach((party, p) => {
      const me = options.indices[p] as number;
      const mine = pending.filter((m) => m.from !== me && (m.to === me || m.to === null));
      if (party.done || mine.length === 0) return;
      try {
        inFlight.push(...send(party.handle(mine)));
      } catch (e) {
        if (!(e instanceof ProtocolAbort)) throw e;
        aborts[p] = e;
      }
    });
  }
  return parties.map((party, p) => {
    const abort = aborts[p];
    if (abort) return { abort };
    return party.done ? { result: party.result() } : { stopped: true };
  });
}

/** replayWith, run with runEach: each party's outcome. */
export function replayEach<T>(
  rec: Recording,
  k: number,
  bad: Msg,
  restore: (position: number, state: Uint8Array) => Party<T>,
): Outcome<T>[] {
  const { step } = rec.sent[k] as { step: number };
  const inFlight = rec.sent.filter((s) => s.step === step).map((s) => (s === rec.sent[k] ? bad : s.msg));
  return asAnotherProcess(() => {
    const parties = rec.indices.map((_, p) => restore(p, rec.states.get(`${step + 1}/${p}`) as Uint8Array));
    return runEach(parties, { resume: inFlight, indices: rec.indices });
  });
}

/**
 * The parties other than `culprit` (the honest ones): at least one aborted naming `culprit`, and
 * none accused anybody else. (One that cannot tell who cheated may abort naming nobody.)
 */
export function expectBlamed<T>(outcomes: Outcome<T>[], indices: number[], culprit: number): void {
  const honest = outcomes.filter((_, p) => indices[p] !== culprit);
  const blames = honest.flatMap((o) => ("abort" in o ? [o.abort] : []));
  expect(
    blames.some((a) => a.culprit === culprit),
    `some honest party names ${culprit}: ${blames.map((a) => a.message).join("; ")}`,
  ).toBe(true);
  for (const a of blames) expect([culprit, null], a.message).toContain(a.culprit);
}

/** Flipped (at the given positions, by default four spread over the message), truncated and
 *  one-byte-extended versions of a message. */
export function mutations(msg: Msg, positions?: number[]): [string, Msg][] {
  const p = msg.payload;
  const out: [string, Msg][] = [];
  for (const pos of positions ?? [0, 5, Math.floor(p.length / 2), p.length - 1]) {
    const flipped = p.slice();
    flipped[pos] = (flipped[pos] as number) ^ 0x01;
    out.push([`flip@${pos}`, { ...msg, payload: flipped }]);
  }
  out.push(["truncated", { ...msg, payload: p.slice(0, -1) }]);
  out.push(["extended", { ...msg, payload: new Uint8Array([...p, 0]) }]);
  return out;
}

/** Party 0's ring-Pedersen parameters over its Paillier modulus, with the second base s′ and the
 *  logs of both bases, as two-party key generation makes them. */
export function party0RingPedersen(
  p: bigint,
  q: bigint,
): {
  params: RingPedersenParams;
  s2: bigint;
  logs: { s: bigint; s2: bigint };
} {
  const own = ringPedersenFromPrimes(p, q);
  const second = anotherBase(own.params, own.secret);
  return { params: own.params, s2: second.params.s, logs: { s: own.secret.lambda, s2: second.secret.lambda } };
}
