/**
 * Two-party multiplication over OT extension (DKLs19 Protocol 1, as DKLs23 §5.1 uses it): Bob's
 * input is a random b that his random OT choices define, b = Σₖ βₖ·gₖ over a gadget vector g;
 * Alice's input is a vector (a₀, a₁). They end with additive shares c + d = b·a.
 *
 *   Bob 1    β random; KOS receiver message; keeps b = ⟨g, β⟩                     (signing round 1)
 *   Alice    checks KOS; correlations (ã₀, ã₁, â₀, â₁) on every OT; sends τ (and her salt),
 *            γ = a − ã, and the check values u = χ̃ã + χ̂â, r = H(χ̃z̃ᴬ + χ̂ẑᴬ), with χ̃, χ̂
 *            derived after τ                                                        (signing round 2)
 *   Bob 2    checks r against β·u − χ̃z̃ᴮ − χ̂ẑᴮ; d = b·γ + ⟨g, z̃ᴮ⟩; Alice's c = ⟨g, z̃ᴬ⟩
 *
 * The masks (ã, â) and the χ̃, χ̂ check keep Alice from using inconsistent inputs across the OTs
 * (which would leak β, hence b); KOS's check keeps Bob's choices consistent. A failed check is
 * attributable, and since the base OTs are reused across signatures, the other party must never
 * be engaged again with the same base OTs (selective failure): the caller bans it.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bigintToBytes, bytesToBigint, CURVE_ORDER, type Reader, Writer } from "../codec/codec.js";
import { mod, randomBelow } from "../math/bigint.js";
import {
  KAPPA,
  type KosMessage,
  type KosReceiverOutput,
  kosReceive,
  kosSend,
  SALT_BYTES,
  transferReceive,
  transferSend,
} from "../ot/kos.js";
import { equalBytes } from "../session/envelope.js";

/** OTs per multiplication: κ + 2·80 (the gadget's statistical slack). */
export const OT_COUNT = 416;
const INPUTS = 2;
const ROW_BYTES = (OT_COUNT + 208) / 8;

export interface BaseOtsAsReceiver {
  seeds0: Uint8Array[];
  seeds1: Uint8Array[];
}
export interface BaseOtsAsSender {
  delta: Uint8Array;
  seeds: Uint8Array[];
}

function hashScalar(...parts: Uint8Array[]): bigint {
  const w = new Writer();
  for (const p of parts) w.bytes(p);
  return mod(bytesToBigint(sha256(w.finish())), CURVE_ORDER);
}

const text = (s: string) => new TextEncoder().encode(s);
const u16 = (i: number) => new Uint8Array([i >>> 8, i & 0xff]);

/** The gadget vector of one ordered pair: OT_COUNT random scalars, fixed at key generation. */
export function gadget(pairSid: Uint8Array): bigint[] {
  return Array.from({ length: OT_COUNT }, (_, k) => hashScalar(text("keyshard/dkls23/gadget/v1"), pairSid, u16(k)));
}

function messageDigest(message: KosMessage): Uint8Array {
  const h = sha256.create();
  for (const row of message.u) h.update(row);
  h.update(message.xTilde);
  for (const row of message.tTilde) h.update(row);
  return h.digest();
}

/**
 * The check's χ̃, χ̂: from Bob's message and Alice's τ and salt, so that Alice has fixed her
 * correlations before she learns them (otherwise she could shift ã on one OT and compensate in â).
 */
function checkScalars(
  sid: Uint8Array,
  bobMessage: Uint8Array,
  tau: readonly bigint[][],
  salt: Uint8Array,
): { chiTilde: bigint[]; chiHat: bigint[] } {
  const transcript = sha256.create().update(bobMessage).update(salt).update(packScalars(tau)).digest();
  const chi = (tag: string, l: number) => hashScalar(text(tag), sid, new Uint8Array([l]), transcript);
  return {
    chiTilde: Array.from({ length: INPUTS }, (_, l) => chi("keyshard/dkls23/chi-tilde/v1", l)),
    chiHat: Array.from({ length: INPUTS }, (_, l) => chi("keyshard/dkls23/chi-hat/v1", l)),
  };
}

function hashChecks(sid: Uint8Array, r: bigint[][]): Uint8Array {
  return sha256.create().update(text("keyshard/dkls23/verify/v1")).update(sid).update(packScalars(r)).digest();
}

/** Rows of scalars as one buffer of 32-byte big-endian values (for hashing in one pass). */
function packScalars(rows: readonly bigint[][]): Uint8Array {
  const count = rows.reduce((n, row) => n + row.length, 0);
  const out = new Uint8Array(32 * count);
  let o = 0;
  for (const row of rows) {
    for (const x of row) {
      out.set(bigintToBytes(x, 32), o);
      o += 32;
    }
  }
  return out;
}

const dot = (g: readonly bigint[], z: readonly bigint[]) => {
  let acc = 0n;
  for (let k = 0; k < g.length; k++) acc += (g[k] as bigint) * (z[k] as bigint);
  return mod(acc, CURVE_ORDER);
};

export interface BobState {
  output: KosReceiverOutput;
  b: bigint;
  /** Digest of the extension message Bob sent (for the check's χ). */
  sent: Uint8Array;
}

/** Bob, round 1: random choices, their value b, and the extension message for Alice. */
export function bobStart(
  sid: Uint8Array,
  ots: BaseOtsAsReceiver,
  g: readonly bigint[],
): { state: BobState; message: KosMessage } {
  const { message, output } = kosReceive(sid, ots.seeds0, ots.seeds1, OT_COUNT);
  let b = 0n;
  output.choices.forEach((beta, k) => {
    if (beta) b += g[k] as bigint;
  });
  return { state: { output, b: mod(b, CURVE_ORDER), sent: messageDigest(message) }, message };
}

