/**
 * Wallet policies: ordered rules, the first rule whose conditions all hold decides, and a request
 * no rule matches is denied. Rules read only the provider's own description of the bytes
 * (`@keyshard/chains`) and the provider's own records (allow-list, what the wallet already
 * signed), never what the client says the request is.
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
import { type Action, type ChainName, outflows, type TransactionDescription } from "@keyshard/chains";
import { badRequest } from "../api/errors.js";

export const REQUEST_KINDS = ["transaction", "message", "typed-data", "raw-hash"] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];

export interface Match {
  kind?: RequestKind[];
  chain?: ChainName[];
  /** Networks as descriptions name them: "eip155:<chain id>" or "solana" (never Bitcoin's: see NETWORK). */
  network?: string[];
  action?: Action[];
  /** Asset symbols; every outflow, the fee's included unless a fee cap bounds it, is of a known one. */
  asset?: string[];
  /** Destinations; every transfer must go to one of them. */
  to?: string[];
  /** Every destination is on the wallet's allow-list and was added at least this long ago. */
  allowListed?: { coolingOffSeconds: number };
  /** Largest outflow of each asset in the whole request, in base units (a decimal string). */
  maxAmount?: string;
  /**
   * This request plus everything the wallet started signing in the last `seconds` (transfers,
   * approvals and fees) stays within `maxTotal` base units of the rule's one asset.
   */
  window?: { seconds: number; maxTotal: string };
  /** Largest fee, in base units of the chain's native coin. */
  maxFee?: string;
  /** Largest fee as a share of the native value transferred, in hundredths of a percent. */
  maxFeeBasisPoints?: number;
}

export const DECISIONS = ["allow", "deny", "require-totp", "require-approvals", "delay"] as const;
export type DecisionKind = (typeof DECISIONS)[number];

export interface Rule {
  name: string;
  when: Match;
  /** What a match decides. (Not `then`: an object with `then` is a thenable to `await`.) */
  decision: DecisionKind;
  /** For require-approvals: how many of the account's other devices must approve. */
  approvals?: number;
  /** For delay: how long the request is held (cancellable meanwhile). */
  delaySeconds?: number;
}

export type Policy = Rule[];

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

/**
 * How the policy compares addresses: Ethereum and bech32 addresses ignore case, so they are
 * lower-cased; base58 addresses (Solana, legacy Bitcoin) are case-sensitive and kept as written.
 */
export function normalizeAddress(chain: string, address: string): string {
  if (chain === "ethereum") return address.toLowerCase();
  if (chain === "bitcoin" && /^(bc|tb|bcrt)1/i.test(address)) return address.toLowerCase();
  return address;
}

export const allowListKey = (chain: string, address: string) => `${chain}:${normalizeAddress(chain, address)}`;

const TRANSFER_CONDITIONS = [
  "network",
  "action",
  "asset",
  "to",
  "allowListed",
  "maxAmount",
  "window",
  "maxFee",
  "maxFeeBasisPoints",
] as const;

function matches(match: Match, facts: RequestFacts, history: WalletHistory): boolean {
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
    const allowed = new Set(match.to.map((a) => normalizeAddress(d.chain, a)));
    if (!counterparties.every((to) => allowed.has(normalizeAddress(d.chain, to)))) return false;
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
    // parsePolicy guarantees one asset, and the asset condition above that every outflow is of it.
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

/**
 * A rule as people find it in what they read: its number, counted from 1 as `policy show` and a
 * cosigner's rules count, and its name. A rule of an older request has no number: its name alone.
 */
export function ruleLabel(number: number | null, name: string | null): string {
  if (name === null) return "no rule (none matched)";
  return number === null ? `rule "${name}"` : `rule ${number} ("${name}")`;
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
  return Math.max(0, ...policy.map((r) => (r.when.window?.seconds ?? 0) * 1000));
}

const ACTIONS: readonly Action[] = [
  "transfer",
  "token-transfer",
  "token-approval",
  "contract-call",
  "contract-deployment",
];
const BASE_UNITS = /^(0|[1-9][0-9]{0,77})$/;
/**
 * The networks a rule may name; a chain id with a leading zero would never match one. Bitcoin's
 * are not among them: a PSBT does not commit to its network, so the one a request names is the
 * client's word, and a rule (or a window) scoped by it would be the thief's to dodge.
 */
const NETWORK = /^(eip155:[1-9][0-9]{0,15}|solana)$/;
const YEAR_SECONDS = 366 * 24 * 3600;

function stringList(value: unknown, field: string, allowed?: readonly string[]): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > 256 || !value.every((v) => typeof v === "string"))
    throw badRequest(`${field} must be a non-empty list of strings`);
  if (value.some((v) => v.length === 0 || v.length > 128)) throw badRequest(`${field} has an empty or overlong entry`);
  if (allowed && !value.every((v) => allowed.includes(v))) throw badRequest(`${field} has an unknown value`);
  return value;
}

function seconds(value: unknown, field: string, min: number): number {
  if (!Number.isSafeInteger(value) || (value as number) < min || (value as number) > YEAR_SECONDS)
    throw badRequest(`${field} is a whole number of seconds from ${min} to ${YEAR_SECONDS}`);
  return value as number;
}

