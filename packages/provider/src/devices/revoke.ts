/**
 * Revoking a device: the provider no longer authenticates it, its held requests are cancelled,
 * and its approvals stop counting (`approvalsOf` marks them). What it already got
 * signed stays signed, and the shares it holds still exist on it: the user takes them out of use
 * by a reshare without it (t-of-n) or a recovery on a new device (hybrid). Used by a device of
 * the account (`POST /v1/devices/:id/revoke`) and by a rejected face recovery.
 *
 * A revoked device can no longer reach the relay, so it cannot take part in a t-of-n wallet's
 * signing or reshare either: `walletsWithout` tells which of the account's t-of-n wallets the
 * device is a member of and how many of their members could still sign.
 *
 * A device's revocation of another device takes effect at once, and is also recorded as a guarded
 * change of kind "revocation" (`recordRevocation`): for the account-change delay, the one-time
 * token mailed with it undoes it, letting the revoked device back in and revoking the device that
 * revoked it. Only the token undoes it, never a device: a thief holding one device who revokes all
 * the others leaves the owner the mailbox, and a thief's device could otherwise undo the owner's
 * revocation of a second stolen one. Once the delay has passed nothing more happens.
 */
import { cancelChangeOf, defineChangeKind, requestGuardedChange } from "../account/guarded-changes.js";
import { appendAudit } from "../audit/log.js";
import type { ProviderContext } from "../context.js";
import { conflict, notFound } from "../errors.js";
import { announceRevocation } from "../relay/relay.js";
import { lockAccountDevice, lockActiveDevices, markDeviceRevoked, reinstateRevokedDevice } from "../store/devices.js";
import type { Queryable } from "../store/queryable.js";
import { cancelHeldRequestsOf } from "../store/sign-requests.js";
import { activeMultipartyWallets } from "../store/wallets.js";

export interface MemberWallet {
  walletId: string;
  name: string;
  threshold: number;
  /** Members that could still sign without the device: active devices, and the provider when a member. */
  signersLeft: number;
}

/** The account's active t-of-n wallets that `deviceId` is a member of, as they would be without it. */
export async function walletsWithout(
  tx: Queryable,
  account: { id: string; activeDevices: string[]; providerId: string },
  deviceId: string,
): Promise<MemberWallet[]> {
  const wallets = await activeMultipartyWallets(tx, account.id);
  const signers = new Set([...account.activeDevices, account.providerId]);
  signers.delete(deviceId);
  return wallets.flatMap((w) => {
    const members = JSON.parse(w.members) as string[];
    if (!members.includes(deviceId)) return [];
    const signersLeft = members.filter((m) => signers.has(m)).length;
    return [{ walletId: w.id, name: w.name, threshold: w.threshold, signersLeft }];
  });
}

export async function revokeDevice(tx: Queryable, deviceId: string): Promise<void> {
  await markDeviceRevoked(tx, deviceId);
  await cancelHeldRequestsOf(tx, deviceId);
}

/**
 * The active device `revoker` revokes device `id` of its account (itself included), unless it is
 * the account's last active one, or the revocation would leave a t-of-n wallet fewer signers than
 * its threshold and `strandWallets` is not given. Returns the wallets the device was a member of.
 */
