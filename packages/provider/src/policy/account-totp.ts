/**
 * The account's second factor: one TOTP secret, sealed under the master key. A code is good
 * once (the accepted step is recorded); five wrong codes lock TOTP for 15 minutes and mail the
 * account, so that a stolen device cannot guess its way past a rule that asks for a code.
 */

import type { ProviderContext } from "../api/context.js";
import { HttpError } from "../api/errors.js";
import { appendAudit } from "../audit/log.js";
import type { Queryable } from "../store/database.js";
import { checkTotp } from "./totp.js";

const FAILURES_BEFORE_LOCK = 5;
const LOCK_MS = 15 * 60_000;

const secretContext = (accountId: string) => `totp:${accountId}`;

export const totpRequired = () => new HttpError(403, "totp-required", "a valid TOTP code is required");

/** Makes a new secret unless a confirmed one exists (replacing that needs its code: see `replace`). */
export async function startTotpEnrollment(
  ctx: ProviderContext,
  accountId: string,
  options: { replace: boolean },
): Promise<Uint8Array> {
  const secret = crypto.getRandomValues(new Uint8Array(20));
  await ctx.db.transaction(async (tx) => {
    const [row] = await tx.query<{ confirmed: boolean }>(
      "SELECT confirmed FROM totp WHERE account_id = $1 FOR UPDATE",
      [accountId],
    );
    if (row?.confirmed && !options.replace)
      throw new HttpError(409, "conflict", "TOTP is already enrolled; replacing it needs a current code");
    await tx.query(
      `INSERT INTO totp (account_id, secret, confirmed, created_ms) VALUES ($1, $2, false, $3)
       ON CONFLICT (account_id) DO UPDATE SET secret = EXCLUDED.secret, confirmed = false, last_step = 0, failures = 0, created_ms = EXCLUDED.created_ms`,
      [accountId, ctx.masterKey.seal(secret, secretContext(accountId)), ctx.now()],
    );
  });
  return secret;
}

export async function totpEnrolled(q: Queryable, accountId: string): Promise<boolean> {
  const [row] = await q.query<{ confirmed: boolean }>("SELECT confirmed FROM totp WHERE account_id = $1", [accountId]);
  return row?.confirmed === true;
}

/**
 * Checks `code` against the account's secret (confirmed, or the pending one when `confirming`)
 * and spends it. Failures are counted and committed before the error is thrown.
 */
export async function verifyAccountTotp(
  ctx: ProviderContext,
  account: { id: string; actor: string },
  code: string,
  options: { confirming?: boolean } = {},
): Promise<void> {
  const confirming = options.confirming === true;
  const error = await ctx.db.transaction(async (tx): Promise<HttpError | undefined> => {
    const [row] = await tx.query<{
      secret: Uint8Array;
      confirmed: boolean;
      last_step: string;
      failures: number;
      locked_until_ms: string;
    }>("SELECT secret, confirmed, last_step, failures, locked_until_ms FROM totp WHERE account_id = $1 FOR UPDATE", [
      account.id,
    ]);
    if (row === undefined || row.confirmed === confirming)
      return new HttpError(
        403,
        "totp-not-enrolled",
        confirming ? "no TOTP enrollment to confirm" : "TOTP is not enrolled",
      );
    const now = ctx.now();
    if (Number(row.locked_until_ms) > now)
      return new HttpError(429, "totp-locked", "too many wrong TOTP codes; try again later");
    const secret = ctx.masterKey.open(new Uint8Array(row.secret), secretContext(account.id));
    const step = checkTotp(secret, code, now, Number(row.last_step));
    if (step === null) {
      const failures = row.failures + 1;
      const locked = failures >= FAILURES_BEFORE_LOCK;
      await tx.query("UPDATE totp SET failures = $2, locked_until_ms = $3 WHERE account_id = $1", [
        account.id,
        locked ? 0 : failures,
        locked ? now + LOCK_MS : 0,
      ]);
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
    await tx.query("UPDATE totp SET last_step = $2, failures = 0, confirmed = true WHERE account_id = $1", [
      account.id,
      step,
    ]);
    if (confirming)
      await appendAudit(tx, {
        chain: account.id,
        atMs: now,
        actor: account.actor,
        action: "totp.enrolled",
        details: {},
      });
    return undefined;
  });
  if (error !== undefined) {
    ctx.notifier.kick();
    throw error;
  }
}
