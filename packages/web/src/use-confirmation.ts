/**
 * A screen's side of the engine's question about a transaction (`confirm`: what its bytes do,
 * asked before anything is signed or approved). The question is shown, and the engine waits for
 * the person's answer; once the screen is gone the answer is "no", whether the question came
 * before the person left or only after: the engine runs one call at a time, and a question left
 * unanswered would leave it waiting for good.
 */
import { useEffect, useMemo, useRef } from "react";
import type { Review } from "./engine/review.js";

export interface Confirmation {
  /** The `onConfirm` of an engine call: `show`s the question, and resolves to the person's answer. */
  asking(show: (review: Review) => void): (review: Review) => Promise<boolean>;
  /** Gives the person's answer to the question shown; false when no question waits. */
  answer(confirmed: boolean): boolean;
  /** Forgets the question of a call that ended without its answer (it failed). */
  drop(): void;
}

export function useConfirmation(): Confirmation {
  const waiting = useRef<((confirmed: boolean) => void) | undefined>(undefined);
  /** Set once the screen is gone: a question arriving then is answered "no" at once. */
  const left = useRef(false);

  useEffect(() => {
    left.current = false;
    return () => {
      left.current = true;
      const settle = waiting.current;
      waiting.current = undefined;
      settle?.(false);
    };
  }, []);

  return useMemo<Confirmation>(
    () => ({
      asking: (show) => (review) => {
        if (left.current) return Promise.resolve(false);
        return new Promise<boolean>((resolve) => {
          waiting.current = resolve;
          show(review);
        });
      },
      answer: (confirmed) => {
        const settle = waiting.current;
        waiting.current = undefined;
        settle?.(confirmed);
        return settle !== undefined;
      },
      drop: () => {
        waiting.current = undefined;
      },
    }),
    [],
  );
}
