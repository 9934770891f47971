/**
 * Strict binary codec for protocol messages and saved state. Every field is fixed-size or
 * length-prefixed; decoding rejects wrong lengths, non-canonical integers, points off the curve
 * or at infinity, scalars ≥ n and trailing bytes. A decode error is a ProtocolAbort naming the
 * party the bytes came from (null for local data such as a stored share).
 */
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { hexToBytes } from "@noble/hashes/utils.js";
import { ProtocolAbort } from "../session/party.js";

export type Point = InstanceType<typeof secp256k1.Point>;
export const Point = secp256k1.Point;
/** Order of the secp256k1 group. */
export const CURVE_ORDER: bigint = secp256k1.Point.Fn.ORDER;

/** Hard ceiling on any length prefix, so a hostile prefix cannot make us allocate gigabytes. */
export const MAX_FIELD = 1 << 24;

export class Writer {
  private chunks: Uint8Array[] = [];
  private size = 0;

  private push(b: Uint8Array): void {
    this.chunks.push(b);
    this.size += b.length;
  }
  u8(x: number): void {
    if (!Number.isInteger(x) || x < 0 || x > 0xff) throw new RangeError("u8 out of range");
    this.push(Uint8Array.of(x));
  }
  u32(x: number): void {
    if (!Number.isInteger(x) || x < 0 || x > 0xffffffff) throw new RangeError("u32 out of range");
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, x);
    this.push(b);
  }
  /** Raw bytes whose length the reader knows. */
  fixed(b: Uint8Array): void {
    this.push(b.slice());
  }
  /** Length-prefixed bytes. */
  bytes(b: Uint8Array): void {
    this.u32(b.length);
    this.fixed(b);
  }
  string(s: string): void {
    this.bytes(new TextEncoder().encode(s));
  }
  bool(b: boolean): void {
    this.u8(b ? 1 : 0);
  }
  /** A non-negative integer: length prefix, then minimal big-endian bytes. */
  bigint(x: bigint): void {
    if (x < 0n) throw new RangeError("bigint must be non-negative");
    this.bytes(bigintToBytes(x));
  }
  /** A signed integer: sign byte, then its magnitude. */
  signed(x: bigint): void {
    this.u8(x < 0n ? 1 : 0);
    this.bigint(x < 0n ? -x : x);
  }
  /** A scalar mod the curve order, 32 bytes. */
  scalar(x: bigint): void {
    if (x < 0n || x >= CURVE_ORDER) throw new RangeError("scalar out of range");
    this.fixed(bigintToBytes(x, 32));
  }
  /** A curve point, 33 bytes compressed; never the identity. */
  point(p: Point): void {
    this.fixed(p.toBytes(true));
  }
  list<T>(items: readonly T[], each: (w: Writer, item: T) => void): void {
    this.u32(items.length);
    for (const it of items) each(this, it);
  }
  /** A presence flag, then the value if present. */
  optional<T>(v: T | undefined, write: (v: T) => void): void {
    this.bool(v !== undefined);
    if (v !== undefined) write(v);
  }
  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let off = 0;
    for (const c of this.chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }
}

export class Reader {
  private off = 0;
  constructor(
    private readonly buf: Uint8Array,
    /** Who the bytes came from; named in every decode error. */
    readonly sender: number | null,
  ) {}

