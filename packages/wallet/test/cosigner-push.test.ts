/**
 * `keyshard cosigner run` waits on the relay's push channel: idle, it makes a handful of requests a
 * minute and the provider logs none of them at its default level; told of a proposal, it co-signs
 * within the proposer's short wait, though its unprompted look is a minute away. Revoked, it
 * stops with exit code 1 (running, or started again: then told by its push channel's refused
 * authentication), and `wallet list` says the device was revoked.
 * All of it against the provider as `npm start` runs it, and anvil.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Anvil, startAnvil } from "../../chains/test/anvil.js";
import { type ProviderProcess, scrapeMetrics, spawnProvider, startMailbox } from "../../provider/test/harness.js";
import { type Background, type Device, firstDevice, nextDevice } from "./cli.js";

const BOB = "0x00000000000000000000000000000000000b0b00";
const EMAIL = "pia@example.com";
/** Longer than a cosigner's first look, shorter than its unprompted one (a minute). */
const WITHIN_MS = 20_000;

/** Resolves with `promise`'s value, or with `undefined` once `ms` have passed. */
const within = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([promise, new Promise<undefined>((r) => setTimeout(() => r(undefined), ms))]);

describe("keyshard cosigner on the push channel", () => {
  let mailbox: Awaited<ReturnType<typeof startMailbox>>;
  let provider: ProviderProcess;
  let anvil: Anvil;
  let phone: Device;
  let watch: { device: Device; id: string };
  let cosigner: Background;
  let rules: string;
  beforeAll(async () => {
    mailbox = await startMailbox();
    provider = await spawnProvider({
      KEYSHARD_SMTP_URL: mailbox.url,
      KEYSHARD_ACCOUNT_CHANGE_DELAY_SECONDS: "0",
      KEYSHARD_TRIAL: "1",
      // The default level, which the harness otherwise turns off.
      KEYSHARD_LOG: "info",
    });
    anvil = await startAnvil();
    phone = await firstDevice(provider.url, mailbox.mails, EMAIL);
    watch = await nextDevice(provider.url, mailbox.mails, EMAIL, phone, "watch");
    rules = join(watch.device.home, "rules.json");
    writeFileSync(rules, JSON.stringify({ rules: [{ chain: "ethereum", maxAmount: "0.05", to: [BOB] }] }));
  });
  afterAll(async () => {
    await cosigner?.stop();
    await provider?.stop();
    await mailbox?.close();
    await anvil?.stop();
    for (const d of [phone, watch?.device]) d?.remove();
  });

  /** Requests the provider has answered so far, by its metrics (the scrapes themselves left out). */
  const answered = async () => {
    const text = await scrapeMetrics(provider.url);
    return [...text.matchAll(/^keyshard_http_request_seconds_count\{([^}]*)\} (\d+)$/gm)]
      .filter(([, labels]) => !labels?.includes('route="/metrics"'))
      .reduce((sum, [, , n]) => sum + Number(n), 0);
  };

  it("idle, the cosigner makes a handful of requests a minute, and the provider logs none of them", async () => {
    const logged = provider.output().length;
    const before = await answered();
    cosigner = watch.device.background(["cosigner", "run", "--rules", rules]);
    // Its first look at the provider: the sessions it is invited to, the wallets.
    while ((await answered()) < before + 3) await new Promise((r) => setTimeout(r, 200));
    await new Promise((r) => setTimeout(r, 1000));
    const settled = await answered();
    await new Promise((r) => setTimeout(r, 10_000));
    // Polling every half second, as it did, it made about 80 in these ten seconds.
    expect((await answered()) - settled).toBeLessThanOrEqual(4);
    expect(cosigner.output()).toMatch(/waiting for proposals/);
    expect(provider.output().slice(logged).trim()).toBe("");
  });

  it("told by the provider, it joins a key generation and co-signs a transfer within the proposer's short wait", async () => {
    await phone.ok(["wallet", "create", "--name", "pair", "--scheme", "dkls23", "--quorum", "2/2", "--with", watch.id]);
    const { address } = await phone.ok(["address", "--wallet", "pair", "--chain", "ethereum"]);
    await anvil.rpc("anvil_setBalance", [address, "0xde0b6b3a7640000"]);
    const wait = String(WITHIN_MS / 1000);
    const sent = await phone.ok([
      ...["send", "--wallet", "pair", "--chain", "ethereum", "--to", BOB, "--amount", "0.01"],
      ...["--rpc", anvil.url, "--wait", wait],
    ]);
    expect(sent.receiptStatus).toBe(1);
    expect(cosigner.output()).toMatch(/signed ethereum for pair/);
  });

  it("revoked, the running cosigner stops with exit code 1 and says why", async () => {
    await phone.ok(["devices", "revoke", watch.id, "--strand-wallets"]);
    expect(await within(cosigner.exited, WITHIN_MS)).toBe(1);
    expect(cosigner.output()).toMatch(/this device was revoked at the provider, so its cosigner stops/);
  });

  it("a revoked device's cosigner does not start again, and its wallet list says it was revoked", async () => {
    const again = watch.device.background(["cosigner", "run", "--rules", rules]);
    const code = await within(again.exited, WITHIN_MS);
    await again.stop();
    expect(code).toBe(1);
    expect(again.output()).toMatch(/this device was revoked at the provider/);
    // Told at its push channel's authentication, not left to find out from a later look.
    expect(again.output()).not.toMatch(/no push channel/);
    const listed = await watch.device.run(["wallet", "list"]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^pair .* revoked device$/m);
    expect((await watch.device.ok(["wallet", "list"])).wallets).toEqual([
      expect.objectContaining({ name: "pair", state: "revoked device" }),
    ]);
  });
});
