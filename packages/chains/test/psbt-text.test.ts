/**
 * A PSBT's text forms: base64 (BIP174's) and hex, each read strictly so that one string means one
 * PSBT, and a sign request taking either for a Bitcoin transaction while holding hex inside; and
 * its bytes, framed one way only.
 */
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { base64, hex } from "@scure/base";
import { describe, expect, it } from "vitest";
import {
  buildPsbt,
  ChainError,
  decodePsbt,
  encodePsbt,
  MAX_PAYLOAD_HEX,
  p2wpkhOutput,
  parseSigningRequest,
  REQUEST_PAYLOAD_PATTERN,
  readPsbt,
} from "../src/index.js";
import { funding } from "./bitcore.js";

const PAYEE = p2wpkhOutput(secp256k1.getPublicKey(secp256k1.utils.randomSecretKey()), "regtest");
const { utxo } = funding(PAYEE.script, 50_000n);
const PSBT = buildPsbt({ network: "regtest", inputs: [utxo], outputs: [{ address: PAYEE.address, amount: 40_000n }] });
const B64 = base64.encode(PSBT);
const HEX = hex.encode(PSBT);

const refusal = (value: string | Uint8Array): ChainError => {
  try {
    decodePsbt(value);
  } catch (e) {
    if (e instanceof ChainError) return e;
    throw e;
  }
  throw new Error("accepted");
};

describe("decodePsbt", () => {
  it("reads binary, base64 and hex of either case to the same bytes", () => {
    expect(B64.startsWith("cHNidP8")).toBe(true);
    for (const value of [PSBT, B64, HEX, HEX.toUpperCase()]) expect(decodePsbt(value)).toEqual(PSBT);
    expect(encodePsbt(PSBT)).toEqual({ base64: B64, hex: HEX });
  });

  it.each([
    ["base64 without its padding", B64.replace(/=+$/, "")],
    ["base64 with a padding too many", `${B64}=`],
    ["URL-safe base64 (-)", `${B64.slice(0, 10)}-${B64.slice(11)}`],
    ["URL-safe base64 (_)", `${B64.slice(0, 10)}_${B64.slice(11)}`],
    ["base64 with a line break", `${B64.slice(0, 40)}\n${B64.slice(40)}`],
    ["base64 with spaces around", ` ${B64} `],
    ["hex with half a byte", HEX.slice(0, -1)],
    ["hex with a 0x prefix", `0x${HEX}`],
    ["an empty string", ""],
  ])("refuses %s as not canonical", (_, value) => {
    const e = refusal(value);
    expect(e.code).toBe("malformed");
    expect(e.message).toMatch(/whole-byte hex or canonical base64|not a PSBT/);
  });

  it("refuses base64 whose last letter carries bits past the bytes (two strings, one PSBT)", () => {
    // "cHNidP8=" is the magic alone; "cHNidP9=" decodes to the same bytes in lax decoders.
    const last = B64.replace(/=+$/, "");
    const padding = B64.slice(last.length);
    expect(padding.length).toBeGreaterThan(0);
    const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const sloppy = `${last.slice(0, -1)}${letters[letters.indexOf(last.at(-1) as string) + 1]}${padding}`;
    expect(refusal(sloppy).code).toBe("malformed");
  });

  it("refuses bytes, base64 and hex that do not start with the PSBT magic", () => {
    const notPsbt = Uint8Array.of(0x02, 0, 0, 0, 1, 2, 3);
    expect(refusal(notPsbt).message).toMatch(/binary given is not a PSBT.*magic/);
    expect(refusal(base64.encode(notPsbt)).message).toMatch(/base64 given is not a PSBT/);
    expect(refusal(hex.encode(notPsbt)).message).toMatch(/hex given is not a PSBT/);
    expect(refusal("cHNidP8=").message).toMatch(/not a PSBT/);
  });
});

describe("a sign request's payload", () => {
  it("takes a Bitcoin transaction's PSBT in base64 and holds it as lower-case hex", () => {
    expect(parseSigningRequest({ chain: "bitcoin", payload: B64, network: "regtest" })).toEqual({
      chain: "bitcoin",
      payload: HEX,
      network: "regtest",
    });
    expect(new RegExp(REQUEST_PAYLOAD_PATTERN).test(B64)).toBe(true);
    expect(new RegExp(REQUEST_PAYLOAD_PATTERN).test(HEX)).toBe(true);
    expect(new RegExp(REQUEST_PAYLOAD_PATTERN).test(HEX.toUpperCase())).toBe(false);
  });

  it.each([
    ["for another chain", { chain: "ethereum", payload: B64 }, /base64 is a PSBT, for Bitcoin transactions only/],
    ["for a Bitcoin message", { chain: "bitcoin", kind: "message", payload: B64 }, /Bitcoin transactions only/],
    ["not canonical", { chain: "bitcoin", payload: `${B64.replace(/=+$/, "")}` }, /payload: .*canonical base64/],
    ["not a PSBT inside", { chain: "bitcoin", payload: "cHNidP8=" }, /payload: .*not a PSBT/],
    [
      "over 128 KiB once decoded",
      { chain: "bitcoin", payload: `cHNidP8${"A".repeat(4 * Math.ceil(MAX_PAYLOAD_HEX / 2 / 3) - 7)}` },
      /at most 131072 bytes/,
    ],
    // Refused for its length before decoding: decoded, this one would be refused as not canonical.
    [
      "far too long to decode",
      { chain: "bitcoin", payload: `cHNidP8${"A".repeat(1_000_000)}` },
      /at most 131072 bytes/,
    ],
  ])("refuses base64 %s", (_, request, message) => {
    try {
      parseSigningRequest(request);
    } catch (e) {
      expect(e).toBeInstanceOf(ChainError);
      expect((e as ChainError).code).toBe("invalid-request");
      expect((e as ChainError).message).toMatch(message);
      return;
    }
    throw new Error("accepted");
  });
});

describe("a PSBT's framing", () => {
  it("refuses a byte after the last map, which btc-signer lets through", () => {
    expect(readPsbt(PSBT, "regtest", []).mapEnds.at(-1)).toBe(PSBT.length - 1);
    expect(() => readPsbt(Uint8Array.of(...PSBT, 0), "regtest", [])).toThrow(
      expect.objectContaining({ code: "malformed", message: expect.stringMatching(/bytes follow its last map/) }),
    );
  });
});
