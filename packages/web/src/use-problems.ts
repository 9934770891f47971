/**
 * A form's field errors: the form checks what was typed, shows what is wrong beside each field,
 * and moves the focus to the first field at fault.
 */
import { useCallback, useRef, useState } from "react";
import { flushSync } from "react-dom";

/** Each field's error: its text, or `true` when the screen's alert says it. */
export type Problems<K extends string> = Partial<Record<K, string | true>>;

export function useProblems<K extends string>() {
  const form = useRef<HTMLFormElement>(null);
  const [problems, setProblems] = useState<Problems<K>>({});
  /** Shows `found` (none clears them) and focuses the first field it marks; whether it marked any. */
  const show = useCallback((found: Problems<K>): boolean => {
    // Rendered at once, so that the first field marked invalid can take the focus.
    flushSync(() => setProblems(found));
    const first = form.current?.querySelector<HTMLElement>("[aria-invalid=true]");
    first?.focus();
    return first != null;
  }, []);
  return { form, problems, show };
}
