import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import { CURVE_ORDER } from "../src/codec/codec.js";
import { mod } from "../src/math/bigint.js";
import {
  BLOCK_BITS,
  GF_MODULUS,
  KAPPA,
  type KosMessage,
  kosReceive,
  kosSend,
  multiplicationTable,
  multiplyBlockInto,
  transferReceive,
  transferSend,
} from "../src/ot/kos.js";
import { TailHash } from "../src/ot/tail-hash.js";
import {
  receiverChoose,
  receiverRespond,
  receiverVerify,
  senderKey,
  senderKeys,
  senderVerify,
} from "../src/ot/vsot.js";
import { Transcript } from "../src/zk/transcript.js";

const sid = crypto.getRandomValues(new Uint8Array(32));
const transcript = () => new Transcript("test/vsot", sid, [0, 1]);
const randomBits = (n: number) => Array.from(crypto.getRandomValues(new Uint8Array(n)), (b) => b & 1);
const eq = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

/** Carry-less product of two GF(2) polynomials, reduced by f (slow, for reference). */
function mulmod(a: bigint, b: bigint, f: bigint): bigint {
  let acc = 0n;
  const deg = f.toString(2).length - 1;
  for (let x = a, y = b; y; y >>= 1n) {
    if (y & 1n) acc ^= x;
    x <<= 1n;
    if ((x >> BigInt(deg)) & 1n) x ^= f;
  }
  return acc;
}
function gcd2(a: bigint, b: bigint): bigint {
  while (b) {
    const db = b.toString(2).length;
    while (a && a.toString(2).length >= db) a ^= b << BigInt(a.toString(2).length - db);
    [a, b] = [b, a];
  }
  return a;
}

describe("GF(2^208) for the consistency check", () => {
  it("the modulus is irreducible (Rabin's test)", () => {
    const X = 2n;
    const powerOfX = (k: number) => {
      let p = X;
      for (let i = 0; i < k; i++) p = mulmod(p, p, GF_MODULUS);
      return p;
    };
    expect(powerOfX(BLOCK_BITS)).toBe(X);
    for (const d of [BLOCK_BITS / 2, BLOCK_BITS / 13]) expect(gcd2(GF_MODULUS, powerOfX(d) ^ X)).toBe(1n);
  });

  it("table multiplication equals carry-less multiplication mod f", () => {
    for (let n = 0; n < 20; n++) {
      const a = crypto.getRandomValues(new Uint8Array(26));
      const b = crypto.getRandomValues(new Uint8Array(26));
      const toPoly = (x: Uint8Array) => [...x].reverse().reduce((acc, byte) => (acc << 8n) | BigInt(byte), 0n);
      const acc = new Uint32Array(7);
      multiplyBlockInto(acc, a, 0, multiplicationTable(b));
      const product = [...acc].reverse().reduce((p, w) => (p << 32n) | BigInt(w), 0n);
      expect(product).toBe(mulmod(toPoly(a), toPoly(b), GF_MODULUS));
    }
  });
});

describe("prefix-compressed SHA-256 (the extension's hash)", () => {
  it("equals SHA-256 of the zero-padded prefix and the tail, for every length", () => {
    for (const prefixLength of [0, 1, 63, 64, 65, 97, 128, 200]) {
      for (const tailLength of [0, 1, 24, 40, 55]) {
        const prefix = crypto.getRandomValues(new Uint8Array(prefixLength));
        const tail = crypto.getRandomValues(new Uint8Array(tailLength));
        const padded = new Uint8Array(Math.max(1, Math.ceil(prefixLength / 64)) * 64);
        padded.set(prefix);
        const out = new Uint8Array(40);
        new TailHash(prefix).hashInto(tail, out, 8);
        expect(bytesToHex(out.subarray(8))).toBe(bytesToHex(sha256(new Uint8Array([...padded, ...tail]))));
      }
    }
    expect(() => new TailHash(new Uint8Array(1)).hashInto(new Uint8Array(56), new Uint8Array(32))).toThrow(RangeError);
  });
});

/** Runs the five steps of the verified simplest OT honestly. */
function vsot(count: number) {
  const key = senderKey(transcript());
  const choices = randomBits(count);
  const chosen = receiverChoose(transcript(), sid, key, choices);
  if (!chosen.ok) throw new Error("proof failed");
  const keys = senderKeys(sid, key, chosen.A);
  if (!keys.ok) throw new Error("A refused");
  const { responses, digest } = receiverRespond(sid, chosen.keys, choices, keys.challenges);
  const verified = senderVerify(sid, keys.rho0, keys.rho1, keys.challenges, responses, digest);
  return { key, choices, chosen, keys, responses, digest, verified };
}

