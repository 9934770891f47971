/**
 * The web wallet's policy and security calls without a browser: the Policy form's common rules
 * made into an ordered policy and decided by the provider's own evaluation at every boundary (a
 * larger transfer never asks for less), the provider's rules told in words (the decision first,
 * every condition said or said to be unshowable), and the strict readers of these calls' messages.
 */
import { checkPolicy, type Policy } from "@keyshard/api";
import type { TransactionDescription } from "@keyshard/chains";
import { describe, expect, it } from "vitest";
import { evaluatePolicy, type Spent } from "../../provider/src/policy/policy.js";
import { policyForProvider } from "../../wallet/src/policy-units.js";
import {
  APPROVALS_MAX,
  type CommonRules,
  ethWei,
  POLICY_METHODS,
  type PolicyWallet,
  policyFormRefusal,
  RULES_MAX,
  TIME_LOCK_HOURS_MAX,
} from "../src/engine/calls/policies.js";
import { AUDIT_ENTRIES_SHOWN, SECURITY_METHODS } from "../src/engine/calls/security.js";
import { rulesOf } from "../src/engine/handlers/policies.js";
import { MESSAGE_MAX, ProtocolError } from "../src/engine/readers.js";
import { ruleInWords } from "../src/engine/rule-words.js";

const NONE: CommonRules = {
  perTransaction: null,
  daily: null,
  totpAbove: null,
  timeLockAbove: null,
  approvalsAbove: null,
};

/** The provider's form of `rules`, as the SDK sends it, and whether the provider takes it. */
function forProvider(rules: unknown[]): Policy {
  const policy = policyForProvider(rules);
  expect(checkPolicy(policy)).toEqual({ policy });
  return policy;
}

const ETH = { symbol: "ETH", decimals: 18, known: true };
const NOW = 1_000_000_000_000;
const FEE = ethWei("0.001") as bigint;

/** An ETH transfer on Ethereum whose value and most network fee add up to `total` wei. */
function ethTransfer(total: bigint): TransactionDescription {
  return {
    chain: "ethereum",
    network: "eip155:1",
    action: "transfer",
    transfers: [{ asset: ETH, value: total - FEE, text: "", to: "0x000000000000000000000000000000000000dEaD" }],
    change: [],
    approvals: [],
    calls: [],
    fee: { asset: ETH, value: FEE, text: "" },
    warnings: [],
  };
}

/** What the provider decides for `description` under `policy`, with `spent` in the wallet's history. */
function decide(policy: Policy, description: TransactionDescription, spent: Spent[] = []) {
  const decision = evaluatePolicy(
    policy,
    { kind: "transaction", chain: description.chain, description },
    { now: NOW, allowList: new Map(), spent },
  );
  return [decision.decision, decision.approvals ?? decision.delaySeconds ?? null];
}

const wei = (eth: string) => ethWei(eth) as bigint;

