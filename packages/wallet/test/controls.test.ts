/**
 * Every control the provider has, from the command line, against a real provider process in trial
 * mode (anvil for the sends): cancelling a policy change from another device, the allow-list and
 * its cooling-off, a held request resumed with the TOTP code, deleting a wallet whose key
 * generation never finished, and trial mode itself — refused without its switch, announced by
 * the CLI while on.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { signedFetch } from "@keyshard/transport";
import { base32 } from "@scure/base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Anvil, startAnvil } from "../../chains/test/anvil.js";
import { hotp, TOTP_STEP_MS, totpStep } from "../../provider/src/policy/totp.js";
import { type ProviderProcess, spawnProvider, startMailbox } from "../../provider/test/harness.js";
import { deviceOf } from "../src/device/device.js";
import { Wallet } from "../src/wallet.js";
import { type Device, firstDevice, nextDevice, PASSPHRASE } from "./cli.js";

const BOB = "0x00000000000000000000000000000000000b0b00";
const EMAIL = "erin@example.com";
// Long enough for two commands on a slow machine to run inside it.
const COOLING_OFF_SECONDS = 30;

describe("keyshard controls against a provider in trial mode", () => {
  let mailbox: Awaited<ReturnType<typeof startMailbox>>;
  let provider: ProviderProcess;
  let anvil: Anvil;
  let phone: Device;
  let laptop: { device: Device; id: string };
  let tablet: { device: Device; id: string };
  const stops: (() => Promise<unknown>)[] = [];

  /**
   * The authenticator: a code for a step after the last one used (a code works once). The
   * provider takes a code from one step before to one step after its own, so the next step's code
   * stays good the longest on a slow machine; a later one is waited for.
   */
  let secret: Uint8Array;
  let lastStep = 0;
  async function code(): Promise<string> {
    const step = Math.max(lastStep + 1, totpStep(Date.now()) + 1);
    const wait = (step - 1) * TOTP_STEP_MS - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait + 50));
    lastStep = step;
    return hotp(secret, step);
  }

  const send = (wallet: string, ...extra: string[]) =>
    phone.run([
      "send",
      "--wallet",
      wallet,
      "--chain",
      "ethereum",
      "--to",
      BOB,
      "--amount",
      "0.01",
      "--rpc",
      anvil.url,
      "--json",
      "--yes",
      ...extra,
    ]);

  async function walletWithPolicy(name: string, rules: unknown[]): Promise<void> {
    const file = join(phone.home, `${name}.json`);
    writeFileSync(file, JSON.stringify(rules));
    await phone.ok(["wallet", "create", "--name", name, "--policy", file]);
    const { address } = await phone.ok(["address", "--wallet", name, "--chain", "ethereum"]);
    await anvil.rpc("anvil_setBalance", [address, "0xde0b6b3a7640000"]);
  }

  beforeAll(async () => {
    mailbox = await startMailbox();
    provider = await spawnProvider({
      KEYSHARD_SMTP_URL: mailbox.url,
      KEYSHARD_TRIAL: "1",
      KEYSHARD_ACCOUNT_CHANGE_DELAY_SECONDS: "0",
      KEYSHARD_POLICY_DELAY_SECONDS: "3600",
    });
    anvil = await startAnvil();
    phone = await firstDevice(provider.url, mailbox.mails, EMAIL);
    laptop = await nextDevice(provider.url, mailbox.mails, EMAIL, phone, "laptop");
    tablet = await nextDevice(provider.url, mailbox.mails, EMAIL, phone, "tablet");
    const enrolled = await phone.ok(["totp", "enroll"]);
    secret = base32.decode(String(enrolled.secret).padEnd(Math.ceil(String(enrolled.secret).length / 8) * 8, "="));
    await phone.ok(["totp", "confirm", await code()]);
  });
  afterAll(async () => {
    for (const stop of stops) await stop();
    for (const d of [phone, laptop?.device, tablet?.device]) d?.remove();
    await anvil?.stop();
    await provider?.stop();
    await mailbox?.close();
  });

  it("a policy change is shown with its id and time, and another device cancels it", async () => {
    await walletWithPolicy("rent", [{ name: "all", when: { action: ["transfer"] }, decision: "allow" }]);
    const file = join(phone.home, "stricter.json");
    writeFileSync(file, JSON.stringify([]));
    const change = await phone.ok(["policy", "set", file, "--wallet", "rent", "--totp", await code()]);
    // Trial mode says so where a reply tells when a delay ends.
    expect(change.trial).toBe("delays shortened; not for real funds");
    const changeId = String(change.changeId);
    const shown = await phone.run(["policy", "show", "--wallet", "rent"]);
    expect(shown.stdout).toContain(`${changeId}: asked by device`);
    expect(shown.stdout).toContain(`takes effect at ${new Date(Number(change.effectiveMs)).toISOString()}`);
    expect(shown.stdout).toContain(`keyshard policy cancel ${changeId}`);
    // The laptop does not hold the wallet: the id from the mail is enough.
    const mail = mailbox.mails.find((m) =>
      m.text.replace(/=\r?\n/g, "").includes(`keyshard policy cancel ${changeId}`),
    );
    expect(mail).toBeDefined();
    expect(await laptop.device.ok(["policy", "cancel", changeId])).toMatchObject({ changeId, cancelled: true });
    expect((await phone.ok(["policy", "show", "--wallet", "rent"])).pending).toEqual([]);
    const again = await laptop.device.run(["policy", "cancel", changeId, "--json"]);
    expect(again.code).toBe(1);
    expect(again.json.message).toContain("no longer pending");
  });

  it("an allow-listed destination counts for its rule only after the rule's cooling-off", async () => {
    await walletWithPolicy("known", [
      { name: "known", when: { allowListed: { coolingOffSeconds: COOLING_OFF_SECONDS } }, decision: "allow" },
    ]);
    const added = await phone.ok([
      "allow-list",
      "add",
      "--wallet",
      "known",
      "--chain",
      "ethereum",
      "--address",
      BOB,
      "--label",
      "bob",
    ]);
    const countsFrom = Number(added.addedMs) + COOLING_OFF_SECONDS * 1000;
    expect(added.countsFrom).toEqual([{ rule: "known", atMs: countsFrom }]);
    const early = await send("known");
    expect(Date.now()).toBeLessThan(countsFrom);
    expect(early.code, early.stdout + early.stderr).toBe(1);
    expect(early.json).toMatchObject({ error: "denied" });
    const listed = await phone.run(["allow-list", "show", "--wallet", "known"]);
    expect(listed.stdout).toContain(`(bob): counts for rule "known" from ${new Date(countsFrom).toISOString()}`);
    await new Promise((r) => setTimeout(r, countsFrom - Date.now() + 200));
    const late = await send("known");
    expect(late.code, late.stdout + late.stderr).toBe(0);
    expect(late.json.receiptStatus).toBe(1);

    await phone.ok(["allow-list", "remove", "--wallet", "known", "--chain", "ethereum", "--address", BOB]);
    expect((await phone.ok(["allow-list", "show", "--wallet", "known"])).allowList).toEqual([]);
    expect((await send("known")).json).toMatchObject({ error: "denied" });
  });

  it("a request held for the TOTP code is resumed with --totp", async () => {
    await walletWithPolicy("guarded", [{ name: "2fa", when: { action: ["transfer"] }, decision: "require-totp" }]);
    const held = await send("guarded");
    expect(held.code, held.stdout + held.stderr).toBe(3);
    const requestId = String(held.json.requestId);
    const resumed = await phone.ok(["resume", requestId, "--totp", await code()]);
    expect(resumed.receiptStatus).toBe(1);
  });

  it("a wallet whose key generation was interrupted: its name is refused, then deleted and free; waiting devices stop", async () => {
    const create = [
      "wallet",
      "create",
      "--name",
      "team",
      "--with",
      laptop.id,
      "--with",
      tablet.id,
      "--quorum",
      "2/3",
      "--provider-party",
      "no",
    ];
    const creating = phone.background(create);
    stops.push(creating.stop);
    // The laptop joins and waits for the tablet, which never comes; the phone is interrupted.
    for (let i = 0; i < 300 && !/making the key of team/.test(creating.output()); i++)
      await new Promise((r) => setTimeout(r, 100));
    const joining = laptop.device.background(["wallet", "join"]);
    stops.push(joining.stop);
    for (let i = 0; i < 300 && !/making the key of team/.test(joining.output()); i++)
      await new Promise((r) => setTimeout(r, 100));
    await creating.stop();

    const burnt = await phone.run([...create, "--json"]);
    expect(burnt.code).toBe(1);
    expect(burnt.json.message).toContain("key generation never finished: delete it");

    const waitStarted = Date.now();
    expect(await tablet.device.ok(["wallet", "delete", "--name", "team"])).toMatchObject({ name: "team" });
    expect(await joining.exited).toBe(1);
    expect(Date.now() - waitStarted).toBeLessThan(15_000);
    expect(joining.output()).toContain("the key generation of wallet team was deleted by a device of the account");
    // Nothing waits any more, and the name is free.
    expect((await tablet.device.ok(["wallet", "join"])).joined).toEqual([]);
    const made = phone.ok([
      "wallet",
      "create",
      "--name",
      "team",
      "--with",
      laptop.id,
      "--quorum",
      "2/2",
      "--provider-party",
      "no",
    ]);
    let joined: unknown[] = [];
    for (let i = 0; i < 100 && joined.length === 0; i++)
      joined = (await laptop.device.ok(["wallet", "join"])).joined as unknown[];
    expect(await made).toMatchObject({ name: "team", scheme: "dkls23", providerParty: false });
  });

  it("a wallet whose key was made is never deleted", async () => {
    await phone.ok(["wallet", "create", "--name", "made"]);
    const refused = await phone.run(["wallet", "delete", "--name", "made", "--json"]);
    expect(refused.code).toBe(1);
    expect(refused.json).toMatchObject({ error: "provider-refused", status: 409 });
    expect(refused.json.message).toContain("only a wallet whose key generation never finished can be deleted");
    expect((await phone.ok(["wallet", "list"])).wallets).toContainEqual(
      expect.objectContaining({ name: "made", state: "active" }),
    );
  });

  it("a device of another account cannot delete the account's unfinished wallet", async () => {
    const creating = phone.background(["wallet", "create", "--name", "lonely", "--with", laptop.id, "--quorum", "2/2"]);
    stops.push(creating.stop);
    let walletId: string | undefined;
    for (let i = 0; i < 100 && walletId === undefined; i++) {
      const { wallets } = await signedAs(phone, "GET", "/v1/wallets");
      walletId = (wallets as { id: string; name: string }[]).find((w) => w.name === "lonely")?.id;
      if (walletId === undefined) await new Promise((r) => setTimeout(r, 200));
    }
    await creating.stop();
    const stranger = await firstDevice(provider.url, mailbox.mails, "mallory@example.com");
    await expect(signedAs(stranger, "DELETE", `/v1/wallets/${walletId}`)).rejects.toMatchObject({ status: 404 });
    const { wallets } = await signedAs(phone, "GET", "/v1/wallets");
    expect(wallets).toContainEqual(expect.objectContaining({ name: "lonely", state: "creating" }));
    stranger.remove();
  });

  it("trial mode: every reply carries the header, and the CLI warns on stderr", async () => {
    expect(provider.output()).toContain("WARNING: trial mode (KEYSHARD_TRIAL=1): delays shortened; not for real funds");
    const health = await fetch(`${provider.url}/health`);
    expect(health.headers.get("keyshard-trial")).toBe("delays shortened; not for real funds");
    const listed = await phone.run(["wallet", "list"]);
    expect(listed.code).toBe(0);
    expect(listed.stderr).toContain("warning: the provider runs in trial mode (delays shortened; not for real funds)");
  });

  /** A signed request as `device` itself makes it, with its identity key from its keystore. */
  async function signedAs(device: Device, method: string, path: string): Promise<Record<string, unknown>> {
    const wallet = await Wallet.open(device.home, PASSPHRASE);
    return signedFetch(provider.url, deviceOf(wallet).identity, method, path);
  }
});

describe("trial mode is the only way to short delays", () => {
  it("a provider with a delay below its production minimum and no KEYSHARD_TRIAL refuses to start", async () => {
    const started = spawnProvider({ KEYSHARD_POLICY_DELAY_SECONDS: "60" });
    await expect(started).rejects.toThrow(
      /refuses to start: KEYSHARD_POLICY_DELAY_SECONDS is 60 s, below its minimum of 86400 s; shorter delays are for trials only: set KEYSHARD_TRIAL=1/,
    );
  });
});
