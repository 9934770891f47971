/**
 * A wallet's policy as the provider's API takes and returns it: one schema that the routes validate
 * and document with, that the provider reads a policy by, and whose types the wallet and the
 * provider share. What a schema cannot say — rules that relate two fields, or two rules — is
 * `policyConflict`, checked after it. Refusals name the rule as people count it and the field, in
 * the words of `policyViolationText`, whichever validator found them.
 *
 * Amounts are base units as decimal strings: exact integers whatever the asset, so a stored policy
 * never depends on a table of decimals (the wallet converts coins people write, `policy-units.ts`).
 */
import { type Action, CHAIN_NAMES, REQUEST_KINDS } from "@keyshard/chains";
import { type Static, type TSchema, Type } from "typebox";
import { Compile } from "typebox/compile";
import { Value } from "typebox/value";
import { StringEnum } from "./common.js";

const ACTIONS = [
  "transfer",
  "token-transfer",
  "token-approval",
  "contract-call",
  "contract-deployment",
] as const satisfies readonly Action[];

const DECISIONS = ["allow", "deny", "require-totp", "require-approvals", "delay"] as const;
export type DecisionKind = (typeof DECISIONS)[number];

const MAX_RULES = 100;
/** The longest any duration of a policy may be: a window, a cooling-off, a delay. */
export const YEAR_SECONDS = 366 * 24 * 3600;

const BASE_UNITS_WORDS = "a whole number of base units, as a string";
const BaseUnits = (description: string) => Type.String({ pattern: "^(0|[1-9][0-9]{0,77})$", description });
const Seconds = (minimum: number, description: string) => Type.Integer({ minimum, maximum: YEAR_SECONDS, description });
const List = <Item extends TSchema>(item: Item, description: string) =>
  Type.Array(item, { minItems: 1, maxItems: 256, description });
const Entry = Type.String({ minLength: 1, maxLength: 128 });

/**
 * The networks a rule may name; a chain id with a leading zero would never match one. Bitcoin's
 * are not among them: a PSBT does not commit to its network, so the one a request names is the
 * client's word, and a rule (or a window) scoped by it would be the thief's to dodge.
 */
const Network = Type.String({ pattern: "^(eip155:[1-9][0-9]{0,15}|solana)$" });

/**
 * A rule's conditions: every one given must hold, and a rule with none matches every transaction
 * (`@keyshard/provider`'s `policy/policy.ts` says how each condition reads a request).
 */
export const Match = Type.Object(
  {
    kind: Type.Optional(List(StringEnum(REQUEST_KINDS), "what is signed; without it, transactions only")),
    chain: Type.Optional(List(StringEnum(CHAIN_NAMES), "the chains")),
    network: Type.Optional(List(Network, 'networks as descriptions name them: "eip155:<chain id>" or "solana"')),
    action: Type.Optional(List(StringEnum(ACTIONS), "what the transaction does")),
    asset: Type.Optional(
      List(Entry, "asset symbols; every outflow, the fee's included unless a fee cap bounds it, is of one"),
    ),
    to: Type.Optional(List(Entry, "destinations; every counterparty must be one of them")),
    allowListed: Type.Optional(
      Type.Object(
        { coolingOffSeconds: Seconds(0, "how long an entry must have been on the list") },
        {
          additionalProperties: false,
          description: "every counterparty is on the wallet's allow-list and was added at least this long ago",
        },
      ),
    ),
    maxAmount: Type.Optional(BaseUnits("the largest outflow of each asset in the whole request, in base units")),
    window: Type.Optional(
      Type.Object(
        {
          seconds: Seconds(60, "how far back the window reaches"),
          maxTotal: BaseUnits("the most the window may add up to, in base units"),
        },
        {
          additionalProperties: false,
          description:
            "this request plus everything signing started for in the last `seconds` stays within `maxTotal` base units of the rule's one asset",
        },
      ),
    ),
    maxFee: Type.Optional(BaseUnits("the largest fee, in base units of the chain's native coin")),
    maxFeeBasisPoints: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 10_000,
        description: "the largest fee as a share of the native value transferred, in hundredths of a percent",
      }),
    ),
  },
  { additionalProperties: false },
);
export type Match = Static<typeof Match>;

