/**
 * Revoking a device: the provider no longer authenticates it, its held requests are cancelled,
 * and its approvals stop counting (`approvalCount` counts devices that are not revoked). What a revoked device already got
 * signed stays signed; a share it holds is made useless by refreshing the wallet from a device
 * the user trusts. Used by a device of the account (`POST /v1/devices/:id/revoke`) and by a
 * rejected face recovery.
 */
import type { Queryable } from "../store/database.js";

export async function revokeDevice(tx: Queryable, deviceId: string): Promise<void> {
  await tx.query("UPDATE devices SET state = 'revoked' WHERE id = $1", [deviceId]);
  await tx.query("UPDATE sign_requests SET status = 'cancelled' WHERE device_id = $1 AND status = 'held'", [deviceId]);
}
