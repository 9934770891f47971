/**
 * The sign request's one parser: what the provider's API accepts passes unchanged, and each
 * malformed field — or any field the request does not have — is refused with a typed error that
 * names it.
 */
import { describe, expect, it } from "vitest";
import { ChainError, MAX_PAYLOAD_HEX, parseSigningRequest } from "../src/index.js";

const refusal = (value: unknown): ChainError => {
  try {
    parseSigningRequest(value);
  } catch (e) {
    if (e instanceof ChainError) return e;
    throw e;
  }
  throw new Error("accepted");
};

describe("parseSigningRequest", () => {
  it("accepts every field the API accepts, and keeps nothing else", () => {
    const full = {
      kind: "typed-data",
      chain: "ethereum",
      payload: "00ff",
      typedData: { domain: {}, types: {}, primaryType: "X", message: {} },
      chainId: 1,
      network: "regtest",
      path: "m/0/1",
    };
    expect(parseSigningRequest(full)).toEqual(full);
    expect(parseSigningRequest({ chain: "solana" })).toEqual({ chain: "solana" });
    expect(parseSigningRequest({ chain: "bitcoin", path: "m" })).toEqual({ chain: "bitcoin", path: "m" });
    expect(parseSigningRequest({ chain: "ethereum", chainId: Number.MAX_SAFE_INTEGER }).chainId).toBe(
      Number.MAX_SAFE_INTEGER,
    );
    expect(parseSigningRequest({ chain: "ethereum", payload: "ab".repeat(MAX_PAYLOAD_HEX / 2) }).payload).toHaveLength(
      MAX_PAYLOAD_HEX,
    );
  });

  it.each([
    ["not an object", null, /object/],
    ["an array", [], /object/],
    ["a string", "ethereum", /object/],
    ["an unknown field", { chain: "ethereum", totp: "123456" }, /unknown field "totp"/],
    ["an inherited-looking field", JSON.parse('{"chain":"ethereum","__proto__":{"x":1}}'), /unknown field "__proto__"/],
    ["no chain", { payload: "00" }, /chain/],
    ["an unknown chain", { chain: "dogecoin" }, /chain/],
    ["a chain of another type", { chain: 1 }, /chain/],
    ["an unknown kind", { chain: "ethereum", kind: "psbt" }, /kind/],
    ["upper-case hex", { chain: "ethereum", payload: "AB" }, /payload/],
    ["half a byte", { chain: "ethereum", payload: "abc" }, /payload/],
    ["an empty payload", { chain: "ethereum", payload: "" }, /payload/],
    ["a 0x prefix", { chain: "ethereum", payload: "0xab" }, /payload/],
    ["a payload too long", { chain: "ethereum", payload: "ab".repeat(MAX_PAYLOAD_HEX / 2 + 1) }, /payload/],
    ["payload bytes", { chain: "ethereum", payload: [0] }, /payload/],
    ["typed data as an array", { chain: "ethereum", typedData: [] }, /typedData/],
    ["typed data as null", { chain: "ethereum", typedData: null }, /typedData/],
    ["typed data as text", { chain: "ethereum", typedData: "{}" }, /typedData/],
    [
      "typed data with too many properties",
      { chain: "ethereum", typedData: Object.fromEntries([...Array(9)].map((_, i) => [`p${i}`, i])) },
      /typedData/,
    ],
    ["chain id 0", { chain: "ethereum", chainId: 0 }, /chainId/],
    ["a negative chain id", { chain: "ethereum", chainId: -1 }, /chainId/],
    ["a fractional chain id", { chain: "ethereum", chainId: 1.5 }, /chainId/],
    ["a chain id as text", { chain: "ethereum", chainId: "1" }, /chainId/],
    ["an unsafe chain id", { chain: "ethereum", chainId: 2 ** 53 }, /chainId/],
    ["an unknown network", { chain: "bitcoin", network: "signet" }, /network/],
    ["a hardened path", { chain: "bitcoin", path: "m/0'" }, /path/],
    ["a path without m", { chain: "bitcoin", path: "0/1" }, /path/],
    ["a path too deep", { chain: "bitcoin", path: `m${"/1".repeat(9)}` }, /path/],
    ["a path segment too long", { chain: "bitcoin", path: "m/12345678901" }, /path/],
  ])("refuses %s", (_what, value, message) => {
    const error = refusal(value);
    expect(error.code).toBe("invalid-request");
    expect(error.message).toMatch(message);
  });
});
