/**
 * The account's second factor: one TOTP secret, sealed under the master key. A code is good
 * once (the accepted step is recorded); five wrong codes lock TOTP for 15 minutes and mail the
 * account, so that a stolen device cannot guess its way past a rule that asks for a code.
 *
 * A new secret (the first, or one replacing the secret in force) is kept apart until its first
 * code confirms it, and then waits as a guarded account change (`guarded-changes.ts`):
 * until that change takes effect the secret in force, if any, stays the only one that counts. A
 * thief holding a device of an account without TOTP therefore cannot enroll a TOTP of their own and
 * pass a rule that asks for a code before the owner has been mailed and could cancel it.
 */

import { appendAudit } from "../audit/log.js";
import type { ProviderContext } from "../context.js";
import { ProviderError } from "../errors.js";
import { checkTotp } from "../policy/totp.js";
import type { Queryable } from "../store/queryable.js";
import {
  dropNextTotpSecret,
  lockTotp,
  lockTotpNextChange,
  markNextTotpConfirmed,
  promoteNextTotpSecret,
  saveNextTotpSecret,
  setTotpFailures,
  spendTotpStep,
  totpEnrolled,
} from "../store/totp.js";
import { defineChangeKind, requestGuardedChange } from "./guarded-changes.js";

const FAILURES_BEFORE_LOCK = 5;
const LOCK_MS = 15 * 60_000;

const secretContext = (accountId: string) => `totp:${accountId}`;

export const totpRequired = () => new ProviderError("forbidden", "totp-required", "a valid TOTP code is required");

interface Account {
  id: string;
  actor: string;
}

/** Makes the next secret; the caller has checked the code of the secret in force, if any. */
export async function startTotpEnrollment(ctx: ProviderContext, accountId: string): Promise<Uint8Array> {
  const secret = crypto.getRandomValues(new Uint8Array(20));
  await ctx.db.transaction(async (tx) => {
    if ((await lockTotpNextChange(tx, accountId)) != null)
      throw new ProviderError(
        "conflict",
        "totp-change-pending",
        "a new TOTP already waits to take effect: cancel it first",
      );
    await saveNextTotpSecret(tx, accountId, ctx.masterKey.seal(secret, secretContext(accountId)), ctx.now());
  });
  return secret;
}

/**
 * The second factor a guarded change needs: where the account has a TOTP in force, a valid code of
 * it (spent); where it has none, nothing — the change's delay and mail are then the only guard.
 */
export async function requireSecondFactor(
  ctx: ProviderContext,
  device: { id: string; accountId: string },
  code?: string,
) {
  if (!(await totpEnrolled(ctx.db, device.accountId))) return;
  if (code === undefined) throw totpRequired();
  await verifyAccountTotp(ctx, { id: device.accountId, actor: device.id }, code);
}

/** Checks `code` against the secret in force and spends it. */
export async function verifyAccountTotp(ctx: ProviderContext, account: Account, code: string): Promise<void> {
  await checkCode(ctx, account, code, "current", (tx, step) => spendTotpStep(tx, account.id, step));
}

/**
 * Checks `code` against the next secret: it is confirmed, and waits as a guarded change to
 * replace the secret in force (or to be the first).
 */
export async function confirmTotpEnrollment(
  ctx: ProviderContext,
  account: Account,
  code: string,
): Promise<{ changeId: string; effectiveMs: number }> {
  let change: { changeId: string; effectiveMs: number } | undefined;
  await checkCode(ctx, account, code, "next", async (tx, step, replacing) => {
    change = await requestGuardedChange(
      ctx,
      tx,
      { id: account.actor, accountId: account.id },
      {
        kind: "totp",
        subject: account.id,
        summary: replacing ? "a replacement of your TOTP authenticator" : "a TOTP authenticator for your account",
      },
    );
    await markNextTotpConfirmed(tx, account.id, step, change.changeId);
  });
  ctx.notifier.kick();
  return change as { changeId: string; effectiveMs: number };
}

/**
 * Checks `code` against the secret in force (`current`) or the one being enrolled (`next`); on
 * success runs `accepted` in the same transaction. Failures are counted and committed before the
 * error is thrown.
 */
async function checkCode(
  ctx: ProviderContext,
  account: Account,
  code: string,
  which: "current" | "next",
  accepted: (tx: Queryable, step: number, replacing: boolean) => Promise<void>,
): Promise<void> {
  const error = await ctx.db.transaction(async (tx): Promise<ProviderError | undefined> => {
    const row = await lockTotp(tx, account.id);
    const inForce = row?.confirmed === true && row.secret !== null;
    const sealed =
      which === "current" ? (inForce ? row?.secret : null) : row?.next_change == null ? row?.next_secret : null;
    if (row === undefined || sealed == null)
      return new ProviderError(
        "forbidden",
        "totp-not-enrolled",
        which === "next" ? "no TOTP enrollment to confirm" : "TOTP is not enrolled",
      );
    const now = ctx.now();
    if (Number(row.locked_until_ms) > now)
      return new ProviderError("limited", "totp-locked", "too many wrong TOTP codes; try again later");
    const secret = ctx.masterKey.open(new Uint8Array(sealed), secretContext(account.id));
    const step = checkTotp(secret, code, now, which === "current" ? Number(row.last_step) : 0);
    if (step === null) {
      const failures = row.failures + 1;
      const locked = failures >= FAILURES_BEFORE_LOCK;
      await setTotpFailures(tx, account.id, locked ? 0 : failures, locked ? now + LOCK_MS : 0);
      if (locked) {
        await ctx.notifier.queueForAccount(
          tx,
          account.id,
          {
            subject: "keyshard: TOTP locked after wrong codes",
            body: `Device ${account.actor} sent ${FAILURES_BEFORE_LOCK} wrong TOTP codes. TOTP is locked for 15 minutes.\nIf this was not you, a device of yours may be in someone else's hands: revoke it.`,
          },
          now,
        );
        await appendAudit(tx, {
          chain: account.id,
          atMs: now,
          actor: account.actor,
          action: "totp.locked",
          details: {},
        });
      }
      return totpRequired();
    }
    await accepted(tx, step, inForce);
    return undefined;
  });
  if (error !== undefined) {
    ctx.notifier.kick();
    throw error;
  }
}

defineChangeKind("totp", {
  apply: (_ctx, tx, change) => promoteNextTotpSecret(tx, change.id),
  cancel: (_ctx, tx, change) => dropNextTotpSecret(tx, change.id),
});
