/**
 * A new wallet's name: its field, and why what was typed cannot name it (empty, too long, or the
 * name of one of this device's wallets already).
 */
import { NAME_MAX } from "../engine/readers.js";
import { Field } from "./field.js";

/** Why `wanted` (trimmed) cannot name a new wallet besides `taken`, or undefined when it can. */
export function walletNameProblem(wanted: string, taken: readonly string[]): string | undefined {
  if (wanted.length === 0 || wanted.length > NAME_MAX)
    return `Name the wallet (up to ${NAME_MAX} characters), e.g. "Savings".`;
  if (taken.includes(wanted)) return `There is a wallet named ${wanted} already: choose another name.`;
  return undefined;
}

export function WalletNameField({
  value,
  onValue,
  invalid,
}: {
  value: string;
  onValue(value: string): void;
  invalid: string | true | undefined;
}) {
  return (
    <Field
      label="Wallet name"
      autoComplete="off"
      maxLength={NAME_MAX}
      value={value}
      onValue={onValue}
      invalid={invalid}
    />
  );
}
