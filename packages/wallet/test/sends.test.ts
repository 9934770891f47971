/**
 * Sends that pay once and are checked before they are signed, with the real `keyshard` bin, a
 * real provider process, anvil, and a regtest stand-in for Bitcoin Core:
 * - a send whose receipt does not come in time says its transaction is out and how to follow it;
 *   the same send again broadcasts that transaction, or reports it mined, instead of paying twice;
 * - a send without a node, and one the balance cannot pay with its fee, never reach the provider;
 * - a node's password never shows in what a send prints, even when the node fails;
 * - an Ethereum send's gas is the node's estimate with a margin, so a contract wallet whose
 *   receive() does work is paid, and one whose receive() reverts is refused before signing;
 * - an estimate no transfer can have, a node that cannot estimate, or one whose chain id is no
 *   chain id, is refused before signing.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { parseTransaction } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { p2wpkhOutput } from "../../chains/src/index.js";
import { type Anvil, startAnvil } from "../../chains/test/anvil.js";
import { type BitcoinNode, startBitcoinNode } from "../../chains/test/bitcoin-node.js";
import { type ProviderProcess, spawnProvider, startMailbox } from "../../provider/test/harness.js";
import { type Device, firstDevice, type Run } from "./cli.js";
import { startLyingNode } from "./lying-node.js";

const BOB = "0x00000000000000000000000000000000000b0b00";
const ETH = 10n ** 18n;
const ONE_ETH = "0xde0b6b3a7640000";
/** A contract wallet's runtime code: any call stores its value in slot 0 (CALLVALUE PUSH1 0 SSTORE STOP). */
const STORES_VALUE = "0x3460005500";
/** One whose every call reverts (PUSH1 0 PUSH1 0 REVERT). */
const REVERTS = "0x60006000fd";
const KEEPER = "0x00000000000000000000000000000000000c0de1";
const REFUSER = "0x00000000000000000000000000000000000c0de2";

