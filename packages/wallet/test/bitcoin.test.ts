/**
 * Bitcoin with the real `keyshard` bin and a real provider, against a regtest stand-in for
 * Bitcoin Core whose every accepted transaction passed bitcore-lib's interpreter:
 * - a hybrid ECDSA wallet finds its coins through the node, spends two of them (two inputs, two
 *   signing sessions with the provider), and signs a BIP322 message;
 * - a hybrid FROST wallet spends a P2TR coin listed in a coins file, and signs a message too;
 * - a 3-of-3 wallet of two devices and the provider: the second device's cosigner reads the
 *   request's bytes itself, judges them by its own rules and joins the provider's runs.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { p2wpkhOutput, verifyBitcoinMessage } from "../../chains/src/index.js";
import { type BitcoinNode, startBitcoinNode } from "../../chains/test/bitcoin-node.js";
import { type ProviderProcess, spawnProvider, startMailbox } from "../../provider/test/harness.js";
import { type Background, type Device, firstDevice, nextDevice } from "./cli.js";

const BOB = p2wpkhOutput(secp256k1.getPublicKey(secp256k1.utils.randomSecretKey()), "regtest").address;
const SAT = 100_000_000n;

describe("keyshard on Bitcoin (regtest)", () => {
  let mailbox: Awaited<ReturnType<typeof startMailbox>>;
  let provider: ProviderProcess;
  let node: BitcoinNode;
  let phone: Device;
  let watch: { device: Device; id: string };
  let cosigner: Background;
  beforeAll(async () => {
    mailbox = await startMailbox();
    // Approvals and face enrollments take effect at once here; their delay is tested in the provider.
    provider = await spawnProvider({
      KEYSHARD_SMTP_URL: mailbox.url,
      KEYSHARD_ACCOUNT_CHANGE_DELAY_SECONDS: "0",
      KEYSHARD_TRIAL: "1",
    });
    node = await startBitcoinNode();
    phone = await firstDevice(provider.url, mailbox.mails, "dave@example.com");
    watch = await nextDevice(provider.url, mailbox.mails, "dave@example.com", phone, "watch");
    writeFileSync(
      join(phone.home, "policy.json"),
      JSON.stringify([
        { name: "transfers", when: { action: ["transfer"] }, decision: "allow" },
        { name: "proofs", when: { kind: ["message"], chain: ["bitcoin"] }, decision: "allow" },
      ]),
    );
    writeFileSync(
      join(watch.device.home, "rules.json"),
      JSON.stringify({ rules: [{ chain: "bitcoin", maxAmount: "0.1", to: [BOB] }] }),
    );
    cosigner = watch.device.background(["cosigner", "run", "--rules", join(watch.device.home, "rules.json")]);
  });
  afterAll(async () => {
    await cosigner?.stop();
    await provider?.stop();
    await mailbox?.close();
    await node?.close();
    for (const d of [phone, watch?.device]) d?.remove();
  });

  const send = (wallet: string, amount: string, ...more: string[]) =>
    phone.ok([
      "send",
      "--wallet",
      wallet,
      "--chain",
      "bitcoin",
      "--network",
      "regtest",
      "--to",
      BOB,
      "--amount",
      amount,
      ...more,
    ]);

  it("a hybrid ECDSA wallet spends two coins the node found; the node's interpreter accepts both inputs", async () => {
    await phone.ok(["wallet", "create", "--name", "btc", "--policy", join(phone.home, "policy.json")]);
    const { address } = await phone.ok(["address", "--wallet", "btc", "--chain", "bitcoin", "--network", "regtest"]);
    expect(address).toMatch(/^bcrt1q/);
    node.fund(String(address), 30_000_000n);
    node.fund(String(address), 20_000_000n);
    const sent = await send("btc", "0.45", "--rpc", node.url, "--fee-rate", "3");
    expect(node.accepted).toEqual([sent.transactionId]);
    expect(node.balance(BOB)).toBe(45_000_000n);
    // Both coins spent; the change (less a fee of 3 sat/vB) came back to the wallet.
    const change = node.balance(String(address));
    expect(change).toBeGreaterThan(5_000_000n - 1_000n);
    expect(change).toBeLessThan(5_000_000n);
  });

  it("the ECDSA wallet signs a BIP322 message for its address", async () => {
    const signed = await phone.ok([
      "sign-message",
      "--wallet",
      "btc",
      "--chain",
      "bitcoin",
      "--network",
      "regtest",
      "--message",
      "I own this",
    ]);
    expect(signed.address).toMatch(/^bcrt1q/);
    const bytes = new TextEncoder().encode("I own this");
    expect(verifyBitcoinMessage(bytes, String(signed.address), String(signed.signed), "regtest")).toBe(true);
    expect(
      verifyBitcoinMessage(
        new TextEncoder().encode("I own that"),
        String(signed.address),
        String(signed.signed),
        "regtest",
      ),
    ).toBe(false);
  });

  it("a hybrid FROST wallet spends a P2TR coin from a coins file, and signs a message", async () => {
    await phone.ok([
      "wallet",
      "create",
      "--name",
      "tap",
      "--scheme",
      "frost-taproot",
      "--policy",
      join(phone.home, "policy.json"),
    ]);
    const { address } = await phone.ok(["address", "--wallet", "tap", "--chain", "bitcoin", "--network", "regtest"]);
    expect(address).toMatch(/^bcrt1p/);
    const coin = node.fund(String(address), SAT);
    const coins = join(phone.home, "coins.json");
    writeFileSync(coins, JSON.stringify([{ txid: coin.txid, vout: 0, hex: coin.hex }]));
    const before = node.balance(BOB);
    const sent = await send("tap", "0.25", "--coins", coins, "--rpc", node.url);
    expect(node.accepted.at(-1)).toBe(sent.transactionId);
    expect(node.balance(BOB) - before).toBe(25_000_000n);
    const signed = await phone.ok([
      "sign-message",
      "--wallet",
      "tap",
      "--chain",
      "bitcoin",
      "--network",
      "regtest",
      "--message",
      "taproot",
    ]);
    expect(signed.address).toBe(address);
    expect(
      verifyBitcoinMessage(new TextEncoder().encode("taproot"), String(address), String(signed.signed), "regtest"),
    ).toBe(true);
  });

  it("3-of-3 with the provider: the watch's cosigner joins the provider's runs within its rules", async () => {
    await phone.ok([
      "wallet",
      "create",
      "--name",
      "vault",
      "--scheme",
      "dkls23",
      "--quorum",
      "3/3",
      "--with",
      watch.id,
    ]);
    const { address } = await phone.ok(["address", "--wallet", "vault", "--chain", "bitcoin", "--network", "regtest"]);
    node.fund(String(address), 4_000_000n);
    node.fund(String(address), 3_000_000n);
    const before = node.balance(BOB);
    const sent = await send("vault", "0.06", "--rpc", node.url);
    expect(node.accepted.at(-1)).toBe(sent.transactionId);
    expect(node.balance(BOB) - before).toBe(6_000_000n);
    const signed = cosigner
      .output()
      .split("\n")
      .filter((line) => /signed/.test(line) && /vault/.test(line));
    expect(signed.length).toBe(2);
  });

  it("the watch's rules refuse a larger transfer: it stays out of the runs, and nothing is broadcast", async () => {
    const { address } = await phone.ok(["address", "--wallet", "vault", "--chain", "bitcoin", "--network", "regtest"]);
    node.fund(String(address), SAT);
    const accepted = node.accepted.length;
    const refused = await phone.run([
      ...["send", "--wallet", "vault", "--chain", "bitcoin", "--network", "regtest"],
      ...["--to", BOB, "--amount", "0.2", "--rpc", node.url, "--wait", "8", "--yes"],
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/cosigner running/);
    // The watch judges the request as it polls, on its own schedule: wait for its verdict rather
    // than count on it coming within the phone's wait.
    await expect
      .poll(() => cosigner.output(), { timeout: 60_000, interval: 100 })
      .toMatch(/refused bitcoin for vault: rule 1: over 0.1 BTC/);
    expect(node.accepted.length).toBe(accepted);
  });
});
