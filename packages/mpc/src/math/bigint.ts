/**
 * Big-integer arithmetic for the Paillier and RSA-group parts: modular exponentiation,
 * inverses, Jacobi symbols, CRT and uniform sampling from a CSPRNG.
 *
 * Under Node, large exponentiations run in OpenSSL through its Diffie-Hellman primitive (g^x mod p
 * for any odd p). OpenSSL marks the private key BN_FLG_CONSTTIME, so the power is taken by
 * BN_mod_exp_mont_consttime: a fixed window schedule with table lookups that do not depend on the
 * exponent, constant-time in the exponent, the same sequence of Montgomery multiplications whatever
 * the base, and several times faster than BigInt. Elsewhere (browsers), and for moduli outside
 * OpenSSL's range, they run in JavaScript BigInt, which offers no constant-time arithmetic:
 * exponentiations with secret exponents then leak timing to a co-resident observer, as with every
 * BigInt library.
 *
 * What the route through Node does not hide: the exponent's length (the byte conversion here, and
 * OpenSSL's own count of 64-bit words), the result's length in bytes (the shared secret loses its
 * leading zero bytes before Node pads it back), whether the result is 0, 1 or m − 1 (OpenSSL
 * refuses those; see nativePow), and, for a secret modulus, the one-time set-up of its context (a
 * primality check and the Montgomery constants). SecretExponentBase gives secret exponents a fixed
 * length. Everything else done with secrets in BigInt — products, reductions, inverses, CRT —
 * stays variable-time.
 */
import { randomBytes } from "@noble/hashes/utils.js";
import { bigintToBytes, bitLength, bytesToBigint } from "../codec/codec.js";

export function mod(a: bigint, m: bigint): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}

/** Window size for the left-to-right k-ary exponentiation, by exponent length. */
function windowFor(bits: number): number {
  if (bits > 1536) return 6;
  if (bits > 384) return 5;
  if (bits > 96) return 4;
  return 2;
}

interface DiffieHellman {
  setPrivateKey(key: Uint8Array): void;
  computeSecret(otherPublicKey: Uint8Array): Uint8Array;
}
type CreateDh = (prime: Uint8Array, generator: Uint8Array) => DiffieHellman;

/** Moduli from this size up go to OpenSSL; below it the call overhead outweighs the gain. */
const NATIVE_MIN_BITS = 1024;
/** OpenSSL's ceiling for Diffie-Hellman moduli (OPENSSL_DH_MAX_MODULUS_BITS); above it BigInt computes. */
const NATIVE_MAX_BITS = 10000;
/** Moduli whose OpenSSL context is kept (a key's N², p², q², Ñ...): building one checks the modulus. */
const NATIVE_CACHE = 1024;

const toBytes = (x: bigint) => bigintToBytes(x, Math.ceil(bitLength(x) / 8));

/**
 * OpenSSL's exponentiation, if this runtime has it and it agrees with BigInt on a self-test:
 * a Diffie-Hellman context on modulus m, private key = the exponent, "peer key" = the base, so
 * the shared secret is base^exp mod m. Contexts are kept per modulus. Takes 2 ≤ b ≤ m − 2 and
 * e ≥ 1; undefined means OpenSSL did not compute the power and BigInt must.
 */
type NativePow = (b: bigint, e: bigint, m: bigint) => bigint | undefined;