const RuleName = Type.String({
  minLength: 1,
  maxLength: 64,
  description: "unique in the policy: texts name the rule by it",
});

export const Rule = Type.Object(
  {
    name: RuleName,
    when: Type.Optional(Match),
    /** What a match decides. (Not `then`: an object with `then` is a thenable to `await`.) */
    decision: StringEnum(DECISIONS),
    approvals: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 16,
        description: "for require-approvals: how many of the account's other devices must approve",
      }),
    ),
    delaySeconds: Type.Optional(Seconds(1, "for delay: how long the request is held (cancellable meanwhile)")),
  },
  { additionalProperties: false },
);
export type Rule = Static<typeof Rule>;

/** Ordered rules: the first whose conditions all hold decides, and a request none matches is denied. */
export const Policy = Type.Array(Rule, { maxItems: MAX_RULES });
export type Policy = Static<typeof Policy>;

/**
 * A rule as people find it in what they read: its number, counted from 1 as `policy show` and a
 * cosigner's rules count, and its name. A rule of an older request has no number: its name alone.
 */
export function ruleLabel(number: number | null, name: string | null): string {
  if (name === null) return "no rule (none matched)";
  return number === null ? `rule "${name}"` : `rule ${number} ("${name}")`;
}

/** Conditions about what a transaction moves: none can hold for a message, typed data or a hash. */
export const TRANSFER_CONDITIONS = [
  "network",
  "action",
  "asset",
  "to",
  "allowListed",
  "maxAmount",
  "window",
  "maxFee",
  "maxFeeBasisPoints",
] as const satisfies readonly (keyof Match)[];

const compilePolicy = () => Compile(Policy);
let checker: ReturnType<typeof compilePolicy> | undefined;
/** Compiled on first use: a process that never reads a policy (the wallet's command line) pays nothing. */
function policyChecker(): ReturnType<typeof compilePolicy> {
  checker ??= compilePolicy();
  return checker;
}

/** One schema violation, as TypeBox and ajv (the HTTP layer's validator) both report it. */
export interface PolicyViolation {
  keyword: string;
  /** JSON pointer into the policy: "/1/when/maxAmount". */
  instancePath: string;
  params: Record<string, unknown>;
}

/** `field`'s requirement, as the refusal of a value that breaks it says it. */
function requirement(field: string): string {
  switch (field) {
    case "decision":
      return `decision must be one of ${DECISIONS.join(", ")}`;
    case "approvals":
      return "approvals is from 1 to 16";
    case "delaySeconds":
      return `delaySeconds is a whole number of seconds from 1 to ${YEAR_SECONDS}`;
    case "coolingOffSeconds":
      return `coolingOffSeconds is a whole number of seconds from 0 to ${YEAR_SECONDS}`;
    case "seconds":
      return `window seconds is a whole number of seconds from 60 to ${YEAR_SECONDS}`;
    case "maxTotal":
      return `window maxTotal is ${BASE_UNITS_WORDS}`;
    case "maxAmount":
    case "maxFee":
      return `${field} is ${BASE_UNITS_WORDS}`;
    case "maxFeeBasisPoints":
      return "maxFeeBasisPoints is a whole number from 0 to 10000";
    default:
      return `${field} is not valid`;
  }
}

const LISTS: readonly string[] = ["kind", "chain", "network", "action", "asset", "to"];
const OBJECTS: readonly string[] = ["when", "allowListed", "window"];

/**
 * A schema violation of a policy in the words a person reads: the rule by its number from 1 (and
 * its name once that is valid), the field, what it must be. `policy` is the document checked: the
 * names come from it.
 */