export interface AliceReply {
  tau: bigint[][];
  salt: Uint8Array;
  verifyR: Uint8Array;
  verifyU: bigint[];
  gamma: bigint[];
}

/**
 * Alice, round 2: checks Bob's extension (false: Bob cheated) and answers with her input a.
 * Returns her shares c (c + d = b·a).
 */
export function aliceRespond(
  sid: Uint8Array,
  ots: BaseOtsAsSender,
  g: readonly bigint[],
  message: KosMessage,
  a: readonly bigint[],
  /** Tests only: a malicious Alice who changes τ once she knows the check's χ̃, χ̂. */
  afterChallenge?: (tau: bigint[][], chi: { chiTilde: bigint[]; chiHat: bigint[] }) => void,
): { ok: false } | { ok: true; c: bigint[]; reply: AliceReply } {
  const sent = kosSend(sid, ots.delta, ots.seeds, message, OT_COUNT);
  if (!sent.ok) return { ok: false };
  const aTilde = a.map(() => randomBelow(CURVE_ORDER));
  const aHat = a.map(() => randomBelow(CURVE_ORDER));
  const correlation = [...aTilde, ...aHat];
  const { tA, tau, salt } = transferSend(
    sid,
    sent.Q,
    sent.delta,
    Array.from({ length: OT_COUNT }, () => correlation),
  );
  const { chiTilde, chiHat } = checkScalars(sid, messageDigest(message), tau, salt);
  afterChallenge?.(tau, { chiTilde, chiHat });
  const r = a.map((_, l) =>
    tA.map((z) =>
      mod((chiTilde[l] as bigint) * (z[l] as bigint) + (chiHat[l] as bigint) * (z[INPUTS + l] as bigint), CURVE_ORDER),
    ),
  );
  const verifyU = a.map((_, l) =>
    mod((chiTilde[l] as bigint) * (aTilde[l] as bigint) + (chiHat[l] as bigint) * (aHat[l] as bigint), CURVE_ORDER),
  );
  const c = a.map((_, l) =>
    dot(
      g,
      tA.map((z) => z[l] as bigint),
    ),
  );
  const gamma = a.map((x, l) => mod(x - (aTilde[l] as bigint), CURVE_ORDER));
  return { ok: true, c, reply: { tau, salt, verifyR: hashChecks(sid, r), verifyU, gamma } };
}

/** Bob, after round 2: checks Alice's reply (false: Alice cheated); his shares d. */
export function bobFinish(
  sid: Uint8Array,
  state: BobState,
  g: readonly bigint[],
  reply: AliceReply,
): { ok: false } | { ok: true; d: bigint[] } {
  const zB = transferReceive(sid, state.output, reply.tau, reply.salt);
  const { chiTilde, chiHat } = checkScalars(sid, state.sent, reply.tau, reply.salt);
  const r = reply.verifyU.map((u, l) =>
    zB.map((z, k) =>
      mod(
        (state.output.choices[k] ? u : 0n) -
          (chiTilde[l] as bigint) * (z[l] as bigint) -
          (chiHat[l] as bigint) * (z[INPUTS + l] as bigint),
        CURVE_ORDER,
      ),
    ),
  );
  if (!equalBytes(hashChecks(sid, r), reply.verifyR)) return { ok: false };
  return {
    ok: true,
    d: reply.gamma.map((gamma, l) =>
      mod(
        state.b * gamma +
          dot(
            g,
            zB.map((z) => z[l] as bigint),
          ),
        CURVE_ORDER,
      ),
    ),
  };
}

export function writeKosMessage(w: Writer, m: KosMessage): void {
  for (const row of m.u) w.fixed(row);
  w.fixed(m.xTilde);
  for (const row of m.tTilde) w.fixed(row);
}

export function readKosMessage(r: Reader): KosMessage {
  const u = Array.from({ length: KAPPA }, () => r.fixed(ROW_BYTES));
  const xTilde = r.fixed(26);
  const tTilde = Array.from({ length: KAPPA }, () => r.fixed(26));
  return { u, xTilde, tTilde };
}

export function writeAliceReply(w: Writer, m: AliceReply): void {
  for (const row of m.tau) for (const x of row) w.scalar(x);
  w.fixed(m.salt);
  w.fixed(m.verifyR);
  for (const x of m.verifyU) w.scalar(x);
  for (const x of m.gamma) w.scalar(x);
}

export function writeBobState(w: Writer, s: BobState): void {
  w.fixed(s.output.choices);
  for (const col of s.output.T) w.fixed(col);
  w.scalar(s.b);
  w.fixed(s.sent);
}

export function readBobState(r: Reader): BobState {
  const choices = r.fixed(OT_COUNT);
  if (choices.some((c) => c > 1)) r.fail("invalid choice bit");
  const T = Array.from({ length: OT_COUNT }, () => r.fixed(KAPPA / 8));
  const b = r.scalar(true);
  return { output: { choices, T }, b, sent: r.fixed(32) };
}

export function readAliceReply(r: Reader): AliceReply {
  const tau = Array.from({ length: OT_COUNT }, () => Array.from({ length: 2 * INPUTS }, () => r.scalar(true)));
  const salt = r.fixed(SALT_BYTES);
  const verifyR = r.fixed(32);
  const verifyU = Array.from({ length: INPUTS }, () => r.scalar(true));
  const gamma = Array.from({ length: INPUTS }, () => r.scalar(true));
  return { tau, salt, verifyR, verifyU, gamma };
}