describe("the Policy form's common rules, decided by the provider's policy", () => {
  const policy = forProvider(
    rulesOf({
      perTransaction: "10",
      daily: "20",
      totpAbove: "1",
      timeLockAbove: { amount: "3", hours: 24 },
      approvalsAbove: { amount: "5", approvals: 2 },
    }),
  );
  const at = (eth: string, above = 0n) => decide(policy, ethTransfer(wei(eth) + above));

  it("asks each range for its control: at a threshold the lower range's, one wei above the higher one's", () => {
    expect(at("0.5")).toEqual(["allow", null]);
    expect(at("1")).toEqual(["allow", null]);
    expect(at("1", 1n)).toEqual(["require-totp", null]);
    expect(at("3")).toEqual(["require-totp", null]);
    expect(at("3", 1n)).toEqual(["delay", 86_400]);
    expect(at("5")).toEqual(["delay", 86_400]);
    expect(at("5", 1n)).toEqual(["require-approvals", 2]);
    expect(at("10")).toEqual(["require-approvals", 2]);
  });

  it("refuses above the cap, and once the day's total would pass its limit", () => {
    expect(at("10", 1n)).toEqual(["deny", null]);
    const spent = (eth: string, hoursAgo: number): Spent => ({
      chain: "ethereum",
      network: "eip155:1",
      symbol: "ETH",
      value: wei(eth),
      atMs: NOW - hoursAgo * 3600_000,
    });
    expect(decide(policy, ethTransfer(wei("2")), [spent("18", 2)])).toEqual(["require-totp", null]);
    expect(decide(policy, ethTransfer(wei("2") + 1n), [spent("18", 2)])).toEqual(["deny", null]);
    // Spent more than a day ago: no longer counted.
    expect(decide(policy, ethTransfer(wei("2") + 1n), [spent("18", 25)])).toEqual(["require-totp", null]);
  });

  it("counts the network fee in the amounts", () => {
    const oneEthPlusFee = ethTransfer(wei("1") + FEE);
    expect(decide(policy, oneEthPlusFee)).toEqual(["require-totp", null]);
  });

  it("never asks a larger transfer for a weaker control", () => {
    const strength = ["allow", "require-totp", "delay", "require-approvals", "deny"];
    const amounts = ["0.01", "0.999", "1", "1.0001", "2.9", "3", "3.5", "5", "5.0000001", "9.99", "10", "10.5", "100"];
    const ranks = amounts.map((eth) => strength.indexOf(at(eth)[0] as string));
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
  });

  it("signs nothing but ETH transfers: tokens, contract calls and messages are refused", () => {
    const token = { ...ethTransfer(wei("0.1")), action: "token-transfer" as const };
    token.transfers = [
      {
        ...(token.transfers[0] as TransactionDescription["transfers"][0]),
        asset: { ...ETH, symbol: "USDC", contract: "0x1" },
      },
    ];
    expect(decide(policy, token)).toEqual(["deny", null]);
    expect(decide(policy, { ...ethTransfer(wei("0.1")), action: "contract-call" })).toEqual(["deny", null]);
    const message = evaluatePolicy(
      policy,
      { kind: "message", chain: "ethereum" },
      { now: NOW, allowList: new Map(), spent: [] },
    );
    expect(message.decision).toBe("deny");
  });

  it("refuses controls whose amounts do not rise from the weakest to the strongest, or reach the cap", () => {
    // A time lock below the code would let a larger transfer through with the code alone.
    expect(() => rulesOf({ ...NONE, totpAbove: "5", timeLockAbove: { amount: "1", hours: 1 } })).toThrow(
      "the time lock must start above the one-time code",
    );
    // Approvals below the time lock would let a larger transfer through with no approval.
    expect(() =>
      rulesOf({ ...NONE, timeLockAbove: { amount: "5", hours: 1 }, approvalsAbove: { amount: "1", approvals: 1 } }),
    ).toThrow("approvals must start above the time lock");
    expect(() => rulesOf({ ...NONE, totpAbove: "1", approvalsAbove: { amount: "1.0", approvals: 1 } })).toThrow(
      "approvals must start above the one-time code",
    );
    expect(() => rulesOf({ ...NONE, perTransaction: "1", totpAbove: "1" })).toThrow(/below the most per transaction/);
  });

  it("makes a day's limit alone one rule, amounts in ETH said so", () => {
    expect(rulesOf({ ...NONE, daily: "2" })).toEqual([
      {
        name: "ETH transfers",
        decision: "allow",
        when: {
          chain: ["ethereum"],
          action: ["transfer"],
          asset: ["ETH"],
          window: { seconds: 86_400, maxTotal: "2 ETH" },
        },
      },
    ]);
  });
});

describe("where the Policy form is offered", () => {
  const vault: PolicyWallet = {
    id: "11111111-1111-4111-8111-111111111111",
    name: "Vault",
    state: "active",
    hybrid: true,
    localName: "Vault",
    ethereum: true,
  };

  it("for an active wallet with an Ethereum address, on an account with a TOTP in force", () => {
    expect(policyFormRefusal(vault, true)).toBeNull();
    expect(policyFormRefusal(vault, false)).toMatch(/set up a TOTP under Security first/);
  });

  it("not where the provider enforces nothing, nor for a key without an Ethereum address", () => {
    expect(policyFormRefusal({ ...vault, state: "self-custodied" }, true)).toMatch(
      /^This wallet is self-custodied: the provider co-signs nothing for it/,
    );
    expect(policyFormRefusal({ ...vault, state: "creating" }, true)).toMatch(/^This wallet is creating/);
    expect(policyFormRefusal({ ...vault, ethereum: false }, true)).toMatch(/has no Ethereum address/);
  });
});

