/**
 * The field for a six-digit code of the account's TOTP: numeric, offered the platform's one-time
 * code autofill, and no longer than a code. Screens give it their own label and hint, since the
 * code asked for differs (the one in force, a new one's first, an heir's enrollment's).
 */
import { Field, type FieldProps } from "./field.js";

export function TotpField(props: Omit<FieldProps, "inputMode" | "autoComplete" | "maxLength">) {
  return <Field inputMode="numeric" autoComplete="one-time-code" maxLength={6} {...props} />;
}
