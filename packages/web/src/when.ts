/**
 * A moment as the page tells it, in the person's own language and time zone: its local date and
 * time, and how long ago it was ("2 minutes ago", "yesterday").
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The units "… ago" counts in, largest first, with their lengths (a month and a year as averages). */
const UNITS: readonly (readonly [Intl.RelativeTimeFormatUnit, number])[] = [
  ["year", 365.25 * DAY],
  ["month", 30.44 * DAY],
  ["week", 7 * DAY],
  ["day", DAY],
  ["hour", HOUR],
  ["minute", MINUTE],
];

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

/** `ms` (since the epoch) as a local date and time, as the person's language writes them. */
export const localDateTime = (ms: number): string => dateTime.format(ms);

/**
 * How long before `now` the moment `ms` was, in its largest whole unit, counted down so that it
 * never says longer than it was ("1 minute ago" until two have passed); a moment after `now`, as a
 * clock set differently from the provider's gives, reads "in …".
 */
export function timeAgo(ms: number, now: number): string {
  const since = now - ms;
  const [unit, length] = UNITS.find(([, size]) => Math.abs(since) >= size) ?? ["second", SECOND];
  return relative.format(-Math.trunc(since / length), unit);
}
