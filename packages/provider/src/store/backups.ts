/** The rows of backups by request (see `wallets/backups.ts`): one per request, the latest one is in force. */
import type { Queryable } from "./queryable.js";

export interface BackupRow {
  id: string;
  wallet_id: string;
  requested_by: string;
  status: "waiting" | "cancelled" | "released";
  requested_ms: string;
  ready_ms: string;
  recovery_key: Uint8Array;
  box: Uint8Array | null;
}

/** The wallet's latest backup request, if any. */
export async function latestBackup(q: Queryable, walletId: string): Promise<BackupRow | undefined> {
  const [row] = await q.query<BackupRow>(
    `SELECT id, wallet_id, requested_by, status, requested_ms, ready_ms, recovery_key, box FROM backups
      WHERE wallet_id = $1 ORDER BY requested_ms DESC, id LIMIT 1`,
    [walletId],
  );
  return row;
}

export async function insertBackup(
  q: Queryable,
  backup: {
    id: string;
    walletId: string;
    accountId: string;
    requestedBy: string;
    recoveryKey: Uint8Array;
    requestedMs: number;
    readyMs: number;
  },
): Promise<void> {
  await q.query(
    `INSERT INTO backups (id, wallet_id, account_id, requested_by, recovery_key, status, requested_ms, ready_ms)
     VALUES ($1, $2, $3, $4, $5, 'waiting', $6, $7)`,
    [
      backup.id,
      backup.walletId,
      backup.accountId,
      backup.requestedBy,
      backup.recoveryKey,
      backup.requestedMs,
      backup.readyMs,
    ],
  );
}

/** Cancels the backup `id` if it is still waiting. */
export async function cancelWaitingBackup(q: Queryable, id: string, nowMs: number): Promise<void> {
  await q.query("UPDATE backups SET status = 'cancelled', finished_ms = $2 WHERE id = $1 AND status = 'waiting'", [
    id,
    nowMs,
  ]);
}

/** Records the backup `id`, if still waiting, as released in `box`. */
export async function releaseBackup(q: Queryable, id: string, box: Uint8Array, nowMs: number): Promise<void> {
  await q.query(
    "UPDATE backups SET status = 'released', box = $2, finished_ms = $3 WHERE id = $1 AND status = 'waiting'",
    [id, box, nowMs],
  );
}

/** The status of the backup's guarded change, locked for the rest of the transaction; undefined if it has none. */
export async function lockBackupChange(q: Queryable, backupId: string): Promise<string | undefined> {
  const [change] = await q.query<{ status: string }>(
    "SELECT status FROM account_changes WHERE kind = 'backup' AND subject = $1 FOR UPDATE",
    [backupId],
  );
  return change?.status;
}
