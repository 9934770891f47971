/**
 * Wallet policies: ordered rules, the first rule whose conditions all hold decides, and a
 * transaction no rule matches is denied. Rules read only the provider's own description of the
 * transaction bytes (`@keyshard/chains`), never what the client says it is.
 */
import type { Action, TransactionDescription } from "@keyshard/chains";
import { badRequest } from "../api/errors.js";

export interface Match {
  chain?: string[];
  action?: Action[];
  /** Asset symbols; every transfer must be in one of them. */
  asset?: string[];
  /** Destinations; every transfer must go to one of them (compared case-insensitively). */
  to?: string[];
  /** Largest value of any one transfer, in base units (a decimal string). */
  maxAmount?: string;
}

export interface Rule {
  name: string;
  when: Match;
  /** What a match decides. (Not `then`: an object with `then` is a thenable to `await`.) */
  decision: "allow" | "deny";
}

export type Policy = Rule[];

/** A new wallet's policy unless its creator gives one: plain and token transfers only. */
export const DEFAULT_POLICY: Policy = [
  { name: "transfers", when: { action: ["transfer", "token-transfer"] }, decision: "allow" },
];

export interface Decision {
  decision: "allow" | "deny";
  /** The rule that decided, or null when none matched (deny by default). */
  rule: string | null;
}

function matches(match: Match, d: TransactionDescription): boolean {
  if (match.chain && !match.chain.includes(d.chain)) return false;
  if (match.action && !match.action.includes(d.action)) return false;
  if (match.asset && !d.transfers.every((t) => match.asset?.includes(t.asset.symbol) && t.asset.known)) return false;
  if (match.to) {
    const allowed = new Set(match.to.map((a) => a.toLowerCase()));
    if (!d.transfers.every((t) => allowed.has(t.to.toLowerCase()))) return false;
  }
  if (match.maxAmount !== undefined) {
    const max = BigInt(match.maxAmount);
    if (!d.transfers.every((t) => t.value <= max)) return false;
  }
  return true;
}

export function evaluatePolicy(policy: Policy, description: TransactionDescription): Decision {
  for (const rule of policy) if (matches(rule.when, description)) return { decision: rule.decision, rule: rule.name };
  return { decision: "deny", rule: null };
}

const ACTIONS: readonly Action[] = [
  "transfer",
  "token-transfer",
  "token-approval",
  "contract-call",
  "contract-deployment",
];

function stringList(value: unknown, field: string, allowed?: readonly string[]): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > 256 || !value.every((v) => typeof v === "string"))
    throw badRequest(`${field} must be a non-empty list of strings`);
  if (allowed && !value.every((v) => allowed.includes(v))) throw badRequest(`${field} has an unknown value`);
  return value;
}

/** Reads a policy sent by a client, refusing anything it does not understand. */
export function parsePolicy(value: unknown): Policy {
  if (!Array.isArray(value) || value.length > 100) throw badRequest("a policy is a list of at most 100 rules");
  return value.map((raw, i) => {
    if (typeof raw !== "object" || raw === null) throw badRequest(`rule ${i} is not an object`);
    const { name, when = {}, decision, ...rest } = raw as Record<string, unknown>;
    if (Object.keys(rest).length > 0) throw badRequest(`rule ${i} has unknown fields`);
    if (typeof name !== "string" || name.length === 0 || name.length > 64) throw badRequest(`rule ${i} needs a name`);
    if (decision !== "allow" && decision !== "deny") throw badRequest(`rule ${i}: decision must be allow or deny`);
    if (typeof when !== "object" || when === null) throw badRequest(`rule ${i}: when must be an object`);
    const { chain, action, asset, to, maxAmount, ...unknown } = when as Record<string, unknown>;
    if (Object.keys(unknown).length > 0) throw badRequest(`rule ${i}: unknown condition ${Object.keys(unknown)[0]}`);
    const match: Match = {};
    if (chain !== undefined) match.chain = stringList(chain, "chain", ["ethereum", "bitcoin", "solana"]);
    if (action !== undefined) match.action = stringList(action, "action", ACTIONS) as Action[];
    if (asset !== undefined) match.asset = stringList(asset, "asset");
    if (to !== undefined) match.to = stringList(to, "to");
    if (maxAmount !== undefined) {
      if (typeof maxAmount !== "string" || !/^(0|[1-9][0-9]{0,77})$/.test(maxAmount))
        throw badRequest(`rule ${i}: maxAmount is a whole number of base units, as a string`);
      match.maxAmount = maxAmount;
    }
    return { name, when: match, decision };
  });
}
