/**
 * Amounts typed by people ("0.05") to integer base units (wei, lamports, satoshis) and back,
 * exactly: no floating point, and more decimals than the unit has is an error, not a rounding.
 */
import { WalletError } from "./errors.js";

export function parseAmount(text: string, decimals: number, unit: string): bigint {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (match === null)
    throw new WalletError("invalid-amount", `"${text}" is not an amount: write it like 0.05 (digits and one dot)`);
  const [, whole, fraction = ""] = match as unknown as [string, string, string | undefined];
  if (fraction.length > decimals)
    throw new WalletError(
      "invalid-amount",
      `"${text}" has ${fraction.length} decimals; ${unit} has ${decimals} at most`,
    );
  const value = BigInt(whole) * 10n ** BigInt(decimals) + BigInt(fraction.padEnd(decimals, "0") || "0");
  if (value === 0n) throw new WalletError("invalid-amount", "the amount must be more than zero");
  return value;
}

export function formatAmount(value: bigint, decimals: number): string {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(decimals + 1, "0");
  const whole = digits.slice(0, digits.length - decimals);
  const fraction = digits.slice(digits.length - decimals).replace(/0+$/, "");
  return `${negative ? "-" : ""}${whole}${fraction ? `.${fraction}` : ""}`;
}
