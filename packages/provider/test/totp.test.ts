/** TOTP against RFC 6238's SHA-1 test vectors, and the one-step drift and no-reuse rules. */
import { utf8ToBytes } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import { checkTotp, hotp, otpauthUri, totp, totpStep } from "../src/policy/totp.js";

const SECRET = utf8ToBytes("12345678901234567890");

describe("TOTP", () => {
  it("matches RFC 6238 appendix B (SHA-1, 8 digits) and RFC 4226 appendix D (6 digits)", () => {
    const vectors: [number, string][] = [
      [59, "94287082"],
      [1111111109, "07081804"],
      [1111111111, "14050471"],
      [1234567890, "89005924"],
      [2000000000, "69279037"],
      [20000000000, "65353130"],
    ];
    for (const [seconds, code] of vectors) expect(totp(SECRET, seconds * 1000, 8)).toBe(code);
    expect([0, 1, 2, 9].map((c) => hotp(SECRET, c))).toEqual(["755224", "287082", "359152", "520489"]);
  });

  it("accepts one step of drift either way, and never a step at or before the last one used", () => {
    const now = 1_800_000_000_000;
    const step = totpStep(now);
    expect(checkTotp(SECRET, totp(SECRET, now), now, 0)).toBe(step);
    expect(checkTotp(SECRET, totp(SECRET, now - 30_000), now, 0)).toBe(step - 1);
    expect(checkTotp(SECRET, totp(SECRET, now + 30_000), now, 0)).toBe(step + 1);
    expect(checkTotp(SECRET, totp(SECRET, now - 60_000), now, 0)).toBeNull();
    expect(checkTotp(SECRET, totp(SECRET, now), now, step)).toBeNull();
    expect(checkTotp(SECRET, "12345", now, 0)).toBeNull();
  });

  it("writes the otpauth URI authenticator apps read", () => {
    expect(otpauthUri(SECRET, "a@example.com")).toBe(
      "otpauth://totp/keyshard:a%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=keyshard&algorithm=SHA1&digits=6&period=30",
    );
  });
});
