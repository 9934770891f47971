/** The statements on devices: registration, verification, the account's list, and the locks a revocation takes. */
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

/** The account's devices in the order they registered, unverified registrations left out. */
export async function accountDevices(
  q: Queryable,
  accountId: string,
): Promise<{ id: string; name: string; state: DeviceState }[]> {
  return q.query<{ id: string; name: string; state: DeviceState }>(
    "SELECT id, name, state FROM devices WHERE account_id = $1 AND state <> 'unverified' ORDER BY created_ms",
    [accountId],
  );
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