export function policyViolationText(violation: PolicyViolation, policy: unknown): string {
  const path = violation.instancePath.split("/").slice(1);
  const p = violation.params;
  if (path.length === 0) return `a policy is a list of at most ${MAX_RULES} rules`;
  const number = Number(path[0]) + 1;
  const name = (Array.isArray(policy) ? policy[Number(path[0])] : undefined)?.name;
  const where = Value.Check(RuleName, name) ? ruleLabel(number, name) : `rule ${number}`;
  // ajv names the one missing or unknown property, TypeBox lists them all; TypeBox also reports
  // each unknown property as a "boolean" violation (the schema `false`) at the property's path.
  const firstOf = (one: unknown, all: unknown) => String(one ?? (Array.isArray(all) ? all[0] : undefined));
  const missing = firstOf(p.missingProperty, p.requiredProperties);
  const unknownIn = violation.keyword === "boolean" || violation.keyword === "additionalProperties";
  const unknownField =
    violation.keyword === "boolean" ? path.pop() : firstOf(p.additionalProperty, p.additionalProperties);
  const field = path.length === 1 ? "" : ([...path].reverse().find((s) => !/^[0-9]+$/.test(s)) ?? "");

  if (field === "") {
    if (violation.keyword === "type") return `rule ${number} must be an object`;
    if (unknownIn) return `rule ${number} has an unknown field ${unknownField}`;
    if (violation.keyword === "required" && missing !== "name") return `${where}: ${requirement(missing)}`;
    return `rule ${number} needs a name (1 to 64 characters)`;
  }
  if (field === "name") return `rule ${number} needs a name (1 to 64 characters)`;
  if (OBJECTS.includes(field) && path.at(-1) === field) {
    if (unknownIn) return `${where}: ${field} has an unknown field ${unknownField}`;
    if (violation.keyword === "required") return `${where}: ${requirement(missing)}`;
    return `${where}: ${field} must be an object`;
  }
  if (LISTS.includes(field)) {
    const entry = path.at(-1) !== field;
    if (!entry || violation.keyword === "type") return `${where}: ${field} must be a non-empty list of strings`;
    if (violation.keyword === "minLength" || violation.keyword === "maxLength")
      return `${where}: ${field} has an empty or overlong entry`;
    if (field === "network")
      return `${where}: a network is eip155:<chain id> or solana (a PSBT does not say its network: use chain bitcoin)`;
    return `${where}: ${field} has an unknown value`;
  }
  return `${where}: ${requirement(field)}`;
}

/**
 * What the schema cannot say: why a policy that fits it is still refused, or undefined when it is
 * not. Names are unique; `approvals` and `delaySeconds` go with their decisions only; a window
 * adds up exactly one asset; transfer conditions need rules that may match transactions.
 */
export function policyConflict(policy: Policy): string | undefined {
  const names = new Set<string>();
  for (const [i, rule] of policy.entries()) {
    const where = ruleLabel(i + 1, rule.name);
    // The schema counts characters; names and entries are bounded in UTF-16 units, as JavaScript
    // and the texts that quote them count.
    if (rule.name.length > 64) return `rule ${i + 1} needs a name (1 to 64 characters)`;
    for (const [field, value] of Object.entries(rule.when ?? {}))
      if (Array.isArray(value) && value.some((v) => typeof v === "string" && v.length > 128))
        return `${where}: ${field} has an empty or overlong entry`;
    if (names.has(rule.name)) return `${where}: another rule is named ${rule.name}`;
    names.add(rule.name);
    if ((rule.decision === "require-approvals") !== (rule.approvals !== undefined))
      return `${where}: approvals goes with require-approvals, and only there`;
    if ((rule.decision === "delay") !== (rule.delaySeconds !== undefined))
      return `${where}: delaySeconds goes with delay, and only there`;
    const when = rule.when ?? {};
    if (when.window !== undefined && when.asset?.length !== 1)
      return `${where}: a window needs exactly one asset to add up`;
    if (when.kind && !when.kind.includes("transaction") && TRANSFER_CONDITIONS.some((c) => when[c] !== undefined))
      return `${where}: transfer conditions cannot match messages, typed data or hashes`;
  }
  return undefined;
}

/** `value` as a policy, or why the provider refuses it: the schema first, then `policyConflict`. */
export function checkPolicy(value: unknown): { policy: Policy } | { refusal: string } {
  const check = policyChecker();
  // A sparse array passes the schema's item checks by skipping its holes.
  if (Array.isArray(value) && value.includes(undefined)) return { refusal: "a policy is a list of rules" };
  if (!check.Check(value)) {
    const [first] = check.Errors(value);
    return { refusal: first === undefined ? "the policy is not valid" : policyViolationText(first, value) };
  }
  const conflict = policyConflict(value);
  return conflict === undefined ? { policy: value } : { refusal: conflict };
}