const nativePow = ((): NativePow | undefined => {
  const runtime = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const createDh = (runtime?.getBuiltinModule?.("node:crypto") as { createDiffieHellman?: CreateDh } | undefined)
    ?.createDiffieHellman;
  if (createDh === undefined) return undefined;
  const contexts = new Map<bigint, DiffieHellman>();
  const context = (m: bigint): DiffieHellman | undefined => {
    let dh = contexts.get(m);
    if (dh !== undefined) return dh;
    try {
      dh = createDh(toBytes(m), Uint8Array.of(2));
    } catch {
      return undefined;
    }
    if (contexts.size >= NATIVE_CACHE) contexts.delete(contexts.keys().next().value as bigint);
    contexts.set(m, dh);
    return dh;
  };
  const raw = (dh: DiffieHellman, b: bigint, e: bigint): bigint | undefined => {
    try {
      dh.setPrivateKey(toBytes(e));
      const secret = dh.computeSecret(toBytes(b));
      // Node 20 throws for a refused secret; Node 22 hands back an empty buffer, which would read as 0.
      return secret.length === 0 ? undefined : bytesToBigint(secret);
    } catch {
      return undefined;
    }
  };
  const pow = (b: bigint, e: bigint, m: bigint): bigint | undefined => {
    const dh = context(m);
    if (dh === undefined) return undefined;
    const r = raw(dh, b, e);
    if (r !== undefined) return r;
    // Diffie-Hellman refuses a shared secret of 0, 1 or m − 1 (SP 800-56A's check), and nothing else
    // within the modulus sizes sent here. Handing such a power to BigInt would run a secret exponent
    // through the variable-time path exactly when a peer can arrange it (a Paillier ciphertext of 0
    // decrypts through c^(p−1) ≡ 1 mod p²), so one more power in OpenSSL tells the three apart:
    // b^(e+1) is b, m − b or 0, and b, m − b are never refused.
    const next = raw(dh, b, e + 1n);
    if (next === b) return 1n;
    if (next === m - b) return m - 1n;
    return undefined;
  };
  try {
    const m = (1n << 1279n) - 1n; // a Mersenne prime, odd and large enough to take the native path
    const b = 0x1234567890abcdef1234567890abcdefn;
    const e = (1n << 1000n) + 12345n;
    // The refused results too: Fermat's b^(m−1) ≡ 1 must come out as 1 on this runtime.
    return pow(b, e, m) === jsPow(b, e, m) && pow(b, m - 1n, m) === 1n ? pow : undefined;
  } catch {
    return undefined;
  }
})();

/** Whether exponentiations modulo m go to OpenSSL. */
const nativeModulus = (m: bigint) => {
  if (nativePow === undefined || (m & 1n) === 0n) return false;
  const bits = bitLength(m);
  return bits >= NATIVE_MIN_BITS && bits <= NATIVE_MAX_BITS;
};

/**
 * Whether exponentiations modulo m run in OpenSSL's constant-time code (Node, m odd, of 1024 to
 * 10000 bits). Elsewhere they run in BigInt, where callers may as well take cheaper variable-time
 * routes (shared squaring chains, tables).
 */
export function isConstantTimeModulus(m: bigint): boolean {
  return nativeModulus(m);
}

/**
 * b^e mod m computed by OpenSSL, or undefined where OpenSSL does not compute it (another runtime, a
 * modulus outside isConstantTimeModulus, b ∉ [2, m−2] after reduction, e < 2): what modPow and
 * SecretExponentBase send there, exposed so that tests can check the native path itself rather than
 * a silent BigInt fallback.
 */
export function opensslModPow(b: bigint, e: bigint, m: bigint): bigint | undefined {
  if (!nativeModulus(m) || e < 2n) return undefined;
  const r = mod(b, m);
  return r > 1n && r < m - 1n ? (nativePow as NativePow)(r, e, m) : undefined;
}

/** base^exp mod m for exp ≥ 0 (negative exponents go through modInv). */
export function modPow(base: bigint, exp: bigint, m: bigint): bigint {
  if (m === 1n) return 0n;
  if (exp < 0n) return modPow(modInv(base, m), -exp, m);
  const b = mod(base, m);
  // OpenSSL wants an odd modulus and a base in 2..m-2; exponents of any length above 1 work.
  if (nativeModulus(m) && b > 1n && b < m - 1n && exp > 1n)
    return (nativePow as NativePow)(b, exp, m) ?? jsPow(b, exp, m);
  return jsPow(b, exp, m);
}

