/** Reading and cancelling wallets' pending policy changes (they are made and applied in `policy/changes.ts`). */
import type { Queryable } from "./queryable.js";

export interface PendingPolicyChangeRow {
  id: string;
  policy: string;
  requested_by: string;
  effective_ms: string;
}

/** The wallet's pending policy changes, the first to take effect first. */
export async function pendingPolicyChanges(q: Queryable, walletId: string): Promise<PendingPolicyChangeRow[]> {
  return q.query<PendingPolicyChangeRow>(
    "SELECT id, policy, requested_by, effective_ms FROM policy_changes WHERE wallet_id = $1 AND status = 'pending' ORDER BY effective_ms",
    [walletId],
  );
}

/** The wallet and status of the account's policy change `id`, if there is one. */
export async function findPolicyChange(
  q: Queryable,
  id: string,
  accountId: string,
): Promise<{ wallet_id: string; status: string } | undefined> {
  const [change] = await q.query<{ wallet_id: string; status: string }>(
    `SELECT c.wallet_id, c.status FROM policy_changes c JOIN wallets w ON w.id = c.wallet_id
     WHERE c.id = $1 AND w.account_id = $2`,
    [id, accountId],
  );
  return change;
}

/** Cancels the change if it is pending and not yet in effect at `nowMs`; false otherwise. */
export async function cancelPendingPolicyChange(q: Queryable, id: string, nowMs: number): Promise<boolean> {
  const cancelled = await q.query(
    "UPDATE policy_changes SET status = 'cancelled' WHERE id = $1 AND status = 'pending' AND effective_ms > $2 RETURNING id",
    [id, nowMs],
  );
  return cancelled.length > 0;
}
