/**
 * A labelled text field: the label names the input, a hint and the field's own error are tied
 * to it with `aria-describedby`, and `aria-invalid` marks it while its error stands. The error is
 * not an alert: the focus moves to the field, which reads it out with the field.
 */
import { type InputHTMLAttributes, useId } from "react";

export interface FieldProps extends Omit<InputHTMLAttributes<HTMLInputElement>, "id" | "onChange"> {
  label: string;
  value: string;
  onValue: (value: string) => void;
  hint?: string;
  /** The field's error; `true` marks it wrong without its own text (the screen's alert says why). */
  invalid?: string | true | undefined;
}

export function Field({ label, value, onValue, hint, invalid, ...input }: FieldProps) {
  const id = useId();
  const message = typeof invalid === "string" ? invalid : undefined;
  const described = [hint && `${id}-hint`, message && `${id}-error`].filter(Boolean).join(" ");
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {hint && (
        <p id={`${id}-hint`} className="hint">
          {hint}
        </p>
      )}
      <input
        id={id}
        value={value}
        onChange={(event) => onValue(event.target.value)}
        aria-invalid={invalid ? true : undefined}
        aria-describedby={described || undefined}
        {...input}
      />
      {message && (
        <p id={`${id}-error`} className="field-error">
          {message}
        </p>
      )}
    </div>
  );
}
