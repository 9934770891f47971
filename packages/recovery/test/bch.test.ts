/**
 * BCH(63, 18): the code really has minimum distance 21 (every nonzero codeword weighed), and
 * decoding finds the message under up to 10 flipped bits.
 */
import { describe, expect, it } from "vitest";
import {
  BCH_DESIGNED_DISTANCE,
  BCH_K,
  BCH_N,
  decode,
  encode,
  forEachCodeword,
  type Word,
  weight,
  xor,
} from "../src/bch.js";

const flips = (count: number): Word => {
  const positions = new Set<number>();
  while (positions.size < count) positions.add(Math.floor(Math.random() * BCH_N));
  const word: Word = [0, 0];
  for (const p of positions) word[p >> 5] = ((word[p >> 5] as number) | (1 << (p & 31))) >>> 0;
  return word;
};

describe("BCH(63, 18)", () => {
  it("has minimum distance 21 and only 63-bit codewords", () => {
    let min = BCH_N;
    let count = 0;
    let beyond63 = 0;
    forEachCodeword((message, codeword) => {
      count++;
      beyond63 |= codeword[1] >>> 31;
      if (message !== 0) min = Math.min(min, weight(codeword));
    });
    expect(count).toBe(2 ** BCH_K);
    expect(beyond63).toBe(0);
    expect(min).toBe(BCH_DESIGNED_DISTANCE);
  });

  it("decodes through up to 10 errors, and reports how many", () => {
    for (let errors = 0; errors <= 10; errors++) {
      const message = Math.floor(Math.random() * 2 ** BCH_K);
      const received = xor(encode(message), flips(errors));
      expect(decode(received)).toEqual({ message, errors });
    }
  });

  it("refuses a message that is not 18 bits", () => {
    for (const bad of [-1, 2 ** 18, 1.5]) expect(() => encode(bad)).toThrow(RangeError);
  });
});
