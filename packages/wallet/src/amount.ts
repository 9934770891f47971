/**
 * Amounts as people write them, to integer base units and back, exactly: no floating point, and
 * more decimals than the unit has is an error, not a rounding. One form everywhere a person types
 * an amount (`--amount`, policy files, cosigner rules): coins by default ("0.5", or "0.5 ETH"),
 * base units only when said so ("21000 wei", "1500 sat", "5000 lamports", "10 base units").
 * Anything else — "1e18", "-1", ".5", "1,5", "0x10" — is refused rather than guessed at.
 * The units themselves come from `@keyshard/chains`.
 */
import { CHAIN_COINS, type CoinUnit, TOKEN_BASE_UNIT } from "@keyshard/chains";
import { WalletError } from "./errors.js";

const FORM = /^(\d+)(?:\.(\d+))?(?: +([A-Za-z][A-Za-z ]*?))?$/;
/** Larger than any balance any chain can hold (2²⁵⁶): beyond it an amount is a typo, not a limit. */
const MAX_BASE_UNITS = 2n ** 256n;

/** How to write an amount of `unit`, for error messages. */
const howTo = (unit: CoinUnit) =>
  `write coins like 0.05${unit.symbol ? ` (or 0.05 ${unit.symbol})` : ""}, or base units like 21000 ${unit.baseUnit}`;

/** Every word that says an amount is in base units. */
const BASE_UNIT_WORDS = new Set([...Object.values(CHAIN_COINS).map((c) => c.baseUnit), TOKEN_BASE_UNIT]);

/**
 * `text` in base units of `unit`, zero allowed (a limit may be zero). `what` names the field in
 * errors, e.g. `rule 2 ("small"): maxAmount`. Without a `unit` (an amount of an asset not named)
 * only base units are understood, and `noUnit` tells how to name the asset.
 */
export function readAmount(text: string, unit: CoinUnit | undefined, what?: string, noUnit?: string): bigint {
  const field = what === undefined ? "" : `${what}: `;
  const match = FORM.exec(text.trim());
  const hint = unit === undefined ? 'write base units like "21000 base units"' : howTo(unit);
  if (match === null) throw new WalletError("invalid-amount", `${field}"${text}" is not an amount: ${hint}`);
  const [, whole, fraction, written] = match as unknown as [string, string, string | undefined, string | undefined];
  // Unit words and symbols are read in any case: "eth" cannot mean anything but ETH.
  const word = written?.toLowerCase();
  let value: bigint;
  if (
    word !== undefined &&
    (unit === undefined ? BASE_UNIT_WORDS.has(word) : word === unit.baseUnit || word === TOKEN_BASE_UNIT)
  ) {
    if (fraction !== undefined)
      throw new WalletError("invalid-amount", `${field}"${text}" has decimals, and ${written} are whole numbers`);
    value = BigInt(whole);
  } else if (unit === undefined) {
    throw new WalletError(
      "invalid-amount",
      `${field}"${text}" is not in base units, and coins of an unnamed asset cannot be counted: ${hint}${noUnit ? `, or ${noUnit}` : ""}`,
    );
  } else if (word === undefined || (unit.symbol !== "" && word === unit.symbol.toLowerCase())) {
    const decimals = fraction ?? "";
    if (decimals.length > unit.decimals)
      throw new WalletError(
        "invalid-amount",
        `${field}"${text}" has ${decimals.length} decimals; ${unit.symbol || "the coin"} has ${unit.decimals} at most`,
      );
    value = BigInt(whole) * 10n ** BigInt(unit.decimals) + BigInt(decimals.padEnd(unit.decimals, "0") || "0");
  } else {
    throw new WalletError(
      "invalid-amount",
      `${field}"${text}" is in ${written}, and this amount is in ${unit.symbol || "the chain's coin"}: ${howTo(unit)}`,
    );
  }
  if (value >= MAX_BASE_UNITS)
    throw new WalletError("invalid-amount", `${field}"${text}" is more than any account can hold`);
  return value;
}

/** An amount to send: like `readAmount`, and more than zero. */
export function parseAmount(text: string, unit: CoinUnit): bigint {
  const value = readAmount(text, unit);
  if (value === 0n) throw new WalletError("invalid-amount", "the amount must be more than zero");
  return value;
}

/** `value` base units as a decimal number of coins, without trailing zeros: 1500000000000000000n, 18 → "1.5". */
export function formatAmount(value: bigint, decimals: number): string {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(decimals + 1, "0");
  const whole = digits.slice(0, digits.length - decimals);
  const fraction = digits.slice(digits.length - decimals).replace(/0+$/, "");
  return `${negative ? "-" : ""}${whole}${fraction ? `.${fraction}` : ""}`;
}

/** `value` base units as people read them, in coins with the symbol when there is one: "1.5 ETH". */
export function showAmount(value: bigint, unit: CoinUnit): string {
  const coins = formatAmount(value, unit.decimals);
  return unit.symbol ? `${coins} ${unit.symbol}` : coins;
}
