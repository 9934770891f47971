/**
 * Bad input on the command line: each mistake gets a clear message, the right exit code and no
 * stack trace, and changes nothing. Also the pure parts the commands rely on: amounts and the
 * cosigner's rules.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ProviderProcess, spawnProvider, startMailbox } from "../../provider/test/harness.js";
import { decide, parseRules } from "../src/cosigner.js";
import { WalletError } from "../src/errors.js";
import { Device, firstDevice, type Run } from "./cli.js";

const BOB = "0x00000000000000000000000000000000000b0b00";

function expectClean(run: Run, code: number, text: RegExp): void {
  expect(run.code, run.stdout + run.stderr).toBe(code);
  expect(run.stderr + run.stdout).toMatch(text);
  expect(run.stderr + run.stdout).not.toMatch(/\n\s+at .+:\d+:\d+/);
}

describe("keyshard refuses bad input clearly", () => {
  let mailbox: Awaited<ReturnType<typeof startMailbox>>;
  let provider: ProviderProcess;
  let phone: Device;
  beforeAll(async () => {
    mailbox = await startMailbox();
    provider = await spawnProvider({ KEYSHARD_SMTP_URL: mailbox.url });
    phone = await firstDevice(provider.url, mailbox.mails, "dave@example.com");
    await phone.ok(["wallet", "create", "--name", "main"]);
  });
  afterAll(async () => {
    await provider?.stop();
    await mailbox?.close();
    phone?.remove();
  });

  it("usage mistakes exit 2", async () => {
    expectClean(await phone.run(["frobnicate"]), 2, /usage: keyshard/);
    expectClean(await phone.run(["address", "--chain", "ethereum"]), 2, /missing --wallet/);
    expectClean(await phone.run(["address", "--wallet", "main", "--chain", "dogecoin"]), 2, /--chain is one of/);
    expectClean(await phone.run(["send", "--bogus"]), 2, /Unknown option/);
    expectClean(await phone.run(["wallet", "create", "--name", "x", "--quorum", "two"]), 2, /--quorum is T\/N/);
    // The SDK names `n` and `devices`; the command line says the options that give them.
    expectClean(
      await phone.run(["wallet", "create", "--name", "x", "--quorum", "2/3"]),
      2,
      /^keyshard: a wallet without other devices is hybrid: this device and the provider, 2-of-2; a t-of-n wallet needs each other device's id in --with\n$/,
    );
    expectClean(
      await phone.run(["wallet", "create", "--name", "x", "--with", "laptop", "--quorum", "2/5"]),
      2,
      /^keyshard: the N of --quorum is 5, but it counts the parties: here 2 devices \(this one and those in --with\), so 2\n$/,
    );
    expectClean(await phone.run(["reshare", "--wallet", "main"]), 2, /say what changes/);
    expectClean(await phone.run(["reshare", "--wallet", "main", "--quorum", "2/3"]), 2, /hybrid.*keyshard refresh/);
    expectClean(await phone.run(["backup", "download", "--wallet", "main"]), 1, /no backup of this wallet/);
  });

  it("a wrong passphrase and a corrupted keystore exit 1 and say so", async () => {
    expectClean(
      await phone.run(["wallet", "list"], { KEYSHARD_PASSPHRASE: "not the passphrase" }),
      1,
      /does not open with this passphrase/,
    );
    const other = new Device();
    await other.ok(["init"]);
    const { readFileSync, writeFileSync } = await import("node:fs");
    const file = `${other.home}/keystore.json`;
    writeFileSync(file, readFileSync(file, "utf8").slice(0, 100));
    expectClean(await other.run(["wallet", "list"]), 1, /damaged; restore it from a backup/);
    expectClean(await new Device().run(["wallet", "list"]), 1, /no keystore in .*keyshard init/);
    expectClean(await other.run(["init"]), 1, /a keystore exists/);
    other.remove();
  });

  it("a provider that is down, an unknown wallet, a bad address, too many decimals exit 1", async () => {
    const lonely = new Device();
    await lonely.ok(["init"]);
    expectClean(
      await lonely.run(["register", "--provider", "http://127.0.0.1:1", "--email", "x@example.com"]),
      1,
      /cannot reach the provider at http:\/\/127.0.0.1:1/,
    );
    expectClean(await lonely.run(["wallet", "list"]), 1, /no provider yet.*keyshard register/);
    lonely.remove();
    expectClean(await phone.run(["address", "--wallet", "nope", "--chain", "ethereum"]), 1, /no wallet named nope/);
    const send = (to: string, amount: string) =>
      phone.run(["send", "--wallet", "main", "--chain", "ethereum", "--to", to, "--amount", amount, "--json"]);
    const badAddress = await send("0x1234", "0.1");
    expectClean(badAddress, 1, /not an Ethereum address/);
    expect(badAddress.json.error).toBe("invalid-address");
    const decimals = await send(BOB, "0.1234567890123456789");
    expectClean(decimals, 1, /19 decimals; ETH has 18 at most/);
    expect(decimals.json.error).toBe("invalid-amount");
    expectClean(await send(BOB, "1,5"), 1, /is not an amount/);
    // None of these reached the provider.
    expect((await phone.ok(["requests"])).requests).toEqual([]);
  });

  // Stops this suite's provider, so it comes last: a registered device whose provider went away.
  it("a provider that goes down mid-use is named, not a stack trace", async () => {
    await provider.stop();
    expectClean(await phone.run(["wallet", "create", "--name", "w"]), 1, /cannot reach the provider/);
  });
});

describe("cosigner rules", () => {
  const transfer = (value: bigint, to = BOB, contract?: string) =>
    ({
      chain: "ethereum",
      network: "eip155:1",
      action: contract ? "token-transfer" : "transfer",
      transfers: [
        { to, value, text: "", asset: { symbol: "ETH", decimals: 18, known: true, ...(contract && { contract }) } },
      ],
      change: [],
      approvals: [],
      calls: [],
      fee: { value: 0n, text: "", asset: { symbol: "ETH", decimals: 18, known: true } },
      warnings: [],
    }) as never;
  const rules = parseRules({
    rules: [{ chain: "ethereum", maxAmount: "0.05", to: [BOB.toUpperCase().replace("0X", "0x")] }],
  });

  it("lets through only native transfers within the amount to listed addresses", () => {
    expect(decide(rules, transfer(5n * 10n ** 16n)).accept).toBe(true);
    expect(decide(rules, transfer(5n * 10n ** 16n + 1n))).toMatchObject({
      accept: false,
      reason: expect.stringContaining("over 0.05"),
    });
    expect(decide(rules, transfer(1n, "0x0000000000000000000000000000000000000bad"))).toMatchObject({ accept: false });
    expect(decide(rules, transfer(1n, BOB, "0xdac17f958d2ee523a2206206994597c13d831ec7"))).toMatchObject({
      accept: false,
    });
    expect(decide([], transfer(1n)).accept).toBe(false);
  });

  it("refuses rules files it does not understand", () => {
    expect(() => parseRules({})).toThrow(WalletError);
    expect(() => parseRules({ rules: [{ chain: "dogecoin" }] })).toThrow(/chain is ethereum, bitcoin or solana/);
    expect(() => parseRules({ rules: [{ chain: "ethereum", maxAmount: "lots" }] })).toThrow(WalletError);
    expect(() => parseRules({ rules: [{ chain: "ethereum", anything: true }] })).toThrow(
      /only chain, maxAmount and to/,
    );
  });
});
