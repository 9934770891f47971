/**
 * A recovery operator's rows of enrollments: its index, the Feldman commitments and its sealed
 * share of each enrollment's OPRF key, and whom to mail about it.
 */
import type { Queryable } from "./queryable.js";

const POINT_BYTES = 32;

export interface OperatorEnrollment {
  id: string;
  index: number;
  threshold: number;
  commitments: Uint8Array[];
  sealedShare: Uint8Array;
  email: string;
  account: string;
}

interface Row {
  id: string;
  idx: number;
  threshold: number;
  commitments: Uint8Array;
  sealed_share: Uint8Array;
  email: string;
  account: string;
}

const COLUMNS = "id, idx, threshold, commitments, sealed_share, email, account";

function enrollmentOf(row: Row): OperatorEnrollment {
  const packed = new Uint8Array(row.commitments);
  const commitments = Array.from({ length: packed.length / POINT_BYTES }, (_, i) =>
    packed.slice(i * POINT_BYTES, (i + 1) * POINT_BYTES),
  );
  return {
    id: row.id,
    index: Number(row.idx),
    threshold: Number(row.threshold),
    commitments,
    sealedShare: new Uint8Array(row.sealed_share),
    email: row.email,
    account: row.account,
  };
}

const packed = (commitments: readonly Uint8Array[]) => Buffer.concat(commitments);

/** The parameters $1..$8 of an insert: the columns in `COLUMNS` order, then the time. */
const values = (e: OperatorEnrollment, nowMs: number) => [
  e.id,
  e.index,
  e.threshold,
  packed(e.commitments),
  e.sealedShare,
  e.email,
  e.account,
  nowMs,
];

/** Inserts the enrollment; false when one with its id exists already. */
export async function insertOperatorEnrollment(
  q: Queryable,
  enrollment: OperatorEnrollment,
  nowMs: number,
): Promise<boolean> {
  const rows = await q.query(
    `INSERT INTO operator_enrollments (${COLUMNS}, created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (id) DO NOTHING RETURNING id`,
    values(enrollment, nowMs),
  );
  return rows.length === 1;
}

/** The enrollment, locked until the transaction ends when `forUpdate` (its attempts are counted one at a time). */
export async function operatorEnrollment(
  q: Queryable,
  id: string,
  forUpdate = false,
): Promise<OperatorEnrollment | undefined> {
  const [row] = await q.query<Row>(
    `SELECT ${COLUMNS} FROM operator_enrollments WHERE id = $1${forUpdate ? " FOR UPDATE" : ""}`,
    [id],
  );
  return row && enrollmentOf(row);
}

/** Every enrollment the operator holds, in id order. */
export async function operatorEnrollments(q: Queryable): Promise<OperatorEnrollment[]> {
  const rows = await q.query<Row>(`SELECT ${COLUMNS} FROM operator_enrollments ORDER BY id`);
  return rows.map(enrollmentOf);
}

/** Installs a reshared enrollment: a new row, or the new index, threshold, commitments and share of an existing one. */
export async function upsertOperatorEnrollment(
  q: Queryable,
  enrollment: OperatorEnrollment,
  nowMs: number,
): Promise<void> {
  await q.query(
    `INSERT INTO operator_enrollments (${COLUMNS}, created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (id) DO UPDATE SET idx = excluded.idx, threshold = excluded.threshold,
         commitments = excluded.commitments, sealed_share = excluded.sealed_share,
         email = excluded.email, account = excluded.account, changed_ms = $8`,
    values(enrollment, nowMs),
  );
}

/** Deletes every enrollment the operator holds (its attempts go with them). */
export async function deleteOperatorEnrollments(q: Queryable): Promise<void> {
  await q.query("DELETE FROM operator_enrollments");
}
