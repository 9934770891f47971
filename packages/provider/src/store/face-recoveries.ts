/**
 * The rows of face recoveries: an owner's new device, and the cooling-off during which the
 * account's outgoing transfers wait unless a device older than the recovery confirms it.
 */
import type { Queryable } from "./queryable.js";

export interface RecoveryRow {
  id: string;
  device_id: string;
  at_ms: string;
  hold_until_ms: string;
  status: string;
}

export async function insertRecovery(
  q: Queryable,
  recovery: {
    id: string;
    enrollmentId: string;
    accountId: string;
    deviceId: string;
    atMs: number;
    holdUntilMs: number;
  },
): Promise<void> {
  await q.query(
    `INSERT INTO face_recoveries (id, enrollment_id, account_id, device_id, at_ms, hold_until_ms, status)
       VALUES ($1, $2, $3, $4, $5, $6, 'holding')`,
    [recovery.id, recovery.enrollmentId, recovery.accountId, recovery.deviceId, recovery.atMs, recovery.holdUntilMs],
  );
}

/** Until when the account's outgoing transfers wait for a recovery's cooling-off, or null. */
export async function recoveryHoldUntil(q: Queryable, accountId: string, now: number): Promise<number | null> {
  const [row] = await q.query<{ until: string | null }>(
    "SELECT max(hold_until_ms) AS until FROM face_recoveries WHERE account_id = $1 AND status = 'holding' AND hold_until_ms > $2",
    [accountId, now],
  );
  return row?.until == null ? null : Number(row.until);
}

/** The account's latest 20 recoveries, newest first. */
export async function latestRecoveries(q: Queryable, accountId: string): Promise<RecoveryRow[]> {
  return q.query<RecoveryRow>(
    "SELECT id, device_id, at_ms, hold_until_ms, status FROM face_recoveries WHERE account_id = $1 ORDER BY at_ms DESC LIMIT 20",
    [accountId],
  );
}

/** The account's recovery `id`, locked for update; another account's does not exist for it. */
export async function lockRecovery(
  q: Queryable,
  id: string,
  accountId: string,
): Promise<Omit<RecoveryRow, "id"> | undefined> {
  const [row] = await q.query<Omit<RecoveryRow, "id">>(
    "SELECT device_id, at_ms, hold_until_ms, status FROM face_recoveries WHERE id = $1 AND account_id = $2 FOR UPDATE",
    [id, accountId],
  );
  return row;
}

export async function markRecoveryDecided(
  q: Queryable,
  id: string,
  verdict: "confirmed" | "rejected",
  decidedBy: string,
  nowMs: number,
): Promise<void> {
  await q.query("UPDATE face_recoveries SET status = $2, decided_by = $3, decided_ms = $4 WHERE id = $1", [
    id,
    verdict,
    decidedBy,
    nowMs,
  ]);
}
