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
 */
import type { Queryable } from "../store/database.js";

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
  const wallets = await tx.query<{ id: string; name: string; threshold: number; members: string }>(
    "SELECT id, name, threshold, members FROM wallets WHERE account_id = $1 AND state = 'active' AND members IS NOT NULL ORDER BY name",
    [account.id],
  );
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
  await tx.query("UPDATE devices SET state = 'revoked' WHERE id = $1", [deviceId]);
  await tx.query("UPDATE sign_requests SET status = 'cancelled' WHERE device_id = $1 AND status = 'held'", [deviceId]);
}
