/**
 * One unit for amounts: coins by default, base units only when said so, nothing guessed; and
 * policies converted between people's coins and the provider's base units without loss.
 */
import { CHAIN_COINS, type CoinUnit, unitOfSymbol } from "@keyshard/chains";
import { describe, expect, it } from "vitest";
import { formatAmount, parseAmount, readAmount, showAmount } from "../src/amount.js";
import { WalletError } from "../src/errors.js";
import { policyForPeople, policyForProvider } from "../src/policy-units.js";

const { ethereum: ETH, bitcoin: BTC, solana: SOL } = CHAIN_COINS;
const USDC = unitOfSymbol("USDC") as CoinUnit;

describe("amounts", () => {
  it("reads coins exactly, with or without the symbol, in any case", () => {
    expect(parseAmount("1", ETH)).toBe(10n ** 18n);
    expect(parseAmount("0.5 ETH", ETH)).toBe(5n * 10n ** 17n);
    expect(parseAmount("0.5 eth", ETH)).toBe(5n * 10n ** 17n);
    expect(parseAmount("0.000000000000000001", ETH)).toBe(1n);
    expect(parseAmount("0.001", BTC)).toBe(100_000n);
    expect(parseAmount("1.5", SOL)).toBe(1_500_000_000n);
    expect(parseAmount("2.5 USDC", USDC)).toBe(2_500_000n);
  });

  it("reads base units only when named, whole", () => {
    expect(parseAmount("21000 wei", ETH)).toBe(21_000n);
    expect(parseAmount("1500 sat", BTC)).toBe(1500n);
    expect(parseAmount("5000 lamports", SOL)).toBe(5000n);
    expect(parseAmount("10 base units", USDC)).toBe(10n);
    expect(() => parseAmount("1.5 wei", ETH)).toThrow(/has decimals, and wei are whole numbers/);
  });

  it("refuses what it would have to guess at", () => {
    for (const bad of ["", "1.", ".5", "1e18", "1E3", "0x10", "-1", "1,5", "one", "1 2", "Infinity"])
      expect(() => parseAmount(bad, ETH), bad).toThrow(WalletError);
    expect(() => parseAmount("1e18", ETH)).toThrow(/is not an amount: write coins like 0.05 .* 21000 wei/);
    expect(() => parseAmount("0.0000000001", SOL)).toThrow(/10 decimals; SOL has 9 at most/);
    expect(() => parseAmount("0.0000001", USDC)).toThrow(/7 decimals; USDC has 6 at most/);
    // Another chain's unit is a mistake, not a conversion.
    expect(() => parseAmount("1500 sat", ETH)).toThrow(/is in sat, and this amount is in ETH/);
    expect(() => parseAmount("1 BTC", ETH)).toThrow(/is in BTC/);
    expect(() => parseAmount("0", ETH)).toThrow(/more than zero/);
    expect(() => parseAmount(`${2n ** 256n} wei`, ETH)).toThrow(/more than any account can hold/);
    expect(readAmount("0", ETH)).toBe(0n);
  });

  it("shows base units back as coins", () => {
    expect(formatAmount(12_500_000_000n, 9)).toBe("12.5");
    expect(formatAmount(1n, 18)).toBe("0.000000000000000001");
    expect(showAmount(5n * 10n ** 17n, ETH)).toBe("0.5 ETH");
    expect(showAmount(100_000n, BTC)).toBe("0.001 BTC");
    for (const [text, unit] of [
      ["0.5", ETH],
      ["0.001", BTC],
      ["1.5", SOL],
      ["2.5", USDC],
    ] as const)
      expect(showAmount(parseAmount(text, unit), unit)).toBe(`${text} ${unit.symbol}`);
  });
});

