/**
 * When a device registered, from the provider's list to the page: the strict reader of the time
 * (a whole number of ms from the epoch to the year 9999, nothing else), the engine leaving out and
 * counting a listed device whose time is not one, the page refusing a device without one, and
 * the page's words for it — its local date and time, and how long ago in its largest whole unit.
 */
import type { Wallet } from "@keyshard/wallet/browser";
import { describe, expect, it } from "vitest";
import { DEVICES_METHODS, registrationTime } from "../src/engine/calls/devices.js";
import { devicesHandlers } from "../src/engine/handlers/devices.js";
import { type Confirm, keepWallet } from "../src/engine/handlers/engine-state.js";
import { ProtocolError } from "../src/engine/readers.js";
import { localDateTime, timeAgo } from "../src/when.js";

const THIS = "a".repeat(32);
const OTHER = "b".repeat(32);
/** The last millisecond of the year 9999. */
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const MINUTE = 60_000;
const noProgress = () => {};
const refuseAll: Confirm = async () => false;

describe("a device's registration time, read strictly", () => {
  it("takes a whole number of ms from the epoch to the year 9999", () => {
    for (const ms of [0, 1_700_000_000_123, LATEST]) expect(registrationTime(ms, "the time")).toBe(ms);
  });

  it("refuses strings, negatives, NaN, infinities, fractions and times past the year 9999", () => {
    for (const bad of ["1700000000000", "", -1, Number.NaN, Number.POSITIVE_INFINITY, 1.5, LATEST + 1, 8.64e15 + 1])
      expect(() => registrationTime(bad, "the time"), String(bad)).toThrow(ProtocolError);
    for (const bad of [null, undefined, {}, [1_700_000_000_000], 1_700_000_000_000n])
      expect(() => registrationTime(bad, "the time"), typeof bad).toThrow(ProtocolError);
  });
});

describe("the engine's list of the account's devices", () => {
  it("carries each device's registration time, and leaves out and counts one whose time is not a time", async () => {
    const listed = (n: number, createdMs: unknown) => ({
      id: n.toString(16).padStart(32, "c"),
      name: `device ${n}`,
      state: "active",
      createdMs,
    });
    const bad = ["1700000000000", -1, Number.NaN, LATEST + 1, null, undefined];
    keepWallet({
      deviceId: THIS,
      account: async () => ({
        id: "acc",
        devices: [
          { id: THIS, name: "Ann's laptop", state: "active", createdMs: 1_700_000_000_123 },
          { id: OTHER, name: "Ann's phone", state: "awaiting-approval", createdMs: 1_700_000_360_000 },
          ...bad.map((createdMs, n) => listed(n, createdMs)),
        ],
      }),
      accountChanges: async () => ({ changes: [] }),
    } as unknown as Wallet);
    const view = await devicesHandlers.devices({}, noProgress, refuseAll);
    expect(view.devices.map((d) => [d.id, d.registeredMs])).toEqual([
      [OTHER, 1_700_000_360_000],
      [THIS, 1_700_000_000_123],
    ]);
    expect(view.unreadable).toBe(bad.length);
    expect(DEVICES_METHODS.devices.result(view, "the result")).toEqual(view);
  });

  it("is refused by the page with a device without a registration time, or with one that is not a time", () => {
    const device = { id: OTHER, name: "Ann's phone", state: "active", registeredMs: 5, thisDevice: false };
    const view = (d: object) => ({ devices: [d], changes: [], notShown: 0, unreadable: 0 });
    const read = DEVICES_METHODS.devices.result;
    expect(read(view(device), "the result").devices[0]?.registeredMs).toBe(5);
    const { registeredMs: _, ...without } = device;
    for (const bad of [without, { ...device, registeredMs: "5" }, { ...device, registeredMs: -5 }])
      expect(() => read(view(bad), "the result"), JSON.stringify(bad)).toThrow(ProtocolError);
  });
});

describe("the page's words for a registration time", () => {
  const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  const now = Date.UTC(2026, 5, 15, 12, 0, 0);

  it("says how long ago in the largest whole unit, never longer than it was", () => {
    expect(timeAgo(now, now)).toBe(relative.format(0, "second"));
    expect(timeAgo(now - 42_000, now)).toBe(relative.format(-42, "second"));
    expect(timeAgo(now - 2 * MINUTE, now)).toBe(relative.format(-2, "minute"));
    expect(timeAgo(now - (2 * MINUTE - 1), now)).toBe(relative.format(-1, "minute"));
    expect(timeAgo(now - 9 * 60 * MINUTE, now)).toBe(relative.format(-9, "hour"));
    expect(timeAgo(now - 26 * 60 * MINUTE, now)).toBe(relative.format(-1, "day"));
    expect(timeAgo(now - 15 * 24 * 60 * MINUTE, now)).toBe(relative.format(-2, "week"));
    expect(timeAgo(now - 400 * 24 * 60 * MINUTE, now)).toBe(relative.format(-1, "year"));
  });

  it("says a time after now as one to come: a clock set apart from the provider's", () => {
    expect(timeAgo(now + 3 * 60 * MINUTE, now)).toBe(relative.format(3, "hour"));
  });

  it("gives the local date and time of every time the reader takes", () => {
    expect(localDateTime(1_700_000_000_123)).toBe(
      new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" }).format(1_700_000_000_123),
    );
    // Past 8.64e15 ms there is no date to write: the reader's bound keeps the page short of it.
    for (const ms of [0, LATEST]) expect(localDateTime(ms)).toMatch(/\d/);
    expect(() => localDateTime(8.64e15 + 1)).toThrow(RangeError);
  });
});
