/**
 * Paillier encryption with generator g = N + 1 (Paillier, EUROCRYPT '99; the g = N+1 form used
 * throughout CGGMP21, eprint 2021/060, §2 "Paillier encryption"): Enc(m; r) = (1+N)^m · r^N mod N².
 *
 * The secret key holds the two primes so that everything the holder computes (decryption and its
 * own encryptions) runs modulo p² and q² instead of N², roughly a 2.5× saving. Keys are Blum
 * (p ≡ q ≡ 3 mod 4) because Πmod (CGGMP21 Fig. 16) proves exactly that shape.
 */
import { bitLength, type Reader, type Writer } from "../codec/codec.js";
import { crt, gcd, mod, modInv, modPow, randomUnit } from "../math/bigint.js";
import { isProbablePrime, randomPrime } from "../math/primes.js";
import { ProtocolAbort } from "../session/party.js";

/** Smallest Paillier modulus accepted from a peer (CGGMP21 sets |N| ≥ 8ℓ = 2048 for ℓ = 256). */
export const PAILLIER_MIN_BITS = 2048;
/** Largest modulus accepted from a peer, so a hostile key cannot make us compute for minutes. */
export const PAILLIER_MAX_BITS = 8192;

export class PaillierPublicKey {
  readonly n: bigint;
  readonly n2: bigint;

  constructor(n: bigint) {
    if (n < 3n) throw new RangeError("Paillier modulus too small");
    this.n = n;
    this.n2 = n * n;
  }

  /** (1+N)^m · r^N mod N², with m taken mod N so negative plaintexts work. r must be a unit. */
  encrypt(m: bigint, r: bigint): bigint {
    return this.withRandomness(m, modPow(r, this.n, this.n2));
  }

  /** Combines the plaintext part with a precomputed r^N; shared with the CRT path of the secret key. */
  withRandomness(m: bigint, rN: bigint): bigint {
    // (1+N)^m = 1 + mN (mod N²): the binomial terms beyond the linear one all carry N².
    return ((1n + mod(m, this.n) * this.n) * rN) % this.n2;
  }

  encryptRandom(m: bigint): { c: bigint; r: bigint } {
    const r = randomUnit(this.n);
    return { c: this.encrypt(m, r), r };
  }

  /** Enc(m1) · Enc(m2) = Enc(m1 + m2). */
  add(c1: bigint, c2: bigint): bigint {
    return (c1 * c2) % this.n2;
  }

  /** Enc(m)^k = Enc(k·m); a negative k goes through the inverse of c. */
  mulPlain(c: bigint, k: bigint): bigint {
    return modPow(c, k, this.n2);
  }

  /** Enc(m1) · (1 + m2·N) = Enc(m1 + m2) without fresh randomness. */
  addPlain(c: bigint, m: bigint): bigint {
    return (c * (1n + mod(m, this.n) * this.n)) % this.n2;
  }

  /** A well-formed ciphertext: in (0, N²) and coprime to N (a non-unit would reveal a factor). */
  isCiphertext(c: bigint): boolean {
    return c > 0n && c < this.n2 && gcd(c, this.n) === 1n;
  }

  /** A well-formed encryption randomness: in (0, N) and coprime to N. */
  isUnit(r: bigint): boolean {
    return r > 0n && r < this.n && gcd(r, this.n) === 1n;
  }
}

/** Everything decryption and CRT encryption need, computed once per key. */
interface Precomputed {
  p2: bigint;
  q2: bigint;
  /** (q mod p)⁻¹ for recombining residues mod p and q. */
  qInvP: bigint;
  /** (q² mod p²)⁻¹ for recombining residues mod p² and q². */
  q2InvP2: bigint;
  /** L_p((1+N)^{p−1} mod p²)⁻¹ mod p, which for g = N+1 is (−q)⁻¹ mod p. */
  hp: bigint;
  hq: bigint;
  /** Exponents for r^N mod p² (see encrypt). */
  qModPm1: bigint;
  pModQm1: bigint;
  /** Whether p and q passed a primality test; the CRT encryption and unit-check shortcuts need primes. */
  primes: boolean;
}

export class PaillierSecretKey {
  readonly publicKey: PaillierPublicKey;
  private pre: Precomputed | undefined;

  private constructor(
    readonly p: bigint,
    readonly q: bigint,
    /** Set by generate(), whose factors are prime by construction; fromPrimes() tests lazily. */
    private readonly knownPrime: boolean,
  ) {
    this.publicKey = new PaillierPublicKey(p * q);
  }

  /**
   * A fresh key with N of exactly `bits` bits: two distinct Blum primes of bits/2 bits each (randomPrime
   * sets their two top bits, so the product cannot come out one bit short). Sizes below
   * PAILLIER_MIN_BITS are possible for experiments but every reader and verifier rejects them.
   */
  static generate(bits = PAILLIER_MIN_BITS): PaillierSecretKey {
    if (bits % 2 !== 0 || bits < 256) throw new RangeError("Paillier modulus size must be even and ≥ 256 bits");
    const p = randomPrime(bits / 2, true);
    let q = randomPrime(bits / 2, true);
    while (q === p) q = randomPrime(bits / 2, true);
    // Equal-size primes also give gcd(N, φ(N)) = 1: neither prime can divide the other minus one.
    return new PaillierSecretKey(p, q, true);
  }

