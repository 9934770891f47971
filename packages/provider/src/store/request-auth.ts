/**
 * The statements of request authentication: a device's identity key, spending a request's nonce,
 * and forgetting nonces too old to be replayed anyway. Nonces live in the database so that a
 * replay is refused by every replica.
 */
import type { DeviceState } from "../devices/authenticated.js";
import type { Queryable } from "./queryable.js";

const SPEND_NONCE =
  "INSERT INTO request_nonces (device_id, nonce, expires_ms) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING nonce";

/** Records the device's nonce as used; false if it was used before. */
export async function spendNonce(q: Queryable, deviceId: string, nonce: string, expiresMs: number): Promise<boolean> {
  const spent = await q.query(SPEND_NONCE, [deviceId, nonce, expiresMs]);
  return spent.length > 0;
}

/** A registered device's account and identity key, neither of which ever changes. */
export async function deviceIdentity(
  q: Queryable,
  deviceId: string,
): Promise<{ accountId: string; identityKey: Uint8Array } | undefined> {
  const [row] = await q.query<{ account_id: string; identity_key: Uint8Array }>(
    "SELECT account_id, identity_key FROM devices WHERE id = $1",
    [deviceId],
  );
  return row && { accountId: row.account_id, identityKey: new Uint8Array(row.identity_key) };
}

/**
 * In one statement: spends the nonce, reads the device's state, and tells whether one of its
 * account's guarded changes is due at `nowMs` (so that it takes effect before the request reads
 * the account, with no extra round trip when none is).
 */
export async function spendNonceReadingDevice(
  q: Queryable,
  deviceId: string,
  nonce: string,
  expiresMs: number,
  nowMs: number,
): Promise<{ state: DeviceState; fresh: boolean; due: boolean } | undefined> {
  const [row] = await q.query<{ state: DeviceState; fresh: boolean; due: boolean }>(
    `WITH spent AS (${SPEND_NONCE}) SELECT state, EXISTS (SELECT 1 FROM spent) AS fresh,
       EXISTS (SELECT 1 FROM account_changes WHERE account_id = devices.account_id AND status = 'pending' AND effective_ms <= $4) AS due
     FROM devices WHERE id = $1`,
    [deviceId, nonce, expiresMs, nowMs],
  );
  return row;
}

/** A device's state as it is now. */
export async function deviceState(q: Queryable, deviceId: string): Promise<DeviceState> {
  const [row] = await q.query<{ state: DeviceState }>("SELECT state FROM devices WHERE id = $1", [deviceId]);
  return (row as { state: DeviceState }).state;
}

/** Drops nonces whose requests would be refused as stale anyway. */
export async function forgetExpiredNonces(q: Queryable, nowMs: number): Promise<void> {
  await q.query("DELETE FROM request_nonces WHERE expires_ms < $1", [nowMs]);
}
