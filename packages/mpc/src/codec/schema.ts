/**
 * Declarative layouts for saved protocol state. A party declares the layout of each of its states
 * once, and both `save` (encode) and `restore` (decode) come from that declaration, so the two can
 * never drift apart. Layouts are built once, when a module loads: encoding writes straight into a
 * Writer and decoding reads from a Reader, with no per-call closures. Decoding is as strict as the
 * Reader it uses: lengths, ranges, points on the curve, scalars below n; `decodeAll` also refuses
 * trailing bytes.
 */
import type { Point, Reader, Writer } from "./codec.js";

/** How one value is written and read back. */
export interface Codec<T, Ctx = unknown> {
  write(w: Writer, value: T): void;
  /** `ctx`: inside a record, the record being read, with the fields declared before this one set. */
  read(r: Reader, ctx: Ctx): T;
}

export const u8: Codec<number> = { write: (w, v) => w.u8(v), read: (r) => r.u8() };
export const u32: Codec<number> = { write: (w, v) => w.u32(v), read: (r) => r.u32() };
export const bool: Codec<boolean> = { write: (w, v) => w.bool(v), read: (r) => r.bool() };
/** A scalar in [1, n). */
export const scalar: Codec<bigint> = { write: (w, v) => w.scalar(v), read: (r) => r.scalar() };
/** A scalar in [0, n). */
export const scalarOrZero: Codec<bigint> = { write: (w, v) => w.scalar(v), read: (r) => r.scalar(true) };
/** A curve point other than the identity. */
export const point: Codec<Point> = { write: (w, v) => w.point(v), read: (r) => r.point() };

/** Exactly `n` bytes, no length prefix. */
export function fixed(n: number): Codec<Uint8Array> {
  return {
    write: (w, v) => {
      if (v.length !== n) throw new RangeError(`expected ${n} bytes`);
      w.fixed(v);
    },
    read: (r) => r.fixed(n),
  };
}

/** Length-prefixed bytes, at most `max` of them. */
export function bytesUpTo(max: number): Codec<Uint8Array> {
  return { write: (w, v) => w.bytes(v), read: (r) => r.bytes(max) };
}

/** UTF-8 text of at most `max` bytes. */
export function string(max: number): Codec<string> {
  return { write: (w, v) => w.string(v), read: (r) => r.string(max) };
}

/** A non-negative integer of at most `maxBits` bits, in canonical form. */
export function bigint(maxBits: number): Codec<bigint> {
  return { write: (w, v) => w.bigint(v), read: (r) => r.bigint(maxBits) };
}

/** A value known from the layout itself (a union's tag): takes no bytes. */
export function literal<const V>(value: V): Codec<V> {
  return { write: () => {}, read: () => value };
}

/** A value kept in memory only (say, a precomputation that must not be reused): never written,
 *  and absent after a restore. */
export function inMemoryOnly<T>(): Codec<T | undefined> {
  return { write: () => {}, read: () => undefined };
}

/** A format's version byte: written as `v`, and anything else is refused as it is read. */
export function version(v: number): Codec<number> {
  return {
    write: (w) => w.u8(v),
    read: (r) => {
      if (r.u8() !== v) r.fail("unknown state version");
      return v;
    },
  };
}

/** A presence flag, then the value if present. */
export function optional<T, Ctx>(inner: Codec<T, Ctx>): Codec<T | undefined, Ctx> {
  return {
    write: (w, v) => {
      w.bool(v !== undefined);
      if (v !== undefined) inner.write(w, v);
    },
    read: (r, ctx) => (r.bool() ? inner.read(r, ctx) : undefined),
  };
}

/** A count, then that many items; at most `maxItems`. */
export function list<T, Ctx>(inner: Codec<T, Ctx>, maxItems: number): Codec<T[], Ctx> {
  return {
    write: (w, items) => {
      w.u32(items.length);
      for (const item of items) inner.write(w, item);
    },
    read: (r, ctx) => {
      const n = r.u32();
      if (n > maxItems) r.fail("too many items");
      const out: T[] = [];
      for (let i = 0; i < n; i++) out.push(inner.read(r, ctx));
      return out;
    },
  };
}

/** A map as a count, then key and value pairs; at most `maxItems`, no key twice. */
export function map<K, V, Ctx>(key: Codec<K>, value: Codec<V, Ctx>, maxItems: number): Codec<Map<K, V>, Ctx> {
  return {
    write: (w, entries) => {
      w.u32(entries.size);
      for (const [k, v] of entries) {
        key.write(w, k);
        value.write(w, v);
      }
    },
    read: (r, ctx) => {
      const n = r.u32();
      if (n > maxItems) r.fail("too many items");
      const out = new Map<K, V>();
      for (let i = 0; i < n; i++) {
        const k = key.read(r, undefined);
        if (out.has(k)) r.fail("duplicate key");
        out.set(k, value.read(r, ctx));
      }
      return out;
    },
  };
}

/** The layout of a record: one codec per field, written and read in declaration order. */
export type Fields<T> = { [K in keyof T]-?: Codec<T[K], T> };

/**
 * A record, its fields in the order `fields` declares them. A field's codec may read the fields
 * before it through its `ctx` (say, the parameters a commitment is checked against).
 */
export function record<T extends object>(fields: Fields<T>): Codec<T> {
  const keys = Object.keys(fields) as (keyof T & string)[];
  const codecs = keys.map((k) => fields[k] as Codec<unknown, T>);
  return {
    write: (w, value) => {
      for (let i = 0; i < keys.length; i++) (codecs[i] as Codec<unknown, T>).write(w, value[keys[i] as keyof T]);
    },
    read: (r) => {
      const out = {} as T;
      for (let i = 0; i < keys.length; i++) {
        out[keys[i] as keyof T] = (codecs[i] as Codec<unknown, T>).read(r, out) as T[keyof T];
      }
      return out;
    },
  };
}

type Tag = string | number;
/** One record codec per value of the union's tag `key`. */
export type Variants<T extends Record<K, Tag>, K extends keyof T> = {
  [V in T[K]]: Codec<Extract<T, Record<K, V>>>;
};

/**
 * A discriminated union over its tag field `key` (a state's step, say): one byte naming the
 * variant, then that variant's record. The tag byte is the variant's position in `variants`; an
 * unknown one is refused. Each variant declares its tag field with `literal`.
 */
export function union<T extends Record<K, Tag>, K extends keyof T>(key: K, variants: Variants<T, K>): Codec<T> {
  const tags = Object.keys(variants);
  if (tags.length > 0xff) throw new RangeError("too many variants");
  const byTag = new Map<string, number>(tags.map((t, i) => [t, i]));
  const codecs = tags.map((t) => variants[t as T[K]] as unknown as Codec<T>);
  return {
    write: (w, value) => {
      const position = byTag.get(String(value[key]));
      if (position === undefined) throw new RangeError("value of no variant");
      w.u8(position);
      (codecs[position] as Codec<T>).write(w, value);
    },
    read: (r) => {
      const codec = codecs[r.u8()];
      if (!codec) return r.fail("unknown variant");
      return codec.read(r, undefined);
    },
  };
}

/** Reads a whole value with `codec`, refusing trailing bytes. */
export function decodeAll<T>(codec: Codec<T>, r: Reader): T {
  const value = codec.read(r, undefined);
  r.end();
  return value;
}
