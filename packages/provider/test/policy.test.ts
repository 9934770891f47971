/**
 * Policy rules on real descriptions: first match wins, every condition must hold for every
 * outflow, fees included, and nothing matches → deny; windows add up what the wallet already
 * signed, allow-list entries count after their cooling-off, and only rules naming a kind match
 * messages, typed data or hashes. Client-sent policies are read strictly.
 */
import type { Policy } from "@keyshard/api";
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
  parsePolicy,
  type RequestFacts,
  releaseRefusal,
  type WalletHistory,
} from "../src/policy/policy.js";

const BOB = parseEthereumAddress("0x00000000000000000000000000000000000b0b00");
const EVE = parseEthereumAddress("0x0000000000000000000000000000000000000e0e");
const USDC = parseEthereumAddress("0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48");

/** The fee of every transaction `eth` builds: 90 000 gas at 1 wei. */
const FEE = 90_000n;

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
const spent = (value: bigint, agoMs: number, network = "eip155:1") => ({
  chain: "ethereum" as const,
  network,
  symbol: "ETH",
  value,
  atMs: NOW - agoMs,
});
const decide = (p: Policy, facts: RequestFacts, history = noHistory): Decision => evaluatePolicy(p, facts, history);

const policy = parsePolicy([
  { name: "no-eve", when: { to: [EVE] }, decision: "deny" },
  {
    name: "small-eth-to-bob",
    when: { chain: ["ethereum"], asset: ["ETH"], to: [BOB.toLowerCase()], maxAmount: "1000000000000000000" },
    decision: "allow",
  },
  {
    name: "usdc",
    when: { action: ["token-transfer"], asset: ["USDC"], maxAmount: "5000000", maxFee: "90000" },
    decision: "allow",
  },
]);

