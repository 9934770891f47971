/**
 * How the engine passes on a list the provider gives (devices, waiting changes, held requests):
 * each entry read on its own, so that one malformed entry is left out and counted instead of
 * failing the whole screen, and the list cut to what one answer carries, the rest counted.
 */
import { ProtocolError } from "../readers.js";

/** The entries `read` takes; those it refuses with a `ProtocolError` are left out and counted. */
export function readEach<T, R>(entries: readonly T[], read: (entry: T) => R): { read: R[]; unreadable: number } {
  const kept: R[] = [];
  let unreadable = 0;
  for (const entry of entries) {
    try {
      kept.push(read(entry));
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      unreadable += 1;
    }
  }
  return { read: kept, unreadable };
}

/** The first `max` of `items` once sorted by `order`, and how many more there are. */
export function firstOf<T>(
  items: readonly T[],
  max: number,
  order: (a: T, b: T) => number,
): { shown: T[]; notShown: number } {
  const sorted = [...items].sort(order);
  return { shown: sorted.slice(0, max), notShown: Math.max(0, sorted.length - max) };
}
