/**
 * Blame in the DKLs23 set-up's base OTs (the verified simplest OT between every pair): a byte
 * changed in one point-to-point message — by its sender or by a relay on the way — names that
 * message's sender, and no party ever names another. Each case runs fresh key generations, as a
 * changed challenge goes unnoticed by its sender exactly when the receiver's secret choice bit
 * for that OT is 0, and a recorded run cannot be replayed (set-up rounds are handled once).
 */
import { describe, expect, it } from "vitest";
import { Reader } from "../src/codec/codec.js";
import { dkls23 } from "../src/dkls23/index.js";
import { KAPPA } from "../src/ot/kos.js";
import type { Msg } from "../src/session/party.js";
import { breathe, expectBlamed, newSid, type Outcome, runEach } from "./helpers.js";

/** Set-up rounds 3–5: challenges ξₖ; responses ρ′ₖ and the challenges' digest; openings. */
const BODY = { 3: KAPPA * 32, 4: KAPPA * 32 + 32, 5: KAPPA * 64 } as Record<number, number>;

/** The round of a set-up message and where its body starts, read from its envelope. */
function envelope(msg: Msg): { round: number; body: number } {
  const r = new Reader(msg.payload, msg.from);
  r.u8(); // format version
  r.string(64); // protocol
  r.fixed(32); // sid
  const round = r.u8();
  return { round, body: msg.payload.length - r.rest().length };
}

const randomBelow = (n: number) => (crypto.getRandomValues(new Uint32Array(1))[0] as number) % n;

/**
 * A key generation in which party `from`'s round-`round` message to party `to` has one bit
 * flipped at `offset(k)` bytes into its body, k a random OT index.
 */
function keygenWithFlip<T>(
  n: number,
  t: number,
  where: { from: number; to: number; round: number; offset: (k: number) => number },
): Outcome<T>[] {
  const sid = newSid();
  const parties = Array.from({ length: n }, (_, index) => dkls23.keygen({ sid, index, n, t }));
  let flipped = 0;
  const outcomes = runEach(parties, {
    indices: parties.map((_, i) => i),
    intercept: (msg) => {
      if (msg.from !== where.from || msg.to !== where.to) return msg;
      const { round, body } = envelope(msg);
      if (round !== where.round) return msg;
      expect(msg.payload.length - body).toBe(BODY[round]);
      const at = body + where.offset(randomBelow(KAPPA));
      const payload = msg.payload.slice();
      payload[at] = (payload[at] as number) ^ (1 << randomBelow(8));
      flipped++;
      return { ...msg, payload };
    },
  });
  expect(flipped).toBe(1);
  return outcomes as Outcome<T>[];
}

/**
 * Some party names `culprit`, and no party — not even `culprit`, whose message may have been
 * changed by a relay while it followed the protocol — names anybody else.
 */
function expectOnly<T>(outcomes: Outcome<T>[], culprit: number): void {
  const indices = outcomes.map((_, i) => i);
  expectBlamed(outcomes, indices, culprit);
  for (const o of outcomes) if ("abort" in o) expect([culprit, null], o.abort.message).toContain(o.abort.culprit);
}

describe("DKLs23 set-up: blame in the base OTs", () => {
  for (const [n, t, runs] of [
    [2, 2, 16],
    [3, 2, 4],
  ] as const) {
    it(`(${n},${t}) a changed challenge ξₖ names its sender, never the receiver (${runs} runs)`, async () => {
      for (let run = 0; run < runs; run++) {
        const byte = randomBelow(32);
        const outcomes = keygenWithFlip(n, t, { from: 0, to: 1, round: 3, offset: (k) => 32 * k + byte });
        expectOnly(outcomes, 0);
        // Only the pair (0, 1) is disturbed.
        for (let p = 2; p < n; p++) expect("abort" in (outcomes[p] as Outcome<unknown>)).toBe(false);
        await breathe();
      }
    }, 120_000);
  }

  it("a changed response ρ′ₖ names the receiver that sent it", async () => {
    for (let run = 0; run < 4; run++) {
      const byte = randomBelow(32);
      const outcomes = keygenWithFlip(2, 2, { from: 1, to: 0, round: 4, offset: (k) => 32 * k + byte });
      expectOnly(outcomes, 1);
      await breathe();
    }
  }, 60_000);

  it("a changed opening H¹(ρᵇₖ), of either key, names the sender that sent it", async () => {
    for (const b of [0, 1]) {
      for (let run = 0; run < 2; run++) {
        const byte = randomBelow(32);
        const outcomes = keygenWithFlip(2, 2, { from: 0, to: 1, round: 5, offset: (k) => 64 * k + 32 * b + byte });
        expectOnly(outcomes, 0);
        await breathe();
      }
    }
  }, 60_000);

  it("a changed digest beside correct responses changes nothing: the responses are what is checked", () => {
    const outcomes = keygenWithFlip(2, 2, { from: 1, to: 0, round: 4, offset: () => KAPPA * 32 + randomBelow(32) });
    for (const o of outcomes) expect("result" in o).toBe(true);
  });
});
