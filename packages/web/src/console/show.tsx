/**
 * How the console puts the provider's data on screen: every text passed through `showable` (no
 * control or direction-changing characters, long texts cut), times in UTC, lists that say when
 * they hold only the newest rows, and the one alert a screen has.
 */
import type { Ref } from "react";
import { showable } from "../engine/readers.js";
import type { Capped } from "./api.js";

/** Ids, names, states: short. */
export const SHORT = 120;
/** Audit details and policies: cut past this. */
export const LONG = 600;

/** A text from the provider, fit to show. */
export const shown = (value: string, max = SHORT) => showable(value, max);

/** A long text of `length` characters, of which the provider sent `value`: its beginning, and how long it is when cut. */
export function longShown(value: string, length: number): string {
  const text = shown(value, LONG);
  return length > LONG ? `${text} (${length} characters in all)` : text;
}

/** A time in milliseconds since the epoch, as UTC to the second. */
export const when = (ms: number) => `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")} UTC`;

/** Says how much of a capped list is shown. */
export function CapNote({ list, shownCount, noun }: { list: Capped; shownCount: number; noun: string }) {
  if (list.total <= shownCount) return <p className="hint">{`${list.total} ${noun}.`}</p>;
  return (
    <p className="hint">{`The newest ${shownCount} of ${list.total} ${noun} (at most ${list.limit} are listed).`}</p>
  );
}

/** The screen's one alert, with the error's message; it can take the focus. */
export function ConsoleAlert({ error, ref }: { error: unknown; ref?: Ref<HTMLDivElement> }) {
  if (error === undefined) return null;
  const message = error instanceof Error ? error.message : String(error);
  return (
    <div role="alert" className="error" tabIndex={-1} ref={ref}>
      <p>{shown(message, LONG)}</p>
    </div>
  );
}

/** A table that scrolls sideways on a narrow screen instead of widening the page. */
export function Table({ caption, head, rows }: { caption: string; head: string[]; rows: (string | number)[][] }) {
  return (
    <div className="table-scroll">
      <table>
        <caption>{caption}</caption>
        <thead>
          <tr>
            {head.map((h) => (
              <th key={h} scope="col">
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: rows are shown as the API listed them and never reordered.
            <tr key={i}>
              {row.map((cell, j) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: a row's cells follow its table's columns.
                <td key={j}>{cell}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