describe("a policy in words", () => {
  it("says what each rule decides, then what it matches, the network fee included in amounts", () => {
    expect(
      ruleInWords({ name: "transfers", when: { action: ["transfer", "token-transfer"] }, decision: "allow" }, 0),
    ).toBe('1. "transfers": signed, for transfers or token transfers.');
    expect(
      ruleInWords(
        {
          name: "big",
          when: {
            chain: ["ethereum"],
            asset: ["ETH"],
            maxAmount: "5 ETH",
            window: { seconds: 86_400, maxTotal: "9 ETH" },
          },
          decision: "delay",
          delaySeconds: 7200,
        },
        2,
      ),
    ).toBe(
      '3. "big": held for 2 hours (cancellable meanwhile), then signed, for transactions, on ethereum, of ETH only, up to 5 ETH per request, network fee included, while the total of the last 1 day stays within 9 ETH, network fees included.',
    );
  });

  it("keeps the decision whatever the length of the rule's lists, told by how many", () => {
    const long = (n: number) => Array.from({ length: n }, (_, i) => `${i}${"x".repeat(127 - String(i).length)}`);
    const words = ruleInWords(
      {
        name: "n".repeat(64),
        when: { to: long(256), asset: long(256), network: ["eip155:1", "eip155:10", "eip155:137", "eip155:8453"] },
        decision: "require-totp",
      },
      99,
    );
    expect(words.length).toBeLessThanOrEqual(MESSAGE_MAX);
    expect(words).toContain("signed once the account's one-time code (TOTP) is given");
    expect(words).toContain("on 4 networks, of 256 assets only, to 256 addresses only.");
    expect(ruleInWords({ name: "n", when: { to: ["0xa", "0xb"] }, decision: "deny" }, 0)).toBe(
      '1. "n": refused, for transactions, to 0xa or 0xb only.',
    );
  });

  it("lists the actions of a rule that names kinds too", () => {
    expect(
      ruleInWords({ name: "k", when: { kind: ["transaction"], action: ["contract-call"] }, decision: "allow" }, 0),
    ).toBe('1. "k": signed, for signing transaction, contract calls.');
  });

  it("says a rule has conditions it cannot show, rather than leaving them out", () => {
    const cannot = "and conditions this app cannot show";
    expect(ruleInWords({ name: "u", when: { maxAmount: "1 ETH", newCondition: 1 }, decision: "allow" }, 0)).toBe(
      `1. "u": signed, for transactions, up to 1 ETH per request, network fee included, ${cannot}.`,
    );
    expect(ruleInWords({ name: "u", when: { window: { seconds: "day" } }, decision: "allow" }, 0)).toContain(cannot);
    expect(ruleInWords({ name: "u", when: {}, decision: "allow", also: true }, 0)).toContain(cannot);
    expect(ruleInWords({ name: "u", decision: "allow" }, 0)).not.toContain(cannot);
    expect(ruleInWords({ name: "u", decision: "escalate" }, 0)).toBe(
      '1. "u": decided in a way this app cannot show, for transactions.',
    );
  });

  it("says fee caps in their coin and as the share of the coin sent they are", () => {
    expect(ruleInWords({ name: "f", when: { chain: ["ethereum"], maxFee: "0.01" }, decision: "allow" }, 0)).toContain(
      "with a network fee of up to 0.01 of the chain's own coin",
    );
    expect(ruleInWords({ name: "f", when: { maxFee: "0.01 ETH" }, decision: "allow" }, 0)).toContain(
      "with a network fee of up to 0.01 ETH",
    );
    expect(ruleInWords({ name: "f", when: { maxFeeBasisPoints: 50 }, decision: "allow" }, 0)).toContain(
      "with a network fee of at most 0.5% of the chain's own coin it sends (none when it sends none)",
    );
  });

  it("shows a rule's texts without controls or direction overrides", () => {
    const words = ruleInWords({ name: "ok\u202egnp.exe\u0007", when: { to: ["0xabc\n0xdef"] }, decision: "allow" }, 0);
    expect(words).toBe('1. "ok gnp.exe": signed, for transactions, to 0xabc 0xdef only.');
  });
});

