/**
 * The statements on devices: registration, verification, approval, revocation and its undoing,
 * the account's list, and the locks a revocation takes.
 */
import type { DeviceState } from "../devices/authenticated.js";
import type { Queryable } from "./queryable.js";

export async function deviceRegistered(q: Queryable, id: string): Promise<boolean> {
  return (await q.query("SELECT 1 FROM devices WHERE id = $1", [id])).length > 0;
}

export async function insertUnverifiedDevice(
  q: Queryable,
  device: { id: string; accountId: string; identityKey: Uint8Array; name: string; createdMs: number },
): Promise<void> {
  await q.query(
    "INSERT INTO devices (id, account_id, identity_key, name, state, created_ms) VALUES ($1, $2, $3, $4, 'unverified', $5)",
    [device.id, device.accountId, device.identityKey, device.name, device.createdMs],
  );
}

export async function activeDeviceCount(q: Queryable, accountId: string): Promise<number> {
  const [active] = await q.query<{ n: string }>(
    "SELECT count(*) AS n FROM devices WHERE account_id = $1 AND state = 'active'",
    [accountId],
  );
  return Number(active?.n ?? 0);
}

/** A device that proved the email enters `state`; `activeSinceMs` is null unless that is active. */
export async function setVerifiedState(
  q: Queryable,
  id: string,
  state: DeviceState,
  activeSinceMs: number | null,
): Promise<void> {
  await q.query("UPDATE devices SET state = $1, active_since_ms = $3 WHERE id = $2", [state, id, activeSinceMs]);
}

export async function deviceName(q: Queryable, id: string): Promise<string> {
  const [device] = await q.query<{ name: string }>("SELECT name FROM devices WHERE id = $1", [id]);
  return (device as { name: string }).name;
}

/** The account's devices in the order they registered, with when they did, unverified registrations left out. */
export async function accountDevices(
  q: Queryable,
  accountId: string,
): Promise<{ id: string; name: string; state: DeviceState; createdMs: number }[]> {
  const rows = await q.query<{ id: string; name: string; state: DeviceState; created_ms: string }>(
    "SELECT id, name, state, created_ms FROM devices WHERE account_id = $1 AND state <> 'unverified' ORDER BY created_ms",
    [accountId],
  );
  // A bigint column comes as a string: ms since the epoch fit a number exactly.
  return rows.map((r) => ({ id: r.id, name: r.name, state: r.state, createdMs: Number(r.created_ms) }));
}

/**
 * The ids of the account's active devices, locked so that two revocations at once cannot leave
 * none (not FOR UPDATE: that would also wait for, and deadlock with, an approval being recorded,
 * whose reference to its device takes a key-share lock on the device's row).
 */
export async function lockActiveDevices(q: Queryable, accountId: string): Promise<string[]> {
  const active = await q.query<{ id: string }>(
    "SELECT id FROM devices WHERE account_id = $1 AND state = 'active' ORDER BY id FOR NO KEY UPDATE",
    [accountId],
  );
  return active.map((d) => d.id);
}

/** The account's device `id`, locked as `lockActiveDevices` locks. */
export async function lockAccountDevice(
  q: Queryable,
  id: string,
  accountId: string,
): Promise<{ state: DeviceState; name: string } | undefined> {
  const [device] = await q.query<{ state: DeviceState; name: string }>(
    "SELECT state, name FROM devices WHERE id = $1 AND account_id = $2 FOR NO KEY UPDATE",
    [id, accountId],
  );
  return device;
}

/** A device that recovered the account is active from `nowMs`, unless it already was. */
export async function activateRecoveredDevice(q: Queryable, id: string, nowMs: number): Promise<void> {
  await q.query("UPDATE devices SET state = 'active', active_since_ms = $2 WHERE id = $1 AND state <> 'active'", [
    id,
    nowMs,
  ]);
}

/** A device waiting for approval in the account is approved; its name, or undefined if none waited under `id`. */
export async function markDeviceApproved(q: Queryable, id: string, accountId: string): Promise<string | undefined> {
  const [device] = await q.query<{ name: string }>(
    "UPDATE devices SET state = 'approved' WHERE id = $1 AND account_id = $2 AND state = 'awaiting-approval' RETURNING name",
    [id, accountId],
  );
  return device?.name;
}

/** An approved device is active from `nowMs`; a device no longer approved is left as it is. */
export async function activateApprovedDevice(q: Queryable, id: string, nowMs: number): Promise<void> {
  await q.query("UPDATE devices SET state = 'active', active_since_ms = $2 WHERE id = $1 AND state = 'approved'", [
    id,
    nowMs,
  ]);
}

export async function markDeviceRevoked(q: Queryable, id: string): Promise<void> {
  await q.query("UPDATE devices SET state = 'revoked' WHERE id = $1", [id]);
}

/** The account's device `id` is active again if it is revoked; false if it was not. */
export async function reinstateRevokedDevice(q: Queryable, id: string, accountId: string): Promise<boolean> {
  const reinstated = await q.query(
    "UPDATE devices SET state = 'active' WHERE id = $1 AND account_id = $2 AND state = 'revoked' RETURNING id",
    [id, accountId],
  );
  return reinstated.length > 0;
}

/** The identity keys of the devices among `ids` (ids of no device are left out). */
export async function identityKeys(
  q: Queryable,
  ids: readonly string[],
): Promise<{ id: string; identity_key: Uint8Array }[]> {
  return q.query<{ id: string; identity_key: Uint8Array }>(
    "SELECT id, identity_key FROM devices WHERE id = ANY($1::text[])",
    [ids],
  );
}

/** Of the devices `ids`, those active. */
export async function activeDevicesAmong(q: Queryable, ids: string[]): Promise<string[]> {
  const rows = await q.query<{ id: string }>("SELECT id FROM devices WHERE id = ANY($1::text[]) AND state = 'active'", [
    ids,
  ]);
  return rows.map((r) => r.id);
}

/** Of the devices `ids`, those that are active devices of the account. */
export async function activeAccountDevicesAmong(q: Queryable, accountId: string, ids: string[]): Promise<string[]> {
  const rows = await q.query<{ id: string }>(
    "SELECT id FROM devices WHERE account_id = $1 AND state = 'active' AND id = ANY($2::text[])",
    [accountId, ids],
  );
  return rows.map((r) => r.id);
}

/** Of the devices `ids`, those no longer active (revoked, or never let in). */
export async function inactiveDevices(q: Queryable, ids: string[]): Promise<string[]> {
  const rows = await q.query<{ id: string }>(
    "SELECT id FROM devices WHERE id = ANY($1::text[]) AND state <> 'active'",
    [ids],
  );
  return rows.map((row) => row.id);
}
