/**
 * The rows of guarded account changes: requested with the MAC of their mailed cancel token, then
 * applied once due or cancelled, each row locked while it is decided on (the rules are in
 * `account/guarded-changes.ts`).
 */
import type { Queryable } from "./queryable.js";

export const CHANGE_KINDS = ["totp", "owner-enrollment", "heir-enrollment", "backup", "device", "revocation"] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

export interface GuardedChange {
  id: string;
  account_id: string;
  kind: ChangeKind;
  subject: string;
  summary: string;
  requested_by: string;
  requested_ms: string;
  effective_ms: string;
  status: "pending" | "applied" | "cancelled";
}

const COLUMNS = "id, account_id, kind, subject, summary, requested_by, requested_ms, effective_ms, status";

/** Records the change as pending; false if a change of its kind for its subject already waits. */
export async function insertAccountChange(
  q: Queryable,
  change: {
    id: string;
    accountId: string;
    kind: ChangeKind;
    subject: string;
    summary: string;
    requestedBy: string;
    requestedMs: number;
    effectiveMs: number;
    cancelMac: Uint8Array;
  },
): Promise<boolean> {
  const inserted = await q.query(
    `INSERT INTO account_changes (id, account_id, kind, subject, summary, requested_by, requested_ms, effective_ms, status, cancel_mac)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9) ON CONFLICT DO NOTHING RETURNING id`,
    [
      change.id,
      change.accountId,
      change.kind,
      change.subject,
      change.summary,
      change.requestedBy,
      change.requestedMs,
      change.effectiveMs,
      change.cancelMac,
    ],
  );
  return inserted.length > 0;
}

/** The account's pending changes whose delay has passed at `nowMs`, oldest first, locked. */
export async function lockDueChanges(q: Queryable, accountId: string, nowMs: number): Promise<GuardedChange[]> {
  return q.query<GuardedChange>(
    `SELECT ${COLUMNS} FROM account_changes WHERE account_id = $1 AND status = 'pending' AND effective_ms <= $2
     ORDER BY effective_ms, requested_ms FOR UPDATE`,
    [accountId, nowMs],
  );
}

/** The accounts with a change due at `nowMs`, at most 1000 of them. */
export async function accountsWithDueChanges(q: Queryable, nowMs: number): Promise<string[]> {
  const accounts = await q.query<{ account_id: string }>(
    "SELECT DISTINCT account_id FROM account_changes WHERE status = 'pending' AND effective_ms <= $1 LIMIT 1000",
    [nowMs],
  );
  return accounts.map((a) => a.account_id);
}

export async function markChangeApplied(q: Queryable, id: string, nowMs: number): Promise<void> {
  await q.query(
    "UPDATE account_changes SET status = 'applied', finished_by = 'provider', finished_ms = $2 WHERE id = $1",
    [id, nowMs],
  );
}

/** `by` is the cancelling device's id, or "email" for the mailed token. */
export async function markChangeCancelled(q: Queryable, id: string, by: string, nowMs: number): Promise<void> {
  await q.query("UPDATE account_changes SET status = 'cancelled', finished_by = $2, finished_ms = $3 WHERE id = $1", [
    id,
    by,
    nowMs,
  ]);
}

/** The account's changes still waiting. */
export async function pendingChanges(q: Queryable, accountId: string): Promise<GuardedChange[]> {
  return q.query<GuardedChange>(
    `SELECT ${COLUMNS} FROM account_changes WHERE account_id = $1 AND status = 'pending' ORDER BY effective_ms, id`,
    [accountId],
  );
}

/** The account's change `id`, locked; undefined if the account has none of that id. */
export async function lockAccountChange(
  q: Queryable,
  id: string,
  accountId: string,
): Promise<GuardedChange | undefined> {
  const [change] = await q.query<GuardedChange>(
    `SELECT ${COLUMNS} FROM account_changes WHERE id = $1 AND account_id = $2 FOR UPDATE`,
    [id, accountId],
  );
  return change;
}

/** The change whose cancel token has the MAC `cancelMac`, locked. */
export async function lockChangeByCancelMac(q: Queryable, cancelMac: Uint8Array): Promise<GuardedChange | undefined> {
  const [change] = await q.query<GuardedChange>(
    `SELECT ${COLUMNS} FROM account_changes WHERE cancel_mac = $1 FOR UPDATE`,
    [cancelMac],
  );
  return change;
}

/** The account's pending change of `kind` for `subject`, locked. */
export async function lockPendingChangeOf(
  q: Queryable,
  kind: ChangeKind,
  subject: string,
  accountId: string,
): Promise<GuardedChange | undefined> {
  const [change] = await q.query<GuardedChange>(
    `SELECT ${COLUMNS} FROM account_changes WHERE kind = $1 AND subject = $2 AND account_id = $3 AND status = 'pending' FOR UPDATE`,
    [kind, subject, accountId],
  );
  return change;
}
