/**
 * Prime generation for Paillier and ring-Pedersen moduli: random candidates sieved by the
 * primes below 2^16, then Miller–Rabin with random bases.
 */
import { bitLength } from "../codec/codec.js";
import { modPow, randomBelow, randomBits } from "./bigint.js";

/** Bound of the small-prime table; also the trial-division bound for hostile moduli. */
export const SMALL_PRIME_BOUND = 1 << 16;

export const SMALL_PRIMES: readonly number[] = (() => {
  const sieve = new Uint8Array(SMALL_PRIME_BOUND);
  const out: number[] = [];
  for (let i = 2; i < SMALL_PRIME_BOUND; i++) {
    if (sieve[i]) continue;
    out.push(i);
    for (let j = i * i; j < SMALL_PRIME_BOUND; j += i) sieve[j] = 1;
  }
  return out;
})();

/** The smallest prime below 2^16 dividing n, or null. */
export function smallFactor(n: bigint): number | null {
  for (const g of SMALL_PRIME_GROUPS) {
    const r = Number(n % g.product);
    for (const p of g.primes) if (r % p === 0 && n !== BigInt(p)) return p;
  }
  return null;
}

/**
 * The small primes grouped into products below 2^53, so that n mod product is exact as a
 * JavaScript number and most of trial division runs on numbers, not BigInts.
 */
const SMALL_PRIME_GROUPS: readonly { product: bigint; primes: number[] }[] = (() => {
  const groups: { product: bigint; primes: number[] }[] = [];
  let product = 1;
  let primes: number[] = [];
  for (const p of SMALL_PRIMES) {
    if (product * p > Number.MAX_SAFE_INTEGER) {
      groups.push({ product: BigInt(product), primes });
      product = 1;
      primes = [];
    }
    product *= p;
    primes.push(p);
  }
  groups.push({ product: BigInt(product), primes });
  return groups;
})();

/** Miller–Rabin with `rounds` random bases (and no small factor). */
export function isProbablePrime(n: bigint, rounds = 40): boolean {
  if (n < 2n) return false;
  if (n < BigInt(SMALL_PRIME_BOUND)) return SMALL_PRIMES.includes(Number(n));
  if (smallFactor(n) !== null) return false;
  return millerRabin(n, rounds);
}

function millerRabin(n: bigint, rounds: number): boolean {
  const nm1 = n - 1n;
  let d = nm1;
  let s = 0;
  while ((d & 1n) === 0n) {
    d >>= 1n;
    s++;
  }
  for (let i = 0; i < rounds; i++) {
    const a = i === 0 ? 2n : 2n + randomBelow(n - 3n);
    let x = modPow(a, d, n);
    if (x === 1n || x === nm1) continue;
    let composite = true;
    for (let r = 1; r < s; r++) {
      x = (x * x) % n;
      if (x === nm1) {
        composite = false;
        break;
      }
    }
    if (composite) return false;
  }
  return true;
}

/**
 * A random prime of exactly `bits` bits with its two top bits set (so a product of two such
 * primes has exactly 2·bits bits). `blum` asks for p ≡ 3 (mod 4).
 */
export function randomPrime(bits: number, blum = false): bigint {
  if (bits < 64) throw new RangeError("prime too small");
  const step = blum ? 4 : 2;
  const primes = SMALL_PRIMES.slice(1); // 2 never divides our odd candidates
  for (;;) {
    let base = randomBits(bits) | (3n << BigInt(bits - 2));
    base = blum ? base - (base % 4n) + 3n : base | 1n;
    const residues = primes.map((p) => Number(base % BigInt(p)));
    for (let delta = 0; delta < 1 << 16; delta += step) {
      let divisible = false;
      for (let k = 0; k < primes.length; k++) {
        if (((residues[k] as number) + delta) % (primes[k] as number) === 0) {
          divisible = true;
          break;
        }
      }
      if (divisible) continue;
      const candidate = base + BigInt(delta);
      if (bitLength(candidate) !== bits) break;
      // Random candidates of ≥ 1024 bits: 5 rounds keep the error below 2^-100 (Damgård–Landrock–
      // Pomerance; FIPS 186-5 Appendix B). Smaller sizes get more.
      if (millerRabin(candidate, bits >= 1024 ? 5 : 16)) return candidate;
    }
  }
}
