import { HDKey } from "@scure/bip32";
import { describe, expect, it } from "vitest";
import { CURVE_ORDER, Point } from "../src/codec/codec.js";
import { DerivationError, derive, parsePath } from "../src/hd/derive.js";
import { randomBelow } from "../src/math/bigint.js";

describe("non-hardened derivation", () => {
  it("matches @scure/bip32 public derivation and the private tweak", () => {
    for (let i = 0; i < 5; i++) {
      const x = 1n + randomBelow(CURVE_ORDER - 1n);
      const chainCode = crypto.getRandomValues(new Uint8Array(32));
      const Q = Point.BASE.multiply(x);
      const xpub = new HDKey({ publicKey: Q.toBytes(true), chainCode });
      for (const path of ["m", "m/0", "m/0/7", "m/44/60/0/0/5", "m/2147483647"]) {
        const d = derive(Q, chainCode, path);
        const ref = xpub.derive(path);
        expect(d.publicKey.toBytes(true)).toEqual(ref.publicKey);
        expect(d.chainCode).toEqual(ref.chainCode);
        expect(Point.BASE.multiply((x + d.tweak) % CURVE_ORDER).equals(d.publicKey)).toBe(true);
      }
    }
  });

  it("refuses hardened and malformed paths with a clear error", () => {
    expect(() => parsePath("m/0'/1")).toThrow(DerivationError);
    expect(() => parsePath("m/0h")).toThrow(/hardened/);
    expect(() => parsePath("0/1")).toThrow(/start/);
    expect(() => parsePath("m/2147483648")).toThrow(/non-hardened/);
    expect(() => parsePath("m/01")).toThrow(/invalid/);
    expect(() => parsePath("m//1")).toThrow(/invalid/);
    expect(parsePath("m/0/7")).toEqual([0, 7]);
  });
});
