/**
 * Policies in the units people use. A policy file's amounts (`maxAmount`, `window.maxTotal`,
 * `maxFee`) are written like every other amount (`amount.ts`): coins, or base units said so. The
 * provider's API keeps base units — policies it stores and evaluates are exact integers whatever
 * asset they bound — so the device converts on the way in and back on the way out, and a policy
 * shown by `policy show` can be edited and given to `policy set` as it is.
 *
 * Coins need a known number of decimals: `maxAmount` and a window count in the rule's `asset`s
 * (all with the same decimals), `maxFee` in the native coin of the rule's `network`s or `chain`s.
 * A rule that names none may still bound amounts, in base units only: "0.5" of an unnamed asset
 * could be 0.5 ETH or 0.5 of a 6-decimal token, a million-fold difference.
 */
import type { Match, Policy } from "@keyshard/api";
import {
  CHAIN_COINS,
  type ChainName,
  type CoinUnit,
  TOKEN_BASE_UNIT,
  unitOfNetwork,
  unitOfSymbol,
} from "@keyshard/chains";
import { readAmount, showAmount } from "./amount.js";
import { WalletError } from "./errors.js";

type Fields = Record<string, unknown>;
/** Conditions as a person wrote them: the contract's fields (`@keyshard/api`), their values not yet checked. */
type WrittenMatch = { [Field in keyof Match]?: unknown };
/** A field of a rule that is an amount (in coins for people, in base units for the provider), where it is. */
interface AmountField {
  holder: Fields;
  key: keyof Pick<Match, "maxAmount" | "maxFee"> | keyof Pick<NonNullable<Match["window"]>, "maxTotal">;
  unit: CoinUnit | undefined;
  /** What to add to a rule for coins to be countable. */
  hint: string;
}

const isObject = (v: unknown): v is Fields => typeof v === "object" && v !== null && !Array.isArray(v);
const strings = (v: unknown): string[] | undefined =>
  Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === "string") ? v : undefined;

/** One unit for several: the same decimals, and the symbol and base-unit word when they agree too. */
function common(units: (CoinUnit | undefined)[]): CoinUnit | undefined {
  if (units.length === 0 || units.some((u) => u === undefined)) return undefined;
  const [first, ...rest] = units as [CoinUnit, ...CoinUnit[]];
  if (rest.some((u) => u.decimals !== first.decimals)) return undefined;
  return {
    decimals: first.decimals,
    symbol: rest.every((u) => u.symbol === first.symbol) ? first.symbol : "",
    baseUnit: rest.every((u) => u.baseUnit === first.baseUnit) ? first.baseUnit : TOKEN_BASE_UNIT,
  };
}

/** The unit of a rule's amounts (its assets') and of its fee cap (its native coin's), where known. */
function unitsOf(when: WrittenMatch): { amount?: CoinUnit; fee?: CoinUnit } {
  const assets = strings(when.asset);
  const networks = strings(when.network);
  const chains = strings(when.chain)?.filter((c): c is ChainName => c in CHAIN_COINS);
  // An ethereum rule without a network also covers chains whose coin is BNB or POL: same decimals, no one symbol.
  const fee =
    networks !== undefined
      ? common(networks.map(unitOfNetwork))
      : chains !== undefined && chains.length > 0
        ? common(chains.map((c) => (c === "ethereum" ? { ...CHAIN_COINS.ethereum, symbol: "" } : CHAIN_COINS[c])))
        : undefined;
  const amount = assets === undefined ? undefined : common(assets.map((a) => unitOfSymbol(a)));
  return { ...(amount && { amount }), ...(fee && { fee }) };
}

/**
 * A rule as people find it: its number, counted from 1 as everywhere (`policy show`, the
 * provider's reasons, a cosigner's rules), and its name. A request the provider decided before it
 * numbered rules has the name alone.
 */
