/**
 * A wallet's policy in words, rule by rule, for the web wallet's screens and the provider's
 * console alike: free of the SDK, so that a page may show a policy without loading it. The rules
 * come from the provider and may have been written anywhere: every text of theirs is made
 * showable.
 */
import { MESSAGE_MAX, SHORT_TEXT_MAX, showable } from "./readers.js";

/** A short text from the provider or the SDK (a state, a progress step) as the protocol carries it. */
export const fitShort = (text: string) => showable(text, SHORT_TEXT_MAX) || "unknown";

/** A message of the SDK's (an error, a warning) as the protocol carries it. */
export const message = (text: string) => showable(text, MESSAGE_MAX) || "the wallet engine failed";

type Fields = Record<string, unknown>;
const isObject = (v: unknown): v is Fields => typeof v === "object" && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

/** A duration of a policy in the largest whole unit people read it in. */
export function durationWords(seconds: number): string {
  const units: [number, string][] = [
    [86_400, "day"],
    [3600, "hour"],
    [60, "minute"],
  ];
  for (const [size, unit] of units)
    if (seconds >= size && seconds % size === 0) {
      const n = seconds / size;
      return `${n} ${unit}${n === 1 ? "" : "s"}`;
    }
  return `${seconds} second${seconds === 1 ? "" : "s"}`;
}

const ACTION_WORDS: Record<string, string> = {
  transfer: "transfers",
  "token-transfer": "token transfers",
  "token-approval": "token approvals",
  "contract-call": "contract calls",
  "contract-deployment": "contract deployments",
};

/** What a rule decides, in words; undefined for a decision this app does not know. */
function decisionWords(rule: Fields): string | undefined {
  switch (rule.decision) {
    case "allow":
      return "signed";
    case "deny":
      return "refused";
    case "require-totp":
      return "signed once the account's one-time code (TOTP) is given";
    case "require-approvals":
      return `signed once ${String(num(rule.approvals) ?? "?")} of the account's other devices approve`;
    case "delay":
      return `held for ${durationWords(num(rule.delaySeconds) ?? 0)} (cancellable meanwhile), then signed`;
    default:
      return undefined;
  }
}

/** A condition's list in words: a few entries as they are, more by how many there are. */
function listWords(value: unknown, noun: string, words: (entry: string) => string = (e) => e): string | undefined {
  if (!Array.isArray(value) || value.length === 0 || !value.every((e) => typeof e === "string")) return undefined;
  return value.length <= 3 ? value.map(words).join(" or ") : `${value.length} ${noun}`;
}

/** A fee cap as `policyForPeople` gives it: with its coin's symbol, in base units, or bare where the chain has several coins. */
const feeWords = (amount: string) => (/^[0-9.]+$/.test(amount) ? `${amount} of the chain's own coin` : amount);

/**
 * Each condition of a rule's `when` this app shows, in words; undefined for one it cannot read.
 * Amounts are the provider's outflows of a request: its transfers plus, in the chain's own
 * coin, the most its network fee can be.
 */
const CONDITION_WORDS: Record<string, (value: unknown) => string | undefined> = {
  kind: (v) => {
    const kinds = listWords(v, "kinds of signing");
    return kinds && `signing ${kinds}`;
  },
  action: (v) => listWords(v, "kinds of transaction", (a) => ACTION_WORDS[a] ?? a),
  chain: (v) => {
    const chains = listWords(v, "chains");
    return chains && `on ${chains}`;
  },
  network: (v) => {
    const networks = listWords(v, "networks");
    return networks && (Array.isArray(v) && v.length > 3 ? `on ${networks}` : `on network ${networks}`);
  },
  asset: (v) => {
    const assets = listWords(v, "assets");
    return assets && `of ${assets} only`;
  },
  to: (v) => {
    const to = listWords(v, "addresses");
    return to && `to ${to} only`;
  },
  allowListed: (v) =>
    isObject(v) && num(v.coolingOffSeconds) !== undefined
      ? `to addresses on the wallet's allow-list for ${durationWords(num(v.coolingOffSeconds) ?? 0)} at least`
      : undefined,
  maxAmount: (v) => (typeof v === "string" ? `up to ${v} per request, network fee included` : undefined),
  window: (v) =>
    isObject(v) && num(v.seconds) !== undefined && typeof v.maxTotal === "string"
      ? `while the total of the last ${durationWords(num(v.seconds) ?? 0)} stays within ${v.maxTotal}, network fees included`
      : undefined,
  maxFee: (v) => (typeof v === "string" ? `with a network fee of up to ${feeWords(v)}` : undefined),
  maxFeeBasisPoints: (v) => {
    const points = num(v);
    return points === undefined
      ? undefined
      : `with a network fee of at most ${points / 100}% of the chain's own coin it sends (none when it sends none)`;
  },
};

const RULE_FIELDS = new Set(["name", "when", "decision", "approvals", "delaySeconds"]);

/**
 * A rule of a policy in words, as the person reads it: its number (counted from 1, as the
 * provider's reasons count), its name, what it decides, then what it matches — the decision
 * first, so that no cut of a long rule loses it. A field this app does not know is not left out
 * silently: the words say the rule has conditions it cannot show. The rules come from the
 * provider and may have been written on any device: every text of theirs is made showable.
 */
export function ruleInWords(rule: unknown, index: number): string {
  if (!isObject(rule)) return message(`${index + 1}. A rule this app cannot read.`);
  const name = typeof rule.name === "string" ? fitShort(rule.name) : "unnamed";
  const when = isObject(rule.when) ? rule.when : {};
  let unknown = rule.when !== undefined && !isObject(rule.when);
  unknown ||= Object.keys(rule).some((field) => !RULE_FIELDS.has(field));
  unknown ||= Object.keys(when).some((field) => !Object.hasOwn(CONDITION_WORDS, field));
  const conditions: string[] = [];
  // In one order whatever the order the rule's fields came in.
  for (const [field, words] of Object.entries(CONDITION_WORDS)) {
    if (!Object.hasOwn(when, field)) continue;
    const shown = words(when[field]);
    if (shown === undefined) unknown = true;
    else conditions.push(shown);
  }
  const shown =
    Object.hasOwn(when, "kind") || Object.hasOwn(when, "action") ? conditions : ["transactions", ...conditions];
  if (unknown) shown.push("and conditions this app cannot show");
  const decision = decisionWords(rule) ?? "decided in a way this app cannot show";
  return message(`${index + 1}. "${name}": ${decision}, for ${shown.join(", ")}.`);
}

/** A policy in words, with what happens to a request no rule matches. */
export const policyInWords = (rules: unknown[]) => [
  ...rules.map(ruleInWords),
  message(`${rules.length + 1}. Anything no rule above matches: refused.`),
];