/** Left-to-right k-ary exponentiation in BigInt; `b` already reduced mod m. */
function jsPow(b: bigint, exp: bigint, m: bigint): bigint {
  if (exp === 0n) return 1n;
  const bits = exp.toString(2);
  const w = windowFor(bits.length);
  const table: bigint[] = [1n, b];
  for (let i = 2; i < 1 << w; i++) table.push(((table[i - 1] as bigint) * b) % m);
  let r = 1n;
  const pad = (w - (bits.length % w)) % w;
  const padded = "0".repeat(pad) + bits;
  for (let i = 0; i < padded.length; i += w) {
    if (i > 0) for (let k = 0; k < w; k++) r = (r * r) % m;
    const d = Number.parseInt(padded.slice(i, i + w), 2);
    if (d) r = (r * (table[d] as bigint)) % m;
  }
  return r;
}

/**
 * Precomputed powers of a fixed base: g^e for many e at a fraction of the cost. Exponents longer
 * than the table was built for fall back to plain exponentiation, and so does everything where
 * OpenSSL does the exponentiation (no table is built then).
 */
export class FixedBase {
  private readonly table: bigint[][] = [];
  private static readonly W = 5;
  private readonly base: bigint;
  /** The same for base⁻¹, built on the first negative exponent: one inverse per base, not per call. */
  private inverse?: FixedBase;

  constructor(
    base: bigint,
    readonly modulus: bigint,
    readonly maxBits: number,
  ) {
    const w = FixedBase.W;
    let g = mod(base, modulus);
    this.base = g;
    // OpenSSL's exponentiation beats the table and needs none of its memory.
    if (nativeModulus(modulus)) return;
    for (let i = 0; i < Math.ceil(maxBits / w); i++) {
      const row: bigint[] = [1n, g];
      for (let d = 2; d < 1 << w; d++) row.push(((row[d - 1] as bigint) * g) % modulus);
      this.table.push(row);
      g = ((row[(1 << w) - 1] as bigint) * g) % modulus;
    }
  }

  pow(exp: bigint): bigint {
    if (exp < 0n) {
      this.inverse ??= new FixedBase(modInv(this.base, this.modulus), this.modulus, this.maxBits);
      return this.inverse.pow(-exp);
    }
    if (this.table.length === 0 || bitLength(exp) > this.maxBits) return modPow(this.base, exp, this.modulus);
    const w = BigInt(FixedBase.W);
    const mask = (1n << w) - 1n;
    let r = 1n;
    for (let i = 0; exp > 0n; i++, exp >>= w) {
      const d = Number(exp & mask);
      if (d) r = (r * ((this.table[i] as bigint[])[d] as bigint)) % this.modulus;
    }
    return r;
  }
}

/**
 * Powers of one base to secret exponents, constant-time where OpenSSL computes them
 * (isConstantTimeModulus); under BigInt it is modPow, no better and no worse.
 *
 * A signed exponent e with |e| < 2^bits (`bits` public: the range e was drawn from) is computed as
 * base^(e + 3·2^bits) · base^(−3·2^bits). The shifted exponent lies in (2^(bits+1), 2^(bits+2)),
 * positive and of the same length whatever e is, so OpenSSL sees neither e's sign (modPow would
 * invert the base for a negative exponent, a whole extended Euclid) nor its length. The second
 * factor is public and kept per length. The shift itself is one BigInt addition, whose cost in the
 * engine can still depend on e's sign and length.
 */
export class SecretExponentBase {
  private readonly base: bigint;
  private readonly native: boolean;
  /** base^(−3·2^bits) by bits. */
  private readonly corrections = new Map<number, bigint>();

  constructor(
    base: bigint,
    readonly modulus: bigint,
  ) {
    this.base = mod(base, modulus);
    // Bases 0, 1 and m − 1 give away an exponent's parity in the result anyway; modPow takes them.
    this.native = nativeModulus(modulus) && this.base > 1n && this.base < modulus - 1n;
  }

