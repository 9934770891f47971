/**
 * Guarded account changes: what could undo the account's strongest policy (a new TOTP, a face
 * enrollment, an heir, a backup of the provider's share, a new device) never takes effect at once.
 * Whoever requests one first asks for the account's TOTP code where one is in force (`requireSecondFactor`
 * in `totp.ts`); the change then waits out a delay, mailed to the account with a
 * one-time cancel token, while any active device of the account or that token can cancel it. A
 * thief holding one device can start such a change but not finish it before the owner notices.
 *
 * Each kind's module says what applying and cancelling do (`defineChangeKind`), so this module
 * knows nothing of TOTP, faces or backups and they depend on it, not it on them. Every kind is
 * requested only through the module that defines it, so its effects are known wherever a change of
 * it can be due.
 *
 * Due changes are applied lazily by the account's next authenticated request (`authenticate`
 * learns whether any is due from the statement it runs anyway) and by `sweepDueChanges`, which
 * the provider's jobs (`jobs.ts`) run every minute for accounts nobody uses (an heir waits on
 * another account) and so that the "took effect" mail goes out on time.
 */
import { randomUUID } from "node:crypto";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { appendAudit } from "../audit/log.js";
import type { ProviderContext } from "../context.js";
import { conflict, notFound, ProviderError } from "../errors.js";
import {
  accountsWithDueChanges,
  type ChangeKind,
  type GuardedChange,
  insertAccountChange,
  lockAccountChange,
  lockChangeByCancelMac,
  lockDueChanges,
  lockPendingChangeOf,
  markChangeApplied,
  markChangeCancelled,
} from "../store/account-changes.js";
import type { Queryable } from "../store/queryable.js";

/** What a kind's change does when it takes effect and when it is cancelled, in the caller's transaction. */
export interface ChangeEffects {
  apply(ctx: ProviderContext, tx: Queryable, change: GuardedChange): Promise<void>;
  cancel(ctx: ProviderContext, tx: Queryable, change: GuardedChange): Promise<void>;
  /** Only the mailed token cancels a change of this kind: a device asking is refused (403). */
  tokenOnly?: boolean;
  /** Whether the account is mailed when a change of this kind takes effect (it is unless false). */
  mailWhenApplied?: boolean;
  /** What follows once a device's or the mailed token's cancel of a change of this kind has committed. */
  afterCancel?(change: GuardedChange): void;
}

const effects = new Map<ChangeKind, ChangeEffects>();

export function defineChangeKind(kind: ChangeKind, kindEffects: ChangeEffects): void {
  effects.set(kind, kindEffects);
}

function effectsOf(kind: ChangeKind): ChangeEffects {
  const found = effects.get(kind);
  if (found === undefined) throw new Error(`no effects defined for account changes of kind ${kind}`);
  return found;
}

/** A cancel token is 32 random bytes in hex; the provider keeps only its MAC. */
const TOKEN = /^[0-9a-f]{64}$/;
const tokenMac = (ctx: ProviderContext, token: string) => ctx.masterKey.mac("account-change-cancel", hexToBytes(token));

const at = (ms: number | string) => new Date(Number(ms)).toISOString();

/**
 * Records `change` as waiting `delayMs` (the account-change delay unless given), audits it and
 * mails the account with a cancel token. The caller has checked the second factor and kicks the
 * notifier once the transaction commits.
 */
export async function requestGuardedChange(
  ctx: ProviderContext,
  tx: Queryable,
  device: { id: string; accountId: string },
  change: {
    kind: ChangeKind;
    subject: string;
    summary: string;
    delayMs?: number;
    /** The mail's text where the usual one would mislead; it must carry `token`. */
    mail?: (token: string, effectiveAt: string) => { subject: string; body: string };
  },
): Promise<{ changeId: string; effectiveMs: number }> {
  effectsOf(change.kind);
  const changeId = randomUUID();
  const now = ctx.now();
  const effectiveMs = now + (change.delayMs ?? ctx.accountChangeDelayMs);
  const token = bytesToHex(crypto.getRandomValues(new Uint8Array(32)));
  const inserted = await insertAccountChange(tx, {
    id: changeId,
    accountId: device.accountId,
    kind: change.kind,
    subject: change.subject,
    summary: change.summary,
    requestedBy: device.id,
    requestedMs: now,
    effectiveMs,
    cancelMac: tokenMac(ctx, token),
  });
  if (!inserted) throw conflict(`a change of this ${change.kind} already waits: cancel it first`);
  await appendAudit(tx, {
    chain: device.accountId,
    atMs: now,
    actor: device.id,
    action: "account-change.requested",
    details: { change: changeId, kind: change.kind, subject: change.subject, effectiveMs },
  });
  await ctx.notifier.queueForAccount(
    tx,
    device.accountId,
    change.mail?.(token, at(effectiveMs)) ?? {
      subject: `keyshard: ${change.summary} waits until ${at(effectiveMs)}`,
      body: `Device ${device.id} asked for ${change.summary}. It takes effect at ${at(effectiveMs)} unless it is cancelled before.\nIf this was not you, a device of yours may be in someone else's hands. Cancel it from any of your devices (keyshard changes cancel ${changeId}), or without a device with this one-time cancel token: ${token}\n(keyshard changes cancel --token ${token} --provider URL)`,
    },
    now,
  );
  return { changeId, effectiveMs };
}

