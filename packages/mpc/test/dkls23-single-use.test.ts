/**
 * The attack a DKLs23 signer started three times under one sid would allow: its OT-extension pads
 * would repeat, so the u⁽ᵏ⁾ give x⁽ᵏ⁾ ⊕ x⁽¹⁾ and the check values x̃⁽ᵏ⁾ = compress(x⁽ᵏ⁾, χ⁽ᵏ⁾) fix all
 * 624 bits of x⁽¹⁾: its choices, hence its b, which unmasks its φ in round 2 and its key in round 3.
 *
 * Two defences, each tested alone: a process refuses a second start under one sid, and Bob's
 * fresh nonce in the multiplication session makes the pads of runs in separate processes unrelated.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { concatBytes } from "@noble/hashes/utils.js";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { CURVE_ORDER, type Point, Reader, Writer } from "../src/codec/codec.js";
import { DklsShare, dkls23 } from "../src/dkls23/index.js";
import { OT_COUNT, readAliceReply, readKosMessage } from "../src/dkls23/multiply.js";
import { pairSid } from "../src/dkls23/share.js";
import { hashToScalar } from "../src/ecdsa/signature.js";
import { CURVES } from "../src/frost/curve.js";
import { lagrangeAt } from "../src/frost/polynomial.js";
import { mod, modInv } from "../src/math/bigint.js";
import { mulBase } from "../src/math/secp256k1.js";
import { BLOCK_BITS, KAPPA, type KosMessage, kosSend, multiplicationTable } from "../src/ot/kos.js";
import type { Msg, Party } from "../src/session/party.js";
import { runLocal } from "../src/session/run-local.js";
import { expectAbort, newSid, randomHash } from "./helpers.js";

const VICTIM = 0;
const ATTACKER = 1;
const SIGNERS = [VICTIM, ATTACKER];

/** Bits of one extension row: the choices, then one pad block. */
const ROW_BITS = OT_COUNT + BLOCK_BITS;
const BLOCK_BYTES = BLOCK_BITS / 8;
const KOS_BYTES = KAPPA * (ROW_BITS / 8) + BLOCK_BYTES * (1 + KAPPA);
const BOB_NONCE_BYTES = 32;

/**
 * Solves a square system over GF(2) by Gauss–Jordan elimination. Each row holds n coefficient bits
 * and then the right-hand side at bit n, packed LSB first into 32-bit words; the rows are
 * consumed. Null when the system is singular.
 */
function solveGf2(rows: Uint32Array[], n: number): Uint8Array | null {
  const words = (rows[0] as Uint32Array).length;
  for (let col = 0; col < n; col++) {
    let p = col;
    while (p < rows.length && !wordBit(rows[p] as Uint32Array, col)) p++;
    if (p === rows.length) return null;
    const pivot = rows[p] as Uint32Array;
    rows[p] = rows[col] as Uint32Array;
    rows[col] = pivot;
    rows.forEach((row, r) => {
      if (r === col || !wordBit(row, col)) return;
      // The pivot row is zero left of `col`, so its earlier words change nothing.
      for (let k = col >>> 5; k < words; k++) row[k] = (row[k] as number) ^ (pivot[k] as number);
    });
  }
  return Uint8Array.from({ length: n }, (_, i) => wordBit(rows[i] as Uint32Array, n));
}

const wordBit = (words: Uint32Array, i: number) => ((words[i >>> 5] as number) >>> (i & 31)) & 1;
const bitOf = (bytes: Uint8Array, i: number) => ((bytes[i >> 3] as number) >> (i & 7)) & 1;
const xor = (a: Uint8Array, b: Uint8Array) => a.map((v, k) => v ^ (b[k] as number));

function openEnvelope(msg: Msg): Reader {
  const r = new Reader(msg.payload, msg.from);
  r.u8();
  r.string(64);
  r.fixed(32);
  r.u8();
  return r;
}

/** Round 1, victim to attacker: context, commitment, Bob's nonce if the code sends one, KOS. */
function readRound1(msg: Msg): { bobNonce: Uint8Array | undefined; kos: KosMessage } {
  const body = openEnvelope(msg).rest();
  expect([64 + KOS_BYTES, 64 + BOB_NONCE_BYTES + KOS_BYTES], "round-1 layout").toContain(body.length);
  const r = new Reader(body, msg.from);
  r.fixed(32);
  r.fixed(32);
  const bobNonce = body.length > 64 + KOS_BYTES ? r.fixed(BOB_NONCE_BYTES) : undefined;
  const kos = readKosMessage(r);
  r.end();
  return { bobNonce, kos };
}

/** The session of the victim's multiplication as Bob with the attacker (sign.ts's mulSid), which
 *  ends with Bob's nonce where the code has one. */