  /** base^exp mod m for |exp| < 2^bits; the base must be a unit (the shift is undone by its inverse). */
  pow(exp: bigint, bits: number): bigint {
    if (!this.native) return modPow(this.base, exp, this.modulus);
    // Only a witness outside its range (a cheating prover's, or a test's) exceeds the bound; a wider
    // shift still computes the right power.
    if (exp >= 1n << BigInt(bits) || -exp >= 1n << BigInt(bits)) bits = bitLength(exp);
    const m = this.modulus;
    const shifted = exp + (3n << BigInt(bits));
    const r = (nativePow as NativePow)(this.base, shifted, m) ?? jsPow(this.base, shifted, m);
    return (r * this.correction(bits)) % m;
  }

  private correction(bits: number): bigint {
    const known = this.corrections.get(bits);
    if (known !== undefined) return known;
    // base^(−3·2^k) is base^(−3·2^j) squared k − j times: start from the longest one already known.
    let from = -1;
    for (const j of this.corrections.keys()) if (j < bits && j > from) from = j;
    const c =
      from < 0
        ? modPow(this.base, -(3n << BigInt(bits)), this.modulus)
        : modPow(this.corrections.get(from) as bigint, 1n << BigInt(bits - from), this.modulus);
    this.corrections.set(bits, c);
    return c;
  }
}

export function gcd(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a;
  b = b < 0n ? -b : b;
  while (b) [a, b] = [b, a % b];
  return a;
}

/** a⁻¹ mod m; throws if a is not invertible. */
export function modInv(a: bigint, m: bigint): bigint {
  let [r0, r1] = [mod(a, m), m];
  let [s0, s1] = [1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  if (r0 !== 1n) throw new RangeError("not invertible");
  return mod(s0, m);
}

/** Jacobi symbol (a/n) for odd n > 0. */
export function jacobi(a: bigint, n: bigint): number {
  if (n <= 0n || n % 2n === 0n) throw new RangeError("jacobi needs an odd positive modulus");
  a = mod(a, n);
  let t = 1;
  while (a !== 0n) {
    while (a % 2n === 0n) {
      a /= 2n;
      const r = n % 8n;
      if (r === 3n || r === 5n) t = -t;
    }
    [a, n] = [n, a];
    if (a % 4n === 3n && n % 4n === 3n) t = -t;
    a %= n;
  }
  return n === 1n ? t : 0;
}

/** x with x ≡ a (mod p), x ≡ b (mod q), given qInvP = q⁻¹ mod p. */
export function crt(a: bigint, p: bigint, b: bigint, q: bigint, qInvP: bigint): bigint {
  return b + q * mod((a - b) * qInvP, p);
}

/** Uniform integer in [0, n) by rejection sampling. */
export function randomBelow(n: bigint): bigint {
  if (n <= 0n) throw new RangeError("empty range");
  const bits = bitLength(n - 1n);
  for (;;) {
    const x = randomBits(bits);
    if (x < n) return x;
  }
}

/** Uniform integer of at most `bits` bits. */
export function randomBits(bits: number): bigint {
  if (bits <= 0) return 0n;
  const bytes = randomBytes(Math.ceil(bits / 8));
  const excess = bytes.length * 8 - bits;
  bytes[0] = (bytes[0] as number) & (0xff >> excess);
  return bytesToBigint(bytes);
}

/** Uniform integer in [-bound, bound]. */
export function randomSigned(bound: bigint): bigint {
  return randomBelow(2n * bound + 1n) - bound;
}

/** Uniform element of Z*_n. */
export function randomUnit(n: bigint): bigint {
  for (;;) {
    const x = randomBelow(n);
    if (x !== 0n && gcd(x, n) === 1n) return x;
  }
}

export function isqrt(n: bigint): bigint {
  if (n < 0n) throw new RangeError("negative");
  if (n < 2n) return n;
  let x = 1n << BigInt(Math.ceil(bitLength(n) / 2));
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}
