/**
 * What a screen reads from the engine when it appears: the answer or the error, dropped when the
 * screen is gone before it comes; `reload` asks again (keeping the last answer shown meanwhile).
 */
import { type DependencyList, useCallback, useEffect, useState } from "react";

export interface Query<T> {
  value: T | undefined;
  error: unknown;
  reload(): void;
}

export function useQuery<T>(query: () => Promise<T>, deps: DependencyList): Query<T> {
  const [answer, setAnswer] = useState<{ value?: T; error?: unknown }>({});
  const [round, setRound] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the caller lists what `query` reads; `round` asks again.
  useEffect(() => {
    let shown = true;
    query().then(
      (value) => shown && setAnswer({ value }),
      (error: unknown) => shown && setAnswer((last) => ({ value: last.value, error })),
    );
    return () => {
      shown = false;
    };
  }, [...deps, round]);
  const reload = useCallback(() => setRound((n) => n + 1), []);
  return { value: answer.value, error: answer.error, reload };
}
