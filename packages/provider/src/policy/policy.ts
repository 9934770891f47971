/**
 * Wallet policies: ordered rules, the first rule whose conditions all hold decides, and a request
 * no rule matches is denied. Rules read only the provider's own description of the bytes
 * (`@keyshard/chains`) and the provider's own records (allow-list, what the wallet already
 * signed), never what the client says the request is. A Bitcoin request's network is the one
 * word of the client's they see, and it loosens nothing (`destinationKey`).
 *
 * A rule without a `kind` condition matches transactions only: signing a message, typed data or a
 * bare hash is denied unless a rule names that kind. No condition is satisfied vacuously:
 * conditions about transfers never match a request that is not a transaction; destination
 * conditions need at least one counterparty and cover the contracts of calls keyshard cannot
 * decode; asset and amount conditions never match such calls, whose effects are unknown.
 *
 * Amounts count everything that leaves the wallet. A request's outflow of an asset is the sum of
 * its transfers to others (Bitcoin change excluded) and approvals of that asset, plus, for the
 * chain's native coin, the network fee `@keyshard/chains` computed from the bytes (Ethereum gas
 * limit × max fee per gas, Bitcoin inputs − outputs, Solana base + priority fee). An asset is
 * its symbol on one network: the same symbol on another chain id is a different coin, and an EVM
 * chain whose coin keyshard does not list has an unknown coin that no asset list matches.
 * - `asset`: every outflow is of a known asset in the list, the fee's coin included; a rule
 *   with a fee cap (`maxFee`, `maxFeeBasisPoints`) that does not list the native coin bounds the
 *   fee by its cap instead, which is how a token rule allows paying the fee in another coin.
 * - `maxAmount`: each asset's outflow over the whole request (the native coin's includes the
 *   fee, unless a fee cap answers for it as above), not each output on its own.
 * - `window`: the rule's one asset, summed over this request and every request whose signing
 *   started within the window (fees included, failed runs too), on the chains and networks the
 *   rule's own `chain` and `network` conditions name.
 * - `maxFee`: the fee in base units of the native coin; `maxFeeBasisPoints`: fee × 10 000 ≤
 *   basis points × native value transferred, so a request moving no native value passes only
 *   with no fee. Both need the native coin to be known, and both bound calls keyshard cannot
 *   decode too, whose fee the bytes still fix.
 * A held request is decided again as it is released (`requests/holds.ts`, `releaseRefusal`): the
 * policy and history of that moment must allow it, or hold it under the same rule no harder.
 */

import { checkPolicy, type DecisionKind, type Match, type Policy, ruleLabel, TRANSFER_CONDITIONS } from "@keyshard/api";
import {
  type ChainName,
  destinationKey,
  outflows,
  type RequestKind,
  type TransactionDescription,
} from "@keyshard/chains";
import { invalid } from "../errors.js";

/** A new wallet's policy unless its creator gives one: plain and token transfers only. */
export const DEFAULT_POLICY: Policy = [
  { name: "transfers", when: { action: ["transfer", "token-transfer"] }, decision: "allow" },
];

/** What a request is, as the provider read it. */
export interface RequestFacts {
  kind: RequestKind;
  chain: ChainName;
  /** Set for transactions. */
  description?: TransactionDescription;
}

/** What one past request took out of the wallet in one known asset. */
export interface Spent {
  chain: ChainName;
  network: string;
  symbol: string;
  /** Transfers and approvals, plus the fee for the native coin. */
  value: bigint;
  /** When its signing started. */
  atMs: number;
}

/** The provider's records a rule may consult. */
export interface WalletHistory {
  now: number;
  /** allowListKey(chain, address) → when it was added. */
  allowList: ReadonlyMap<string, number>;
  /** Outflows of requests whose signing started. */
  spent: readonly Spent[];
}

export interface Decision {
  decision: DecisionKind;
  /** The rule that decided, or null when none matched (deny by default). */
  rule: string | null;
  /** Its place in the policy, counted from 1 as people count (`ruleLabel`); null with `rule`. */
  ruleNumber: number | null;
  approvals?: number;
  delaySeconds?: number;
}

// Bitcoin requests cannot escape a rule by their client-declared network: destinations compare by
// output script (`destinationKey`), rules cannot name a Bitcoin network (`@keyshard/api` `Match`),
// and a window of a rule without a `network` condition adds up every network.

/** An allow-list entry's key: its chain and `destinationKey`. */
export const allowListKey = (chain: ChainName, address: string) => `${chain}:${destinationKey(chain, address)}`;

