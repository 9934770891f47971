/**
 * Heirs as the inactivity count reads them (an heir enrollment with its owner's last activity),
 * and the heir notices: the reminders to the owner and the notice to the heir, each sent once per
 * stretch of inactivity (see `recovery/heirs.ts`).
 */
import type { Queryable } from "./queryable.js";

export interface HeirRow {
  id: string;
  account_id: string;
  email: string;
  inactivity_ms: string;
  status: string;
  last_active_ms: string;
}

/** A notice sent `days` before the release (0: the notice to the heir). */
export interface HeirNoticeRow {
  days: number;
  sent_ms: string;
}

const HEIR_COLUMNS = `e.id, e.account_id, e.email, e.inactivity_ms, e.status, a.last_active_ms`;

/** The heir enrollment `id`, if it is one. */
export async function findHeir(q: Queryable, id: string): Promise<HeirRow | undefined> {
  const [heir] = await q.query<HeirRow>(
    `SELECT ${HEIR_COLUMNS} FROM face_enrollments e JOIN accounts a ON a.id = e.account_id WHERE e.id = $1 AND e.kind = 'heir'`,
    [id],
  );
  return heir;
}

export async function activeHeirs(q: Queryable): Promise<HeirRow[]> {
  return q.query<HeirRow>(
    `SELECT ${HEIR_COLUMNS} FROM face_enrollments e JOIN accounts a ON a.id = e.account_id
     WHERE e.kind = 'heir' AND e.status = 'active'`,
  );
}

/** The notices sent for the heir's current stretch of inactivity. */
export async function heirNotices(q: Queryable, heir: HeirRow): Promise<HeirNoticeRow[]> {
  return q.query<HeirNoticeRow>("SELECT days, sent_ms FROM heir_notices WHERE enrollment_id = $1 AND active_ms = $2", [
    heir.id,
    heir.last_active_ms,
  ]);
}

/** Records the notice `days` of the heir's current stretch of inactivity; false if it was sent already. */
export async function insertHeirNotice(q: Queryable, heir: HeirRow, days: number, sentMs: number): Promise<boolean> {
  const inserted = await q.query(
    "INSERT INTO heir_notices (enrollment_id, active_ms, days, sent_ms) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING days",
    [heir.id, heir.last_active_ms, days, sentMs],
  );
  return inserted.length > 0;
}
