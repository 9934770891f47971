/**
 * OT extension (Keller–Orsini–Scholl 2015, actively secure, with the consistency check in the
 * block form that Roy's SoftSpokenOT analysis (eprint 2022/192) supports), from κ = 128 base OTs
 * with the roles swapped: the base-OT sender becomes the extension receiver.
 *
 *   receiver: x = choices ‖ random padding; tᵇᵢ = PRG(seedᵇᵢ); uᵢ = t⁰ᵢ ⊕ t¹ᵢ ⊕ x (i < κ)
 *             χ_b = H(u); x̃ = Σ x_b·χ_b ⊕ x_pad; t̃ᵢ = Σ t⁰ᵢ,b·χ_b ⊕ t⁰ᵢ,pad      → u, x̃, t̃
 *   sender:   qᵢ = PRG(seedᵢ) ⊕ Δᵢ·uᵢ = t⁰ᵢ ⊕ Δᵢ·x; checks q̃ᵢ = t̃ᵢ ⊕ Δᵢ·x̃ for every i
 *
 * Blocks are 208 bits and multiplied in GF(2²⁰⁸) = GF(2)[X]/(X²⁰⁸ + X⁹ + X³ + X + 1); the
 * padding is one block, so that x̃ reveals nothing of the choices. After the check, column j of
 * the matrices gives the j-th OT: the sender's Qⱼ and Qⱼ ⊕ Δ, the receiver's Tⱼ = Q_{j} ⊕ xⱼ·Δ;
 * each is hashed (with a fresh salt of the sender's) into `width` scalars mod the curve order
 * (random OTs), and `transfer` turns them
 * into correlated OTs (DKLs18 Protocol 9): sender tᴬ, receiver tᴮ with tᴬ + tᴮ = xⱼ·αⱼ.
 *
 * The PRG and every hash are bound to the extension's session id `osid`, which must be fresh for
 * every extension run from the same base OTs: a repeated osid repeats the pads.
 *
 * Timing. The secrets here are the receiver's choices x and rows t⁰ᵢ, the sender's Δ and rows qᵢ,
 * and the pads. None of their bits selects a branch or a memory address: products in GF(2²⁰⁸)
 * add every row of the (public) χ table under a mask; the columns are cut out by 8×8 bit
 * transposes; uᵢ and x̃ are added under Δᵢ's mask; each pad is reduced mod n, and xⱼ·τⱼ,ₖ − v
 * computed, in 16-bit limbs with masks (SHA-256 has no data-dependent branch either). What is
 * still not constant-time, being JavaScript BigInt (no branch of ours, but a cost that follows
 * the values): turning the sender's pads v⁰, v¹ and the receiver's results tᴮ into BigInts, and
 * the sender's range check of αⱼ,ₖ and τⱼ,ₖ = v¹ + (n − v⁰) + αⱼ,ₖ mod n.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { randomBytes } from "@noble/hashes/utils.js";
import { CURVE_ORDER } from "../codec/codec.js";
import { TailHash } from "./tail-hash.js";

export const KAPPA = 128;
export const BLOCK_BITS = 208;
const BLOCK_BYTES = BLOCK_BITS / 8;
/** X²⁰⁸ + X⁹ + X³ + X + 1. */
export const GF_MODULUS = (1n << 208n) | (1n << 9n) | (1n << 3n) | (1n << 1n) | 1n;
const LOW_TERMS = Number(GF_MODULUS & 0xffffn);

export interface KosMessage {
  /** κ rows of (count + 208) bits. */
  u: Uint8Array[];
  xTilde: Uint8Array;
  /** κ check values of 208 bits. */
  tTilde: Uint8Array[];
}

export interface KosReceiverOutput {
  /** Choice bits, one byte (0 or 1) per OT. */
  choices: Uint8Array;
  /** Tⱼ, κ/8 bytes per OT. */
  T: Uint8Array[];
}

function checkCount(count: number): number {
  if (!Number.isInteger(count) || count <= 0 || count % BLOCK_BITS !== 0) {
    throw new RangeError(`OT count must be a positive multiple of ${BLOCK_BITS}`);
  }
  return (count + BLOCK_BITS) / 8;
}

