/**
 * Liveness challenges without any face model: drawn evenly from the known set, read back
 * strictly (anything else is a typed error), and described in words for the person recovering.
 */
import { describe, expect, it } from "vitest";
import {
  CHALLENGES,
  ChallengeError,
  describeChallenge,
  EXPRESSIONS,
  newChallenge,
  parseChallenge,
} from "../src/index.js";

describe("liveness challenges", () => {
  it("are every expression but neutral, and both head turns", () => {
    expect(CHALLENGES).toEqual([
      ...EXPRESSIONS.filter((e) => e !== "neutral").map((expression) => ({ kind: "expression", expression })),
      { kind: "turn", direction: "left" },
      { kind: "turn", direction: "right" },
    ]);
  });

  it("are drawn evenly: every byte value picks each challenge as often", () => {
    let next = 0;
    const counting = (n: number) => Uint8Array.from({ length: n }, () => next++ % 256);
    const counts = new Map<string, number>();
    for (let i = 0; i < 256; i++) {
      const key = JSON.stringify(newChallenge(counting));
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(CHALLENGES.length);
    expect(new Set(counts.values())).toEqual(new Set([256 / CHALLENGES.length]));
    for (let i = 0; i < 20; i++) expect(CHALLENGES).toContainEqual(newChallenge());
  });

  it("refuse a random source that yields no byte instead of drawing forever", () => {
    expect(() => newChallenge(() => new Uint8Array(0))).toThrow(RangeError);
  });

  it("are read back strictly, as the known object", () => {
    const input = { kind: "turn", direction: "left" };
    const read = parseChallenge(input);
    expect(read).toEqual(input);
    expect(CHALLENGES).toContain(read);
    for (const bad of [
      { kind: "turn", direction: "up" },
      { kind: "expression", expression: "neutral" },
      { kind: "turn", direction: "left", extra: 1 },
      null,
      "happy",
    ])
      expect(() => parseChallenge(bad)).toThrow(ChallengeError);
  });

  it("are described differently, each in words", () => {
    const words = CHALLENGES.map(describeChallenge);
    expect(new Set(words).size).toBe(CHALLENGES.length);
    expect(describeChallenge({ kind: "turn", direction: "left" })).toBe("turn your head to the left of the picture");
    expect(describeChallenge({ kind: "expression", expression: "happy" })).toBe("look happy");
  });
});
