/**
 * The row of an account's TOTP: the sealed secret in force, the next one waiting to replace it
 * (with the guarded change it waits as), the last step spent, and the count of wrong codes with
 * the lock they lead to. The rules are in `account/totp.ts`.
 */
import type { Queryable } from "./queryable.js";

export interface TotpRow {
  secret: Uint8Array | null;
  confirmed: boolean;
  last_step: string;
  next_secret: Uint8Array | null;
  next_change: string | null;
  failures: number;
  locked_until_ms: string;
}

/** Whether the account has a TOTP in force (a new one counts only once its change took effect). */
export async function totpEnrolled(q: Queryable, accountId: string): Promise<boolean> {
  const [row] = await q.query<{ confirmed: boolean }>(
    "SELECT confirmed AND secret IS NOT NULL AS confirmed FROM totp WHERE account_id = $1",
    [accountId],
  );
  return row?.confirmed === true;
}

/** The account's TOTP row, locked for the rest of the transaction; undefined if it has none. */
export async function lockTotp(q: Queryable, accountId: string): Promise<TotpRow | undefined> {
  const [row] = await q.query<TotpRow>(
    "SELECT secret, confirmed, last_step, next_secret, next_change, failures, locked_until_ms FROM totp WHERE account_id = $1 FOR UPDATE",
    [accountId],
  );
  return row;
}

/**
 * The guarded change a confirmed next secret waits as, the account's row locked: undefined without
 * a row, null when no next secret waits.
 */
export async function lockTotpNextChange(q: Queryable, accountId: string): Promise<string | null | undefined> {
  const [row] = await q.query<{ next_change: string | null }>(
    "SELECT next_change FROM totp WHERE account_id = $1 FOR UPDATE",
    [accountId],
  );
  return row?.next_change;
}

/**
 * Keeps `sealedSecret` as the account's next secret, to be confirmed by its first code. Failures
 * and a lock stay as they are: starting over must not reset the count of wrong codes.
 */
export async function saveNextTotpSecret(
  q: Queryable,
  accountId: string,
  sealedSecret: Uint8Array,
  createdMs: number,
): Promise<void> {
  await q.query(
    `INSERT INTO totp (account_id, secret, confirmed, next_secret, created_ms) VALUES ($1, NULL, false, $2, $3)
     ON CONFLICT (account_id) DO UPDATE SET next_secret = EXCLUDED.next_secret, next_step = 0`,
    [accountId, sealedSecret, createdMs],
  );
}

/** A code of the secret in force was accepted at `step`: no code of that step or before works again. */
export async function spendTotpStep(q: Queryable, accountId: string, step: number): Promise<void> {
  await q.query("UPDATE totp SET last_step = $2, failures = 0 WHERE account_id = $1", [accountId, step]);
}

/** The next secret's first code was accepted at `step`; it now waits as the guarded change `changeId`. */
export async function markNextTotpConfirmed(
  q: Queryable,
  accountId: string,
  step: number,
  changeId: string,
): Promise<void> {
  await q.query("UPDATE totp SET next_step = $2, next_change = $3, failures = 0 WHERE account_id = $1", [
    accountId,
    step,
    changeId,
  ]);
}

/** Records the count of wrong codes and the time TOTP stays locked until (0: not locked). */
export async function setTotpFailures(
  q: Queryable,
  accountId: string,
  failures: number,
  lockedUntilMs: number,
): Promise<void> {
  await q.query("UPDATE totp SET failures = $2, locked_until_ms = $3 WHERE account_id = $1", [
    accountId,
    failures,
    lockedUntilMs,
  ]);
}

/**
 * The next secret waiting as `changeId` replaces the secret in force. The confirming code's step
 * is spent for the new secret too.
 */
export async function promoteNextTotpSecret(q: Queryable, changeId: string): Promise<void> {
  await q.query(
    `UPDATE totp SET secret = next_secret, confirmed = true, last_step = next_step, failures = 0,
       next_secret = NULL, next_step = 0, next_change = NULL WHERE next_change = $1`,
    [changeId],
  );
}

/** Forgets the next secret waiting as `changeId`; the secret in force, if any, stays. */
export async function dropNextTotpSecret(q: Queryable, changeId: string): Promise<void> {
  await q.query("UPDATE totp SET next_secret = NULL, next_step = 0, next_change = NULL WHERE next_change = $1", [
    changeId,
  ]);
}
