/**
 * A hybrid wallet's refresh and backup with the real `keyshard` bin, a real provider process and
 * anvil: after `refresh` the address is the same and a transfer still lands; `backup request`
 * waits out the provider's delay (the account is mailed, an early download is refused), then
 * `backup download` makes the wallet self-custodied and the device alone signs a transfer that
 * lands, with the provider stopped.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Anvil, startAnvil } from "../../chains/test/anvil.js";
import { mailed, type ProviderProcess, spawnProvider, startMailbox } from "../../provider/test/harness.js";
import { type Device, firstDevice } from "./cli.js";

const BOB = "0x00000000000000000000000000000000000b0b00";
// Long enough that the early download below surely comes before it on a slow machine: the wait
// is for the provider's release time, not a fixed sleep, so most of it overlaps the CLI runs.
const BACKUP_DELAY_SECONDS = 20;

describe("keyshard refresh and backup of a hybrid wallet", () => {
  let mailbox: Awaited<ReturnType<typeof startMailbox>>;
  let provider: ProviderProcess;
  let anvil: Anvil;
  let phone: Device;
  beforeAll(async () => {
    mailbox = await startMailbox();
    provider = await spawnProvider({
      KEYSHARD_SMTP_URL: mailbox.url,
      KEYSHARD_BACKUP_DELAY_SECONDS: String(BACKUP_DELAY_SECONDS),
      KEYSHARD_TRIAL: "1",
    });
    anvil = await startAnvil();
    phone = await firstDevice(provider.url, mailbox.mails, "dana@example.com");
  });
  afterAll(async () => {
    await provider?.stop();
    await mailbox?.close();
    await anvil?.stop();
    phone?.remove();
  });

  const sendOk = async (amount: string) => {
    const run = await phone.run([
      "send",
      "--wallet",
      "main",
      "--chain",
      "ethereum",
      "--to",
      BOB,
      "--amount",
      amount,
      "--rpc",
      anvil.url,
      "--json",
      "--yes",
    ]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    return run.json;
  };

  it("refresh keeps the address, and the new shares sign a transfer: receipt status 1", async () => {
    await phone.ok(["wallet", "create", "--name", "main"]);
    const { address } = await phone.ok(["address", "--wallet", "main", "--chain", "ethereum"]);
    await anvil.rpc("anvil_setBalance", [address, "0xde0b6b3a7640000"]);
    const refreshed = await phone.ok(["refresh", "--wallet", "main"]);
    expect(refreshed).toMatchObject({ name: "main", epoch: 1 });
    expect(JSON.stringify(refreshed)).not.toMatch(/share/i);
    expect((await phone.ok(["address", "--wallet", "main", "--chain", "ethereum"])).address).toBe(address);
    expect((await sendOk("0.1")).receiptStatus).toBe(1);
    await phone.ok(["refresh", "--wallet", "main"]);
    expect((await phone.ok(["address", "--wallet", "main", "--chain", "ethereum"])).address).toBe(address);
    expect((await sendOk("0.1")).receiptStatus).toBe(1);
  });

  it("backup: refused before the delay, then the device alone signs with the provider stopped", async () => {
    const requested = await phone.ok(["backup", "request", "--wallet", "main"]);
    expect(requested).toMatchObject({ status: "waiting" });
    const readyAt = Date.parse(String(requested.readyAt));
    expect(readyAt).toBeGreaterThan(Date.now());
    expect(await mailed(mailbox.mails, "dana@example.com", "asked for the provider's share of wallet main")).toBe(true);
    const early = await phone.run(["backup", "download", "--wallet", "main"]);
    expect(Date.now(), "the early download ran after the release time").toBeLessThan(readyAt);
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/released on .*download it then/);
    expect(early.stderr).not.toMatch(/at .*\.ts:\d+/);
    expect((await phone.ok(["backup", "status", "--wallet", "main"])).status).toBe("waiting");

    await new Promise((r) => setTimeout(r, readyAt - Date.now() + 500));
    const downloaded = await phone.ok(["backup", "download", "--wallet", "main"]);
    expect(downloaded).toMatchObject({ name: "main", custody: "self" });
    expect(JSON.stringify(downloaded)).not.toMatch(/share/i);
    expect(await mailed(mailbox.mails, "dana@example.com", "is now self-custodied")).toBe(true);

    await provider.stop();
    const { address } = await phone.ok(["address", "--wallet", "main", "--chain", "ethereum"]);
    const sent = await sendOk("0.2");
    expect(sent.receiptStatus).toBe(1);
    const receipt = (await anvil.rpc("eth_getTransactionReceipt", [sent.transactionId])) as { from: string };
    expect(receipt.from.toLowerCase()).toBe(String(address).toLowerCase());
    // A message, which the provider's default policy denies: no provider and no policy any more.
    const signed = await phone.ok(["sign-message", "--wallet", "main", "--message", "self-custodied"]);
    expect(signed.signed).toMatch(/^0x[0-9a-f]{130}$/);
  });
});