describe("sends that pay once, checked before they are signed", () => {
  let mailbox: Awaited<ReturnType<typeof startMailbox>>;
  let provider: ProviderProcess;
  let anvil: Anvil;
  let node: BitcoinNode;
  let phone: Device;
  let address: string;
  beforeAll(async () => {
    mailbox = await startMailbox();
    provider = await spawnProvider({ KEYSHARD_SMTP_URL: mailbox.url });
    anvil = await startAnvil();
    node = await startBitcoinNode();
    phone = await firstDevice(provider.url, mailbox.mails, "erin@example.com");
    await phone.ok(["wallet", "create", "--name", "main"]);
    address = (await phone.ok(["address", "--wallet", "main", "--chain", "ethereum"])).address as string;
  });
  afterAll(async () => {
    await provider?.stop();
    await mailbox?.close();
    await anvil?.stop();
    await node?.close();
    phone?.remove();
  });

  const balance = async (who: string) => BigInt((await anvil.rpc("eth_getBalance", [who, "latest"])) as string);
  const requestCount = async () => ((await phone.ok(["requests"])).requests as unknown[]).length;
  const sendTo = (to: string, amount: string, ...more: string[]): Promise<Run> =>
    phone.run([
      ...["send", "--wallet", "main", "--chain", "ethereum", "--to", to, "--amount", amount],
      ...[...more, "--yes", "--json"],
    ]);
  const send = (amount: string, ...more: string[]) => sendTo(BOB, amount, ...more);
  const expectSignedNothing = async (before: number) => expect(await requestCount()).toBe(before);

  it("without --rpc an Ethereum send is refused before the provider is asked; --chain-id and --nonce sign offline, said so", async () => {
    const before = await requestCount();
    const bare = await send("0.1");
    expect(bare.code, bare.stdout + bare.stderr).toBe(2);
    expect(bare.json).toMatchObject({
      error: "usage",
      parameter: "rpc",
      option: "--rpc",
      message:
        "an Ethereum send needs --rpc, the node's URL: the node gives the chain id, the nonce and the balance. To sign without broadcasting, give both --chain-id and --nonce",
    });
    const halfOffline = await send("0.1", "--chain-id", "31337");
    expect(halfOffline.code).toBe(2);
    const wrongChain = await send("0.1", "--rpc", anvil.url, "--chain-id", "1");
    expect(wrongChain.json).toMatchObject({ error: "usage", message: expect.stringMatching(/on chain 31337/) });
    const ownNonce = await send("0.1", "--rpc", anvil.url, "--nonce", "0");
    expect(ownNonce.json).toMatchObject({ error: "usage", message: expect.stringMatching(/the node gives the nonce/) });
    await expectSignedNothing(before);

    const offline = await send("0.1", "--chain-id", "31337", "--nonce", "7");
    expect(offline.code, offline.stdout + offline.stderr).toBe(0);
    expect(offline.json).toMatchObject({ broadcast: false, signed: expect.stringMatching(/^0x02/) });
    expect(offline.json.transactionId).toBeUndefined();
    const human = await phone.run([
      ...["send", "--wallet", "main", "--chain", "ethereum", "--to", BOB, "--amount", "0.1"],
      ...["--chain-id", "31337", "--nonce", "7", "--yes"],
    ]);
    expect(human.stdout).toMatch(/signed, not broadcast/);
  });

  it("a transfer the balance cannot pay with its fee, or of 2^256 wei, is refused before the provider is asked", async () => {
    await anvil.rpc("anvil_setBalance", [address, ONE_ETH]);
    const before = await requestCount();
    const all = await send("1", "--rpc", anvil.url);
    expect(all.code).toBe(1);
    expect(all.json).toMatchObject({ error: "insufficient-funds", message: expect.stringMatching(/holds 1 ETH/) });
    // The amount alone fits; with the fee at the node's prices it does not.
    const withFee = await send("0.99999", "--rpc", anvil.url);
    expect(withFee.json).toMatchObject({
      error: "insufficient-funds",
      message: expect.stringMatching(/a fee of up to/),
    });
    const huge = await send(
      `${(2n ** 256n / ETH).toString()}.${(2n ** 256n % ETH).toString().padStart(18, "0")}`,
      "--rpc",
      anvil.url,
    );
    expect(huge.code).toBe(1);
    expect(huge.json.error).toBe("invalid-amount");
    await expectSignedNothing(before);
  });

  it("a send whose receipt does not come in time is out, says how to follow it; the same send again broadcasts it: paid once", async () => {
    await anvil.rpc("anvil_setBalance", [address, ONE_ETH]);
    const paid = await balance(BOB);
    const requests = await requestCount();
    await anvil.rpc("evm_setAutomine", [false]);
    try {
      const late = await send("0.25", "--rpc", anvil.url, "--wait-receipt", "1");
      expect(late.code, late.stdout + late.stderr).toBe(1);
      const id = late.json.transactionId as string;
      expect(id).toMatch(/^0x[0-9a-f]{64}$/);
      expect(late.json).toMatchObject({ error: "unconfirmed", requestId: expect.any(String) });
      expect(late.json.message).toContain(`is out`);
      expect(late.json.message).toContain(`keyshard tx status --wallet main --chain ethereum ${id}`);
      const status = ["tx", "status", "--wallet", "main", "--chain", "ethereum"];
      expect(await phone.ok([...status, id])).toMatchObject({ transactionId: id, state: "pending" });
      // The node loses it (a restart, an eviction): still valid, so the retry must send it again.
      await anvil.rpc("anvil_dropTransaction", [id]);
      expect(await phone.ok([...status, late.json.requestId as string])).toMatchObject({ state: "unknown" });
      await anvil.rpc("evm_setAutomine", [true]);

      const again = await send("0.25", "--rpc", anvil.url);
      expect(again.code, again.stdout + again.stderr).toBe(0);
      expect(again.json).toMatchObject({ transactionId: id, sentBefore: true, receiptStatus: 1 });
      expect(again.stderr).toMatch(/signed before as 0x[0-9a-f]{64}, which can still be mined: sending it again/);
      expect((await balance(BOB)) - paid).toBe(ETH / 4n);
      expect(await requestCount()).toBe(requests + 1);
      expect(await phone.ok([...status, id])).toMatchObject({ state: "confirmed", block: expect.any(Number) });

      // Reported done, the same send is a new payment.
      const next = await send("0.25", "--rpc", anvil.url);
      expect(next.json).toMatchObject({ receiptStatus: 1 });
      expect(next.json.transactionId).not.toBe(id);
      expect((await balance(BOB)) - paid).toBe(ETH / 2n);
    } finally {
      await anvil.rpc("evm_setAutomine", [true]);
    }
  });

  it("a send mined after its receipt timed out is reported mined when run again, not paid again", async () => {
    await anvil.rpc("anvil_setBalance", [address, ONE_ETH]);
    const paid = await balance(BOB);
    const requests = await requestCount();
    await anvil.rpc("evm_setAutomine", [false]);
    try {
      const late = await send("0.1", "--rpc", anvil.url, "--wait-receipt", "1");
      expect(late.json.error).toBe("unconfirmed");
      // Still in the node's pool: sent again, the node already has it, and that is no failure.
      const waiting = await send("0.1", "--rpc", anvil.url, "--wait-receipt", "1");
      expect(waiting.json).toMatchObject({ error: "unconfirmed", transactionId: late.json.transactionId });
      await anvil.rpc("evm_mine");
      const again = await send("0.1", "--rpc", anvil.url);
      expect(again.code, again.stdout + again.stderr).toBe(0);
      expect(again.json).toMatchObject({ transactionId: late.json.transactionId, sentBefore: true, receiptStatus: 1 });
      expect(again.stderr).toMatch(/this send was made before/);
    } finally {
      await anvil.rpc("evm_setAutomine", [true]);
    }
    expect((await balance(BOB)) - paid).toBe(ETH / 10n);
    expect(await requestCount()).toBe(requests + 1);
  });

  it("a kept transaction whose nonce another took gives way: the same send again signs a new one", async () => {
    await anvil.rpc("anvil_setBalance", [address, ONE_ETH]);
    const paid = await balance(BOB);
    await anvil.rpc("evm_setAutomine", [false]);
    let replaced: string;
    try {
      const late = await send("0.2", "--rpc", anvil.url, "--wait-receipt", "1");
      replaced = late.json.transactionId as string;
      const nonce = Number(BigInt((await anvil.rpc("eth_getTransactionCount", [address, "latest"])) as string));
      await anvil.rpc("anvil_dropTransaction", [replaced]);
      // Another transaction of the wallet's, signed offline with the same nonce, is mined instead.
      const other = await send("0.01", "--chain-id", "31337", "--nonce", String(nonce));
      await anvil.rpc("eth_sendRawTransaction", [other.json.signed]);
      await anvil.rpc("evm_mine");
    } finally {
      await anvil.rpc("evm_setAutomine", [true]);
    }
    const again = await send("0.2", "--rpc", anvil.url);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stderr).toMatch(/can never be mined \(replaced\): signing anew/);
    expect(again.json.transactionId).not.toBe(replaced);
    expect(again.json.sentBefore).toBeUndefined();
    expect((await balance(BOB)) - paid).toBe((ETH / 100n) * 21n);
  });

  it("a send to a contract wallet whose receive() writes storage gets the node's estimate plus 20 %, and is paid", async () => {
    await anvil.rpc("anvil_setBalance", [address, ONE_ETH]);
    await anvil.rpc("anvil_setCode", [KEEPER, STORES_VALUE]);
    const call = { from: address, to: KEEPER, value: `0x${(ETH / 10n).toString(16)}` };
    const estimate = BigInt((await anvil.rpc("eth_estimateGas", [call])) as string);
    expect(estimate).toBeGreaterThan(21_000n);

    const paid = await sendTo(KEEPER, "0.1", "--rpc", anvil.url);
    expect(paid.code, paid.stdout + paid.stderr).toBe(0);
    expect(paid.json).toMatchObject({ receiptStatus: 1 });
    const id = paid.json.transactionId as string;
    const mined = (await anvil.rpc("eth_getTransactionByHash", [id])) as { gas: string };
    expect(BigInt(mined.gas)).toBe((estimate * 120n + 99n) / 100n);
    const receipt = (await anvil.rpc("eth_getTransactionReceipt", [id])) as { status: string; gasUsed: string };
    expect(receipt.status).toBe("0x1");
    expect(BigInt(receipt.gasUsed)).toBeGreaterThan(21_000n);
    expect(await balance(KEEPER)).toBe(ETH / 10n);
    expect(BigInt((await anvil.rpc("eth_getStorageAt", [KEEPER, "0x0", "latest"])) as string)).toBe(ETH / 10n);

    // A plain transfer's estimate is its exact cost, nothing runs at the recipient: no margin.
    const plain = await send("0.01", "--rpc", anvil.url);
    expect(plain.json).toMatchObject({ receiptStatus: 1 });
    const plainTx = (await anvil.rpc("eth_getTransactionByHash", [plain.json.transactionId])) as { gas: string };
    expect(BigInt(plainTx.gas)).toBe(21_000n);
  });

  it("a send the node says would fail — a contract that reverts, a --gas below the estimate — is refused before signing", async () => {
    await anvil.rpc("anvil_setBalance", [address, ONE_ETH]);
    await anvil.rpc("anvil_setCode", [REFUSER, REVERTS]);
    await anvil.rpc("anvil_setCode", [KEEPER, STORES_VALUE]);
    const before = await requestCount();
    const refused = await sendTo(REFUSER, "0.1", "--rpc", anvil.url);
    expect(refused.code, refused.stdout + refused.stderr).toBe(1);
    expect(refused.json).toMatchObject({
      error: "would-fail",
      nodeError: expect.stringMatching(/revert/i),
      message: expect.stringMatching(
        new RegExp(
          `^the node at ${anvil.url} says a transfer to ${REFUSER} would fail \\(.*revert.*\\), so nothing was signed`,
          "i",
        ),
      ),
    });
    const short = await sendTo(KEEPER, "0.1", "--rpc", anvil.url, "--gas", "21000");
    expect(short.json).toMatchObject({
      error: "would-fail",
      option: "--gas",
      message: expect.stringMatching(/^--gas is 21000, less than the \d+ the node at .* estimates this transfer needs/),
    });
    const tooLow = await sendTo(KEEPER, "0.1", "--rpc", anvil.url, "--gas", "20999");
    expect(tooLow.json).toMatchObject({ error: "usage", option: "--gas" });
    await expectSignedNothing(before);
    expect(await balance(REFUSER)).toBe(0n);
  });

  it("an estimate no transfer can have, a node that cannot estimate, or a --gas no block takes is refused before signing", async () => {
    await anvil.rpc("anvil_setBalance", [address, ONE_ETH]);
    // anvil in all but the calls answered here, as the node of the moment does.
    let estimateAnswer: Record<string, unknown> = {};
    let chainIdAnswer: Record<string, unknown> | undefined;
    let broadcastAnswer: Record<string, unknown> | undefined;
    const lying = await startLyingNode(anvil.url, (method) =>
      method === "eth_estimateGas"
        ? estimateAnswer
        : method === "eth_chainId"
          ? chainIdAnswer
          : method === "eth_sendRawTransaction"
            ? broadcastAnswer
            : undefined,
    );
    const lyingUrl = lying.url;
    try {
      const before = await requestCount();
      const sendWith = (answer: Record<string, unknown>) => {
        estimateAnswer = answer;
        return send("0.01", "--rpc", lyingUrl);
      };
      for (const result of ["0x0", "0x5207", "0x2000000", "0xdeadbeefdeadbeef", "", "21000", 21_000, null]) {
        const refused = await sendWith({ result });
        expect(refused.code, `${result}: ${refused.stdout}${refused.stderr}`).toBe(1);
        expect(refused.json).toMatchObject({
          error: "rpc-failed",
          message: expect.stringContaining("nothing was signed"),
        });
        expect(refused.stdout + refused.stderr).not.toContain("api-key");
      }
      // Just under the cap with its margin is signed; just over is not.
      const over = await sendWith({ result: `0x${(13_981_014).toString(16)}` });
      expect(over.json).toMatchObject({ error: "rpc-failed", estimate: "13981014" });
      // A node that cannot tell is no contract refusing the payment; its text cannot steer the terminal.
      const limited = await sendWith({ error: { code: -32005, message: "rate limited\u001b[2J, try later" } });
      expect(limited.json).toMatchObject({
        error: "rpc-failed",
        nodeError: "rate limited[2J, try later",
        message: expect.stringMatching(
          /^the node at http:\/\/127\.0\.0\.1:\d+ could not estimate .*\(rate limited\[2J, try later\)/,
        ),
      });
      expect(limited.stdout + limited.stderr).not.toContain("\u001b");
      const broke = await sendWith({ error: { code: -32000, message: "insufficient funds for transfer" } });
      expect(broke.json).toMatchObject({ error: "rpc-failed" });
      const reverted = await sendWith({ error: { code: 3, message: "execution failed" } });
      expect(reverted.json).toMatchObject({ error: "would-fail" });
      const outOfGas = await sendWith({ error: { code: -32000, message: "Out of Gas" } });
      expect(outOfGas.json).toMatchObject({ error: "would-fail" });
      // A chain id that is no hex quantity, or none a chain can have, is the node's fault, said so.
      estimateAnswer = { result: "0x5208" };
      for (const result of ["banana", "0x", "", "0x0", "0x20000000000000", "31337", 31_337, null]) {
        chainIdAnswer = { result };
        const refused = await send("0.01", "--rpc", lyingUrl);
        expect(refused.code, `${result}: ${refused.stdout}${refused.stderr}`).toBe(1);
        expect(refused.json).toMatchObject({
          error: "rpc-failed",
          option: "--rpc",
          message: expect.stringMatching(
            /^the node at http:\/\/127\.0\.0\.1:\d+ answered eth_chainId with something that is not a chain id/,
          ),
        });
        expect(refused.stdout + refused.stderr).not.toContain("api-key");
      }
      chainIdAnswer = undefined;
      await expectSignedNothing(before);
      // Nor when a send kept from before is looked for on the node: one whose broadcast got no answer.
      broadcastAnswer = {};
      const kept = await send("0.0042", "--rpc", lyingUrl);
      expect(kept.json).toMatchObject({ error: "rpc-failed", message: expect.stringMatching(/is signed and kept/) });
      broadcastAnswer = undefined;
      chainIdAnswer = { result: "banana" };
      const again = await send("0.0042", "--rpc", lyingUrl);
      expect(again.json).toMatchObject({ error: "rpc-failed", message: expect.stringMatching(/not a chain id/) });
      chainIdAnswer = undefined;
    } finally {
      await lying.close();
    }
    const tooMuch = await send("0.01", "--rpc", anvil.url, "--gas", "16777217");
    expect(tooMuch.json).toMatchObject({
      error: "usage",
      option: "--gas",
      message: expect.stringMatching(/never be mined/),
    });
  });

  it("signed offline, an Ethereum send's gas limit is a plain transfer's 21000, or the --gas given", async () => {
    const gasOf = async (...more: string[]) => {
      const offline = await sendTo(KEEPER, "0.1", "--chain-id", "31337", "--nonce", "99", ...more);
      expect(offline.code, offline.stdout + offline.stderr).toBe(0);
      return parseTransaction(offline.json.signed as `0x${string}`).gas;
    };
    expect(await gasOf()).toBe(21_000n);
    expect(await gasOf("--gas", "60000")).toBe(60_000n);
  });

  it("a Bitcoin send never shows the node's password, and one the node could not take is sent again, not signed again", async () => {
    const bob = p2wpkhOutput(secp256k1.getPublicKey(secp256k1.utils.randomSecretKey()), "regtest").address;
    const btc = (await phone.ok(["address", "--wallet", "main", "--chain", "bitcoin", "--network", "regtest"]))
      .address as string;
    const coin = node.fund(btc, 10_000_000n);
    const coins = join(phone.home, "coins.json");
    writeFileSync(coins, JSON.stringify([{ txid: coin.txid, vout: 0, hex: coin.hex }]));
    const password = new URL(node.url).password;
    const wrong = "not-the-node-password";
    const wrongUrl = node.url.replace(password, wrong);
    const pay = (rpc: string, ...more: string[]) =>
      phone.run([
        ...["send", "--wallet", "main", "--chain", "bitcoin", "--network", "regtest", "--to", bob, "--amount", "0.05"],
        ...["--rpc", rpc, "--yes", ...more],
      ]);
    const shown = (run: Run) => run.stdout + run.stderr;

    const unparsable = await pay(`http://keyshard:${password}@[nowhere`);
    expect(unparsable.code).toBe(2);
    expect(shown(unparsable)).not.toContain(password);

    const requests = await requestCount();
    // Signed with the coins file, then refused at the broadcast: progress and error name the node only.
    const refused = await pay(wrongUrl, "--coins", coins);
    expect(refused.code, shown(refused)).toBe(1);
    expect(shown(refused)).not.toContain(wrong);
    expect(shown(refused)).not.toContain(password);
    expect(shown(refused)).toMatch(/broadcasting [0-9a-f]{64} to http:\/\/127\.0\.0\.1:\d+$/m);
    expect(shown(refused)).toMatch(/refused the credentials.*is signed and kept/);
    expect(node.accepted).toEqual([]);

    const again = await pay(node.url, "--json");
    expect(again.code, shown(again)).toBe(0);
    expect(again.json).toMatchObject({ sentBefore: true });
    expect(node.accepted).toEqual([again.json.transactionId]);
    expect(node.balance(bob)).toBe(5_000_000n);
    expect(shown(again)).not.toContain(password);
    expect(await requestCount()).toBe(requests + 1);
  });
});
