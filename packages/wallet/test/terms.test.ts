/**
 * The command line in the user's terms: a policy file in coins is applied in coins and shown back
 * in coins, its rules numbered from 1 as the provider's held and denied reasons and a cosigner's
 * log number them; base units only when named; ids checked before anything is sent.
 */
import { writeFileSync } from "node:fs";
import { buildEthereumTransaction, describeEthereum } from "@keyshard/chains";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ProviderProcess, spawnProvider, startMailbox } from "../../provider/test/harness.js";
import { decide, parseRules } from "../src/cosigner.js";
import { type Device, firstDevice, type Run } from "./cli.js";

const BOB = "0x00000000000000000000000000000000000b0b00";

/** The exit code, and the message as a person reads it (with --json, the error's message). */
function expectRefused(run: Run, code: number, text: RegExp): void {
  expect(run.code, run.stdout + run.stderr).toBe(code);
  expect(typeof run.json?.message === "string" ? run.json.message : run.stderr + run.stdout).toMatch(text);
}

describe("amounts and rule numbers on the command line", () => {
  let mailbox: Awaited<ReturnType<typeof startMailbox>>;
  let provider: ProviderProcess;
  let phone: Device;
  const send = (amount: string, nonce: number) =>
    phone.run([
      "send",
      "--wallet",
      "savings",
      "--chain",
      "ethereum",
      "--to",
      BOB,
      "--amount",
      amount,
      "--chain-id",
      "1",
      "--nonce",
      String(nonce),
      "--json",
      "--yes",
    ]);

  beforeAll(async () => {
    mailbox = await startMailbox();
    provider = await spawnProvider({ KEYSHARD_SMTP_URL: mailbox.url });
    phone = await firstDevice(provider.url, mailbox.mails, "erin@example.com");
    const policy = `${phone.home}/policy.json`;
    writeFileSync(
      policy,
      JSON.stringify([
        {
          name: "small",
          when: { chain: ["ethereum"], asset: ["ETH"], maxAmount: "0.1", maxFee: "0.01" },
          decision: "allow",
        },
        { name: "large", when: { action: ["transfer"] }, decision: "require-approvals", approvals: 1 },
      ]),
    );
    await phone.ok(["wallet", "create", "--name", "savings", "--policy", policy]);
  });
  afterAll(async () => {
    await provider?.stop();
    await mailbox?.close();
    phone?.remove();
  });

  it("shows the policy it was given in coins, numbered from 1", async () => {
    const shown = await phone.run(["policy", "show", "--wallet", "savings"]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('rule 1 ("small"): allow when');
    expect(shown.stdout).toContain('"maxAmount":"0.1 ETH"');
    expect(shown.stdout).toContain('rule 2 ("large"): require-approvals 1 when');
    const json = await phone.ok(["policy", "show", "--wallet", "savings"]);
    expect((json.policy as { when: unknown }[])[0]?.when).toEqual({
      chain: ["ethereum"],
      asset: ["ETH"],
      maxAmount: "0.1 ETH",
      maxFee: "0.01",
    });
  });

  it("applies the coins: 0.05 ETH written in wei passes rule 1, 0.5 ETH is held by rule 2, named so everywhere", async () => {
    const small = await send("50000000000000000 wei", 0);
    expect(small.code, small.stdout + small.stderr).toBe(0);
    const held = await send("0.5", 1);
    expectRefused(held, 3, /held by the provider's policy \(rule 2 \("large"\)\)/);
    expect(held.json).toMatchObject({ error: "held", rule: "large", ruleNumber: 2 });
    const listed = await phone.run(["requests", "--status", "held"]);
    expect(listed.stdout).toMatch(/held +ethereum 0.5 ETH to 0x0{35}b0b00, rule 2 \("large"\)/i);
    // A cosigner's rules count the same way: its second rule is rule 2 in its log.
    const tx = describeEthereum(
      buildEthereumTransaction({
        chainId: 1,
        nonce: 1,
        to: BOB,
        value: 5n * 10n ** 17n,
        gas: 21_000n,
        maxFeePerGas: 1n,
        maxPriorityFeePerGas: 1n,
      }),
      { chainId: 1 },
    );
    const rules = parseRules({
      rules: [
        { chain: "ethereum", maxAmount: "0.1" },
        { chain: "ethereum", maxAmount: "1 ETH", to: [BOB] },
      ],
    });
    expect(decide(rules, tx)).toEqual({ accept: true, reason: "rule 2" });
  });

  it("refuses amounts it would have to guess at, before anything is signed", async () => {
    expectRefused(await send("1e18", 2), 1, /"1e18" is not an amount: write coins like 0.05 .* 21000 wei/);
    expectRefused(await send("0.5 BTC", 2), 1, /is in BTC, and this amount is in ETH/);
    const bad = `${phone.home}/bad-policy.json`;
    writeFileSync(
      bad,
      JSON.stringify([
        { name: "first", when: {}, decision: "deny" },
        { name: "big", when: { maxAmount: "0.5" }, decision: "allow" },
      ]),
    );
    expectRefused(
      await phone.run(["policy", "set", bad, "--wallet", "savings", "--totp", "123456"]),
      1,
      /rule 2 \("big"\): maxAmount: "0.5" is not in base units, and coins of an unnamed asset cannot be counted/,
    );
    expect((await phone.ok(["requests"])).requests as unknown[]).toHaveLength(2);
  });

  it("checks ids before sending them", async () => {
    for (const args of [
      ["cancel", "12345"],
      ["approve", "not-a-request"],
      ["deny", "7c9e"],
      ["policy", "cancel", "change-1"],
      ["changes", "cancel", "x"],
      ["heir", "veto", "zzz"],
    ])
      expectRefused(
        await phone.run(args),
        2,
        /is not a (request|policy change|change|heir) id: those look like 3f0c2a1e-/,
      );
  });
});
