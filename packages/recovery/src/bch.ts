/**
 * The binary BCH code of length 63 with 18 message bits and designed distance 21 (it corrects
 * any 10 errors), built from GF(2⁶) as the textbook does: the generator is the least common
 * multiple of the minimal polynomials of α¹ … α²⁰. Codewords are 63-bit numbers (bit i is the
 * coefficient of xⁱ), split in two 32-bit halves so that nothing needs BigInt.
 *
 * Decoding is the nearest codeword by exhaustive search: 2¹⁸ codewords, enumerated in Gray-code
 * order so each differs from the last by one basis row, take a few milliseconds, and the search
 * is exact where algebraic decoders stop at 10 errors.
 */

export const BCH_N = 63;
export const BCH_K = 18;
export const BCH_DESIGNED_DISTANCE = 21;

/** GF(2⁶) with the primitive polynomial x⁶ + x + 1. */
const EXP: number[] = [];
{
  let x = 1;
  for (let i = 0; i < 63; i++) {
    EXP.push(x);
    x <<= 1;
    if (x & 0x40) x ^= 0x43;
  }
}
const mul = (a: number, b: number) =>
  a === 0 || b === 0 ? 0 : (EXP[(EXP.indexOf(a) + EXP.indexOf(b)) % 63] as number);

/** Polynomials over GF(2⁶), lowest coefficient first. */
function polyMul(a: number[], b: number[]): number[] {
  const out = new Array<number>(a.length + b.length - 1).fill(0);
  for (const [i, x] of a.entries()) for (const [j, y] of b.entries()) out[i + j] = (out[i + j] as number) ^ mul(x, y);
  return out;
}

/** The generator polynomial's coefficients (0 or 1), lowest first; degree 45. */
function generator(): number[] {
  const done = new Set<number>();
  let g = [1];
  for (let i = 1; i < BCH_DESIGNED_DISTANCE; i++) {
    if (done.has(i)) continue;
    // The cyclotomic coset of i: the conjugates of αⁱ share its minimal polynomial.
    let minimal = [1];
    for (let j = i; !done.has(j); j = (j * 2) % 63) {
      done.add(j);
      minimal = polyMul(minimal, [EXP[j] as number, 1]);
    }
    g = polyMul(g, minimal);
  }
  if (g.some((c) => c > 1) || g.length - 1 !== BCH_N - BCH_K) throw new Error("BCH generator construction failed");
  return g;
}

/** A 63-bit word as [bits 0–31, bits 32–62]. */
export type Word = [number, number];

/** Row i of the generator matrix: g(x)·xⁱ. */
const BASIS: Word[] = (() => {
  const g = generator();
  return Array.from({ length: BCH_K }, (_, i) => {
    const word: Word = [0, 0];
    for (const [j, c] of g.entries())
      if (c === 1) word[(i + j) >> 5] = ((word[(i + j) >> 5] as number) | (1 << ((i + j) & 31))) >>> 0;
    return word;
  });
})();

const popcount = (x: number) => {
  let v = x - ((x >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
};

export const weight = (w: Word) => popcount(w[0]) + popcount(w[1]);
export const xor = (a: Word, b: Word): Word => [(a[0] ^ b[0]) >>> 0, (a[1] ^ b[1]) >>> 0];

/** The codeword of an 18-bit message. */
export function encode(message: number): Word {
  if (!Number.isInteger(message) || message < 0 || message >= 1 << BCH_K) throw new RangeError("message is 18 bits");
  let word: Word = [0, 0];
  for (let i = 0; i < BCH_K; i++) if ((message >>> i) & 1) word = xor(word, BASIS[i] as Word);
  return word;
}

/** Calls `visit(message, codeword)` for every codeword, in Gray-code order. */
export function forEachCodeword(visit: (message: number, codeword: Word) => void): void {
  let word: Word = [0, 0];
  let message = 0;
  visit(0, word);
  for (let step = 1; step < 1 << BCH_K; step++) {
    const bit = 31 - Math.clz32(step & -step);
    message ^= 1 << bit;
    word = xor(word, BASIS[bit] as Word);
    visit(message, word);
  }
}

/** The message whose codeword is nearest to `received`, and how many bits differ. */
export function decode(received: Word): { message: number; errors: number } {
  let best = { message: 0, errors: BCH_N + 1 };
  forEachCodeword((message, codeword) => {
    const errors = popcount((codeword[0] ^ received[0]) >>> 0) + popcount((codeword[1] ^ received[1]) >>> 0);
    if (errors < best.errors) best = { message, errors };
  });
  return best;
}
