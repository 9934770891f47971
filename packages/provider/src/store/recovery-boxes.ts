/** The rows of recovery boxes: a device's share of a hybrid wallet, sealed to an enrollment's recovery key at the wallet's epoch. */
import type { Queryable } from "./queryable.js";

export interface RecoveryBoxRow {
  wallet_id: string;
  epoch: number;
  box: Uint8Array;
}

export async function insertRecoveryBox(
  q: Queryable,
  enrollmentId: string,
  box: { walletId: string; epoch: number; box: Uint8Array },
  nowMs: number,
): Promise<void> {
  await q.query(
    "INSERT INTO recovery_boxes (enrollment_id, wallet_id, epoch, box, updated_ms) VALUES ($1, $2, $3, $4, $5)",
    [enrollmentId, box.walletId, box.epoch, box.box, nowMs],
  );
}

/** Keeps the enrollment's box of the wallet, replacing the one sealed at an earlier epoch. */
export async function upsertRecoveryBox(
  q: Queryable,
  enrollmentId: string,
  box: { walletId: string; epoch: number; box: Uint8Array },
  nowMs: number,
): Promise<void> {
  await q.query(
    `INSERT INTO recovery_boxes (enrollment_id, wallet_id, epoch, box, updated_ms) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (enrollment_id, wallet_id) DO UPDATE SET epoch = EXCLUDED.epoch, box = EXCLUDED.box, updated_ms = EXCLUDED.updated_ms`,
    [enrollmentId, box.walletId, box.epoch, box.box, nowMs],
  );
}

/** The enrollment's boxes, by wallet id. */
export async function enrollmentBoxes(q: Queryable, enrollmentId: string): Promise<RecoveryBoxRow[]> {
  return q.query<RecoveryBoxRow>(
    "SELECT wallet_id, epoch, box FROM recovery_boxes WHERE enrollment_id = $1 ORDER BY wallet_id",
    [enrollmentId],
  );
}

export async function deleteEnrollmentBoxes(q: Queryable, enrollmentId: string): Promise<void> {
  await q.query("DELETE FROM recovery_boxes WHERE enrollment_id = $1", [enrollmentId]);
}

/** Every enrollment's box of the wallet. */
export async function deleteWalletBoxes(q: Queryable, walletId: string): Promise<void> {
  await q.query("DELETE FROM recovery_boxes WHERE wallet_id = $1", [walletId]);
}