describe("policy evaluation", () => {
  it("first match wins; amounts, destinations and assets must all hold", () => {
    // The fee is Ether leaving the wallet too.
    expect(decide(policy, tx({ value: 10n ** 18n - FEE }))).toEqual({
      decision: "allow",
      rule: "small-eth-to-bob",
      ruleNumber: 2,
    });
    expect(decide(policy, tx({ value: 10n ** 18n - FEE + 1n }))).toEqual({
      decision: "deny",
      rule: null,
      ruleNumber: null,
    });
    expect(decide(policy, tx({ to: EVE, value: 1n }))).toEqual({ decision: "deny", rule: "no-eve", ruleNumber: 1 });
    const usdc = (amount: bigint, to = BOB) => tx({ to: USDC, data: erc20TransferData(to, amount) });
    expect(decide(policy, usdc(5_000_000n))).toEqual({ decision: "allow", rule: "usdc", ruleNumber: 3 });
    expect(decide(policy, usdc(5_000_001n)).decision).toBe("deny");
    // The destination of a token transfer is the recipient in the call data, not the token contract.
    expect(decide(policy, usdc(1n, EVE))).toEqual({ decision: "deny", rule: "no-eve", ruleNumber: 1 });
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
    const capped = parsePolicy([
      { name: "usdc", when: { asset: ["USDC"], maxAmount: "5", maxFee: "90000" }, decision: "allow" },
    ]);
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
        when: { asset: ["ETH"], window: { seconds: 86_400, maxTotal: "1000000" } },
        decision: "allow",
      },
      { name: "over", when: { asset: ["ETH"] }, decision: "require-approvals", approvals: 2 },
    ]);
    const history = (s: WalletHistory["spent"]) => ({ ...noHistory, spent: s });
    const past = [spent(600_000n, 3600_000)];
    expect(decide(windowed, tx({ value: 400_000n - FEE }), history(past)).rule).toBe("daily");
    expect(decide(windowed, tx({ value: 400_001n - FEE }), history(past))).toEqual({
      decision: "require-approvals",
      rule: "over",
      ruleNumber: 2,
      approvals: 2,
    });
    // Older than the window, or another asset: not counted.
    const full = 1_000_000n - FEE;
    expect(decide(windowed, tx({ value: full }), history([spent(600_000n, 86_400_001)])).rule).toBe("daily");
    expect(decide(windowed, tx({ value: full }), history([{ ...spent(600_000n, 1), symbol: "USDC" }])).rule).toBe(
      "daily",
    );
  });

  it("fees count as outflows of the native coin, each asset totalled over the request", () => {
    const capped = parsePolicy([{ name: "small", when: { asset: ["ETH"], maxAmount: "100000" }, decision: "allow" }]);
    expect(decide(capped, tx({ value: 0n, gas: 21_000n, maxFeePerGas: 1n })).rule).toBe("small");
    // Nothing sent, 21 ETH burnt as fee.
    expect(decide(capped, tx({ value: 0n, gas: 21_000n, maxFeePerGas: 10n ** 15n })).decision).toBe("deny");
    // A token rule without a fee cap never allows the Ether the fee costs.
    const usdc = tx({ to: USDC, data: erc20TransferData(BOB, 1n) });
    expect(decide(parsePolicy([{ name: "u", when: { asset: ["USDC"] }, decision: "allow" }]), usdc).decision).toBe(
      "deny",
    );
    // Another EVM chain's coin is not Ether, whatever its wei.
    const rsk = describeEthereum(
      buildEthereumTransaction({ chainId: 30, nonce: 0, to: BOB, value: 1n, gas: 21_000n, gasPrice: 1n } as never),
      { chainId: 30 },
    );
    expect(decide(capped, { kind: "transaction", chain: "ethereum", description: rsk }).decision).toBe("deny");
  });

  it("fee caps bound the fee: in base units, or against the native value moved", () => {
    const capped = parsePolicy([
      { name: "fee", when: { asset: ["USDC"], maxFee: String(FEE) }, decision: "allow" },
      { name: "share", when: { asset: ["ETH"], maxFeeBasisPoints: 100 }, decision: "allow" },
    ]);
    const usdc = (fields: Record<string, unknown>) => tx({ to: USDC, data: erc20TransferData(BOB, 1n), ...fields });
    expect(decide(capped, usdc({})).rule).toBe("fee");
    expect(decide(capped, usdc({ maxFeePerGas: 2n })).decision).toBe("deny");
    // Ether sent along with the token call is not a fee: the rule lists no Ether.
    expect(decide(capped, usdc({ value: 1n })).decision).toBe("deny");
    // 1 %: a fee of 90 000 wei needs 9 000 000 wei sent; moving no Ether, only a zero fee passes.
    expect(decide(capped, tx({ value: 9_000_000n })).rule).toBe("share");
    expect(decide(capped, tx({ value: 8_999_999n })).decision).toBe("deny");
    expect(decide(capped, tx({ value: 0n })).decision).toBe("deny");
    expect(decide(capped, tx({ value: 0n, maxFeePerGas: 0n, maxPriorityFeePerGas: 0n })).rule).toBe("share");
    // A call keyshard cannot decode still has a fee its bytes fix.
    const call = parsePolicy([{ name: "call", when: { to: [BOB], maxFee: String(FEE) }, decision: "allow" }]);
    expect(decide(call, tx({ data: "0xdeadbeef" })).rule).toBe("call");
    expect(decide(call, tx({ data: "0xdeadbeef", maxFeePerGas: 2n })).decision).toBe("deny");
  });

  it("a network condition picks networks, and a window counts only what they spent", () => {
    const mainnet = parsePolicy([
      {
        name: "mainnet-daily",
        when: { network: ["eip155:1"], asset: ["ETH"], window: { seconds: 86_400, maxTotal: "1000000" } },
        decision: "allow",
      },
    ]);
    const value = 500_000n - FEE;
    const onSepolia = { ...noHistory, spent: [spent(600_000n, 1000, "eip155:11155111")] };
    expect(decide(mainnet, tx({ value }), onSepolia).rule).toBe("mainnet-daily");
    const onMainnet = { ...noHistory, spent: [spent(600_000n, 1000)] };
    expect(decide(mainnet, tx({ value }), onMainnet).decision).toBe("deny");
    const sepolia = describeEthereum(
      buildEthereumTransaction({
        chainId: 11155111,
        nonce: 0,
        to: BOB,
        value: 1n,
        gas: 21_000n,
        gasPrice: 1n,
      } as never),
      { chainId: 11155111 },
    );
    expect(decide(mainnet, { kind: "transaction", chain: "ethereum", description: sepolia }).decision).toBe("deny");
  });

  it("a held request is released only while the policy of the moment still holds it no harder", () => {
    const daily = {
      name: "daily",
      when: { asset: ["ETH"], window: { seconds: 86_400, maxTotal: "1000000" } },
      decision: "delay",
      delaySeconds: 60,
    };
    const held = { rule: "daily", decision: "delay" as const, approvals: 0, delaySeconds: 60 };
    const policy = parsePolicy([daily]);
    const facts = tx({ value: 500_000n - FEE });
    expect(releaseRefusal(policy, held, facts, noHistory)).toBeNull();
    expect(releaseRefusal(policy, held, facts, { ...noHistory, spent: [spent(500_001n, 1000)] })).toMatch(
      /no rule of the wallet's policy matches/,
    );
    expect(releaseRefusal(policy, { ...held, rule: "gone" }, facts, noHistory)).toMatch(/not rule "gone"/);
    // A deny rule the owner put first meanwhile, or the same rule now holding longer, stops the release.
    const denyFirst = parsePolicy([{ name: "stop", when: {}, decision: "deny" }, daily]);
    expect(releaseRefusal(denyFirst, held, facts, noHistory)).toMatch(/rule 1 \("stop"\) now denies/);
    const longer = parsePolicy([{ ...daily, delaySeconds: 3600 }]);
    expect(releaseRefusal(longer, held, facts, noHistory)).toMatch(/now holds requests 3600 s/);
    const approvals = parsePolicy([{ name: "daily", when: daily.when, decision: "require-approvals", approvals: 2 }]);
    expect(releaseRefusal(approvals, held, facts, noHistory)).toMatch(/now decides require-approvals/);
    // Allowed outright by the policy of the moment: nothing left to wait for.
    expect(
      releaseRefusal(parsePolicy([{ name: "open", when: {}, decision: "allow" }]), held, facts, noHistory),
    ).toBeNull();
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
      ruleNumber: 2,
      delaySeconds: 86_400,
    });
    expect(decide(listed, tx({ to: EVE, value: 5n }), addedAgo(10 ** 9)).rule).toBe("rest");
  });

  it("messages, typed data and hashes match only rules that name their kind", () => {
    const permissive = parsePolicy([{ name: "anything", when: {}, decision: "allow" }]);
    const hash: RequestFacts = { kind: "raw-hash", chain: "ethereum" };
    expect(decide(permissive, hash)).toEqual({ decision: "deny", rule: null, ruleNumber: null });
    expect(decide(permissive, { kind: "typed-data", chain: "ethereum" }).decision).toBe("deny");
    // A transfer condition is never vacuously true for a request that moves nothing.
    const loose = parsePolicy([
      { name: "to-bob", when: { kind: ["transaction", "raw-hash"], to: [BOB] }, decision: "allow" },
    ]);
    expect(decide(loose, hash).decision).toBe("deny");
    const named = parsePolicy([{ name: "hashes", when: { kind: ["raw-hash"] }, decision: "require-totp" }]);
    expect(decide(named, hash)).toEqual({ decision: "require-totp", rule: "hashes", ruleNumber: 1 });
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
      [{ name: "x", when: { network: ["ethereum"] }, decision: "allow" }],
      [{ name: "x", when: { network: ["eip155:01"] }, decision: "allow" }],
      [{ name: "x", when: { network: ["bitcoin:signet"] }, decision: "allow" }],
      // A PSBT does not commit to its network: a rule scoped by the client's label could be dodged.
      [{ name: "x", when: { network: ["bitcoin:mainnet"] }, decision: "allow" }],
      [{ name: "x", when: { network: [] }, decision: "allow" }],
      [{ name: "x", when: { maxFee: 5 }, decision: "allow" }],
      [{ name: "x", when: { maxFee: "1.5" }, decision: "allow" }],
      [{ name: "x", when: { maxFeeBasisPoints: -1 }, decision: "allow" }],
      [{ name: "x", when: { maxFeeBasisPoints: 10_001 }, decision: "allow" }],
      [{ name: "x", when: { maxFeeBasisPoints: 2.5 }, decision: "allow" }],
      [{ name: "x", when: { maxFeeBasisPoints: "50" }, decision: "allow" }],
      [{ name: "x", when: { kind: ["typed-data"], maxFee: "1" }, decision: "allow" }],
      [{ name: "x", when: { kind: ["message"], network: ["eip155:1"] }, decision: "allow" }],
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

  it("names a refused rule as people count rules, from 1, with the field", () => {
    const second = (when: Record<string, unknown>) => () =>
      parsePolicy([
        { name: "first", when: {}, decision: "deny" },
        { name: "big", when, decision: "allow" },
      ]);
    expect(second({ maxAmount: "0.5" })).toThrow(/^rule 2 \("big"\): maxAmount is a whole number of base units/);
    expect(second({ chain: ["dogecoin"] })).toThrow(/^rule 2 \("big"\): chain has an unknown value/);
    expect(second({ window: { seconds: 1, maxTotal: "1" }, asset: ["ETH"] })).toThrow(
      /^rule 2 \("big"\): window seconds/,
    );
    expect(() => parsePolicy([{ name: "", when: {}, decision: "allow" }])).toThrow(/^rule 1 needs a name/);
  });

  it("reads networks and fee caps", () => {
    const when = {
      network: ["eip155:1", "solana"],
      asset: ["USDC"],
      maxFee: "10000000000000000",
      maxFeeBasisPoints: 0,
    };
    expect(parsePolicy([{ name: "x", when, decision: "allow" }])).toEqual([{ name: "x", when, decision: "allow" }]);
    expect(parsePolicy([{ name: "x", when: { maxFeeBasisPoints: 10_000 }, decision: "allow" }])[0]?.when).toEqual({
      maxFeeBasisPoints: 10_000,
    });
  });
});
