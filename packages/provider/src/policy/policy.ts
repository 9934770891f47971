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
 */
import type { Action, ChainName, TransactionDescription } from "@keyshard/chains";
import { badRequest } from "../api/errors.js";

export const REQUEST_KINDS = ["transaction", "message", "typed-data", "raw-hash"] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];

export interface Match {
  kind?: RequestKind[];
  chain?: ChainName[];
  action?: Action[];
  /** Asset symbols; every transfer must be of a known asset among them. */
  asset?: string[];
  /** Destinations; every transfer must go to one of them. */
  to?: string[];
  /** Every destination is on the wallet's allow-list and was added at least this long ago. */
  allowListed?: { coolingOffSeconds: number };
  /** Largest value of any one transfer, in base units (a decimal string). */
  maxAmount?: string;
  /**
   * This request plus everything the wallet started signing in the last `seconds` (transfers and
   * approvals) stays within `maxTotal` base units of the rule's one asset.
   */
  window?: { seconds: number; maxTotal: string };
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

/** The provider's records a rule may consult. */
export interface WalletHistory {
  now: number;
  /** allowListKey(chain, address) → when it was added. */
  allowList: ReadonlyMap<string, number>;
  /** Transfers and approvals of requests whose signing started. */
  spent: readonly { symbol: string; value: bigint; atMs: number }[];
}

export interface Decision {
  decision: DecisionKind;
  /** The rule that decided, or null when none matched (deny by default). */
  rule: string | null;
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

const TRANSFER_CONDITIONS = ["action", "asset", "to", "allowListed", "maxAmount", "window"] as const;

function matches(match: Match, facts: RequestFacts, history: WalletHistory): boolean {
  if (!(match.kind ?? ["transaction"]).includes(facts.kind)) return false;
  if (match.chain && !match.chain.includes(facts.chain)) return false;
  const d = facts.description;
  if (!TRANSFER_CONDITIONS.some((c) => match[c] !== undefined)) return true;
  if (d === undefined) return false;
  if (match.action && !match.action.includes(d.action)) return false;
  // A call keyshard cannot decode may move anything: asset and amount conditions cannot bound it.
  const undecoded = d.action === "contract-call" || d.action === "contract-deployment";
  const movements = [...d.transfers, ...d.approvals];
  if ((match.asset ?? match.maxAmount ?? match.window) !== undefined && undecoded) return false;
  if (match.asset && !movements.every((t) => t.asset.known && match.asset?.includes(t.asset.symbol))) return false;
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
    if (!movements.every((t) => t.value <= max)) return false;
  }
  if (match.window) {
    // parsePolicy guarantees one asset, and the asset condition above that every transfer is in it.
    const symbol = (match.asset as string[])[0] as string;
    const since = history.now - match.window.seconds * 1000;
    let total = movements.reduce((sum, t) => sum + t.value, 0n);
    for (const s of history.spent) if (s.symbol === symbol && s.atMs > since) total += s.value;
    if (total > BigInt(match.window.maxTotal)) return false;
  }
  return true;
}

export function evaluatePolicy(policy: Policy, facts: RequestFacts, history: WalletHistory): Decision {
  for (const rule of policy) {
    if (!matches(rule.when, facts, history)) continue;
    return {
      decision: rule.decision,
      rule: rule.name,
      ...(rule.approvals !== undefined && { approvals: rule.approvals }),
      ...(rule.delaySeconds !== undefined && { delaySeconds: rule.delaySeconds }),
    };
  }
  return { decision: "deny", rule: null };
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
  const when = object(value, `${where}: when`, [
    "kind",
    "chain",
    "action",
    "asset",
    "to",
    "allowListed",
    "maxAmount",
    "window",
  ]);
  const match: Match = {};
  if (when.kind !== undefined) match.kind = stringList(when.kind, "kind", REQUEST_KINDS) as RequestKind[];
  if (when.chain !== undefined)
    match.chain = stringList(when.chain, "chain", ["ethereum", "bitcoin", "solana"]) as ChainName[];
  if (when.action !== undefined) match.action = stringList(when.action, "action", ACTIONS) as Action[];
  if (when.asset !== undefined) match.asset = stringList(when.asset, "asset");
  if (when.to !== undefined) match.to = stringList(when.to, "to");
  if (when.allowListed !== undefined) {
    const a = object(when.allowListed, `${where}: allowListed`, ["coolingOffSeconds"]);
    match.allowListed = { coolingOffSeconds: seconds(a.coolingOffSeconds, "coolingOffSeconds", 0) };
  }
  if (when.maxAmount !== undefined) match.maxAmount = baseUnits(when.maxAmount, `${where}: maxAmount`);
  if (when.window !== undefined) {
    const w = object(when.window, `${where}: window`, ["seconds", "maxTotal"]);
    if (match.asset?.length !== 1) throw badRequest(`${where}: a window needs exactly one asset to add up`);
    match.window = { seconds: seconds(w.seconds, "window seconds", 60), maxTotal: baseUnits(w.maxTotal, "maxTotal") };
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
    const where = `rule ${i}`;
    const fields = object(raw, where, ["name", "when", "decision", "approvals", "delaySeconds"]);
    const { name, decision } = fields;
    if (typeof name !== "string" || name.length === 0 || name.length > 64) throw badRequest(`${where} needs a name`);
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
    if (fields.delaySeconds !== undefined) rule.delaySeconds = seconds(fields.delaySeconds, "delaySeconds", 1);
    return rule;
  });
}
