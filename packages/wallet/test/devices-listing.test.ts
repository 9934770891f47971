/**
 * `keyshard devices`: each of the account's devices on a line with its id, its state, when it
 * registered (UTC, as the provider keeps it) and its name; and a registration time that no date
 * carries said to be unknown rather than failing the listing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestProvider, type TestProvider } from "../../provider/test/harness.js";
import { registeredText } from "../src/cli/commands/account.js";
import { type Device, firstDevice } from "./cli.js";

describe("keyshard devices", () => {
  let provider: TestProvider;
  const devices: Device[] = [];
  beforeAll(async () => {
    provider = await startTestProvider("pglite");
  });
  afterAll(async () => {
    await provider?.stop();
    for (const d of devices) d.remove();
  });

  it("prints each device with the time it registered", async () => {
    const before = provider.now();
    const phone = await firstDevice(provider.url, provider.mails, "listing@example.com");
    devices.push(phone);
    const after = provider.now();

    const { devices: listed } = await phone.ok(["devices"]);
    const [own] = listed as { id: string; createdMs: number }[];
    expect(own?.createdMs).toBeGreaterThanOrEqual(before);
    expect(own?.createdMs).toBeLessThanOrEqual(after);

    const run = await phone.run(["devices"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim()).toBe(
      `${own?.id}  ${"active".padEnd(18)} registered ${new Date(own?.createdMs as number).toISOString()}  phone`,
    );
  });

  it("says a registration time that no date carries is unknown", () => {
    expect(registeredText(1_700_000_000_123)).toBe("registered 2023-11-14T22:13:20.123Z");
    for (const bad of [8.64e15 + 1, Number.NaN, "1700000000123", undefined])
      expect(registeredText(bad), String(bad)).toBe("registered at an unknown time");
  });
});