  /**
   * A key from given factors. Only what the arithmetic needs is checked (odd, distinct, coprime):
   * tests build deliberately malformed keys (non-Blum, non-prime factors) through here, so that the
   * honest prover code runs on them and the verifiers are seen to reject the result.
   */
  static fromPrimes(p: bigint, q: bigint): PaillierSecretKey {
    if (p < 3n || q < 3n || p % 2n === 0n || q % 2n === 0n) throw new RangeError("factors must be odd and > 1");
    if (p === q || gcd(p, q) !== 1n) throw new RangeError("factors must be distinct and coprime");
    return new PaillierSecretKey(p, q, false);
  }

  private precomputed(): Precomputed {
    if (this.pre) return this.pre;
    const { p, q } = this;
    const p2 = p * p;
    const q2 = q * q;
    // Malformed test keys may have no such inverses; decryption under them is meaningless anyway.
    const inv = (a: bigint, m: bigint): bigint => {
      try {
        return modInv(a, m);
      } catch {
        return 0n;
      }
    };
    this.pre = {
      p2,
      q2,
      qInvP: inv(q, p),
      q2InvP2: inv(q2, p2),
      hp: inv(mod(-q, p), p),
      hq: inv(mod(-p, q), q),
      qModPm1: q % (p - 1n),
      pModQm1: p % (q - 1n),
      // Miller–Rabin, not a Fermat test: a Carmichael or base-2 pseudoprime factor would otherwise
      // take the shortcuts, the unit checks on a peer's values among them.
      primes: this.knownPrime || (isProbablePrime(p) && isProbablePrime(q)),
    };
    return this.pre;
  }

  /** Plaintext in [0, N): m ≡ L_p(c^{p−1} mod p²)·h_p (mod p), likewise mod q, then CRT. */
  decrypt(c: bigint): bigint {
    const { p, q } = this;
    const k = this.precomputed();
    const mp = (((modPow(c, p - 1n, k.p2) - 1n) / p) * k.hp) % p;
    const mq = (((modPow(c, q - 1n, k.q2) - 1n) / q) * k.hq) % q;
    return crt(mp, p, mq, q, k.qInvP);
  }

  /** Plaintext as the representative in (−N/2, N/2], for values that may be negative. */
  decryptSigned(c: bigint): bigint {
    const m = this.decrypt(c);
    return 2n * m > this.publicKey.n ? m - this.publicKey.n : m;
  }

  /**
   * Same ciphertext as publicKey.encrypt, with r^N computed mod p² and q². Modulo p² the value r^N
   * depends only on r mod p: r^N = (r^q)^p, and u ↦ u^p mod p² depends only on u mod p (binomial
   * theorem), while r^q ≡ (r mod p)^{q mod (p−1)} (mod p) by Fermat. So one half-size exponentiation
   * mod p and one with the 1024-bit exponent p mod p² replace a 2048-bit exponent mod N².
   */
  encrypt(m: bigint, r: bigint): bigint {
    const k = this.precomputed();
    if (!k.primes) return this.publicKey.encrypt(m, r);
    const { p, q } = this;
    const rp = modPow(modPow(r % p, k.qModPm1, p), p, k.p2);
    const rq = modPow(modPow(r % q, k.pModQm1, q), q, k.q2);
    return this.publicKey.withRandomness(m, crt(rp, k.p2, rq, k.q2, k.q2InvP2));
  }

  /** As `publicKey.isCiphertext`; with known prime factors, two reductions replace the gcd. */
  isCiphertext(c: bigint): boolean {
    return c > 0n && c < this.publicKey.n2 && this.coprimeToN(c);
  }

  /** As `publicKey.isUnit`, likewise. */
  isUnit(x: bigint): boolean {
    return x > 0n && x < this.publicKey.n && this.coprimeToN(x);
  }

  private coprimeToN(x: bigint): boolean {
    if (!this.precomputed().primes) return gcd(x, this.publicKey.n) === 1n;
    return x % this.p !== 0n && x % this.q !== 0n;
  }

  phi(): bigint {
    return (this.p - 1n) * (this.q - 1n);
  }
}

export function writePaillierPublicKey(w: Writer, pk: PaillierPublicKey): void {
  w.bigint(pk.n);
}

/**
 * Reads a peer's key: an odd modulus of PAILLIER_MIN_BITS to PAILLIER_MAX_BITS bits. A rejection is a
 * ProtocolAbort naming `sender` (by default the party the reader's bytes came from).
 */
export function readPaillierPublicKey(r: Reader, sender: number | null = r.sender): PaillierPublicKey {
  const n = r.bigint(PAILLIER_MAX_BITS);
  if (bitLength(n) < PAILLIER_MIN_BITS)
    throw new ProtocolAbort(sender, "malformed message: Paillier modulus too small");
  if (n % 2n === 0n) throw new ProtocolAbort(sender, "malformed message: even Paillier modulus");
  return new PaillierPublicKey(n);
}

/** A secret key as stored in a share or a saved run: its two primes. */
export function writePaillierSecretKey(w: Writer, sk: PaillierSecretKey): void {
  w.bigint(sk.p);
  w.bigint(sk.q);
}

export function readPaillierSecretKey(r: Reader): PaillierSecretKey {
  return PaillierSecretKey.fromPrimes(r.bigint(PAILLIER_MAX_BITS / 2), r.bigint(PAILLIER_MAX_BITS / 2));
}

/**
 * A ciphertext under `key` (a public key, or the reader's own secret key, which checks it faster),
 * read strictly: in [1, N²) and a unit (Alpha-Rays-style group check).
 */
export function readCiphertext(r: Reader, key: PaillierPublicKey | PaillierSecretKey): bigint {
  const n2 = key instanceof PaillierSecretKey ? key.publicKey.n2 : key.n2;
  const c = r.below(n2);
  if (!key.isCiphertext(c)) r.fail("not a valid Paillier ciphertext");
  return c;
}