function multiplicationSid(share: DklsShare, sid: Uint8Array, bobNonce: Uint8Array | undefined): Uint8Array {
  const w = new Writer();
  w.bytes(pairSid(share.setupSid, VICTIM, ATTACKER));
  w.fixed(sid);
  w.list(SIGNERS, (w, s) => w.u8(s));
  w.optional(undefined, () => {});
  if (bobNonce) w.fixed(bobNonce);
  return sha256(w.finish());
}

const u32 = (i: number) => new Uint8Array([i >>> 24, (i >>> 16) & 0xff, (i >>> 8) & 0xff, i & 0xff]);

/** χ_b of the KOS check, one multiplication table per choice block, derived from u (kos.ts). */
function checkChallenges(osid: Uint8Array, u: readonly Uint8Array[]): Uint32Array[] {
  const uHash = sha256(concatBytes(...u));
  return Array.from({ length: OT_COUNT / BLOCK_BITS }, (_, b) => {
    const w = new Writer();
    for (const part of [new TextEncoder().encode("keyshard/kos/chi/v1"), osid, uHash, u32(b)]) w.bytes(part);
    return multiplicationTable(sha256(w.finish()).subarray(0, BLOCK_BYTES));
  });
}

const TABLE_WORDS = Math.ceil(BLOCK_BITS / 32);

/**
 * The 208 equations x̃ = Σ_b x_b·χ_b ⊕ x_pad in the unknown y = x ⊕ offset: bit r of x̃ has
 * coefficient (χ_b·Xᵖ)_r on bit p of choice block b and 1 on bit r of the pad block.
 */
function checkEquations(tables: Uint32Array[], xTilde: Uint8Array, offset: Uint8Array): Uint32Array[] {
  return Array.from({ length: BLOCK_BITS }, (_, r) => {
    const row = new Uint32Array(Math.ceil((ROW_BITS + 1) / 32));
    let rhs = bitOf(xTilde, r);
    for (let j = 0; j < ROW_BITS; j++) {
      const table = tables[Math.floor(j / BLOCK_BITS)];
      const p = j % BLOCK_BITS;
      const coefficient = table ? ((table[p * TABLE_WORDS + (r >>> 5)] as number) >>> (r & 31)) & 1 : Number(p === r);
      if (!coefficient) continue;
      row[j >>> 5] = (row[j >>> 5] as number) | (1 << (j & 31));
      rhs ^= bitOf(offset, j);
    }
    row[ROW_BITS >>> 5] = (row[ROW_BITS >>> 5] as number) | (rhs << (ROW_BITS & 31));
    return row;
  });
}

interface Run {
  osid: Uint8Array;
  kos: KosMessage;
}

/**
 * The attacker's extraction: if the pads repeat, x⁽ᵏ⁾ = x⁽¹⁾ ⊕ u⁽ᵏ⁾₀ ⊕ u⁽¹⁾₀, and the three check
 * values fix x⁽¹⁾. Returns its choice bits.
 */
function recoverChoices(runs: Run[]): Uint8Array {
  const first = (runs[0] as Run).kos.u[0] as Uint8Array;
  const rows = runs.flatMap(({ osid, kos }) =>
    checkEquations(checkChallenges(osid, kos.u), kos.xTilde, xor(kos.u[0] as Uint8Array, first)),
  );
  const x = solveGf2(rows, ROW_BITS);
  if (!x) throw new Error("singular system (probability about 2⁻²⁰⁸)");
  return x.subarray(0, OT_COUNT);
}

/**
 * What the victim really chose in a run, which only the test knows: its two seed sets, as KOS
 * senders with Δ = 0 and Δ = 1, see t⁰ and t¹ ⊕ u = t⁰ ⊕ x.
 */
function trueChoices(victimShare: DklsShare, { osid, kos }: Run): Uint8Array {
  const { seeds0, seeds1 } = victimShare.pair(ATTACKER).asBob;
  const zero = kosSend(osid, new Uint8Array(KAPPA), seeds0, kos, OT_COUNT);
  const one = kosSend(osid, new Uint8Array(KAPPA).fill(1), seeds1, kos, OT_COUNT);
  if (!zero.ok || !one.ok) throw new Error("not the victim's multiplication session");
  return Uint8Array.from(zero.Q, (q, j) => ((q[0] as number) ^ ((one.Q[j] as Uint8Array)[0] as number)) & 1);
}

/**
 * The attacker finishes the first run as an honest signer would, with a pre-signature party whose
 * result holds its own φ₁ and v₁, and solves for the victim's share from b and the transcript.
 */