export const ruleLabel = (number: number | null, name: unknown) => {
  const named = typeof name === "string" && name !== "";
  if (number === null) return named ? `rule "${name}"` : "no rule";
  return `rule ${number}${named ? ` ("${name}")` : ""}`;
};

/** The amount fields of a rule's `when`, each with the unit it is in and what to add for coins. */
function amountFields(when: Fields & WrittenMatch): AmountField[] {
  const units = unitsOf(when);
  const window = isObject(when.window) ? when.window : undefined;
  return [
    { holder: when, key: "maxAmount", unit: units.amount, hint: 'name its asset, e.g. "asset": ["ETH"]' },
    ...(window ? [{ holder: window, key: "maxTotal" as const, unit: units.amount, hint: "name its one asset" }] : []),
    { holder: when, key: "maxFee", unit: units.fee, hint: 'name its chain or network, e.g. "chain": ["ethereum"]' },
  ];
}

/**
 * Policy files once took base units as bare numbers, as the provider's API still does: read as
 * coins, "500000000000000000" for 0.5 ETH would lift the limit a quintillion-fold, silently. A bare
 * whole number with as many digits as the coin has decimals (six at least) is a limit no one
 * means in coins, so it must say its unit either way.
 */
const lookLikeBaseUnits = (value: string, unit: CoinUnit) =>
  unit.decimals >= 6 && /^\d+$/.test(value) && value.length >= unit.decimals;

function refuseBaseUnitsAsCoins(value: string, unit: CoinUnit | undefined, what: string): void {
  const bare = value.trim();
  if (unit === undefined || !lookLikeBaseUnits(bare, unit)) return;
  const coins = unit.symbol ? `${bare} ${unit.symbol}` : `${bare}.0`;
  throw new WalletError(
    "invalid-amount",
    `${what}: "${value}" would be ${bare} coins; say which you mean: "${bare} ${unit.baseUnit}" or "${coins}"`,
  );
}

/**
 * A policy as a person wrote it → the provider's form, amounts in base units. Errors name the
 * rule (from 1) and the field. Everything else is left for the provider to check, which says
 * what is wrong: the rules are typed as its contract's policy, not checked against it here.
 */
export function policyForProvider(rules: unknown): Policy {
  if (!Array.isArray(rules)) throw new WalletError("usage", "a policy is a JSON list of rules");
  const converted: unknown[] = rules.map((rule, i) => {
    if (!isObject(rule) || !isObject(rule.when)) return rule;
    const copy = structuredClone(rule) as Fields & { when: Fields };
    for (const { holder, key, unit, hint } of amountFields(copy.when)) {
      const value = holder[key];
      if (value === undefined) continue;
      const what = `${ruleLabel(i + 1, rule.name)}: ${key === "maxTotal" ? "window maxTotal" : key}`;
      if (typeof value !== "string")
        throw new WalletError("invalid-amount", `${what} is an amount in quotes, like "0.5" or "21000 wei"`);
      refuseBaseUnitsAsCoins(value, unit, what);
      holder[key] = readAmount(value, unit, what, `to write it in coins, ${hint}`).toString();
    }
    return copy;
  });
  return converted as Policy;
}

/** The provider's policy → amounts as people read them: coins where the unit is known, else "N base units". */
export function policyForPeople(rules: unknown): unknown[] {
  if (!Array.isArray(rules)) return [];
  return rules.map((rule) => {
    if (!isObject(rule) || !isObject(rule.when)) return rule;
    const copy = structuredClone(rule) as Fields & { when: Fields };
    for (const { holder, key, unit } of amountFields(copy.when)) {
      const value = holder[key];
      if (typeof value !== "string" || !/^[0-9]+$/.test(value)) continue;
      const shown = unit === undefined ? `${value} ${TOKEN_BASE_UNIT}` : showAmount(BigInt(value), unit);
      // Read back, a bare whole number this long would be refused as base units in disguise.
      holder[key] = unit !== undefined && lookLikeBaseUnits(shown, unit) ? `${shown}.0` : shown;
    }
    return copy;
  });
}