describe("verified simplest OT (base OT)", () => {
  it("the receiver gets exactly the key of its choice", () => {
    const { choices, chosen, keys, verified } = vsot(16);
    expect(verified.verdict).toBe("ok");
    choices.forEach((c, i) => {
      const mine = chosen.keys[i] as Uint8Array;
      expect(eq(mine, (c ? keys.rho1 : keys.rho0)[i] as Uint8Array)).toBe(true);
      expect(eq(mine, (c ? keys.rho0 : keys.rho1)[i] as Uint8Array)).toBe(false);
    });
    expect(receiverVerify(sid, chosen.keys, choices, keys.challenges, verified.openings)).toBe(true);
  });

  it("refuses choices that are not bits", () => {
    const key = senderKey(transcript());
    for (const bad of [2, -1, 0.5, Number.NaN]) {
      expect(() => receiverChoose(transcript(), sid, key, [0, bad, 1])).toThrow(RangeError);
    }
  });

  it("refuses a bad proof of the sender's key, and A = B", () => {
    const key = senderKey(transcript());
    const other = senderKey(transcript());
    expect(receiverChoose(transcript(), sid, { B: key.B, proof: other.proof }, [0, 1]).ok).toBe(false);
    expect(receiverChoose(new Transcript("test/other", sid, [0, 1]), sid, key, [0]).ok).toBe(false);
    expect(senderKeys(sid, key, [key.B]).ok).toBe(false);
  });

  it("the sender blames a receiver answering its challenges for the other key", () => {
    const { keys, responses, digest } = vsot(8);
    // A receiver that flips its claimed choice in one response.
    const bad = responses.map((r, i) =>
      Uint8Array.from(i === 3 ? r.map((b, k) => b ^ ((keys.challenges[i] as Uint8Array)[k] as number)) : r),
    );
    expect(senderVerify(sid, keys.rho0, keys.rho1, keys.challenges, bad, digest).verdict).toBe("receiver");
  });

  it("a receiver given a changed challenge: the sender blames nobody, the receiver's check fails", () => {
    const { choices, chosen, keys } = vsot(16);
    // One changed challenge where the choice is 1 (its response then fails) and one where it is 0.
    const changed = [choices.indexOf(1), choices.indexOf(0)];
    const got = keys.challenges.map((c, i) => (changed.includes(i) ? c.map((b) => b ^ 0x40) : c.slice()));
    const { responses, digest } = receiverRespond(sid, chosen.keys, choices, got);
    const verified = senderVerify(sid, keys.rho0, keys.rho1, keys.challenges, responses, digest);
    expect(verified.verdict).toBe("challenges");
    expect(receiverVerify(sid, chosen.keys, choices, got, verified.openings)).toBe(false);
    // A changed challenge where the choice is 0 leaves the response right; the receiver still sees it.
    const zeroOnly = keys.challenges.map((c, i) => (i === changed[1] ? c.map((b) => b ^ 0x40) : c.slice()));
    const answer = receiverRespond(sid, chosen.keys, choices, zeroOnly);
    const zeroVerified = senderVerify(sid, keys.rho0, keys.rho1, keys.challenges, answer.responses, answer.digest);
    expect(zeroVerified.verdict).toBe("ok");
    expect(receiverVerify(sid, chosen.keys, choices, zeroOnly, zeroVerified.openings)).toBe(false);
  });

  it("the receiver catches openings or challenges that do not match", () => {
    const { choices, chosen, keys, verified } = vsot(8);
    expect(verified.verdict).toBe("ok");
    const openings = verified.openings.map(([a, b], i) => (i === 2 ? ([b, a] as [Uint8Array, Uint8Array]) : [a, b]));
    expect(receiverVerify(sid, chosen.keys, choices, keys.challenges, openings as [Uint8Array, Uint8Array][])).toBe(
      false,
    );
    const challenges = keys.challenges
      .map((c, i) => (i === 5 ? c.map((b) => b ^ 1) : c))
      .map((c) => Uint8Array.from(c));
    expect(receiverVerify(sid, chosen.keys, choices, challenges, verified.openings)).toBe(false);
  });
});

/** Base OTs for an extension, made directly (their protocol is tested above). */
function baseOts() {
  const delta = Uint8Array.from(randomBits(KAPPA));
  const seeds0 = Array.from({ length: KAPPA }, () => crypto.getRandomValues(new Uint8Array(32)));
  const seeds1 = Array.from({ length: KAPPA }, () => crypto.getRandomValues(new Uint8Array(32)));
  const chosen = seeds0.map((s, i) => (delta[i] ? (seeds1[i] as Uint8Array) : s));
  return { delta, seeds0, seeds1, chosen };
}