export async function revokeByDevice(
  ctx: ProviderContext,
  revoker: { id: string; accountId: string },
  id: string,
  strandWallets: boolean,
): Promise<MemberWallet[]> {
  const wallets = await ctx.db.transaction(async (tx) => {
    const active = await lockActiveDevices(tx, revoker.accountId);
    const target = await lockAccountDevice(tx, id, revoker.accountId);
    if (target === undefined) throw notFound("no device of this account under that id");
    if (target.state === "revoked") throw conflict("the device is already revoked");
    // With no active device left, the next device to prove the email would be let in at once.
    if (active.every((d) => d === id))
      throw conflict("the account's last active device cannot be revoked: add or recover another first");
    const wallets = await walletsWithout(
      tx,
      { id: revoker.accountId, activeDevices: active, providerId: ctx.identityId },
      id,
    );
    const stranded = wallets.filter((w) => w.signersLeft < w.threshold);
    if (stranded.length > 0 && !strandWallets)
      throw conflict(
        `without the device, ${stranded.map((w) => `wallet ${w.name} would have ${w.signersLeft} of the ${w.threshold} signers it needs`).join("; ")}: it could never sign or reshare again. Let the device take part in a reshare first, or revoke with strandWallets if it is lost anyway`,
      );
    // A device still waiting to become active: its change is cancelled with it.
    await cancelChangeOf(ctx, tx, revoker, "device", id);
    await revokeDevice(tx, id);
    await appendAudit(tx, {
      chain: revoker.accountId,
      atMs: ctx.now(),
      actor: revoker.id,
      action: "device.revoked",
      details: { device: id, ...(stranded.length > 0 && { strandedWallets: stranded.map((w) => w.walletId) }) },
    });
    // Another active device's revocation can be undone from the mailbox for a while: a thief
    // holding one device who revokes the owner's others must not leave the owner without any.
    if (id !== revoker.id && target.state === "active")
      await recordRevocation(ctx, tx, revoker, { id, name: target.name });
    await ctx.notifier.queueForAccount(
      tx,
      revoker.accountId,
      {
        subject: "keyshard: a device was revoked",
        body: `Device ${revoker.id} revoked device ${id} (${target.name}). Its held requests are cancelled and its approvals no longer count.${wallets.map((w) => `\nWallet ${w.name}: ${w.signersLeft} of its members can still sign, ${w.threshold} are needed${w.signersLeft >= w.threshold ? "; reshare it without the device" : "; it can no longer sign"}.`).join("")}\nIf you did not do this, a device of your account is in someone else's hands: recover with your face (keyshard recover) and revoke it.`,
      },
      ctx.now(),
    );
    return wallets;
  });
  announceRevocation(id);
  ctx.notifier.kick();
  return wallets;
}

/**
 * Records that device `revoker` revoked the active device `revoked` (another one) in `tx`, so
 * that the account's mailbox can undo it. The caller kicks the notifier once `tx` commits.
 */
export async function recordRevocation(
  ctx: ProviderContext,
  tx: Queryable,
  revoker: { id: string; accountId: string },
  revoked: { id: string; name: string },
): Promise<{ changeId: string; effectiveMs: number }> {
  return requestGuardedChange(ctx, tx, revoker, {
    kind: "revocation",
    subject: revoked.id,
    summary: `the revocation of device ${revoked.name} (${revoked.id})`,
    mail: (token, until) => ({
      subject: `keyshard: device ${revoked.name} was revoked by device ${revoker.id}; it can be undone until ${until}`,
      body: `Device ${revoker.id} revoked device ${revoked.id} (${revoked.name}).\nIf you did not do this, undo it before ${until}: device ${revoked.id} is let back in and device ${revoker.id} is revoked. Only this mail undoes it, no device can, with this one-time cancel token: ${token}\n(keyshard changes cancel --token ${token} --provider URL)\nIf you did, keep this mail to yourself: whoever uses the token lets the revoked device back in.`,
    }),
  });
}

defineChangeKind("revocation", {
  tokenOnly: true,
  // The revocation took effect when it was made: the end of the window to undo it changes nothing.
  mailWhenApplied: false,
  async apply() {},
  // An undone revocation revoked the device that made it: its open sockets close now.
  afterCancel: (change) => announceRevocation(change.requested_by),
  async cancel(ctx, tx, change) {
    const now = ctx.now();
    const reinstated = await reinstateRevokedDevice(tx, change.subject, change.account_id);
    // Both steps are the mailbox's doing, recorded against the change that allowed them.
    const byMail = (action: string, device: string) =>
      appendAudit(tx, {
        chain: change.account_id,
        atMs: now,
        actor: "email",
        action,
        details: { device, change: change.id },
      });
    if (reinstated) await byMail("device.reinstated", change.subject);
    const revoker = await lockAccountDevice(tx, change.requested_by, change.account_id);
    const revokes = revoker !== undefined && revoker.state !== "revoked";
    if (revokes) {
      await revokeDevice(tx, change.requested_by);
      await byMail("device.revoked", change.requested_by);
    }
    await ctx.notifier.queueForAccount(
      tx,
      change.account_id,
      {
        subject: "keyshard: a revocation was undone with the mailed token",
        body: `The revocation of device ${change.subject} by device ${change.requested_by} was undone with the mailed token: device ${change.subject} is ${reinstated ? "let back in" : "not let back in (it is no longer revoked by it)"}, and device ${change.requested_by} ${revokes ? "is revoked" : "was revoked already"}.`,
      },
      now,
    );
  },
});
