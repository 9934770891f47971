/**
 * Letting a new device into an account. An active device approves it with the account's TOTP code
 * where one is in force; the device is then `approved` and becomes active only once its guarded
 * change (`account/guarded-changes.ts`) has waited out its delay, mailed to the account and
 * cancellable by its other devices or the mailed token. A thief holding one device and the mailbox
 * cannot quietly add devices of their own; cancelling revokes the newcomer.
 */

import { defineChangeKind, requestGuardedChange } from "../account/guarded-changes.js";
import { appendAudit } from "../audit/log.js";
import type { ProviderContext } from "../context.js";
import { notFound } from "../errors.js";
import { requireSecondFactor } from "../policy/account-totp.js";
import type { Queryable } from "../store/queryable.js";
import { revokeDevice } from "./revoke.js";

/**
 * The active device `approver` approves device `id` of its account, with the account's TOTP code
 * `totp` where one is in force. Returns the change that makes the device active.
 */
export async function approveDevice(
  ctx: ProviderContext,
  approver: { id: string; accountId: string },
  id: string,
  totp: string | undefined,
): Promise<{ changeId: string; effectiveMs: number }> {
  await requireSecondFactor(ctx, approver, totp);
  const change = await ctx.db.transaction((tx) => markApproved(ctx, tx, approver, id));
  ctx.notifier.kick();
  return change;
}

async function markApproved(
  ctx: ProviderContext,
  tx: Queryable,
  approver: { id: string; accountId: string },
  id: string,
): Promise<{ changeId: string; effectiveMs: number }> {
  const [device] = await tx.query<{ name: string }>(
    "UPDATE devices SET state = 'approved' WHERE id = $1 AND account_id = $2 AND state = 'awaiting-approval' RETURNING name",
    [id, approver.accountId],
  );
  // Another account's device and a device not waiting look the same: nothing to approve here.
  if (device === undefined) throw notFound("no device of this account awaits approval under that id");
  await appendAudit(tx, {
    chain: approver.accountId,
    atMs: ctx.now(),
    actor: approver.id,
    action: "device.approved",
    details: { device: id },
  });
  return requestGuardedChange(ctx, tx, approver, {
    kind: "device",
    subject: id,
    summary: `a new device in your account, ${device.name} (${id})`,
  });
}

defineChangeKind("device", {
  async apply(ctx, tx, change) {
    await tx.query("UPDATE devices SET state = 'active', active_since_ms = $2 WHERE id = $1 AND state = 'approved'", [
      change.subject,
      ctx.now(),
    ]);
  },
  async cancel(_ctx, tx, change) {
    const [device] = await tx.query<{ state: string }>("SELECT state FROM devices WHERE id = $1", [change.subject]);
    if (device?.state === "approved") await revokeDevice(tx, change.subject);
  },
});
