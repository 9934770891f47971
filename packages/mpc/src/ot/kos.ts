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
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { randomBytes } from "@noble/hashes/utils.js";
import { CURVE_ORDER } from "../codec/codec.js";
import { mod } from "../math/bigint.js";
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

/** χ·X^k mod f for every k < 208, as rows of 7 words: multiplying by χ is a XOR per set bit. */
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

/** acc ^= y·χ in GF(2²⁰⁸), y given as the 26 bytes of `row` from `offset`. */
export function multiplyBlockInto(acc: Uint32Array, row: Uint8Array, offset: number, table: Uint32Array): void {
  for (let k = 0; k < BLOCK_BYTES; k++) {
    const byte = row[offset + k] as number;
    if (byte === 0) continue;
    for (let b = 0; b < 8; b++) {
      if (!((byte >> b) & 1)) continue;
      const base = (8 * k + b) * WORDS;
      for (let w = 0; w < WORDS; w++) acc[w] = (acc[w] as number) ^ (table[base + w] as number);
    }
  }
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

/** The first `count` columns of κ rows, each packed LSB first as a κ-bit string. */
function columns(rows: readonly Uint8Array[], count: number): Uint8Array[] {
  const out = Array.from({ length: count }, () => new Uint8Array(rows.length / 8));
  rows.forEach((row, i) => {
    const byteOfI = i >> 3;
    const bitOfI = 1 << (i & 7);
    for (let k = 0; k < count / 8; k++) {
      const v = row[k] as number;
      if (v === 0) continue;
      for (let b = 0; b < 8; b++) {
        if ((v >> b) & 1) {
          const col = out[8 * k + b] as Uint8Array;
          col[byteOfI] = (col[byteOfI] as number) | bitOfI;
        }
      }
    }
  });
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
  const { u, xTilde, tTilde } = message;
  if (u.length !== KAPPA || tTilde.length !== KAPPA || xTilde.length !== BLOCK_BYTES) return { ok: false };
  if (u.some((row) => row.length !== rowBytes) || tTilde.some((v) => v.length !== BLOCK_BYTES)) return { ok: false };
  const tables = challenges(osid, u, rowBytes / BLOCK_BYTES);
  const prg = prgRows(osid, rowBytes);
  let bad = 0;
  const q = seeds.map((s, i) => {
    const row = prg(i, s);
    const expected = (tTilde[i] as Uint8Array).slice();
    if (delta[i]) {
      xorInto(row, u[i] as Uint8Array);
      xorInto(expected, xTilde);
    }
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
 */
function scalarHash(osid: Uint8Array, salt: Uint8Array): (j: number, row: Uint8Array, width: number) => bigint[] {
  if (salt.length !== SALT_BYTES) throw new RangeError("salt must be 32 bytes");
  const key = new Uint8Array(osid.length + SALT_BYTES);
  key.set(osid);
  key.set(salt, osid.length);
  const hash = new TailHash(tagged("keyshard/kos/randomize/v1", key));
  const tail = new Uint8Array(8 + KAPPA / 8);
  const tailView = new DataView(tail.buffer);
  const digest = new Uint8Array(32);
  const v = new DataView(digest.buffer);
  return (j, row, width) => {
    if (row.length !== KAPPA / 8) throw new RangeError("random-OT rows are κ bits");
    tailView.setUint32(0, j);
    tail.set(row, 8);
    return Array.from({ length: width }, (_, k) => {
      tailView.setUint32(4, k);
      hash.hashInto(tail, digest);
      const x =
        (v.getBigUint64(0) << 192n) | (v.getBigUint64(8) << 128n) | (v.getBigUint64(16) << 64n) | v.getBigUint64(24);
      return x >= CURVE_ORDER ? x - CURVE_ORDER : x;
    });
  };
}

export const SALT_BYTES = 32;

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
  const hash = scalarHash(osid, salt);
  Q.forEach((Qj, j) => {
    const width = (alpha[j] as bigint[]).length;
    const flipped = Qj.slice();
    xorInto(flipped, delta);
    const v0 = hash(j, Qj, width);
    const v1 = hash(j, flipped, width);
    tA.push(v0);
    tau.push(v1.map((v, k) => mod(v - (v0[k] as bigint) + ((alpha[j] as bigint[])[k] as bigint), CURVE_ORDER)));
  });
  return { tA, tau, salt };
}

/** Receiver's side: tᴮⱼ,ₖ = −v + xⱼ·τⱼ,ₖ, so that tᴬ + tᴮ = xⱼ·αⱼ,ₖ. */
export function transferReceive(
  osid: Uint8Array,
  output: KosReceiverOutput,
  tau: readonly bigint[][],
  salt: Uint8Array,
): bigint[][] {
  const hash = scalarHash(osid, salt);
  return output.T.map((Tj, j) => {
    const row = tau[j] as bigint[];
    const v = hash(j, Tj, row.length);
    return v.map((vk, k) => mod((output.choices[j] ? (row[k] as bigint) : 0n) - vk, CURVE_ORDER));
  });
}
