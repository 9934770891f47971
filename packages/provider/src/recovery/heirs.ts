/**
 * Inheritance: an heir's enrollment opens only once the owner has been inactive for the heir's
 * threshold (365 days unless the owner chose another, at least 30), after the owner was reminded
 * 30, 7 and 1 day before, and never once the owner vetoed it. Any request from an active device
 * of the owner's account is activity and starts the count again.
 *
 * `sweepHeirNotices` sends the reminders (and tells the heir when the enrollment opens); the
 * server runs it periodically, and tests run it after moving the clock.
 */
import { MIN_HEIR_INACTIVITY_DAYS } from "@keyshard/api";
import { appendAudit } from "../audit/log.js";
import type { ProviderContext } from "../context.js";
import { recordAccountActivity } from "../store/accounts.js";
import {
  activeHeirs,
  findHeir,
  type HeirNoticeRow,
  type HeirRow,
  heirNotices,
  insertHeirNotice,
} from "../store/heirs.js";
import type { Queryable } from "../store/queryable.js";

const DAY_MS = 24 * 60 * 60_000;
export const DEFAULT_HEIR_INACTIVITY_MS = 365 * DAY_MS;
export const MIN_HEIR_INACTIVITY_MS = MIN_HEIR_INACTIVITY_DAYS * DAY_MS;
/** Reminders to the owner, in days before the release. */
export const REMINDER_DAYS = [30, 7, 1] as const;
/** Activity is written at most this often per account and process (it is read in days). */
const ACTIVITY_RESOLUTION_MS = 60 * 60_000;

const written = new Map<string, number>();

/** Records that the account's owner is active (cheaply: at most once an hour per process). */
export async function touchAccount(ctx: ProviderContext, accountId: string): Promise<void> {
  const now = ctx.now();
  if (now - (written.get(accountId) ?? Number.NEGATIVE_INFINITY) < ACTIVITY_RESOLUTION_MS) return;
  written.set(accountId, now);
  await recordAccountActivity(ctx.db, accountId, now);
}

/**
 * When the heir's enrollment opens (ms since the epoch), or null while it is not active or a
 * reminder of this stretch of inactivity is still owed. A reminder sent late still gives the
 * owner a full day after it.
 */
export function opensAt(heir: HeirRow, notices: readonly HeirNoticeRow[]): number | null {
  if (heir.status !== "active" || !REMINDER_DAYS.every((d) => notices.some((n) => n.days === d))) return null;
  const last = notices.find((n) => n.days === REMINDER_DAYS[REMINDER_DAYS.length - 1]) as HeirNoticeRow;
  return Math.max(Number(heir.last_active_ms) + Number(heir.inactivity_ms), Number(last.sent_ms) + DAY_MS);
}

/** Whether the heir enrollment `id` is open now. */
export async function heirReleased(ctx: ProviderContext, q: Queryable, id: string): Promise<boolean> {
  const heir = await findHeir(q, id);
  if (heir === undefined) return false;
  const at = opensAt(heir, await heirNotices(q, heir));
  return at !== null && ctx.now() >= at;
}

/** Sends every reminder and release notice that is due. Returns how many went out. */
export async function sweepHeirNotices(ctx: ProviderContext): Promise<number> {
  const now = ctx.now();
  const heirs = await activeHeirs(ctx.db);
  let sent = 0;
  for (const heir of heirs) {
    sent += await ctx.db.transaction(async (tx) => {
      let count = 0;
      const releaseMs = Number(heir.last_active_ms) + Number(heir.inactivity_ms);
      const notices = await heirNotices(tx, heir);
      const record = async (days: number) => {
        const inserted = await insertHeirNotice(tx, heir, days, now);
        notices.push({ days, sent_ms: String(now) });
        if (inserted) count += 1;
        return inserted;
      };
      for (const days of REMINDER_DAYS) {
        if (now < releaseMs - days * DAY_MS || notices.some((n) => n.days === days)) continue;
        if (!(await record(days))) continue;
        await ctx.notifier.queueForAccount(
          tx,
          heir.account_id,
          {
            subject: "keyshard: your heir's access opens soon",
            body: `Your account has been inactive since ${new Date(Number(heir.last_active_ms)).toISOString()}. Unless you use keyshard before ${new Date(releaseMs).toISOString()}, your heir (${heir.email}) will be able to recover your wallets with their face.\nUse any of your devices to stay in control, or veto the heir with: keyshard heir veto ${heir.id}`,
          },
          now,
        );
        await appendAudit(tx, {
          chain: heir.account_id,
          atMs: now,
          actor: "provider",
          action: "heir.reminded",
          details: { enrollment: heir.id, daysBefore: days },
        });
      }
      const at = opensAt(heir, notices);
      if (at !== null && now >= at && !notices.some((n) => n.days === 0)) {
        await record(0);
        await ctx.notifier.queue(
          tx,
          {
            accountId: heir.account_id,
            to: heir.email,
            subject: "keyshard: you can now recover the wallets left to you",
            body: `The keyshard account that named you as heir has been inactive past its threshold.\nOn a device, run: keyshard recover --provider URL --email ${heir.email} --frames FOLDER`,
          },
          now,
        );
        await appendAudit(tx, {
          chain: heir.account_id,
          atMs: now,
          actor: "provider",
          action: "heir.released",
          details: { enrollment: heir.id },
        });
      }
      return count;
    });
  }
  if (sent > 0) ctx.notifier.kick();
  return sent;
}