  fail(reason: string): never {
    throw new ProtocolAbort(this.sender, `malformed message: ${reason}`);
  }
  private take(n: number): Uint8Array {
    if (n > this.buf.length - this.off) this.fail("truncated");
    const out = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return out;
  }
  u8(): number {
    return this.take(1)[0] as number;
  }
  u32(): number {
    const b = this.take(4);
    return new DataView(b.buffer, b.byteOffset, 4).getUint32(0);
  }
  fixed(n: number): Uint8Array {
    return this.take(n).slice();
  }
  bytes(max = MAX_FIELD): Uint8Array {
    const n = this.u32();
    if (n > max) this.fail("field too long");
    return this.fixed(n);
  }
  string(max = 1024): string {
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(this.bytes(max));
    } catch (e) {
      if (e instanceof ProtocolAbort) throw e;
      return this.fail("invalid utf-8");
    }
  }
  bool(): boolean {
    const b = this.u8();
    if (b > 1) this.fail("invalid boolean");
    return b === 1;
  }
  /** A non-negative integer of at most `maxBits` bits in canonical (minimal) form. */
  bigint(maxBits: number): bigint {
    const b = this.bytes(Math.ceil(maxBits / 8));
    if (b.length > 0 && b[0] === 0) this.fail("non-canonical integer");
    const x = bytesToBigint(b);
    if (bitLength(x) > maxBits) this.fail("integer too large");
    return x;
  }
  signed(maxBits: number): bigint {
    const negative = this.bool();
    const m = this.bigint(maxBits);
    if (negative && m === 0n) this.fail("negative zero");
    return negative ? -m : m;
  }
  /** An integer in [1, modulus) (or [0, modulus) with allowZero). */
  below(modulus: bigint, allowZero = false): bigint {
    const x = this.bigint(bitLength(modulus));
    if (x >= modulus || (!allowZero && x === 0n)) this.fail("integer out of range");
    return x;
  }
  scalar(allowZero = false): bigint {
    const x = bytesToBigint(this.take(32));
    if (x >= CURVE_ORDER) this.fail("scalar not below the curve order");
    if (!allowZero && x === 0n) this.fail("zero scalar");
    return x;
  }
  point(): Point {
    const b = this.take(33);
    try {
      const p = Point.fromBytes(b);
      p.assertValidity();
      if (p.is0()) this.fail("point at infinity");
      return p;
    } catch (e) {
      if (e instanceof ProtocolAbort) throw e;
      return this.fail("point not on the curve");
    }
  }
  list<T>(maxItems: number, each: (r: Reader) => T): T[] {
    const n = this.u32();
    if (n > maxItems) this.fail("too many items");
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(each(this));
    return out;
  }
  optional<T>(read: () => T): T | undefined {
    return this.bool() ? read() : undefined;
  }
  /** The bytes not read yet (consumed). */
  rest(): Uint8Array {
    return this.fixed(this.buf.length - this.off);
  }
  /** Asserts every byte was consumed. */
  end(): void {
    if (this.off !== this.buf.length) this.fail("trailing bytes");
  }
}

/**
 * Runs a decoder of local data (a stored share, a saved run): any error that is not already a
 * ProtocolAbort becomes one naming nobody, without the original message.
 */
export function decodeLocal<T>(what: string, decode: () => T): T {
  try {
    return decode();
  } catch (e) {
    if (e instanceof ProtocolAbort) throw e;
    throw new ProtocolAbort(null, `corrupt ${what}`);
  }
}

export function bitLength(x: bigint): number {
  if (x < 0n) x = -x;
  if (x === 0n) return 0;
  // Hex, not binary: a quarter of the string for 4096-bit Paillier numbers.
  const hex = x.toString(16);
  return (hex.length - 1) * 4 + 32 - Math.clz32(Number.parseInt(hex[0] as string, 16));
}

const MASK64 = (1n << 64n) - 1n;
const HEX_BYTE = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

export function bytesToBigint(b: Uint8Array): bigint {
  if (b.length === 0) return 0n;
  if (b.length === 32) {
    // Scalars are the hot case (OT extension, multiplications): four 64-bit words.
    const v = new DataView(b.buffer, b.byteOffset, 32);
    return (v.getBigUint64(0) << 192n) | (v.getBigUint64(8) << 128n) | (v.getBigUint64(16) << 64n) | v.getBigUint64(24);
  }
  let hex = "0x";
  for (const v of b) hex += HEX_BYTE[v];
  return BigInt(hex);
}

/** Big-endian bytes; minimal length unless `len` is given. */
export function bigintToBytes(x: bigint, len?: number): Uint8Array {
  if (x < 0n) throw new RangeError("negative integer");
  if (len === 32 && x >> 256n === 0n) {
    const out = new Uint8Array(32);
    const v = new DataView(out.buffer);
    v.setBigUint64(0, (x >> 192n) & MASK64);
    v.setBigUint64(8, (x >> 128n) & MASK64);
    v.setBigUint64(16, (x >> 64n) & MASK64);
    v.setBigUint64(24, x & MASK64);
    return out;
  }
  let hex = x === 0n ? "" : x.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  const n = hex.length / 2;
  if (len !== undefined && n > len) throw new RangeError("integer too large for field");
  const out = new Uint8Array(len ?? n);
  out.set(hexToBytes(hex), out.length - n);
  return out;
}
