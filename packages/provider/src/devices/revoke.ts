/**
 * Revoking a device: the provider no longer authenticates it, its held requests are cancelled,
 * and its approvals stop counting (`approvalCount` skips revoked devices). What it already got
 * signed stays signed, and the shares it holds still exist on it: the user takes them out of use
 * by a reshare without it (t-of-n) or a recovery on a new device (hybrid). Used by a device of
 * the account (`POST /v1/devices/:id/revoke`) and by a rejected face recovery.
 */
import type { Queryable } from "../store/database.js";

export async function revokeDevice(tx: Queryable, deviceId: string): Promise<void> {
  await tx.query("UPDATE devices SET state = 'revoked' WHERE id = $1", [deviceId]);
  await tx.query("UPDATE sign_requests SET status = 'cancelled' WHERE device_id = $1 AND status = 'held'", [deviceId]);
}