function object(value: unknown, field: string, keys: readonly string[]): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw badRequest(`${field} must be an object`);
  const unknown = Object.keys(value).find((k) => !keys.includes(k));
  if (unknown !== undefined) throw badRequest(`${field} has an unknown field ${unknown}`);
  return value as Record<string, unknown>;
}

function baseUnits(value: unknown, field: string): string {
  if (typeof value !== "string" || !BASE_UNITS.test(value))
    throw badRequest(`${field} is a whole number of base units, as a string`);
  return value;
}

function parseMatch(value: unknown, where: string): Match {
  const when = object(value, `${where}: when`, ["kind", "chain", ...TRANSFER_CONDITIONS]);
  const match: Match = {};
  if (when.kind !== undefined) match.kind = stringList(when.kind, `${where}: kind`, REQUEST_KINDS) as RequestKind[];
  if (when.chain !== undefined)
    match.chain = stringList(when.chain, `${where}: chain`, ["ethereum", "bitcoin", "solana"]) as ChainName[];
  if (when.network !== undefined) {
    match.network = stringList(when.network, `${where}: network`);
    if (!match.network.every((n) => NETWORK.test(n)))
      throw badRequest(
        `${where}: a network is eip155:<chain id> or solana (a PSBT does not say its network: use chain bitcoin)`,
      );
  }
  if (when.action !== undefined) match.action = stringList(when.action, `${where}: action`, ACTIONS) as Action[];
  if (when.asset !== undefined) match.asset = stringList(when.asset, `${where}: asset`);
  if (when.to !== undefined) match.to = stringList(when.to, `${where}: to`);
  if (when.allowListed !== undefined) {
    const a = object(when.allowListed, `${where}: allowListed`, ["coolingOffSeconds"]);
    match.allowListed = { coolingOffSeconds: seconds(a.coolingOffSeconds, `${where}: coolingOffSeconds`, 0) };
  }
  if (when.maxAmount !== undefined) match.maxAmount = baseUnits(when.maxAmount, `${where}: maxAmount`);
  if (when.window !== undefined) {
    const w = object(when.window, `${where}: window`, ["seconds", "maxTotal"]);
    if (match.asset?.length !== 1) throw badRequest(`${where}: a window needs exactly one asset to add up`);
    match.window = {
      seconds: seconds(w.seconds, `${where}: window seconds`, 60),
      maxTotal: baseUnits(w.maxTotal, `${where}: window maxTotal`),
    };
  }
  if (when.maxFee !== undefined) match.maxFee = baseUnits(when.maxFee, `${where}: maxFee`);
  if (when.maxFeeBasisPoints !== undefined) {
    const bps = when.maxFeeBasisPoints;
    if (!Number.isSafeInteger(bps) || (bps as number) < 0 || (bps as number) > 10_000)
      throw badRequest(`${where}: maxFeeBasisPoints is a whole number from 0 to 10000`);
    match.maxFeeBasisPoints = bps as number;
  }
  if (match.kind && !match.kind.includes("transaction") && TRANSFER_CONDITIONS.some((c) => match[c] !== undefined))
    throw badRequest(`${where}: transfer conditions cannot match messages, typed data or hashes`);
  return match;
}

/** Reads a policy sent by a client, refusing anything it does not understand. */
export function parsePolicy(value: unknown): Policy {
  if (!Array.isArray(value) || value.length > 100) throw badRequest("a policy is a list of at most 100 rules");
  const names = new Set<string>();
  return value.map((raw, i) => {
    const fields = object(raw, `rule ${i + 1}`, ["name", "when", "decision", "approvals", "delaySeconds"]);
    const { name, decision } = fields;
    if (typeof name !== "string" || name.length === 0 || name.length > 64)
      throw badRequest(`rule ${i + 1} needs a name (1 to 64 characters)`);
    const where = ruleLabel(i + 1, name);
    if (names.has(name)) throw badRequest(`${where}: another rule is named ${name}`);
    names.add(name);
    if (!DECISIONS.includes(decision as DecisionKind))
      throw badRequest(`${where}: decision must be one of ${DECISIONS.join(", ")}`);
    const rule: Rule = { name, when: parseMatch(fields.when ?? {}, where), decision: decision as DecisionKind };
    if ((decision === "require-approvals") !== (fields.approvals !== undefined))
      throw badRequest(`${where}: approvals goes with require-approvals, and only there`);
    if ((decision === "delay") !== (fields.delaySeconds !== undefined))
      throw badRequest(`${where}: delaySeconds goes with delay, and only there`);
    if (fields.approvals !== undefined) {
      if (
        !Number.isSafeInteger(fields.approvals) ||
        (fields.approvals as number) < 1 ||
        (fields.approvals as number) > 16
      )
        throw badRequest(`${where}: approvals is from 1 to 16`);
      rule.approvals = fields.approvals as number;
    }
    if (fields.delaySeconds !== undefined)
      rule.delaySeconds = seconds(fields.delaySeconds, `${where}: delaySeconds`, 1);
    return rule;
  });
}