/** Applies the account's changes whose delay has passed, oldest first. Returns how many. */
export async function applyDueChanges(ctx: ProviderContext, tx: Queryable, accountId: string): Promise<number> {
  const now = ctx.now();
  const due = await lockDueChanges(tx, accountId, now);
  for (const change of due) {
    await markChangeApplied(tx, change.id, now);
    const kind = effectsOf(change.kind);
    await kind.apply(ctx, tx, change);
    await appendAudit(tx, {
      chain: accountId,
      atMs: now,
      actor: "provider",
      action: "account-change.applied",
      details: { change: change.id, kind: change.kind, subject: change.subject, requestedBy: change.requested_by },
    });
    if (kind.mailWhenApplied === false) continue;
    await ctx.notifier.queueForAccount(
      tx,
      accountId,
      {
        subject: `keyshard: ${change.summary} took effect`,
        body: `${change.summary}, asked for by device ${change.requested_by} on ${at(change.requested_ms)}, took effect now that its delay has passed.\nIf this was not you, revoke that device and undo the change from a device you trust.`,
      },
      now,
    );
  }
  return due.length;
}

/** Applies every account's due changes (the server runs it every minute). Returns how many. */
export async function sweepDueChanges(ctx: ProviderContext): Promise<number> {
  let applied = 0;
  for (const accountId of await accountsWithDueChanges(ctx.db, ctx.now()))
    applied += await ctx.db.transaction((tx) => applyDueChanges(ctx, tx, accountId));
  if (applied > 0) ctx.notifier.kick();
  return applied;
}

export const changeView = (row: GuardedChange) => ({
  id: row.id,
  kind: row.kind,
  subject: row.subject,
  summary: row.summary,
  requestedBy: row.requested_by,
  requestedAt: at(row.requested_ms),
  effectiveAt: at(row.effective_ms),
  status: row.status,
});

/** Cancels `change` (locked, pending, not yet due) on behalf of `by`: a device id or "email". */
async function cancel(ctx: ProviderContext, tx: Queryable, change: GuardedChange, by: string): Promise<GuardedChange> {
  const now = ctx.now();
  if (change.status !== "pending" || Number(change.effective_ms) <= now)
    throw conflict(
      `the change is ${change.status === "pending" ? "taking effect" : change.status}: it can no longer be cancelled`,
    );
  await markChangeCancelled(tx, change.id, by, now);
  await effectsOf(change.kind).cancel(ctx, tx, change);
  await appendAudit(tx, {
    chain: change.account_id,
    atMs: now,
    actor: by,
    action: "account-change.cancelled",
    details: { change: change.id, kind: change.kind, subject: change.subject },
  });
  await ctx.notifier.queueForAccount(
    tx,
    change.account_id,
    {
      subject: `keyshard: ${change.summary} was cancelled`,
      body: `${change.summary}, asked for by device ${change.requested_by}, was cancelled ${by === "email" ? "with the mailed cancel token" : `by device ${by}`}. It will not take effect.`,
    },
    now,
  );
  return { ...change, status: "cancelled" };
}

/** Runs the kind's follow-up of a committed cancel, and sends the mails it queued. */
function cancelCommitted(ctx: ProviderContext, change: GuardedChange): GuardedChange {
  effectsOf(change.kind).afterCancel?.(change);
  ctx.notifier.kick();
  return change;
}

/** An active device of the account cancels change `id` of its account. */
export async function cancelChangeById(
  ctx: ProviderContext,
  device: { id: string; accountId: string },
  id: string,
): Promise<GuardedChange> {
  const change = await ctx.db.transaction(async (tx) => {
    const change = await lockAccountChange(tx, id, device.accountId);
    if (change === undefined) throw notFound("no such account change in this account");
    if (effectsOf(change.kind).tokenOnly)
      throw new ProviderError(
        "forbidden",
        "token-only-change",
        `a change of kind ${change.kind} is cancelled only with the one-time token mailed to the account, never by a device`,
      );
    return cancel(ctx, tx, change, device.id);
  });
  return cancelCommitted(ctx, change);
}

/** Whoever reads the account's mail cancels the change the token was mailed for. */
export async function cancelChangeByToken(ctx: ProviderContext, token: string): Promise<GuardedChange> {
  // The same answer for a malformed and an unknown token: the route tells nothing about which exist.
  const unknown = new ProviderError("not-found", "unknown-token", "no account change waits for this cancel token");
  if (!TOKEN.test(token)) throw unknown;
  const change = await ctx.db.transaction(async (tx) => {
    const change = await lockChangeByCancelMac(tx, tokenMac(ctx, token));
    if (change === undefined) throw unknown;
    return cancel(ctx, tx, change, "email");
  });
  return cancelCommitted(ctx, change);
}

/** Cancels the waiting change of `kind` for `subject`, if any (a backup cancelled by its own route). */
export async function cancelChangeOf(
  ctx: ProviderContext,
  tx: Queryable,
  device: { id: string; accountId: string },
  kind: ChangeKind,
  subject: string,
): Promise<boolean> {
  const change = await lockPendingChangeOf(tx, kind, subject, device.accountId);
  if (change === undefined) return false;
  await cancel(ctx, tx, change, device.id);
  return true;
}
