/**
 * The strict readers both sides of the engine protocol read every message with (`protocol.ts`
 * and each area's calls in `calls/`): a value is taken only in the exact shape, length and form
 * its reader allows, and anything else is a `ProtocolError` where it arrives.
 */

/** A message that does not have the shape this protocol gives it. */
export class ProtocolError extends Error {
  override readonly name = "ProtocolError";
}

// ── readers ──────────────────────────────────────────────────────────────────────────────────

export type Reader<T> = (value: unknown, what: string) => T;

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);

/** A plain object with exactly `keys`, read by their readers. */
export function record<T extends object>(readers: { [K in keyof T]-?: Reader<T[K]> }): Reader<T> {
  return (value, what) => {
    if (!isRecord(value)) throw new ProtocolError(`${what} is not an object`);
    const keys = Object.keys(readers) as (keyof T & string)[];
    const extra = Object.keys(value).find((k) => !keys.includes(k as keyof T & string));
    if (extra !== undefined) throw new ProtocolError(`${what} has an unexpected field ${JSON.stringify(extra)}`);
    const out = {} as T;
    for (const key of keys) out[key] = readers[key](value[key], `${what}.${key}`);
    return out;
  };
}

export function text(options: { min?: number; max?: number; pattern?: RegExp } = {}): Reader<string> {
  const { min = 0, max = 10_000, pattern } = options;
  return (value, what) => {
    if (typeof value !== "string") throw new ProtocolError(`${what} is not a string`);
    if (value.length < min || value.length > max)
      // Without the length found: the text may be a passphrase, whose length is a secret's too.
      throw new ProtocolError(`${what} is not ${min} to ${max} characters long`);
    if (pattern !== undefined && !pattern.test(value)) throw new ProtocolError(`${what} is not in the expected form`);
    return value;
  };
}

export const orNull =
  <T>(read: Reader<T>): Reader<T | null> =>
  (value, what) =>
    value === null ? null : read(value, what);

/** A field that may be absent (`undefined`), read by `read` when present. */
export const optional =
  <T>(read: Reader<T>): Reader<T | undefined> =>
  (value, what) =>
    value === undefined ? undefined : read(value, what);

export const list =
  <T>(read: Reader<T>, max = 1000): Reader<T[]> =>
  (value, what) => {
    if (!Array.isArray(value)) throw new ProtocolError(`${what} is not a list`);
    if (value.length > max) throw new ProtocolError(`${what} has more than ${max} items`);
    return value.map((item, i) => read(item, `${what}[${i}]`));
  };

export const bytes =
  (length: number): Reader<Uint8Array> =>
  (value, what) => {
    if (!(value instanceof Uint8Array) || value.length !== length)
      throw new ProtocolError(`${what} is not ${length} bytes`);
    return value;
  };

export const boolean: Reader<boolean> = (value, what) => {
  if (typeof value !== "boolean") throw new ProtocolError(`${what} is not true or false`);
  return value;
};

export const literal =
  <T extends string>(expected: T): Reader<T> =>
  (value, what) => {
    if (value !== expected) throw new ProtocolError(`${what} is not ${JSON.stringify(expected)}`);
    return expected;
  };

/** What one method of the engine takes and gives. */
export interface MethodShape {
  args: object;
  result: unknown;
}

/** Each method's readers: the engine reads `args`, the page reads `result`. */
export type MethodReaders<T extends { [M in keyof T]: MethodShape }> = {
  [M in keyof T]: { args: Reader<T[M]["args"]>; result: Reader<T[M]["result"]> };
};

export const none = record<Record<string, never>>({});

export const count: Reader<number> = (value, what) => {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0)
    throw new ProtocolError(`${what} is not a count`);
  return value;
};

// ── bounds common to every area's calls ─────────────────────────────────────────────────────

/** The names the provider accepts for a device and a wallet. */
export const NAME_MAX = 64;
/** The longest progress text or device state the engine passes on; longer ones are cut. */
export const SHORT_TEXT_MAX = 200;
/** The longest error message the engine passes on; longer ones are cut. */
export const MESSAGE_MAX = 2000;

export const name = text({ min: 1, max: NAME_MAX });
export const shortText = text({ min: 1, max: SHORT_TEXT_MAX });
export const messageText = text({ min: 1, max: MESSAGE_MAX });

/** A device id as the provider writes it: 16 bytes in lower-case hex. */
export const DEVICE_ID = /^[0-9a-f]{32}$/;
/** A change's or a request's id: a UUID. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The account's one-time code (TOTP): six digits. */
export const TOTP_CODE = /^[0-9]{6}$/;

export const deviceId = text({ min: 32, max: 32, pattern: DEVICE_ID });
export const uuid = text({ min: 36, max: 36, pattern: UUID });
export const totpCode = text({ min: 6, max: 6, pattern: TOTP_CODE });

/**
 * Characters that must not reach the screen from text the page did not write (the provider's
 * reasons, the SDK's messages, a device's self-chosen name): C0 and C1 controls, the bidirectional
 * marks, overrides and isolates that would make a text read differently from what it says, the
 * other invisible format characters (zero-width ones among them) that would make two names look
 * alike, and the line and paragraph separators that would break a line in the middle of it.
 */
const UNSHOWABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]+/gu;

/** `text` made fit to show: unshowable characters become spaces, and more than `max` is cut. */
export function showable(text: string, max: number): string {
  const clean = text.replace(UNSHOWABLE, " ").replace(/ {2,}/g, " ").trim();
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}
