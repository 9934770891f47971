/**
 * 2-of-3 among three devices (three homes), the provider only relaying: one device runs
 * `keyshard cosigner run` with its own rules and co-signs an Ethereum transfer (anvil) and a
 * Solana transfer (litesvm) that the first device sends; it refuses a transfer outside its rules,
 * decoding the bytes itself, and logs every decision.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { base58 } from "@scure/base";
import { getTransactionDecoder } from "@solana/kit";
import { FailedTransactionMetadata, LiteSVM } from "litesvm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Anvil, startAnvil } from "../../chains/test/anvil.js";
import { type ProviderProcess, spawnProvider, startMailbox } from "../../provider/test/harness.js";
import { type Background, type Device, firstDevice, nextDevice } from "./cli.js";

const BOB = "0x00000000000000000000000000000000000b0b00";
const SOL_TO = base58.encode(crypto.getRandomValues(new Uint8Array(32)));

describe("keyshard 2-of-3 over three devices with a cosigner", () => {
  let mailbox: Awaited<ReturnType<typeof startMailbox>>;
  let provider: ProviderProcess;
  let anvil: Anvil;
  let phone: Device;
  let watch: Device;
  let tablet: Device;
  let cosigner: Background;
  beforeAll(async () => {
    mailbox = await startMailbox();
    // Approvals and face enrollments take effect at once here; their delay is tested in the provider.
    provider = await spawnProvider({
      KEYSHARD_SMTP_URL: mailbox.url,
      KEYSHARD_ACCOUNT_CHANGE_DELAY_SECONDS: "0",
      KEYSHARD_TRIAL: "1",
    });
    anvil = await startAnvil();
    const email = "carol@example.com";
    phone = await firstDevice(provider.url, mailbox.mails, email);
    const w = await nextDevice(provider.url, mailbox.mails, email, phone, "watch");
    const t = await nextDevice(provider.url, mailbox.mails, email, phone, "tablet");
    watch = w.device;
    tablet = t.device;
    writeFileSync(
      join(watch.home, "rules.json"),
      JSON.stringify({
        rules: [
          { chain: "ethereum", maxAmount: "0.05", to: [BOB] },
          { chain: "solana", maxAmount: "1" },
        ],
      }),
    );
    cosigner = watch.background(["cosigner", "run", "--rules", join(watch.home, "rules.json")]);
    // The tablet joins both key generations, then goes offline.
    const tabletJoins = (async () => {
      const joined: string[] = [];
      for (let i = 0; i < 60 && joined.length < 2; i++) {
        const run = await tablet.ok(["wallet", "join"]);
        joined.push(...(run.joined as { name: string }[]).map((j) => j.name));
      }
      return joined;
    })();
    for (const [name, scheme] of [
      ["team", "dkls23"],
      ["team-sol", "frost-ed25519"],
    ] as const)
      await phone.ok([
        "wallet",
        "create",
        "--name",
        name,
        "--scheme",
        scheme,
        "--quorum",
        "2/3",
        "--with",
        w.id,
        "--with",
        t.id,
      ]);
    expect((await tabletJoins).sort()).toEqual(["team", "team-sol"]);
  });
  afterAll(async () => {
    await cosigner?.stop();
    await provider?.stop();
    await mailbox?.close();
    await anvil?.stop();
    for (const d of [phone, watch, tablet]) d?.remove();
  });

  /** The watch's cosigner log, one decision per line. */
  const cosignerLog = () =>
    readFileSync(join(watch.home, "cosigner.log"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));

  it("all three hold the same key; the wallets are active", async () => {
    const addressOf = async (d: Device) => (await d.ok(["address", "--wallet", "team", "--chain", "ethereum"])).address;
    const address = await addressOf(phone);
    expect(address).toMatch(/^0x[0-9a-fA-F]{40}$/);
    for (const d of [watch, tablet]) expect(await addressOf(d)).toBe(address);
    const listed = await phone.ok(["wallet", "list"]);
    expect(listed.wallets).toEqual([
      expect.objectContaining({ name: "team", state: "active", threshold: 2 }),
      expect.objectContaining({ name: "team-sol", state: "active", threshold: 2 }),
    ]);
  });

  it("the cosigner co-signs an Ethereum transfer within its rules: receipt status 1", async () => {
    const { address } = await phone.ok(["address", "--wallet", "team", "--chain", "ethereum"]);
    await anvil.rpc("anvil_setBalance", [address, "0xde0b6b3a7640000"]);
    const sent = await phone.ok([
      "send",
      "--wallet",
      "team",
      "--chain",
      "ethereum",
      "--to",
      BOB,
      "--amount",
      "0.01",
      "--rpc",
      anvil.url,
    ]);
    expect(sent.receiptStatus).toBe(1);
    const log = cosignerLog();
    expect(log.at(-1)).toMatchObject({ decision: "signed", chain: "ethereum", wallet: "team" });
    expect(log.at(-1).description.transfers[0].to.toLowerCase()).toBe(BOB);
    expect(log.at(-1).description.transfers[0].text).toBe("0.01 ETH");
  });

  it("the cosigner co-signs a Solana transfer that litesvm accepts", async () => {
    const { address } = await phone.ok(["address", "--wallet", "team-sol", "--chain", "solana"]);
    const svm = new LiteSVM();
    svm.airdrop(address as never, 2_000_000_000n as never);
    const sent = await phone.ok([
      "send",
      "--wallet",
      "team-sol",
      "--chain",
      "solana",
      "--to",
      SOL_TO,
      "--amount",
      "0.5",
      "--blockhash",
      svm.latestBlockhash(),
    ]);
    const wire = new Uint8Array(Buffer.from(sent.signed as string, "base64"));
    const result = svm.sendTransaction(getTransactionDecoder().decode(wire) as never);
    if (result instanceof FailedTransactionMetadata) throw new Error(`litesvm refused: ${result.toString()}`);
    expect(svm.getBalance(SOL_TO as never)).toBe(500_000_000n);
  });

  it("the cosigner refuses a transfer outside its rules, and nothing is signed", async () => {
    const before = await anvil.rpc("eth_getBalance", [BOB, "latest"]);
    const refused = await phone.run([
      "send",
      "--wallet",
      "team",
      "--chain",
      "ethereum",
      "--to",
      BOB,
      "--amount",
      "0.2",
      "--rpc",
      anvil.url,
      "--wait",
      "20",
      "--json",
      "--yes",
    ]);
    expect(refused.code).toBe(1);
    expect(refused.json.error, `${refused.json.message}\n${cosigner.output()}`).toBe("refused-by-device");
    expect(refused.json.message).toContain("over 0.05 ETH");
    expect(await anvil.rpc("eth_getBalance", [BOB, "latest"])).toBe(before);
    const log = cosignerLog();
    expect(log.at(-1)).toMatchObject({ decision: "refused", chain: "ethereum" });
    expect(log.at(-1).reason).toContain("over 0.05 ETH");
  });
});
