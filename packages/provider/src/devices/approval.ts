/**
 * Letting a new device into an account. An active device approves it with the account's TOTP code
 * where one is in force; the device is then `approved` and becomes active only once its guarded
 * change (`account/guarded-changes.ts`) has waited out its delay, mailed to the account and
 * cancellable by its other devices or the mailed token. A thief holding one device and the mailbox
 * cannot quietly add devices of their own; cancelling revokes the newcomer.
 */

import { defineChangeKind, requestGuardedChange } from "../account/guarded-changes.js";
import { requireSecondFactor } from "../account/totp.js";
import { appendAudit } from "../audit/log.js";
import type { ProviderContext } from "../context.js";
import { notFound } from "../errors.js";
import { activateApprovedDevice, markDeviceApproved } from "../store/devices.js";
import type { Queryable } from "../store/queryable.js";
import { deviceState } from "../store/request-auth.js";
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
  const name = await markDeviceApproved(tx, id, approver.accountId);
  // Another account's device and a device not waiting look the same: nothing to approve here.
  if (name === undefined) throw notFound("no device of this account awaits approval under that id");
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
    summary: `a new device in your account, ${name} (${id})`,
  });
}

defineChangeKind("device", {
  async apply(ctx, tx, change) {
    await activateApprovedDevice(tx, change.subject, ctx.now());
  },
  async cancel(_ctx, tx, change) {
    if ((await deviceState(tx, change.subject)) === "approved") await revokeDevice(tx, change.subject);
  },
});