/** Whether a rule's conditions all hold; a rule without `when` has none. */
function matches(match: Match = {}, facts: RequestFacts, history: WalletHistory): boolean {
  if (!(match.kind ?? ["transaction"]).includes(facts.kind)) return false;
  if (match.chain && !match.chain.includes(facts.chain)) return false;
  const d = facts.description;
  if (!TRANSFER_CONDITIONS.some((c) => match[c] !== undefined)) return true;
  if (d === undefined) return false;
  if (match.network && !match.network.includes(d.network)) return false;
  if (match.action && !match.action.includes(d.action)) return false;
  // A call keyshard cannot decode may move anything: asset and amount conditions cannot bound it.
  const undecoded = d.action === "contract-call" || d.action === "contract-deployment";
  if ((match.asset ?? match.maxAmount ?? match.window) !== undefined && undecoded) return false;
  const native = d.fee.asset;
  const feeCapped = match.maxFee !== undefined || match.maxFeeBasisPoints !== undefined;
  // A fee cap answers for the fee of a rule that does not list the native coin (a token rule).
  const flows = outflows(d, !(feeCapped && match.asset !== undefined && !match.asset.includes(native.symbol)));
  if (match.asset && !flows.every((f) => f.asset.known && match.asset?.includes(f.asset.symbol))) return false;
  // Everyone the transaction deals with: recipients, spenders, and the contracts of undecoded calls.
  const counterparties = [
    ...d.transfers.map((t) => t.to),
    ...d.approvals.map((a) => a.spender),
    ...(undecoded ? d.calls.map((c) => c.contract) : []),
  ];
  if ((match.to ?? match.allowListed) !== undefined && counterparties.length === 0) return false;
  if (match.to) {
    const allowed = new Set(match.to.map((to) => destinationKey(d.chain, to)));
    if (!counterparties.every((to) => allowed.has(destinationKey(d.chain, to)))) return false;
  }
  if (match.allowListed) {
    const matureBefore = history.now - match.allowListed.coolingOffSeconds * 1000;
    const mature = (to: string) => (history.allowList.get(allowListKey(d.chain, to)) ?? Infinity) <= matureBefore;
    if (!counterparties.every(mature)) return false;
  }
  if (match.maxAmount !== undefined) {
    const max = BigInt(match.maxAmount);
    if (!flows.every((f) => f.value <= max)) return false;
  }
  if (match.window) {
    // checkPolicy guarantees one asset, and the asset condition above that every outflow is of it.
    const symbol = (match.asset as string[])[0] as string;
    const since = history.now - match.window.seconds * 1000;
    let total = flows.reduce((sum, f) => sum + f.value, 0n);
    for (const s of history.spent)
      if (
        s.symbol === symbol &&
        s.atMs > since &&
        (match.chain?.includes(s.chain) ?? true) &&
        (match.network?.includes(s.network) ?? true)
      )
        total += s.value;
    if (total > BigInt(match.window.maxTotal)) return false;
  }
  if (feeCapped && !native.known) return false;
  if (match.maxFee !== undefined && d.fee.value > BigInt(match.maxFee)) return false;
  if (match.maxFeeBasisPoints !== undefined) {
    const moved = d.transfers.filter((t) => t.asset.contract === undefined).reduce((sum, t) => sum + t.value, 0n);
    if (d.fee.value * 10_000n > BigInt(match.maxFeeBasisPoints) * moved) return false;
  }
  return true;
}

export function evaluatePolicy(policy: Policy, facts: RequestFacts, history: WalletHistory): Decision {
  for (const [i, rule] of policy.entries()) {
    if (!matches(rule.when, facts, history)) continue;
    return {
      decision: rule.decision,
      rule: rule.name,
      ruleNumber: i + 1,
      ...(rule.approvals !== undefined && { approvals: rule.approvals }),
      ...(rule.delaySeconds !== undefined && { delaySeconds: rule.delaySeconds }),
    };
  }
  return { decision: "deny", rule: null, ruleNumber: null };
}

/** What a held request was held for, and has waited out: its conditions are met when it is released. */
export interface HeldFor {
  rule: string | null;
  /** Absent or null for a request held before rules were numbered. */
  ruleNumber?: number | null;
  decision: DecisionKind;
  approvals: number;
  /** How long it was time-locked, in seconds. */
  delaySeconds: number;
}

/**
 * Why a held request may not be released after all, or null when it may. The whole policy of the
 * moment decides again, with the history of the moment (other requests signed meanwhile count
 * against a window; a rule the owner added meanwhile applies): it must now allow the request, or
 * hold it under the same rule for no more than what the request has already waited out.
 */
export function releaseRefusal(
  policy: Policy,
  held: HeldFor,
  facts: RequestFacts,
  history: WalletHistory,
): string | null {
  const now = evaluatePolicy(policy, facts, history);
  if (now.decision === "allow") return null;
  if (now.rule === null) return "no rule of the wallet's policy matches the request any more";
  const rule = ruleLabel(now.ruleNumber, now.rule);
  if (now.decision === "deny") return `${rule} now denies the request`;
  if (now.rule !== held.rule || now.decision !== held.decision)
    return `${rule} now decides ${now.decision}, not ${ruleLabel(held.ruleNumber ?? null, held.rule)} that held the request`;
  if ((now.approvals ?? 0) > held.approvals)
    return `${rule} now asks for ${now.approvals} approvals, the request had ${held.approvals}`;
  if ((now.delaySeconds ?? 0) > held.delaySeconds)
    return `${rule} now holds requests ${now.delaySeconds} s, the request waited ${held.delaySeconds} s`;
  return null;
}

/** The longest window any rule looks back over, in milliseconds: how much history to load. */
export function longestWindowMs(policy: Policy): number {
  return Math.max(0, ...policy.map((r) => (r.when?.window?.seconds ?? 0) * 1000));
}

/**
 * Reads a policy sent by a client, refusing anything it does not understand: the contract's
 * schema, then what the schema cannot say (`checkPolicy`). A rule without conditions is stored
 * with an empty `when`, as it is shown back.
 */
export function parsePolicy(value: unknown): Policy {
  const checked = checkPolicy(value);
  if ("refusal" in checked) throw invalid(checked.refusal);
  return checked.policy.map((rule) => (rule.when === undefined ? { ...rule, when: {} } : rule));
}