describe("policies in coins", () => {
  const policy = [
    {
      name: "coffee",
      when: { chain: ["ethereum"], asset: ["ETH"], maxAmount: "0.05", maxFee: "0.001" },
      decision: "allow",
    },
    {
      name: "daily-usdc",
      when: { asset: ["USDC", "USDT"], window: { seconds: 86_400, maxTotal: "100" } },
      decision: "allow",
    },
    {
      name: "sol",
      when: { chain: ["solana"], asset: ["SOL"], maxAmount: "1.5 SOL", maxFee: "5000 lamports" },
      decision: "allow",
    },
    { name: "fees", when: { network: ["eip155:1"], maxFee: "0.002" }, decision: "require-totp" },
    { name: "anything-tiny", when: { maxAmount: "1000 base units" }, decision: "delay", delaySeconds: 60 },
  ];
  const sent = policyForProvider(policy) as { when: Record<string, unknown> }[];

  it("goes to the provider in base units", () => {
    expect(sent.map((r) => r.when)).toEqual([
      { chain: ["ethereum"], asset: ["ETH"], maxAmount: "50000000000000000", maxFee: "1000000000000000" },
      { asset: ["USDC", "USDT"], window: { seconds: 86_400, maxTotal: "100000000" } },
      { chain: ["solana"], asset: ["SOL"], maxAmount: "1500000000", maxFee: "5000" },
      { network: ["eip155:1"], maxFee: "2000000000000000" },
      { maxAmount: "1000" },
    ]);
    // The caller's policy is left as it was.
    expect(policy[0]?.when.maxAmount).toBe("0.05");
  });

  it("comes back in coins, and what it shows is read back to the same policy", () => {
    const shown = policyForPeople(sent) as { when: Record<string, unknown> }[];
    expect(shown.map((r) => r.when)).toEqual([
      { chain: ["ethereum"], asset: ["ETH"], maxAmount: "0.05 ETH", maxFee: "0.001" },
      { asset: ["USDC", "USDT"], window: { seconds: 86_400, maxTotal: "100" } },
      { chain: ["solana"], asset: ["SOL"], maxAmount: "1.5 SOL", maxFee: "0.000005 SOL" },
      { network: ["eip155:1"], maxFee: "0.002 ETH" },
      { maxAmount: "1000 base units" },
    ]);
    expect(policyForProvider(shown)).toEqual(sent);
  });

  it("refuses a bare number long enough to be base units from an older policy file, either way round", () => {
    const rule = (when: Record<string, unknown>) => [{ name: "cap", when, decision: "allow" }];
    expect(() => policyForProvider(rule({ asset: ["ETH"], maxAmount: "500000000000000000" }))).toThrow(
      /rule 1 \("cap"\): maxAmount: "500000000000000000" would be 500000000000000000 coins; say which you mean: "500000000000000000 wei" or "500000000000000000 ETH"/,
    );
    expect(() => policyForProvider(rule({ asset: ["USDC"], maxAmount: "100000000" }))).toThrow(/"100000000 USDC"/);
    expect(() => policyForProvider(rule({ asset: ["USDC", "USDT"], maxAmount: "1000000" }))).toThrow(/"1000000\.0"/);
    // Said either way, it is taken.
    expect(policyForProvider(rule({ asset: ["USDC"], maxAmount: "100000000 USDC" }))).toEqual(
      rule({ asset: ["USDC"], maxAmount: "100000000000000" }),
    );
    expect(policyForProvider(rule({ asset: ["USDC"], maxAmount: "100000000 base units" }))).toEqual(
      rule({ asset: ["USDC"], maxAmount: "100000000" }),
    );
    // Short numbers are plainly coins; a large limit shown without a symbol reads back as it was.
    expect(policyForProvider(rule({ asset: ["BTC"], maxAmount: "2" }))).toEqual(
      rule({ asset: ["BTC"], maxAmount: "200000000" }),
    );
    const large = rule({ asset: ["USDC", "USDT"], maxAmount: "1000000000000" });
    const shown = policyForPeople(large) as { when: Record<string, unknown> }[];
    expect(shown[0]?.when.maxAmount).toBe("1000000.0");
    expect(policyForProvider(shown)).toEqual(large);
  });

  it("refuses coins it cannot count, naming the rule from 1 and the field", () => {
    const refused = (when: Record<string, unknown>) => () =>
      policyForProvider([
        { name: "first", when: {}, decision: "deny" },
        { name: "big", when, decision: "allow" },
      ]);
    expect(refused({ maxAmount: "0.5" })).toThrow(
      /rule 2 \("big"\): maxAmount: "0.5" is not in base units, and coins of an unnamed asset cannot be counted: .* name its asset, e.g. "asset": \["ETH"\]/,
    );
    // 0.5 ETH and 0.5 USDC differ a trillion-fold: one number cannot bound both.
    expect(refused({ asset: ["ETH", "USDC"], maxAmount: "0.5" })).toThrow(/rule 2 \("big"\): maxAmount/);
    expect(refused({ asset: ["ETH", "USDC"], maxAmount: "500 base units" })).not.toThrow();
    expect(refused({ maxFee: "0.01" })).toThrow(/rule 2 \("big"\): maxFee: .* name its chain or network/);
    expect(refused({ chain: ["ethereum", "bitcoin"], maxFee: "0.01" })).toThrow(/maxFee/);
    expect(refused({ asset: ["ETH"], maxAmount: "1e18" })).toThrow(
      /rule 2 \("big"\): maxAmount: "1e18" is not an amount/,
    );
    expect(refused({ asset: ["ETH"], maxAmount: "0.1234567890123456789" })).toThrow(/19 decimals; ETH has 18/);
    expect(refused({ asset: ["BTC"], window: { seconds: 3600, maxTotal: "1 ETH" } })).toThrow(
      /rule 2 \("big"\): window maxTotal: "1 ETH" is in ETH, and this amount is in BTC/,
    );
    expect(refused({ asset: ["ETH"], maxAmount: 5 })).toThrow(/rule 2 \("big"\): maxAmount is an amount in quotes/);
  });
});
