/**
 * The declarative state layouts: every combinator round-trips, and every malformed input —
 * truncated, trailing, out of range, off the curve, an unknown version or variant, a duplicate
 * key, too many items — is refused with a ProtocolAbort naming nobody.
 */
import { describe, expect, it } from "vitest";
import { CURVE_ORDER, Point, Reader, Writer } from "../src/codec/codec.js";
import {
  bigint,
  bool,
  bytesUpTo,
  type Codec,
  decodeAll,
  fixed,
  inMemoryOnly,
  list,
  literal,
  map,
  optional,
  point,
  record,
  scalar,
  scalarOrZero,
  string,
  u8,
  u32,
  union,
  version,
} from "../src/codec/schema.js";
import { expectAbort } from "./helpers.js";

const decode = <T>(codec: Codec<T>, bytes: Uint8Array): T => decodeAll(codec, new Reader(bytes, null));
const encode = <T>(codec: Codec<T>, value: T): Uint8Array => {
  const w = new Writer();
  codec.write(w, value);
  return w.finish();
};

const G = Point.BASE;

interface Idle {
  step: 0;
}
interface Running {
  step: 1;
  k: bigint;
  R: Point;
  /** Must be below `limit`, read first. */
  limit: number;
  value: number;
  note: string | undefined;
  peers: Map<number, Uint8Array>;
  cache?: string;
}
type State = Idle | Running;

const below: Codec<number, Running> = {
  write: (w, v) => w.u32(v),
  read: (r, st) => {
    const v = r.u32();
    if (v >= st.limit) r.fail("value not below its limit");
    return v;
  },
};

const state = union<State, "step">("step", {
  0: record<Idle>({ step: literal(0) }),
  1: record<Running>({
    step: literal(1),
    k: scalar,
    R: point,
    limit: u32,
    value: below,
    note: optional(string(16)),
    peers: map(u8, fixed(4), 3),
    cache: inMemoryOnly(),
  }),
});

const saved = record<{ version: number; started: boolean; state: State }>({
  version: version(7),
  started: bool,
  state,
});

const running: Running = {
  step: 1,
  k: 5n,
  R: G.multiply(3n),
  limit: 10,
  value: 9,
  note: "hi",
  peers: new Map([
    [2, Uint8Array.of(1, 2, 3, 4)],
    [0, Uint8Array.of(5, 6, 7, 8)],
  ]),
  cache: "memory only",
};

