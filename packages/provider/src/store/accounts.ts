/** The statements on accounts: one per email address, created by the first registration under it. */
import type { Queryable } from "./queryable.js";

/** Creates the account of `email` unless one exists. */
export async function insertAccountIfNew(q: Queryable, id: string, email: string, nowMs: number): Promise<void> {
  await q.query("INSERT INTO accounts (id, email, created_ms) VALUES ($1, $2, $3) ON CONFLICT (email) DO NOTHING", [
    id,
    email,
    nowMs,
  ]);
}

export async function accountIdByEmail(q: Queryable, email: string): Promise<string | undefined> {
  const [account] = await q.query<{ id: string }>("SELECT id FROM accounts WHERE email = $1", [email]);
  return account?.id;
}

export async function accountEmail(q: Queryable, accountId: string): Promise<string | undefined> {
  const [account] = await q.query<{ email: string }>("SELECT email FROM accounts WHERE id = $1", [accountId]);
  return account?.email;
}

/**
 * Claims the right to mail the account a code now (`nowMs`): false if a code was mailed after
 * `notBeforeMs` and is not used yet. Atomic, so concurrent registrations mail one code between them.
 */
export async function claimCodeMail(
  q: Queryable,
  accountId: string,
  nowMs: number,
  notBeforeMs: number,
): Promise<boolean> {
  const claimed = await q.query(
    "UPDATE accounts SET code_mailed_ms = $2 WHERE id = $1 AND (code_mailed_ms IS NULL OR code_mailed_ms <= $3) RETURNING id",
    [accountId, nowMs, notBeforeMs],
  );
  return claimed.length > 0;
}

/** A device proved the account's address: it is verified, and its mailed code is used. */
export async function markAccountVerified(q: Queryable, accountId: string): Promise<void> {
  await q.query("UPDATE accounts SET verified = true, code_mailed_ms = NULL WHERE id = $1", [accountId]);
}

/** The owner was active at `nowMs`; a later activity already recorded stays. */
export async function recordAccountActivity(q: Queryable, accountId: string, nowMs: number): Promise<void> {
  await q.query(
    "UPDATE accounts SET last_active_ms = $2 WHERE id = $1 AND (last_active_ms IS NULL OR last_active_ms < $2)",
    [accountId, nowMs],
  );
}