describe("KOS OT extension", () => {
  const count = 416;
  const osid = crypto.getRandomValues(new Uint8Array(32));

  it("gives correlated OTs: tA + tB = x·α for every OT and width", () => {
    const base = baseOts();
    const { message, output } = kosReceive(osid, base.seeds0, base.seeds1, count);
    const sent = kosSend(osid, base.delta, base.chosen, message, count);
    expect(sent.ok).toBe(true);
    if (!sent.ok) return;
    const alpha = Array.from({ length: count }, () => [3n, CURVE_ORDER - 5n]);
    const { tA, tau, salt } = transferSend(osid, sent.Q, sent.delta, alpha);
    const tB = transferReceive(osid, output, tau, salt);
    for (let j = 0; j < count; j++) {
      for (let k = 0; k < 2; k++) {
        const sum = mod(((tA[j] as bigint[])[k] as bigint) + ((tB[j] as bigint[])[k] as bigint), CURVE_ORDER);
        expect(sum).toBe(output.choices[j] ? (alpha[j] as bigint[])[k] : 0n);
      }
    }
    // The choices are balanced random bits, not all one value.
    const ones = output.choices.reduce((n, c) => n + c, 0);
    expect(ones).toBeGreaterThan(count / 4);
    expect(ones).toBeLessThan((3 * count) / 4);
  });

  it("the columns are the OTs: the receiver's Tⱼ is the sender's Qⱼ ⊕ xⱼ·Δ, for every j", () => {
    const base = baseOts();
    const { message, output } = kosReceive(osid, base.seeds0, base.seeds1, count);
    const sent = kosSend(osid, base.delta, base.chosen, message, count);
    expect(sent.ok).toBe(true);
    if (!sent.ok) return;
    expect([...sent.delta]).toEqual(
      Array.from({ length: KAPPA / 8 }, (_, b) =>
        Array.from({ length: 8 }, (_, i) => (base.delta[8 * b + i] as number) << i).reduce((x, y) => x | y),
      ),
    );
    for (let j = 0; j < count; j++) {
      const expected = (sent.Q[j] as Uint8Array).map((q, b) => q ^ (output.choices[j] ? (sent.delta[b] as number) : 0));
      expect(bytesToHex(output.T[j] as Uint8Array)).toBe(bytesToHex(expected));
    }
  });

  it("refuses Δ that is not bits, and τ that is not a scalar mod n", () => {
    const base = baseOts();
    const { message, output } = kosReceive(osid, base.seeds0, base.seeds1, count);
    const delta = base.delta.slice();
    delta[5] = 2;
    expect(() => kosSend(osid, delta, base.chosen, message, count)).toThrow(RangeError);
    const tau = Array.from({ length: count }, () => [CURVE_ORDER]);
    expect(() => transferReceive(osid, output, tau, new Uint8Array(32))).toThrow(RangeError);
  });

  it("the consistency check fails on tampered u, x̃, t̃, or another session", () => {
    const base = baseOts();
    const { message } = kosReceive(osid, base.seeds0, base.seeds1, count);
    expect(kosSend(osid, base.delta, base.chosen, message, count).ok).toBe(true);
    const tamper = (change: (m: KosMessage) => void) => {
      const m: KosMessage = {
        u: message.u.map((r) => r.slice()),
        xTilde: message.xTilde.slice(),
        tTilde: message.tTilde.map((r) => r.slice()),
      };
      change(m);
      return kosSend(osid, base.delta, base.chosen, m, count).ok;
    };
    // A receiver using a different choice bit in one row, without recomputing x̃ and t̃.
    const row = base.delta.indexOf(1);
    expect(
      tamper((m) => {
        (m.u[row] as Uint8Array)[7] = ((m.u[row] as Uint8Array)[7] as number) ^ 0x10;
      }),
    ).toBe(false);
    expect(
      tamper((m) => {
        m.xTilde[0] = (m.xTilde[0] as number) ^ 1;
      }),
    ).toBe(false);
    expect(
      tamper((m) => {
        (m.tTilde[9] as Uint8Array)[25] = ((m.tTilde[9] as Uint8Array)[25] as number) ^ 0x80;
      }),
    ).toBe(false);
    expect(tamper((m) => m.u.pop())).toBe(false);
    const otherSession = crypto.getRandomValues(new Uint8Array(32));
    expect(kosSend(otherSession, base.delta, base.chosen, message, count).ok).toBe(false);
  });

  it("base OTs from the verified simplest OT feed the extension", () => {
    const { choices, chosen, keys, verified } = vsot(KAPPA);
    expect(verified.verdict).toBe("ok");
    // Roles swap: the base-OT sender is the extension receiver.
    const { message, output } = kosReceive(osid, keys.rho0, keys.rho1, count);
    const sent = kosSend(osid, Uint8Array.from(choices), chosen.keys, message, count);
    expect(sent.ok).toBe(true);
    if (!sent.ok) return;
    const alpha = Array.from({ length: count }, (_, j) => [BigInt(j + 1)]);
    const { tA, tau, salt } = transferSend(osid, sent.Q, sent.delta, alpha);
    const tB = transferReceive(osid, output, tau, salt);
    for (const [j, a] of tA.entries()) {
      const sum = mod((a[0] as bigint) + ((tB[j] as bigint[])[0] as bigint), CURVE_ORDER);
      expect(sum).toBe(output.choices[j] ? BigInt(j + 1) : 0n);
    }
  });
});