describe("state layouts", () => {
  it("round-trip every variant, declaration order on the wire, memory-only fields left out", () => {
    const bytes = encode(saved, { version: 7, started: true, state: running });
    const back = decode(saved, bytes);
    expect(back.version).toBe(7);
    expect(back.started).toBe(true);
    expect(back.state.step).toBe(1);
    if (back.state.step !== 1) throw new Error("wrong variant");
    expect(back.state.k).toBe(5n);
    expect(back.state.R.equals(running.R)).toBe(true);
    expect(back.state.value).toBe(9);
    expect(back.state.note).toBe("hi");
    expect([...back.state.peers.keys()]).toEqual([2, 0]);
    expect(back.state.peers.get(0)).toEqual(Uint8Array.of(5, 6, 7, 8));
    expect(back.state.cache).toBeUndefined();
    expect(encode(saved, back)).toEqual(bytes);

    const idle = encode(saved, { version: 7, started: false, state: { step: 0 } });
    expect(idle).toEqual(Uint8Array.of(7, 0, 0));
    expect(decode(saved, idle)).toEqual({ version: 7, started: false, state: { step: 0 } });
    expect(decode(state, encode(state, { ...running, note: undefined })).step).toBe(1);
  });

  it("encodes straight into a Writer, as the hand-written writers would", () => {
    const w = new Writer();
    w.u8(7);
    w.bool(true);
    w.u8(1);
    w.scalar(5n);
    w.point(running.R);
    w.u32(10);
    w.u32(9);
    w.bool(true);
    w.string("hi");
    w.u32(2);
    w.u8(2);
    w.fixed(Uint8Array.of(1, 2, 3, 4));
    w.u8(0);
    w.fixed(Uint8Array.of(5, 6, 7, 8));
    expect(encode(saved, { version: 7, started: true, state: running })).toEqual(w.finish());
  });

  it("refuses truncated input and trailing bytes at every length", () => {
    const bytes = encode(saved, { version: 7, started: true, state: running });
    for (let n = 0; n < bytes.length; n++) expectAbort(() => decode(saved, bytes.subarray(0, n)), null);
    expectAbort(() => decode(saved, Uint8Array.of(...bytes, 0)), null, /trailing/);
  });

  it("refuses an unknown version, an unknown variant and a bad boolean", () => {
    expectAbort(() => decode(saved, Uint8Array.of(6, 0, 0)), null, /unknown state version/);
    expectAbort(() => decode(saved, Uint8Array.of(7, 0, 2)), null, /unknown variant/);
    expectAbort(() => decode(saved, Uint8Array.of(7, 2, 0)), null, /invalid boolean/);
  });

  it("refuses scalars out of range and points off the curve or at infinity", () => {
    const withScalar = (x: Uint8Array) => Uint8Array.of(1, ...x, ...encode(point, G));
    const head = record<{ step: number; k: bigint; R: Point }>({ step: u8, k: scalar, R: point });
    const n = encode(bigint(256), CURVE_ORDER).subarray(4);
    expectAbort(() => head.read(new Reader(withScalar(n), null), undefined), null, /not below the curve order/);
    expectAbort(() => head.read(new Reader(withScalar(new Uint8Array(32)), null), undefined), null, /zero scalar/);
    expect(decode(scalarOrZero, new Uint8Array(32))).toBe(0n);
    // x = 5 has no point on secp256k1 (5³ + 7 is not a square mod p).
    const offCurve = new Uint8Array(33);
    offCurve[0] = 2;
    offCurve[32] = 5;
    expectAbort(() => decode(point, offCurve), null, /not on the curve/);
    expectAbort(() => decode(point, new Uint8Array(33)), null);
    expectAbort(() => decode(point, Uint8Array.of(5, ...new Uint8Array(32))), null);
  });

  it("refuses integers too long or in non-canonical form, and lengths past their bound", () => {
    expect(decode(bigint(16), encode(bigint(16), 0xffffn))).toBe(0xffffn);
    expectAbort(() => decode(bigint(16), encode(bigint(24), 0x1ffffn)), null, /too long/);
    expectAbort(() => decode(bigint(15), encode(bigint(16), 0xffffn)), null, /too large/);
    expectAbort(() => decode(bigint(16), Uint8Array.of(0, 0, 0, 2, 0, 1)), null, /non-canonical/);
    expectAbort(() => decode(bytesUpTo(3), encode(bytesUpTo(4), Uint8Array.of(1, 2, 3, 4))), null, /too long/);
    expectAbort(() => decode(string(2), encode(string(3), "abc")), null, /too long/);
    expectAbort(() => decode(string(4), Uint8Array.of(0, 0, 0, 1, 0xff)), null, /utf-8/);
    expect(() => encode(fixed(4), Uint8Array.of(1, 2, 3))).toThrow(RangeError);
  });

  it("refuses too many items and a key twice", () => {
    const three = list(u8, 3);
    expect(decode(three, encode(three, [1, 2]))).toEqual([1, 2]);
    expectAbort(() => decode(three, encode(list(u8, 4), [1, 2, 3, 4])), null, /too many/);
    const peers = map(u8, u8, 3);
    expectAbort(() => decode(peers, Uint8Array.of(0, 0, 0, 2, 1, 9, 1, 9)), null, /duplicate key/);
    expectAbort(() => decode(peers, Uint8Array.of(0, 0, 0, 4)), null, /too many/);
  });

  it("checks a field against the fields read before it", () => {
    const bytes = encode(state, { ...running, value: 9 });
    const tooBig = encode(state, { ...running, value: 10 });
    expect(decode(state, bytes).step).toBe(1);
    expectAbort(() => decode(state, tooBig), null, /not below its limit/);
  });

  it("refuses to encode a value of no variant", () => {
    expect(() => encode(state, { step: 2 } as unknown as State)).toThrow(RangeError);
  });
});
