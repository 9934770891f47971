/**
 * A new user from start to finish with the real `keyshard` bin, a real provider process and anvil:
 * init → register → verify (code from the provider's mail) → hybrid wallet → fund → send →
 * receipt status 1. Then a transfer over the policy's limit is held, approved by a second device
 * and signed; the second device is revoked and refused from then on.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Anvil, startAnvil } from "../../chains/test/anvil.js";
import { type ProviderProcess, spawnProvider, startMailbox } from "../../provider/test/harness.js";
import { type Device, firstDevice, nextDevice } from "./cli.js";

const BOB = "0x00000000000000000000000000000000000b0b00";

describe("keyshard, a new user on anvil", () => {
  let mailbox: Awaited<ReturnType<typeof startMailbox>>;
  let provider: ProviderProcess;
  let anvil: Anvil;
  const devices: Device[] = [];
  beforeAll(async () => {
    mailbox = await startMailbox();
    // Approvals and face enrollments take effect at once here; their delay is tested in the provider.
    provider = await spawnProvider({
      KEYSHARD_SMTP_URL: mailbox.url,
      KEYSHARD_POLICY_DELAY_SECONDS: "1",
      KEYSHARD_ACCOUNT_CHANGE_DELAY_SECONDS: "0",
      KEYSHARD_TRIAL: "1",
    });
    anvil = await startAnvil();
  });
  afterAll(async () => {
    await provider?.stop();
    await mailbox?.close();
    await anvil?.stop();
    for (const d of devices) d.remove();
  });

  const balance = async (address: string) => BigInt((await anvil.rpc("eth_getBalance", [address, "latest"])) as string);

  it("init, register, verify, make a hybrid wallet, fund it, send: receipt status 1", async () => {
    const phone = await firstDevice(provider.url, mailbox.mails, "alice@example.com");
    devices.push(phone);
    const created = await phone.ok(["wallet", "create", "--name", "main"]);
    expect(created).toMatchObject({ name: "main", scheme: "ecdsa2p", members: null });
    expect(JSON.stringify(created)).not.toContain("share");
    const { address } = await phone.ok(["address", "--wallet", "main", "--chain", "ethereum"]);
    await anvil.rpc("anvil_setBalance", [address, "0xde0b6b3a7640000"]); // 1 ETH
    const before = await balance(BOB);
    const sent = await phone.ok([
      "send",
      "--wallet",
      "main",
      "--chain",
      "ethereum",
      "--to",
      BOB,
      "--amount",
      "0.25",
      "--rpc",
      anvil.url,
    ]);
    expect(sent.receiptStatus).toBe(1);
    expect(sent.transactionId).toMatch(/^0x[0-9a-f]{64}$/);
    expect((await balance(BOB)) - before).toBe(25n * 10n ** 16n);
    const listed = await phone.ok(["wallet", "list"]);
    expect(listed.wallets).toEqual([expect.objectContaining({ name: "main", state: "active" })]);
    const audit = await phone.ok(["audit", "verify"]);
    expect(audit).toMatchObject({ ok: true, device: { status: "intact", extendsSeen: null } });
    // The second check holds the chain against the head the first one pinned.
    const again = await phone.ok(["audit", "verify"]);
    expect(again).toMatchObject({
      ok: true,
      device: { status: "intact", extendsSeen: (audit.device as { head: { seq: number } }).head.seq },
    });
  });

  it("a transfer over the policy's limit is held (exit 3), approved by a second device, then signed; the device is revoked", async () => {
    const phone = await firstDevice(provider.url, mailbox.mails, "bob@example.com");
    const { device: laptop, id: laptopId } = await nextDevice(
      provider.url,
      mailbox.mails,
      "bob@example.com",
      phone,
      "laptop",
    );
    devices.push(phone, laptop);
    const policy = `${phone.home}/policy.json`;
    const { writeFileSync } = await import("node:fs");
    writeFileSync(
      policy,
      JSON.stringify([
        { name: "small", when: { action: ["transfer"], asset: ["ETH"], maxAmount: "0.1" }, decision: "allow" },
        { name: "large", when: { action: ["transfer"] }, decision: "require-approvals", approvals: 1 },
      ]),
    );
    await phone.ok(["wallet", "create", "--name", "savings", "--policy", policy]);
    const { address } = await phone.ok(["address", "--wallet", "savings", "--chain", "ethereum"]);
    await anvil.rpc("anvil_setBalance", [address, "0xde0b6b3a7640000"]);
    const held = await phone.run([
      "send",
      "--wallet",
      "savings",
      "--chain",
      "ethereum",
      "--to",
      BOB,
      "--amount",
      "0.5",
      "--rpc",
      anvil.url,
      "--json",
      "--yes",
    ]);
    expect(held.code, held.stdout + held.stderr).toBe(3);
    expect(held.json).toMatchObject({ error: "held", rule: "large" });
    const requestId = held.json.requestId as string;
    // The approving device must have been active for the policy delay (1 s here).
    await new Promise((r) => setTimeout(r, 1100));
    const listed = await laptop.ok(["requests", "--status", "held"]);
    expect(listed.requests).toContainEqual(expect.objectContaining({ requestId }));
    const self = await phone.run(["approve", requestId, "--json", "--yes"]);
    expect(self.code).toBe(1);
    await laptop.ok(["approve", requestId]);
    const before = await balance(BOB);
    const resumed = await phone.ok(["resume", requestId]);
    expect(resumed.receiptStatus).toBe(1);
    expect((await balance(BOB)) - before).toBe(5n * 10n ** 17n);

    // The laptop is lost: the phone shuts it out, and the laptop's next call is refused.
    await phone.ok(["devices", "revoke", laptopId]);
    const { devices: accountDevices } = await phone.ok(["devices"]);
    expect(accountDevices).toContainEqual(expect.objectContaining({ id: laptopId, state: "revoked" }));
    const refused = await laptop.run(["requests", "--json"]);
    expect(refused.code).toBe(1);
    expect(refused.json).toMatchObject({
      error: "provider-refused",
      message: expect.stringContaining("device is revoked"),
      status: 403,
      providerError: "device-revoked",
    });
    // The last active device cannot shut itself out.
    const phoneId = (accountDevices as { id: string; state: string }[]).find((d) => d.state === "active")?.id as string;
    expect((await phone.run(["devices", "revoke", phoneId, "--json"])).json).toMatchObject({
      error: "provider-refused",
      message: expect.stringContaining("last active device"),
    });
  });
});
