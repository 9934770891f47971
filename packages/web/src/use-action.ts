/**
 * What a screen does when the person asks for something that takes a while: one action at a
 * time (a second press while one runs does nothing), its status text while it runs, and its error
 * kept for the screen to show, with the focus moved to the field at fault or else to the alert.
 */
import { type RefObject, useCallback, useRef, useState } from "react";
import { flushSync } from "react-dom";

export interface Action {
  /** The running action's status text; null when none runs. */
  busy: string | null;
  error: unknown;
  /** The screen's alert (`<ErrorMessage ref={action.alert}>`), which takes the focus after a failure. */
  alert: RefObject<HTMLDivElement | null>;
  clearError(): void;
  /**
   * Runs `action` unless one runs already; `action` may say what it is doing now with `status`.
   * After a failure `focusField` may move the focus to the field at fault, and says whether it did.
   */
  run(
    status: string,
    action: (status: (text: string) => void) => Promise<void>,
    focusField?: (error: unknown) => boolean,
  ): Promise<void>;
}

export function useAction(): Action {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>();
  const running = useRef(false);
  const alert = useRef<HTMLDivElement>(null);
  const run = useCallback<Action["run"]>(async (status, action, focusField) => {
    if (running.current) return;
    running.current = true;
    setError(undefined);
    setBusy(status);
    try {
      await action(setBusy);
    } catch (e) {
      // Rendered at once, so that the alert is there to take the focus.
      flushSync(() => {
        setError(e);
        setBusy(null);
      });
      if (focusField?.(e) !== true) alert.current?.focus();
    } finally {
      running.current = false;
      setBusy(null);
    }
  }, []);
  const clearError = useCallback(() => setError(undefined), []);
  return { busy, error, alert, clearError, run };
}