function tagged(tag: string, osid: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const chunks = [new TextEncoder().encode(tag), osid, ...parts];
  const total = chunks.reduce((n, c) => n + 4 + c.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let o = 0;
  for (const c of chunks) {
    view.setUint32(o, c.length);
    out.set(c, o + 4);
    o += 4 + c.length;
  }
  return out;
}

const u32 = (i: number) => new Uint8Array([i >>> 24, (i >>> 16) & 0xff, (i >>> 8) & 0xff, i & 0xff]);

/** SHA-256 in counter mode: PRG(seed) for one row of the extension matrix. */
function prgRows(osid: Uint8Array, bytes: number): (i: number, seed: Uint8Array) => Uint8Array {
  const hash = new TailHash(tagged("keyshard/kos/prg/v1", osid));
  const tail = new Uint8Array(8 + 32);
  const view = new DataView(tail.buffer);
  return (i, seed) => {
    if (seed.length !== 32) throw new RangeError("base-OT keys are 32 bytes");
    const out = new Uint8Array(Math.ceil(bytes / 32) * 32);
    view.setUint32(0, i);
    tail.set(seed, 8);
    for (let c = 0; c * 32 < bytes; c++) {
      view.setUint32(4, c);
      hash.hashInto(tail, out, c * 32);
    }
    return out.subarray(0, bytes);
  };
}

function xorInto(a: Uint8Array, b: Uint8Array): void {
  for (let k = 0; k < a.length; k++) a[k] = (a[k] as number) ^ (b[k] as number);
}

/** a ^= b & m, for a byte mask m (0 or 0xff). */
function xorMaskedInto(a: Uint8Array, b: Uint8Array, m: number): void {
  for (let k = 0; k < a.length; k++) a[k] = (a[k] as number) ^ ((b[k] as number) & m);
}

/**
 * GF(2²⁰⁸) elements as 7 little-endian 32-bit words (bit b of word w is X^(32w+b)); the bytes of
 * a block, read little-endian, are the same bits.
 */
const WORDS = 7;

function wordsOf(bytes: Uint8Array, offset: number): Uint32Array {
  const out = new Uint32Array(WORDS);
  for (let k = 0; k < BLOCK_BYTES; k++) {
    out[k >> 2] = (out[k >> 2] as number) | ((bytes[offset + k] as number) << (8 * (k & 3)));
  }
  return out;
}

function bytesOf(words: Uint32Array): Uint8Array {
  const out = new Uint8Array(BLOCK_BYTES);
  for (let k = 0; k < BLOCK_BYTES; k++) out[k] = ((words[k >> 2] as number) >>> (8 * (k & 3))) & 0xff;
  return out;
}

/**
 * χ·X^k mod f for every k < 208, as rows of 7 words: multiplying by χ is a XOR per set bit. χ is
 * public (hashed from u), so building the table may branch on it.
 */
export function multiplicationTable(chi: Uint8Array): Uint32Array {
  const table = new Uint32Array(BLOCK_BITS * WORDS);
  let cur = wordsOf(chi, 0);
  for (let k = 0; k < BLOCK_BITS; k++) {
    table.set(cur, k * WORDS);
    const next = new Uint32Array(WORDS);
    for (let w = WORDS - 1; w >= 0; w--) {
      next[w] = (((cur[w] as number) << 1) | (w > 0 ? (cur[w - 1] as number) >>> 31 : 0)) >>> 0;
    }
    // X²⁰⁸ is bit 16 of word 6: replace it by the modulus's low terms, X⁹ + X³ + X + 1.
    if ((next[6] as number) & 0x10000) {
      next[6] = (next[6] as number) & 0xffff;
      next[0] = (next[0] as number) ^ LOW_TERMS;
    }
    cur = next;
  }
  return table;
}

/**
 * acc ^= y·χ in GF(2²⁰⁸), y given as the 26 bytes of `row` from `offset`. y is secret: every row
 * of the table is read and added under its bit's mask (0 or all ones), never skipped. The
 * accumulator lives in locals, which keeps this as fast as the branching form was (its branches
 * on random bits were mispredicted half the time).
 */
export function multiplyBlockInto(acc: Uint32Array, row: Uint8Array, offset: number, table: Uint32Array): void {
  if (table.length !== BLOCK_BITS * WORDS || acc.length !== WORDS || offset + BLOCK_BYTES > row.length) {
    throw new RangeError("a 208-bit block, a 7-word accumulator and a 208-row table");
  }
  let a0 = acc[0] as number;
  let a1 = acc[1] as number;
  let a2 = acc[2] as number;
  let a3 = acc[3] as number;
  let a4 = acc[4] as number;
  let a5 = acc[5] as number;
  let a6 = acc[6] as number;
  let t = 0;
  for (let k = 0; k < BLOCK_BYTES; k++) {
    const byte = row[offset + k] as number;
    for (let b = 0; b < 8; b++, t += WORDS) {
      const m = -((byte >>> b) & 1);
      a0 ^= (table[t] as number) & m;
      a1 ^= (table[t + 1] as number) & m;
      a2 ^= (table[t + 2] as number) & m;
      a3 ^= (table[t + 3] as number) & m;
      a4 ^= (table[t + 4] as number) & m;
      a5 ^= (table[t + 5] as number) & m;
      a6 ^= (table[t + 6] as number) & m;
    }
  }
  acc[0] = a0;
  acc[1] = a1;
  acc[2] = a2;
  acc[3] = a3;
  acc[4] = a4;
  acc[5] = a5;
  acc[6] = a6;
}

/** The check's χ_b, one per choice block, from the receiver's u. */
function challenges(osid: Uint8Array, u: readonly Uint8Array[], blocks: number): Uint32Array[] {
  const digest = sha256.create();
  for (const row of u) digest.update(row);
  const uHash = digest.digest();
  return Array.from({ length: blocks - 1 }, (_, b) =>
    multiplicationTable(sha256(tagged("keyshard/kos/chi/v1", osid, uHash, u32(b))).subarray(0, BLOCK_BYTES)),
  );
}

/** Σ_b row_b·χ_b ⊕ row_pad: the check value of one row. */
function compress(row: Uint8Array, tables: readonly Uint32Array[]): Uint8Array {
  const acc = wordsOf(row, tables.length * BLOCK_BYTES);
  tables.forEach((table, b) => {
    multiplyBlockInto(acc, row, b * BLOCK_BYTES, table);
  });
  return bytesOf(acc);
}

/**
 * The first `count` columns of κ rows, each packed LSB first as a κ-bit string. The rows are
 * secret, so this takes them in 8×8 bit blocks — byte k of rows 8g … 8g+7 becomes byte g of
 * columns 8k … 8k+7 — and transposes each with shifts and masks (three delta swaps on its two
 * 32-bit halves), touching every bit the same way whatever its value.
 */
function columns(rows: readonly Uint8Array[], count: number): Uint8Array[] {
  if (rows.length % 8 !== 0 || count % 8 !== 0 || rows.some((row) => row.length < count / 8)) {
    throw new RangeError("whole bytes of rows and columns");
  }
  const out = Array.from({ length: count }, () => new Uint8Array(rows.length / 8));
  for (let g = 0; g < rows.length / 8; g++) {
    const r = rows.slice(8 * g, 8 * g + 8) as Uint8Array[];
    const [r0, r1, r2, r3, r4, r5, r6, r7] = r as [
      Uint8Array,
      Uint8Array,
      Uint8Array,
      Uint8Array,
      Uint8Array,
      Uint8Array,
      Uint8Array,
      Uint8Array,
    ];
    for (let k = 0; k < count / 8; k++) {
      // Bit b of byte i (row 8g+i, column 8k+b) is bit 8i+b of lo:hi; the transpose moves it to 8b+i.
      let lo = (r0[k] as number) | ((r1[k] as number) << 8) | ((r2[k] as number) << 16) | ((r3[k] as number) << 24);
      let hi = (r4[k] as number) | ((r5[k] as number) << 8) | ((r6[k] as number) << 16) | ((r7[k] as number) << 24);
      let t = (lo ^ (lo >>> 7)) & 0x00aa00aa;
      lo ^= t ^ (t << 7);
      t = (hi ^ (hi >>> 7)) & 0x00aa00aa;
      hi ^= t ^ (t << 7);
      t = (lo ^ (lo >>> 14)) & 0x0000cccc;
      lo ^= t ^ (t << 14);
      t = (hi ^ (hi >>> 14)) & 0x0000cccc;
      hi ^= t ^ (t << 14);
      t = (lo ^ (hi << 4)) & 0xf0f0f0f0;
      lo ^= t;
      hi ^= t >>> 4;
      const c = 8 * k;
      (out[c] as Uint8Array)[g] = lo;
      (out[c + 1] as Uint8Array)[g] = lo >>> 8;
      (out[c + 2] as Uint8Array)[g] = lo >>> 16;
      (out[c + 3] as Uint8Array)[g] = lo >>> 24;
      (out[c + 4] as Uint8Array)[g] = hi;
      (out[c + 5] as Uint8Array)[g] = hi >>> 8;
      (out[c + 6] as Uint8Array)[g] = hi >>> 16;
      (out[c + 7] as Uint8Array)[g] = hi >>> 24;
    }
  }
  return out;
}

/** Receiver: extends its base-OT key pairs (seeds0ᵢ, seeds1ᵢ) into `count` OTs with random choices. */
export function kosReceive(
  osid: Uint8Array,
  seeds0: readonly Uint8Array[],
  seeds1: readonly Uint8Array[],
  count: number,
): { message: KosMessage; output: KosReceiverOutput } {
  const rowBytes = checkCount(count);
  if (seeds0.length !== KAPPA || seeds1.length !== KAPPA) throw new RangeError(`need ${KAPPA} base OTs`);
  const x = randomBytes(rowBytes);
  const prg = prgRows(osid, rowBytes);
  const t0 = seeds0.map((s, i) => prg(i, s));
  const u = seeds1.map((s, i) => {
    const row = prg(i, s);
    xorInto(row, t0[i] as Uint8Array);
    xorInto(row, x);
    return row;
  });
  const tables = challenges(osid, u, rowBytes / BLOCK_BYTES);
  const message = { u, xTilde: compress(x, tables), tTilde: t0.map((row) => compress(row, tables)) };
  const choices = new Uint8Array(count);
  for (let j = 0; j < count; j++) choices[j] = ((x[j >> 3] as number) >> (j & 7)) & 1;
  return { message, output: { choices, T: columns(t0, count) } };
}

/**
 * Sender: from its base-OT choices Δ (one byte 0/1 per base OT) and keys, checks the receiver's
 * message and returns Qⱼ per OT (with Δ packed, for Qⱼ ⊕ Δ). `ok: false` means the receiver
 * cheated; since Δ is reused, the caller must never run these base OTs with that receiver again.
 */
export function kosSend(
  osid: Uint8Array,
  delta: Uint8Array,
  seeds: readonly Uint8Array[],
  message: KosMessage,
  count: number,
): { ok: false } | { ok: true; Q: Uint8Array[]; delta: Uint8Array } {
  const rowBytes = checkCount(count);
  if (seeds.length !== KAPPA || delta.length !== KAPPA) throw new RangeError(`need ${KAPPA} base OTs`);
  let notBits = 0;
  for (const d of delta) notBits |= d & ~1;
  if (notBits !== 0) throw new RangeError("Δ is one bit (0 or 1) per base OT");
  const { u, xTilde, tTilde } = message;
  if (u.length !== KAPPA || tTilde.length !== KAPPA || xTilde.length !== BLOCK_BYTES) return { ok: false };
  if (u.some((row) => row.length !== rowBytes) || tTilde.some((v) => v.length !== BLOCK_BYTES)) return { ok: false };
  const tables = challenges(osid, u, rowBytes / BLOCK_BYTES);
  const prg = prgRows(osid, rowBytes);
  let bad = 0;
  const q = seeds.map((s, i) => {
    const row = prg(i, s);
    const expected = (tTilde[i] as Uint8Array).slice();
    // Δᵢ is secret: uᵢ and x̃ go into every row, under its mask.
    const m = -((delta[i] as number) & 1) & 0xff;
    xorMaskedInto(row, u[i] as Uint8Array, m);
    xorMaskedInto(expected, xTilde, m);
    const got = compress(row, tables);
    for (let k = 0; k < BLOCK_BYTES; k++) bad |= (got[k] as number) ^ (expected[k] as number);
    return row;
  });
  if (bad !== 0) return { ok: false };
  const packed = new Uint8Array(KAPPA / 8);
  delta.forEach((d, i) => {
    packed[i >> 3] = (packed[i >> 3] as number) | ((d & 1) << (i & 7));
  });
  return { ok: true, Q: columns(q, count), delta: packed };
}

/**
 * The random-OT hash: `width` scalars from one column (bias below 2⁻¹²⁷ per scalar), under the
 * session and a fresh salt of the sender's: the pads are new even if the sender is made to answer
 * one session twice (e.g. a saved state restored in two processes) — with repeated pads, two
 * answers to extension messages with different choices would reveal the sender's correlations.
 * Each pad is written to `out` as 16 little-endian 16-bit limbs, already reduced mod n.
 */
function padHash(osid: Uint8Array, salt: Uint8Array): (j: number, row: Uint8Array, k: number, out: Int32Array) => void {
  if (salt.length !== SALT_BYTES) throw new RangeError("salt must be 32 bytes");
  const key = new Uint8Array(osid.length + SALT_BYTES);
  key.set(osid);
  key.set(salt, osid.length);
  const hash = new TailHash(tagged("keyshard/kos/randomize/v1", key));
  const tail = new Uint8Array(8 + KAPPA / 8);
  const tailView = new DataView(tail.buffer);
  const digest = new Uint8Array(32);
  return (j, row, k, out) => {
    if (row.length !== KAPPA / 8) throw new RangeError("random-OT rows are κ bits");
    tailView.setUint32(0, j);
    tailView.setUint32(4, k);
    tail.set(row, 8);
    hash.hashInto(tail, digest);
    limbsFromBytes(digest, out);
    reduceOnce(out);
  };
}

export const SALT_BYTES = 32;

/**
 * Scalars mod n as 16 limbs of 16 bits, least significant first: small enough that a sum, a
 * difference and its borrow stay in 32-bit integers, so carries come from shifts, not branches.
 */
const LIMBS = 16;

function limbsFromBytes(bytes: Uint8Array, out: Int32Array): void {
  for (let i = 0; i < LIMBS; i++) out[i] = ((bytes[30 - 2 * i] as number) << 8) | (bytes[31 - 2 * i] as number);
}

/** Scratch space for converting between limbs and BigInt (every use is synchronous). */
const scratch = new Uint8Array(32);
const scratchView = new DataView(scratch.buffer);

function limbsToBigint(x: Int32Array): bigint {
  for (let i = 0; i < LIMBS / 2; i++) {
    scratchView.setUint32(28 - 4 * i, (x[2 * i] as number) | ((x[2 * i + 1] as number) << 16));
  }
  const v = scratchView;
  return (v.getBigUint64(0) << 192n) | (v.getBigUint64(8) << 128n) | (v.getBigUint64(16) << 64n) | v.getBigUint64(24);
}

/** A public scalar's limbs (setBigUint64 keeps the low 64 bits of what it is given). */
function limbsFromBigint(x: bigint, out: Int32Array): void {
  scratchView.setBigUint64(0, x >> 192n);
  scratchView.setBigUint64(8, x >> 128n);
  scratchView.setBigUint64(16, x >> 64n);
  scratchView.setBigUint64(24, x);
  limbsFromBytes(scratch, out);
}

const ORDER = new Int32Array(LIMBS);
limbsFromBigint(CURVE_ORDER, ORDER);

const difference = new Int32Array(LIMBS);

/** x mod n for x < 2²⁵⁶ < 2n: subtracts n, and keeps the difference under the mask of its borrow. */
function reduceOnce(x: Int32Array): void {
  const d = difference;
  let borrow = 0;
  for (let i = 0; i < LIMBS; i++) {
    const v = (x[i] as number) - (ORDER[i] as number) - borrow;
    d[i] = v & 0xffff;
    borrow = (v >> 16) & 1;
  }
  const keep = -borrow & 0xffff; // x < n: keep x
  for (let i = 0; i < LIMBS; i++) x[i] = (d[i] as number) ^ (((d[i] as number) ^ (x[i] as number)) & keep);
}

/** (c·a − b) mod n for a, b < n and a bit c, by masks: a under c's mask, n added under the borrow's. */
function maskedSubMod(c: number, a: Int32Array, b: Int32Array, out: Int32Array): void {
  const m = -(c & 1) & 0xffff;
  let borrow = 0;
  for (let i = 0; i < LIMBS; i++) {
    const v = ((a[i] as number) & m) - (b[i] as number) - borrow;
    out[i] = v & 0xffff;
    borrow = (v >> 16) & 1;
  }
  const add = -borrow & 0xffff;
  let carry = 0;
  for (let i = 0; i < LIMBS; i++) {
    const v = (out[i] as number) + ((ORDER[i] as number) & add) + carry;
    out[i] = v & 0xffff;
    carry = v >>> 16;
  }
}

/**
 * Sender's correlated OTs: for correlations αⱼ,ₖ (width k per OT) it keeps tᴬⱼ,ₖ and sends
 * τⱼ,ₖ = v¹ − v⁰ + α with its fresh salt, where v⁰, v¹ hash Qⱼ and Qⱼ ⊕ Δ.
 */
export function transferSend(
  osid: Uint8Array,
  Q: readonly Uint8Array[],
  delta: Uint8Array,
  alpha: readonly bigint[][],
): { tA: bigint[][]; tau: bigint[][]; salt: Uint8Array } {
  const tA: bigint[][] = [];
  const tau: bigint[][] = [];
  const salt = randomBytes(SALT_BYTES);
  const hash = padHash(osid, salt);
  const pad = new Int32Array(LIMBS);
  Q.forEach((Qj, j) => {
    const row = alpha[j] as bigint[];
    const flipped = Qj.slice();
    xorInto(flipped, delta);
    const v0 = row.map((_, k) => {
      hash(j, Qj, k, pad);
      return limbsToBigint(pad);
    });
    tA.push(v0);
    tau.push(
      row.map((a, k) => {
        if (a < 0n || a >= CURVE_ORDER) throw new RangeError("correlations are scalars mod n");
        hash(j, flipped, k, pad);
        // v¹ + (n − v⁰) + α ≥ 0: one remainder, no branch on the sign of a secret.
        return (limbsToBigint(pad) + (CURVE_ORDER - (v0[k] as bigint)) + a) % CURVE_ORDER;
      }),
    );
  });
  return { tA, tau, salt };
}

/**
 * Receiver's side: tᴮⱼ,ₖ = −v + xⱼ·τⱼ,ₖ, so that tᴬ + tᴮ = xⱼ·αⱼ,ₖ. The choice xⱼ enters as a
 * mask on τ's limbs; the public τ may take any time to convert.
 */
export function transferReceive(
  osid: Uint8Array,
  output: KosReceiverOutput,
  tau: readonly bigint[][],
  salt: Uint8Array,
): bigint[][] {
  if (tau.length !== output.T.length) throw new RangeError("one row of τ per OT");
  const hash = padHash(osid, salt);
  const pad = new Int32Array(LIMBS);
  const t = new Int32Array(LIMBS);
  const result = new Int32Array(LIMBS);
  return output.T.map((Tj, j) => {
    const c = output.choices[j] as number;
    return (tau[j] as bigint[]).map((tjk, k) => {
      if (tjk < 0n || tjk >= CURVE_ORDER) throw new RangeError("τ must be a scalar mod n");
      limbsFromBigint(tjk, t);
      hash(j, Tj, k, pad);
      maskedSubMod(c, t, pad, result);
      return limbsToBigint(result);
    });
  });
}
