/**
 * Policy rules on real descriptions: first match wins, every condition must hold for every
 * transfer, and nothing matches → deny; windows add up what the wallet already signed,
 * allow-list entries count after their cooling-off, and only rules naming a kind match messages,
 * typed data or hashes. Client-sent policies are read strictly.
 */
import {
  buildEthereumTransaction,
  describeEthereum,
  erc20ApproveData,
  erc20TransferData,
  parseEthereumAddress,
} from "@keyshard/chains";
import { describe, expect, it } from "vitest";
import {
  allowListKey,
  type Decision,
  evaluatePolicy,
  type Policy,
  parsePolicy,
  type RequestFacts,
  type WalletHistory,
} from "../src/policy/policy.js";

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

const NOW = 1_800_000_000_000;
const noHistory: WalletHistory = { now: NOW, allowList: new Map(), spent: [] };
const tx = (fields: Record<string, unknown>): RequestFacts => ({
  kind: "transaction",
  chain: "ethereum",
  description: eth(fields),
});
const decide = (p: Policy, facts: RequestFacts, history = noHistory): Decision => evaluatePolicy(p, facts, history);

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
    expect(decide(policy, tx({ value: 10n ** 18n }))).toEqual({ decision: "allow", rule: "small-eth-to-bob" });
    expect(decide(policy, tx({ value: 10n ** 18n + 1n }))).toEqual({ decision: "deny", rule: null });
    expect(decide(policy, tx({ to: EVE, value: 1n }))).toEqual({ decision: "deny", rule: "no-eve" });
    const usdc = (amount: bigint, to = BOB) => tx({ to: USDC, data: erc20TransferData(to, amount) });
    expect(decide(policy, usdc(5_000_000n))).toEqual({ decision: "allow", rule: "usdc" });
    expect(decide(policy, usdc(5_000_001n)).decision).toBe("deny");
    // The destination of a token transfer is the recipient in the call data, not the token contract.
    expect(decide(policy, usdc(1n, EVE))).toEqual({ decision: "deny", rule: "no-eve" });
    expect(decide(policy, tx({ data: "0xdeadbeef" })).decision).toBe("deny");
  });

  it("no condition holds vacuously: undecoded calls match neither destinations they avoid nor amounts", () => {
    const loose = parsePolicy([{ name: "small-to-bob", when: { to: [BOB], maxAmount: "10" }, decision: "allow" }]);
    // A call to another contract has no transfers, but it deals with that contract.
    expect(decide(loose, tx({ to: EVE, data: "0xa9059cbb" })).decision).toBe("deny");
    // Even a call to BOB itself cannot be bounded by an amount.
    expect(decide(loose, tx({ to: BOB, data: "0xdeadbeef" })).decision).toBe("deny");
    const destination = parsePolicy([{ name: "bob", when: { to: [BOB] }, decision: "allow" }]);
    expect(decide(destination, tx({ to: BOB, data: "0xdeadbeef" })).rule).toBe("bob");
    expect(decide(destination, tx({ to: EVE, data: "0xdeadbeef" })).decision).toBe("deny");
    // An approval's spender is a counterparty, and its allowance an amount.
    const approve = tx({ to: USDC, data: erc20ApproveData(EVE, 1n) });
    expect(decide(destination, approve).decision).toBe("deny");
    const capped = parsePolicy([{ name: "usdc", when: { asset: ["USDC"], maxAmount: "5" }, decision: "allow" }]);
    expect(decide(capped, approve).rule).toBe("usdc");
    expect(decide(capped, tx({ to: USDC, data: erc20ApproveData(EVE, 6n) })).decision).toBe("deny");
  });

  it("an unknown token never matches an asset rule, whatever its claimed symbol", () => {
    const fake = parseEthereumAddress("0x1111111111111111111111111111111111111111");
    expect(decide(policy, tx({ to: fake, data: erc20TransferData(BOB, 1n) })).decision).toBe("deny");
  });

  it("a window adds this transfer to what the wallet started signing within it", () => {
    const windowed = parsePolicy([
      {
        name: "daily",
        when: { asset: ["ETH"], window: { seconds: 86_400, maxTotal: "1000" } },
        decision: "allow",
      },
      { name: "over", when: { asset: ["ETH"] }, decision: "require-approvals", approvals: 2 },
    ]);
    const spent = (value: bigint, agoMs: number) => ({ symbol: "ETH", value, atMs: NOW - agoMs });
    const history = (s: WalletHistory["spent"]) => ({ ...noHistory, spent: s });
    expect(decide(windowed, tx({ value: 400n }), history([spent(600n, 3600_000)])).rule).toBe("daily");
    expect(decide(windowed, tx({ value: 401n }), history([spent(600n, 3600_000)]))).toEqual({
      decision: "require-approvals",
      rule: "over",
      approvals: 2,
    });
    // Older than the window, or another asset: not counted.
    expect(decide(windowed, tx({ value: 1000n }), history([spent(600n, 86_400_001)])).rule).toBe("daily");
    expect(decide(windowed, tx({ value: 1000n }), history([{ ...spent(600n, 1), symbol: "USDC" }])).rule).toBe("daily");
  });

  it("an allow-list entry counts only after its cooling-off period", () => {
    const listed = parsePolicy([
      { name: "listed", when: { allowListed: { coolingOffSeconds: 3600 } }, decision: "allow" },
      { name: "rest", when: {}, decision: "delay", delaySeconds: 86_400 },
    ]);
    const addedAgo = (ms: number) => ({
      ...noHistory,
      allowList: new Map([[allowListKey("ethereum", BOB), NOW - ms]]),
    });
    expect(decide(listed, tx({ value: 5n }), addedAgo(3600_000)).rule).toBe("listed");
    expect(decide(listed, tx({ value: 5n }), addedAgo(3599_000))).toEqual({
      decision: "delay",
      rule: "rest",
      delaySeconds: 86_400,
    });
    expect(decide(listed, tx({ to: EVE, value: 5n }), addedAgo(10 ** 9)).rule).toBe("rest");
  });

  it("messages, typed data and hashes match only rules that name their kind", () => {
    const permissive = parsePolicy([{ name: "anything", when: {}, decision: "allow" }]);
    const hash: RequestFacts = { kind: "raw-hash", chain: "ethereum" };
    expect(decide(permissive, hash)).toEqual({ decision: "deny", rule: null });
    expect(decide(permissive, { kind: "typed-data", chain: "ethereum" }).decision).toBe("deny");
    // A transfer condition is never vacuously true for a request that moves nothing.
    const loose = parsePolicy([
      { name: "to-bob", when: { kind: ["transaction", "raw-hash"], to: [BOB] }, decision: "allow" },
    ]);
    expect(decide(loose, hash).decision).toBe("deny");
    const named = parsePolicy([{ name: "hashes", when: { kind: ["raw-hash"] }, decision: "require-totp" }]);
    expect(decide(named, hash)).toEqual({ decision: "require-totp", rule: "hashes" });
  });

  it("compares Solana addresses exactly and Ethereum addresses without case", () => {
    expect(allowListKey("ethereum", BOB.toUpperCase().replace("0X", "0x"))).toBe(allowListKey("ethereum", BOB));
    const sol = "Vote111111111111111111111111111111111111111";
    expect(allowListKey("solana", sol)).not.toBe(allowListKey("solana", sol.toLowerCase()));
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
      [{ name: "x", when: { window: { seconds: 3600, maxTotal: "1" } }, decision: "allow" }],
      [{ name: "x", when: { asset: ["ETH", "USDC"], window: { seconds: 3600, maxTotal: "1" } }, decision: "allow" }],
      [{ name: "x", when: { asset: ["ETH"], window: { seconds: 1, maxTotal: "1" } }, decision: "allow" }],
      [{ name: "x", when: { kind: ["message"], maxAmount: "1" }, decision: "allow" }],
      [{ name: "x", when: { kind: ["picture"] }, decision: "allow" }],
      [{ name: "x", when: {}, decision: "require-approvals" }],
      [{ name: "x", when: {}, decision: "require-approvals", approvals: 0 }],
      [{ name: "x", when: {}, decision: "allow", approvals: 1 }],
      [{ name: "x", when: {}, decision: "delay", delaySeconds: 0 }],
      [{ name: "x", when: { allowListed: { coolingOffSeconds: -1 } }, decision: "allow" }],
      [
        { name: "x", when: {}, decision: "allow" },
        { name: "x", when: {}, decision: "deny" },
      ],
    ])
      expect(() => parsePolicy(bad)).toThrow();
  });
});
