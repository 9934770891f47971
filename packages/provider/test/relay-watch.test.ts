/**
 * The relay's watch, as a cosigner uses it: a device watching its socket is told of each relay
 * session that invites it — not of one it opened itself, nor of one it is not in — also when the
 * session was opened through another replica on the same PostgreSQL; a revoked device's watch is
 * closed with code 4403.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REVOKED_CLOSE_CODE, type RelayWatch, watchRelay } from "@keyshard/transport";
import { bytesToHex } from "@noble/hashes/utils.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningProvider, startProvider } from "../src/index.js";
import { deviceGroup, startTestProvider, type TestDevice, type TestProvider } from "./harness.js";

describe("relay watch", () => {
  const masterKeyHex = bytesToHex(crypto.getRandomValues(new Uint8Array(32)));
  let a: TestProvider;
  let b: RunningProvider;
  const bDir = mkdtempSync(join(tmpdir(), "keyshard-replica-"));
  let phone: TestDevice;
  let watch: TestDevice;
  let tablet: TestDevice;
  const notices = new Map<string, string[]>();
  const watches: RelayWatch[] = [];
  beforeAll(async () => {
    a = await startTestProvider("postgres", { masterKeyHex, accountChangeDelayMs: 0 });
    b = await startProvider({ dataDir: bDir, databaseUrl: a.databaseUrl, masterKeyHex, trial: true });
    [phone, watch, tablet] = (await deviceGroup(a, "watcher@example.com", 3)) as [TestDevice, TestDevice, TestDevice];
    // The watch is connected to the other replica than the one the sessions are opened on.
    for (const [device, url] of [
      [phone, a.url],
      [watch, b.url],
      [tablet, a.url],
    ] as const) {
      notices.set(device.id, []);
      watches.push(await watchRelay(url, device.identity, (relayId) => notices.get(device.id)?.push(relayId)));
    }
  });
  afterAll(async () => {
    for (const w of watches) w.close();
    await b?.close();
    await a?.stop();
    rmSync(bDir, { recursive: true, force: true });
  });

  const until = async (done: () => boolean) => {
    for (let i = 0; i < 100 && !done(); i++) await new Promise((r) => setTimeout(r, 100));
  };

  it("tells the invited device, on another replica too, and no one else", async () => {
    const opened = await phone.request("POST", "/v1/relay", { participants: [phone.id, watch.id], purpose: "a test" });
    expect(opened.status).toBe(201);
    const relayId = opened.body.relayId as string;
    await until(() => (notices.get(watch.id)?.length ?? 0) > 0);
    expect(notices.get(watch.id)).toEqual([relayId]);
    // A second session, with the tablet: by the time the tablet hears of it, the sweep of the
    // replica it shares with the phone has long seen the first.
    const second = await phone.request("POST", "/v1/relay", { participants: [phone.id, tablet.id], purpose: "b test" });
    await until(() => (notices.get(tablet.id)?.length ?? 0) > 0);
    expect(notices.get(tablet.id)).toEqual([second.body.relayId]);
    expect(notices.get(watch.id)).toEqual([relayId]);
    expect(notices.get(phone.id)).toEqual([]);
  });

  it("closes a revoked device's watch with code 4403", async () => {
    expect((await phone.request("POST", `/v1/devices/${tablet.id}/revoke`, { strandWallets: true })).status).toBe(200);
    expect((await (watches[2] as RelayWatch).closed).code).toBe(REVOKED_CLOSE_CODE);
  });
});
