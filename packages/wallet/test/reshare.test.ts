/**
 * Resharing a 2-of-3 wallet among devices only (the provider relays) with the real `keyshard`
 * bin: a fourth device is added, then one is removed, and every remaining device still has the
 * same address. The removed device's old share signs nothing (it is told so), and the new
 * quorum signs a transfer that lands on anvil. The watch takes part through `cosigner run`; the
 * others through `wallet join`. A wallet with the provider as a party reshares too: the provider
 * passes its share on with the devices and co-signs with its new share.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Anvil, startAnvil } from "../../chains/test/anvil.js";
import { type ProviderProcess, spawnProvider, startMailbox } from "../../provider/test/harness.js";
import { type Background, type Device, firstDevice, nextDevice } from "./cli.js";

const BOB = "0x00000000000000000000000000000000000b0b00";
const EMAIL = "erin@example.com";

/** Runs `wallet join` on `device` until it has joined `name` (a keygen or key change waiting for it). */
async function joins(device: Device, name: string): Promise<void> {
  for (let i = 0; i < 90; i++) {
    const run = await device.ok(["wallet", "join"]);
    if ((run.joined as { name: string }[]).some((j) => j.name === name)) return;
  }
  throw new Error(`the device never joined ${name}`);
}

describe("keyshard reshare: add a device, remove one, same addresses", () => {
  let mailbox: Awaited<ReturnType<typeof startMailbox>>;
  let provider: ProviderProcess;
  let anvil: Anvil;
  let phone: Device;
  const devices = {} as Record<"watch" | "tablet" | "laptop", { device: Device; id: string }>;
  let cosigner: Background;
  let address: string;
  beforeAll(async () => {
    mailbox = await startMailbox();
    // Approvals and face enrollments take effect at once here; their delay is tested in the provider.
    provider = await spawnProvider({
      KEYSHARD_SMTP_URL: mailbox.url,
      KEYSHARD_ACCOUNT_CHANGE_DELAY_SECONDS: "0",
      KEYSHARD_TRIAL: "1",
    });
    anvil = await startAnvil();
    phone = await firstDevice(provider.url, mailbox.mails, EMAIL);
    // The laptop, which the first reshare adds, registers in that test: each device is four
    // runs of the bin, and the set-up is already long.
    for (const name of ["watch", "tablet"] as const)
      devices[name] = await nextDevice(provider.url, mailbox.mails, EMAIL, phone, name);
    writeFileSync(
      join(devices.watch.device.home, "rules.json"),
      JSON.stringify({ rules: [{ chain: "ethereum", maxAmount: "0.05", to: [BOB] }] }),
    );
    cosigner = devices.watch.device.background([
      "cosigner",
      "run",
      "--rules",
      join(devices.watch.device.home, "rules.json"),
    ]);
    await Promise.all([
      phone.ok([
        "wallet",
        "create",
        "--name",
        "team",
        "--scheme",
        "dkls23",
        "--quorum",
        "2/3",
        "--with",
        devices.watch.id,
        "--with",
        devices.tablet.id,
      ]),
      joins(devices.tablet.device, "team"),
    ]);
    address = String((await phone.ok(["address", "--wallet", "team", "--chain", "ethereum"])).address);
  });
  afterAll(async () => {
    await cosigner?.stop();
    await provider?.stop();
    await mailbox?.close();
    await anvil?.stop();
    for (const d of [phone, ...Object.values(devices).map((d) => d.device)]) d?.remove();
  });

  const addressOf = async (device: Device) =>
    (await device.ok(["address", "--wallet", "team", "--chain", "ethereum"])).address;

  it("a fourth device is added: 2-of-4, the same address on every device", async () => {
    devices.laptop = await nextDevice(provider.url, mailbox.mails, EMAIL, phone, "laptop");
    const [reshared] = await Promise.all([
      phone.ok(["reshare", "--wallet", "team", "--add", devices.laptop.id]),
      joins(devices.tablet.device, "team"),
      joins(devices.laptop.device, "team"),
    ]);
    expect(reshared).toMatchObject({ name: "team", epoch: 1, threshold: 2 });
    expect((reshared.members as unknown[]).length).toBe(4);
    for (const d of [phone, ...Object.values(devices).map((d) => d.device)]) expect(await addressOf(d)).toBe(address);
  });

  it("the tablet is removed: its old share signs nothing; the new quorum sends a transfer", async () => {
    const [reshared] = await Promise.all([
      phone.ok(["reshare", "--wallet", "team", "--remove", devices.tablet.id]),
      joins(devices.laptop.device, "team"),
    ]);
    expect(reshared).toMatchObject({ epoch: 2, threshold: 2 });
    expect((reshared.members as { deviceId: string }[]).map((m) => m.deviceId)).not.toContain(devices.tablet.id);
    for (const d of [phone, devices.watch.device, devices.laptop.device]) expect(await addressOf(d)).toBe(address);

    await anvil.rpc("anvil_setBalance", [address, "0xde0b6b3a7640000"]);
    const args = ["send", "--wallet", "team", "--chain", "ethereum", "--to", BOB, "--amount", "0.01"];
    const removed = await devices.tablet.device.run([...args, "--rpc", anvil.url, "--wait", "10", "--yes"]);
    expect(removed.code).toBe(1);
    expect(removed.stderr).toMatch(/removed from wallet team/);
    // Its list says so too, though the wallet itself is active.
    expect((await devices.tablet.device.ok(["wallet", "list"])).wallets).toEqual([
      expect.objectContaining({ name: "team", state: "removed" }),
    ]);
    expect((await phone.ok(["wallet", "list"])).wallets).toEqual([
      expect.objectContaining({ name: "team", state: "active" }),
    ]);

    const sent = await phone.ok([...args, "--rpc", anvil.url, "--wait", "30"]);
    expect(sent.receiptStatus).toBe(1);
  });

  it("with the provider as a party: a device is added, the provider reshares its share and co-signs after", async () => {
    const { laptop, watch } = devices;
    await Promise.all([
      phone.ok(["wallet", "create", "--name", "vault", "--scheme", "dkls23", "--quorum", "2/3", "--with", laptop.id]),
      joins(laptop.device, "vault"),
    ]);
    const vault = String((await phone.ok(["address", "--wallet", "vault", "--chain", "ethereum"])).address);
    const [reshared] = await Promise.all([
      phone.ok(["reshare", "--wallet", "vault", "--add", watch.id, "--quorum", "2/4"]),
      joins(laptop.device, "vault"),
    ]);
    expect(reshared).toMatchObject({ epoch: 1, threshold: 2 });
    const members = reshared.members as { deviceId: string; provider: boolean }[];
    expect(members.map((m) => m.provider)).toEqual([false, false, false, true]);
    for (const d of [phone, laptop.device, watch.device])
      expect((await d.ok(["address", "--wallet", "vault", "--chain", "ethereum"])).address).toBe(vault);
    // The phone and the provider sign: the provider's new share works.
    await anvil.rpc("anvil_setBalance", [vault, "0xde0b6b3a7640000"]);
    const sent = await phone.ok([
      "send",
      "--wallet",
      "vault",
      "--chain",
      "ethereum",
      "--to",
      BOB,
      "--amount",
      "0.02",
      "--rpc",
      anvil.url,
    ]);
    expect(sent.receiptStatus).toBe(1);
  });

  it("revoking members: each wallet's remaining signers are named, and stranding one needs --strand-wallets", async () => {
    // team: phone, watch, laptop (2 of 3); vault: phone, laptop, watch and the provider (2 of 4).
    const { laptop, watch } = devices;
    const names = (reply: Record<string, unknown>) =>
      (reply.wallets as { name: string; threshold: number; signersLeft: number }[]).map(
        (w) => `${w.name} ${w.signersLeft}/${w.threshold}`,
      );
    const revokeLaptop = await phone.run(["devices", "revoke", laptop.id]);
    expect(revokeLaptop.code, revokeLaptop.stderr).toBe(0);
    expect(revokeLaptop.stdout).toContain(`keyshard reshare --wallet team --remove ${laptop.id}`);
    const refused = await phone.run(["devices", "revoke", watch.id, "--json"]);
    expect(refused.code).toBe(1);
    expect(refused.json).toMatchObject({ error: "provider-refused", status: 409 });
    expect(String(refused.json.message)).toContain("wallet team would have 1 of the 2 signers it needs");
    expect(names(await phone.ok(["devices", "revoke", watch.id, "--strand-wallets"]))).toEqual([
      "team 1/2",
      "vault 2/2",
    ]);
  });
});