describe("the strict readers of the policy and security calls", () => {
  const setPolicy = POLICY_METHODS.setPolicy.args;
  const id = "11111111-1111-4111-8111-111111111111";
  const good = { id, rules: { ...NONE, daily: "2" }, totp: "123456" };

  it("take the common rules in their exact form only, amounts above zero and of at most 12 whole digits", () => {
    expect(setPolicy(good, "args")).toEqual(good);
    expect(setPolicy({ ...good, rules: { ...NONE, daily: "999999999999.5" } }, "args")).toBeTruthy();
    for (const bad of [
      "1e3",
      "-1",
      "0x10",
      "1.",
      "01",
      "1.1234567890123456789",
      "1 ETH",
      "0",
      "0.000",
      "1000000000000",
    ])
      expect(() => setPolicy({ ...good, rules: { ...NONE, daily: bad } }, "args"), bad).toThrow(ProtocolError);
    expect(() =>
      setPolicy({ ...good, rules: { ...NONE, approvalsAbove: { amount: "1", approvals: APPROVALS_MAX + 1 } } }, "args"),
    ).toThrow(ProtocolError);
    expect(() => setPolicy({ ...good, rules: { ...NONE, allowListedOnly: true } }, "args")).toThrow(/unexpected field/);
    expect(() => setPolicy({ ...good, totp: "12345a" }, "args")).toThrow(ProtocolError);
    expect(() => setPolicy({ ...good, id: "Vault" }, "args")).toThrow(ProtocolError);
  });

  it("bound the form by the provider's own bounds", () => {
    const rule = (extra: object) => [{ name: "r", decision: "allow", ...extra }];
    const take = (policy: unknown) => "policy" in checkPolicy(policy);
    expect(take(rule({ decision: "require-approvals", approvals: APPROVALS_MAX }))).toBe(true);
    expect(take(rule({ decision: "require-approvals", approvals: APPROVALS_MAX + 1 }))).toBe(false);
    expect(take(rule({ decision: "delay", delaySeconds: TIME_LOCK_HOURS_MAX * 3600 }))).toBe(true);
    expect(take(rule({ decision: "delay", delaySeconds: (TIME_LOCK_HOURS_MAX + 1) * 3600 }))).toBe(false);
    const rules = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `r${i}`, decision: "allow" }));
    expect(take(rules(RULES_MAX))).toBe(true);
    expect(take(rules(RULES_MAX + 1))).toBe(false);
  });

  it("take a policy of the most rules, with its line for what no rule matches", () => {
    const read = POLICY_METHODS.policy.result;
    const view = (n: number) => ({ rules: Array(n).fill("rule"), pending: [], totpEnrolled: true });
    expect(read(view(RULES_MAX + 1), "result").rules).toHaveLength(RULES_MAX + 1);
    expect(() => read(view(RULES_MAX + 2), "result")).toThrow(ProtocolError);
  });

  it("take the account's wallets by id, with names longer than a wallet's own (an inherited one's)", () => {
    const read = POLICY_METHODS.policyWallets.result;
    const wallet = {
      id,
      name: `${"v".repeat(64)} (inherited 2026-12-07)`,
      state: "active",
      hybrid: true,
      localName: null,
      ethereum: true,
    };
    expect(read([wallet], "result")).toEqual([wallet]);
    expect(() => read([{ ...wallet, id: "Vault" }], "result")).toThrow(ProtocolError);
  });

  it("take the latest audit entries, bounded, with numbers and texts only", () => {
    const read = SECURITY_METHODS.auditEntries.result;
    const entry = { seq: 3, atMs: NOW, actor: "Pat's phone", action: "backup.requested" };
    expect(read({ total: 3, entries: [entry] }, "result")).toEqual({ total: 3, entries: [entry] });
    const many = Array(AUDIT_ENTRIES_SHOWN + 1).fill(entry);
    expect(() => read({ total: many.length, entries: many }, "result")).toThrow(ProtocolError);
    expect(() => read({ total: 3, entries: [{ ...entry, seq: "3" }] }, "result")).toThrow(ProtocolError);
    expect(() => read({ total: 3, entries: [{ ...entry, details: {} }] }, "result")).toThrow(ProtocolError);
  });

  it("take a new TOTP as base32 and an otpauth URI only", () => {
    const read = SECURITY_METHODS.totpEnroll.result;
    const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    const uri = `otpauth://totp/keyshard:me%40example.com?secret=${secret}&issuer=keyshard`;
    expect(read({ secret, uri }, "result")).toEqual({ secret, uri });
    expect(() => read({ secret: secret.toLowerCase(), uri }, "result")).toThrow(ProtocolError);
    expect(() => read({ secret, uri: "https://example.com/totp" }, "result")).toThrow(ProtocolError);
    expect(() => read({ secret, uri: `${uri}\u202e` }, "result")).toThrow(ProtocolError);
  });

  it("take a backup's standing with a time exactly when there is a backup", () => {
    const read = POLICY_METHODS.backupStatus.result;
    expect(read({ status: "waiting", readyMs: 1 }, "result")).toEqual({ status: "waiting", readyMs: 1 });
    expect(read({ status: "none", readyMs: null }, "result")).toEqual({ status: "none", readyMs: null });
    expect(() => read({ status: "none", readyMs: 1 }, "result")).toThrow(ProtocolError);
    expect(() => read({ status: "waiting", readyMs: null }, "result")).toThrow(ProtocolError);
    expect(() => read({ status: "downloaded", readyMs: 1 }, "result")).toThrow(ProtocolError);
  });
});
