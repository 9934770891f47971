/**
 * Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP), as authenticator apps make
 * them: HMAC-SHA1, 30-second steps, 6 digits. A code is accepted for the current step and one
 * step either side (clock drift); the caller records the step so that no code works twice.
 */
import { timingSafeEqual } from "node:crypto";
import { hmac } from "@noble/hashes/hmac.js";
import { sha1 } from "@noble/hashes/legacy.js";
import { base32 } from "@scure/base";

export const TOTP_STEP_MS = 30_000;
export const TOTP_DIGITS = 6;

/** RFC 4226 §5.3: dynamic truncation of HMAC-SHA1(secret, counter) to `digits` decimal digits. */
export function hotp(secret: Uint8Array, counter: number, digits = TOTP_DIGITS): string {
  const message = new Uint8Array(8);
  new DataView(message.buffer).setBigUint64(0, BigInt(counter));
  const mac = hmac(sha1, secret, message);
  const offset = (mac[19] as number) & 0x0f;
  const binary = new DataView(mac.buffer, mac.byteOffset + offset, 4).getUint32(0) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, "0");
}

export const totpStep = (nowMs: number) => Math.floor(nowMs / TOTP_STEP_MS);

export function totp(secret: Uint8Array, nowMs: number, digits = TOTP_DIGITS): string {
  return hotp(secret, totpStep(nowMs), digits);
}

/**
 * The step `code` belongs to, if it is valid now and newer than `lastStep` (the step of the last
 * code accepted), else null.
 */
export function checkTotp(secret: Uint8Array, code: string, nowMs: number, lastStep: number): number | null {
  const now = totpStep(nowMs);
  const given = new TextEncoder().encode(code);
  for (const step of [now - 1, now, now + 1]) {
    if (step <= lastStep) continue;
    const expected = new TextEncoder().encode(hotp(secret, step));
    if (expected.length === given.length && timingSafeEqual(expected, given)) return step;
  }
  return null;
}

/** The otpauth:// URI authenticator apps read (usually from a QR code). */
export function otpauthUri(secret: Uint8Array, account: string, issuer = "keyshard"): string {
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(account)}`;
  const params = new URLSearchParams({
    secret: base32Secret(secret),
    issuer,
    algorithm: "SHA1",
    digits: "6",
    period: "30",
  });
  return `otpauth://totp/${label}?${params}`;
}

/** The secret as apps take it typed in: base32 without padding. */
export const base32Secret = (secret: Uint8Array) => base32.encode(secret).replace(/=+$/, "");
