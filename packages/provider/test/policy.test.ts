/**
 * Policy rules on real descriptions: first match wins, every condition must hold for every
 * transfer, and nothing matches → deny. Client-sent policies are read strictly.
 */
import { buildEthereumTransaction, describeEthereum, erc20TransferData, parseEthereumAddress } from "@keyshard/chains";
import { describe, expect, it } from "vitest";
import { evaluatePolicy, parsePolicy } from "../src/policy/policy.js";

const BOB = parseEthereumAddress("0x00000000000000000000000000000000000b0b00");
const EVE = parseEthereumAddress("0x0000000000000000000000000000000000000e0e");
const USDC = parseEthereumAddress("0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48");

function eth(fields: Record<string, unknown>) {
  const bytes = buildEthereumTransaction({
    chainId: 1,
    nonce: 0,
    to: BOB,
    value: 0n,
    gas: 90_000n,
    maxFeePerGas: 1n,
    maxPriorityFeePerGas: 1n,
    ...fields,
  } as never);
  return describeEthereum(bytes, { chainId: 1 });
}

const policy = parsePolicy([
  { name: "no-eve", when: { to: [EVE] }, decision: "deny" },
  {
    name: "small-eth-to-bob",
    when: { chain: ["ethereum"], asset: ["ETH"], to: [BOB.toLowerCase()], maxAmount: "1000000000000000000" },
    decision: "allow",
  },
  { name: "usdc", when: { action: ["token-transfer"], asset: ["USDC"], maxAmount: "5000000" }, decision: "allow" },
]);

describe("policy evaluation", () => {
  it("first match wins; amounts, destinations and assets must all hold", () => {
    expect(evaluatePolicy(policy, eth({ value: 10n ** 18n }))).toEqual({ decision: "allow", rule: "small-eth-to-bob" });
    expect(evaluatePolicy(policy, eth({ value: 10n ** 18n + 1n }))).toEqual({ decision: "deny", rule: null });
    expect(evaluatePolicy(policy, eth({ to: EVE, value: 1n }))).toEqual({ decision: "deny", rule: "no-eve" });
    const usdc = (amount: bigint, to = BOB) => eth({ to: USDC, data: erc20TransferData(to, amount) });
    expect(evaluatePolicy(policy, usdc(5_000_000n))).toEqual({ decision: "allow", rule: "usdc" });
    expect(evaluatePolicy(policy, usdc(5_000_001n)).decision).toBe("deny");
    // The destination of a token transfer is the recipient in the call data, not the token contract.
    expect(evaluatePolicy(policy, usdc(1n, EVE))).toEqual({ decision: "deny", rule: "no-eve" });
    expect(evaluatePolicy(policy, eth({ data: "0xdeadbeef" })).decision).toBe("deny");
  });

  it("an unknown token never matches an asset rule, whatever its claimed symbol", () => {
    const fake = parseEthereumAddress("0x1111111111111111111111111111111111111111");
    expect(evaluatePolicy(policy, eth({ to: fake, data: erc20TransferData(BOB, 1n) })).decision).toBe("deny");
  });

  it("refuses policies it does not understand", () => {
    for (const bad of [
      {},
      [{ name: "x", when: {}, decision: "maybe" }],
      [{ name: "x", when: { colour: ["red"] }, decision: "allow" }],
      [{ name: "x", when: { maxAmount: 5 }, decision: "allow" }],
      [{ name: "x", when: { maxAmount: "-1" }, decision: "allow" }],
      [{ name: "x", when: { chain: ["dogecoin"] }, decision: "allow" }],
      [{ name: "", when: {}, decision: "allow" }],
      [{ name: "x", when: {}, decision: "allow", extra: true }],
    ])
      expect(() => parsePolicy(bad)).toThrow();
  });
});
