/**
 * The helper data's format, without any face model: what the extractor writes reads back as it
 * was, and every field that is missing, out of range or extra is refused with a typed error, so
 * neither the provider (storing it) nor a device (reading it back) takes altered data.
 */
import { describe, expect, it } from "vitest";
import { bch, type HelperData, HelperDataError, offsetFromHex, offsetToHex, parseHelperData } from "../src/index.js";

const helper = (): HelperData => ({
  version: 1,
  seed: "ab".repeat(32),
  indices: Array.from({ length: bch.BCH_N }, (_, i) => 127 - 2 * i),
  offset: offsetToHex(bch.encode(0x2_a5c3)),
});

describe("helper data", () => {
  it("reads back what the extractor writes, into a copy", () => {
    const written = helper();
    const read = parseHelperData(JSON.parse(JSON.stringify(written)));
    expect(read).toEqual(written);
    const input = helper();
    const copy = parseHelperData(input);
    input.indices[0] = 0;
    expect(copy.indices[0]).toBe(127);
  });

  it("writes a 63-bit word as 8 bytes and reads it back", () => {
    for (const word of [[0, 0], [0xffffffff, 0x7fffffff], [0x01020304, 0x05060708], bch.encode(0x3_ffff)] as bch.Word[])
      expect(offsetFromHex(offsetToHex(word))).toEqual(word);
    expect(offsetToHex([0x01020304, 0x05060708])).toBe("0403020108070605");
  });

  it("refuses every malformed field with a HelperDataError", () => {
    const good = helper();
    const altered: [string, unknown][] = [
      ["not an object", null],
      ["not an object", []],
      ["not an object", "helper"],
      ["unknown fields", { ...good, extra: 1 }],
      ["unknown version", { ...good, version: 2 }],
      ["seed", { ...good, seed: "zz" }],
      ["seed", { ...good, seed: "AB".repeat(32) }],
      ["seed", { ...good, seed: "ab".repeat(31) }],
      ["indices", { ...good, indices: good.indices.slice(1) }],
      ["indices", { ...good, indices: [good.indices[1], ...good.indices.slice(1)] }],
      ["indices", { ...good, indices: [128, ...good.indices.slice(1)] }],
      ["indices", { ...good, indices: [-1, ...good.indices.slice(1)] }],
      ["indices", { ...good, indices: [0.5, ...good.indices.slice(1)] }],
      ["indices", { ...good, indices: "0,1,2" }],
      ["offset", { ...good, offset: 7 }],
      ["offset", { ...good, offset: "00" }],
      ["offset", { ...good, offset: "0000000000000g00" }],
      ["offset", { ...good, offset: "00000000000000ff" }],
    ];
    for (const [why, bad] of altered) {
      let thrown: unknown;
      try {
        parseHelperData(bad);
      } catch (e) {
        thrown = e;
      }
      expect(thrown, why).toBeInstanceOf(HelperDataError);
      expect((thrown as Error).message, JSON.stringify(bad)).toBe(`the helper data is not valid: ${why}`);
    }
    expect(() => offsetFromHex("80".repeat(8))).toThrow(HelperDataError);
  });
});