function finishAndSolve(
  victim: Party<unknown>,
  round1: Msg,
  attackerShare: DklsShare,
  sid: Uint8Array,
  messageHash: Uint8Array,
  b: bigint,
): bigint {
  const attacker = dkls23.presign(attackerShare, { sid, signers: SIGNERS });
  const toVictim = attacker.start();
  const attackerRound2 = attacker.handle([round1]);
  const [victimRound2] = victim.handle(toVictim) as [Msg];
  const [victimRound3] = victim.handle(attackerRound2) as [Msg];
  attacker.handle([victimRound2]);
  const pre = attacker.result();
  const n = CURVE_ORDER;

  // Round 2 carries ψ = φ₀ − b after the multiplication reply and Γᵘ, Γᵛ.
  const r2 = openEnvelope(victimRound2);
  readAliceReply(r2);
  r2.point();
  r2.point();
  const phi0 = mod(r2.scalar(true) + b, n);
  // Round 3 carries u₀, then w₀ = m·φ₀ + rₓ·v₀.
  const r3 = openEnvelope(victimRound3);
  r3.scalar(true);
  const w0 = r3.scalar(true);
  const rx = mod(pre.R.toAffine().x, n);
  const v0 = mod((w0 - hashToScalar(messageHash) * phi0) * modInv(rx, n), n);
  // v₀ + v₁ = sk·(φ₀ + φ₁): in the sum, each multiplication's c + d = b·skᵢ cancels the −b·skᵢ
  // that the other signer's ψ put into Φ.
  const key = mod((v0 + pre.v) * modInv(mod(phi0 + pre.phi, n), n), n);
  // No path, and the zero shares sum to 0: key = λ₀x₀ + λ₁x₁.
  const [l0, l1] = SIGNERS.map((i) => lagrangeAt(CURVES.secp256k1, SIGNERS, i)) as [bigint, bigint];
  return mod((key - l1 * attackerShare.x) * modInv(l0, n), n);
}

/** The library as another process loads it: its process-wide records start empty. */
async function anotherProcess(): Promise<typeof import("../src/index.js")> {
  vi.resetModules();
  return await import("../src/index.js");
}

describe("a DKLs23 signer runs once per sid", () => {
  let victimShare: DklsShare;
  let attackerShare: DklsShare;
  beforeAll(() => {
    const sid = newSid();
    [victimShare, attackerShare] = runLocal(SIGNERS.map((index) => dkls23.keygen({ sid, index, n: 2, t: 2 }))) as [
      DklsShare,
      DklsShare,
    ];
  });

  it("three starts under one sid are refused", () => {
    const options = { sid: newSid(), messageHash: randomHash(), signers: SIGNERS };
    // Decoded afresh for each request, as a server holding the share in storage would.
    const [first, second, third] = [0, 1, 2].map(() =>
      dkls23.sign(DklsShare.fromBytes(victimShare.toBytes()), options),
    ) as [Party<unknown>, Party<unknown>, Party<unknown>];
    expect(first.start()).toHaveLength(1);
    expectAbort(() => second.start(), null, /session id/);
    expectAbort(() => third.start(), null, /session id/);
  });

  it("even in three processes, three round-1 messages under one sid yield no key bit", async () => {
    const sid = newSid();
    const messageHash = randomHash();
    const victims: Party<unknown>[] = [];
    const round1: Msg[] = [];
    for (let k = 0; k < 3; k++) {
      const lib = await anotherProcess();
      const victim = lib.dkls23.sign(lib.DklsShare.fromBytes(victimShare.toBytes()), {
        sid,
        messageHash,
        signers: SIGNERS,
      });
      round1.push(...victim.start());
      victims.push(victim);
    }

    const runs = round1.map((msg) => {
      const { bobNonce, kos } = readRound1(msg);
      return { osid: multiplicationSid(attackerShare, sid, bobNonce), kos };
    });
    // The attacker's own KOS check accepts every message under the session she derived: she
    // reads them right, so whatever fails below is the attack, not the parsing.
    const { delta, seeds } = attackerShare.pair(VICTIM).asAlice;
    for (const { osid, kos } of runs) {
      expect(kosSend(osid, delta, seeds, kos, OT_COUNT).ok, "the attacker's KOS check").toBe(true);
    }

    const choices = recoverChoices(runs);
    const truth = trueChoices(victimShare, runs[0] as Run);
    const agreeing = choices.reduce((n, c, j) => n + Number(c === truth[j]), 0);
    // Binomial(416, ½): 208 ± 10; outside ±60 with probability below 10⁻⁸.
    expect(agreeing, "choice bits recovered").toBeGreaterThan(OT_COUNT / 2 - 60);
    expect(agreeing, "choice bits recovered").toBeLessThan(OT_COUNT / 2 + 60);

    const g = attackerShare.gadget(VICTIM, ATTACKER);
    const b = mod(
      choices.reduce((acc, c, k) => (c ? acc + (g[k] as bigint) : acc), 0n),
      CURVE_ORDER,
    );
    const x0 = finishAndSolve(victims[0] as Party<unknown>, round1[0] as Msg, attackerShare, sid, messageHash, b);
    expect(mulBase(x0).equals(victimShare.verifyingShares[VICTIM] as Point), "the attacker holds x₀").toBe(false);
  });
});
