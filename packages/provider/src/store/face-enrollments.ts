/**
 * The rows of face enrollments (see `recovery/face.ts`): an owner's or an heir's, from started to
 * waiting on its guarded change, active, and then replaced, cancelled, vetoed or claimed; or
 * retired, made before recovery operators held the OPRF key.
 */
import type { Queryable } from "./queryable.js";

export interface EnrollmentRow {
  id: string;
  account_id: string;
  kind: "owner" | "heir";
  email: string;
  helper: string;
  wrapped_key: Uint8Array | null;
  recovery_key: Uint8Array | null;
  auth_key: Uint8Array | null;
  /** The OPRF public key K whose shares the recovery operators hold. */
  oprf_key: Uint8Array | null;
  inactivity_ms: string | null;
  /**
   * pending: started; waiting: finished, its change not yet in effect; cancelled: its change was;
   * retired: made when the provider held the OPRF key, recoverable no more (its helper data, an
   * empty placeholder, and its wrapped and auth keys, null, were cleared).
   */
  status: "pending" | "waiting" | "active" | "replaced" | "vetoed" | "claimed" | "cancelled" | "retired";
  created_by: string;
  created_ms: string;
}

/** Named, not `*`: a statement prepared by an older replica must not change shape under a new column. */
const ENROLLMENT_COLUMNS =
  "id, account_id, kind, email, helper, wrapped_key, recovery_key, auth_key, oprf_key, inactivity_ms, status, created_by, created_ms";

/** Enrollment `id` whatever its account, locked for update when `lock`. */
export async function findEnrollment(q: Queryable, id: string, lock = false): Promise<EnrollmentRow | undefined> {
  const [row] = await q.query<EnrollmentRow>(
    `SELECT ${ENROLLMENT_COLUMNS} FROM face_enrollments WHERE id = $1${lock ? " FOR UPDATE" : ""}`,
    [id],
  );
  return row;
}

export async function enrollmentExists(q: Queryable, id: string): Promise<boolean> {
  return (await q.query("SELECT 1 FROM face_enrollments WHERE id = $1", [id])).length > 0;
}

export async function insertEnrollment(
  q: Queryable,
  enrollment: {
    id: string;
    accountId: string;
    kind: "owner" | "heir";
    /** The email bound into the OPRF input: an heir's own for an heir enrollment (the operators mail the owner). */
    email: string;
    /** Canonical JSON of the helper data. */
    helper: string;
    /** An heir's inactivity threshold; null for an owner. */
    inactivityMs: number | null;
    createdBy: string;
    createdMs: number;
  },
): Promise<void> {
  await q.query(
    `INSERT INTO face_enrollments (id, account_id, kind, email, helper, inactivity_ms, status, created_by, created_ms)
       VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8)`,
    [
      enrollment.id,
      enrollment.accountId,
      enrollment.kind,
      enrollment.email,
      enrollment.helper,
      enrollment.inactivityMs,
      enrollment.createdBy,
      enrollment.createdMs,
    ],
  );
}

/** Keeps the keys the device made; the enrollment then waits for its guarded change. */
export async function markEnrollmentWaiting(
  q: Queryable,
  id: string,
  keys: {
    wrappedKey: Uint8Array;
    recoveryKey: Uint8Array;
    authKey: Uint8Array;
    oprfKey: Uint8Array;
  },
  nowMs: number,
): Promise<void> {
  await q.query(
    `UPDATE face_enrollments SET wrapped_key = $2, recovery_key = $3, auth_key = $4, oprf_key = $5,
       status = 'waiting', changed_ms = $6
       WHERE id = $1`,
    [id, keys.wrappedKey, keys.recoveryKey, keys.authKey, keys.oprfKey, nowMs],
  );
}

/** The enrollment `id`, locked, if it is waiting for its change. */
export async function lockWaitingEnrollment(
  q: Queryable,
  id: string,
): Promise<{ account_id: string; kind: string } | undefined> {
  const [enrollment] = await q.query<{ account_id: string; kind: string }>(
    "SELECT account_id, kind FROM face_enrollments WHERE id = $1 AND status = 'waiting' FOR UPDATE",
    [id],
  );
  return enrollment;
}

/** Marks the account's active owner enrollments replaced; returns their ids. */
export async function replaceActiveOwnerEnrollments(q: Queryable, accountId: string, nowMs: number): Promise<string[]> {
  const replaced = await q.query<{ id: string }>(
    "UPDATE face_enrollments SET status = 'replaced', changed_ms = $2 WHERE account_id = $1 AND kind = 'owner' AND status = 'active' RETURNING id",
    [accountId, nowMs],
  );
  return replaced.map((r) => r.id);
}

export async function activateEnrollment(q: Queryable, id: string, nowMs: number): Promise<void> {
  await q.query("UPDATE face_enrollments SET status = 'active', changed_ms = $2 WHERE id = $1", [id, nowMs]);
}

/** Cancels the enrollment `id` if it is waiting; false if it was not. */
export async function cancelWaitingEnrollment(q: Queryable, id: string, nowMs: number): Promise<boolean> {
  const cancelled = await q.query(
    "UPDATE face_enrollments SET status = 'cancelled', changed_ms = $2 WHERE id = $1 AND status = 'waiting' RETURNING id",
    [id, nowMs],
  );
  return cancelled.length > 0;
}

/** The account's active and waiting enrollments, oldest first. */
export async function activeEnrollments(q: Queryable, accountId: string): Promise<EnrollmentRow[]> {
  return q.query<EnrollmentRow>(
    `SELECT ${ENROLLMENT_COLUMNS} FROM face_enrollments WHERE account_id = $1 AND status IN ('active', 'waiting') ORDER BY created_ms, id`,
    [accountId],
  );
}

/** The account's active owner enrollments and the active heir enrollments naming `email`, oldest first. */
export async function activeEnrollmentsFor(q: Queryable, accountId: string, email: string): Promise<EnrollmentRow[]> {
  return q.query<EnrollmentRow>(
    `SELECT ${ENROLLMENT_COLUMNS} FROM face_enrollments WHERE status = 'active' AND
       ((kind = 'owner' AND account_id = $1) OR (kind = 'heir' AND email = $2))
     ORDER BY created_ms, id`,
    [accountId, email],
  );
}

/** An heir's enrollment is spent once the wallets moved. */
export async function markEnrollmentClaimed(q: Queryable, id: string, nowMs: number): Promise<void> {
  await q.query("UPDATE face_enrollments SET status = 'claimed', changed_ms = $2 WHERE id = $1", [id, nowMs]);
}

export async function markEnrollmentVetoed(q: Queryable, id: string, nowMs: number): Promise<void> {
  await q.query("UPDATE face_enrollments SET status = 'vetoed', changed_ms = $2 WHERE id = $1", [id, nowMs]);
}
