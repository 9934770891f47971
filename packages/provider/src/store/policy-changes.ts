/** The rows of wallets' policy changes: requested, applied once due, listed and cancelled (the rules are in `wallets/policy-changes.ts`). */
import type { Queryable } from "./queryable.js";

export async function insertPolicyChange(
  q: Queryable,
  change: {
    id: string;
    walletId: string;
    /** Canonical JSON. */
    policy: string;
    requestedBy: string;
    requestedMs: number;
    effectiveMs: number;
  },
): Promise<void> {
  await q.query(
    "INSERT INTO policy_changes (id, wallet_id, policy, requested_by, requested_ms, effective_ms, status) VALUES ($1, $2, $3, $4, $5, $6, 'pending')",
    [change.id, change.walletId, change.policy, change.requestedBy, change.requestedMs, change.effectiveMs],
  );
}

/** The wallet's pending changes whose delay has passed at `nowMs`, in the order they take effect. */
export async function duePolicyChanges(
  q: Queryable,
  walletId: string,
  nowMs: number,
): Promise<{ id: string; policy: string; requested_by: string }[]> {
  return q.query<{ id: string; policy: string; requested_by: string }>(
    "SELECT id, policy, requested_by FROM policy_changes WHERE wallet_id = $1 AND status = 'pending' AND effective_ms <= $2 ORDER BY effective_ms, requested_ms",
    [walletId, nowMs],
  );
}

/** The change is applied: its policy becomes the wallet's. */
export async function applyPolicyChange(
  q: Queryable,
  walletId: string,
  changeId: string,
  policy: string,
): Promise<void> {
  await q.query("UPDATE policy_changes SET status = 'applied' WHERE id = $1", [changeId]);
  await q.query("UPDATE wallets SET policy = $2 WHERE id = $1", [walletId, policy]);
}

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
