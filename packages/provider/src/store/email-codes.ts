/** The statements on email codes: one code per unverified device, kept as a MAC, with its wrong attempts. */
import type { Queryable } from "./queryable.js";

export interface EmailCodeRow {
  code_mac: Uint8Array;
  expires_ms: string;
  attempts: number;
}

/** Stores the device's new code, replacing any earlier one and its attempts. */
export async function storeEmailCode(
  q: Queryable,
  deviceId: string,
  codeMac: Uint8Array,
  expiresMs: number,
): Promise<void> {
  await q.query(
    `INSERT INTO email_codes (device_id, code_mac, expires_ms, attempts) VALUES ($1, $2, $3, 0)
     ON CONFLICT (device_id) DO UPDATE SET code_mac = EXCLUDED.code_mac, expires_ms = EXCLUDED.expires_ms, attempts = 0`,
    [deviceId, codeMac, expiresMs],
  );
}

/** The device's code, locked for the rest of the transaction. */
export async function lockEmailCode(q: Queryable, deviceId: string): Promise<EmailCodeRow | undefined> {
  const [row] = await q.query<EmailCodeRow>(
    "SELECT code_mac, expires_ms, attempts FROM email_codes WHERE device_id = $1 FOR UPDATE",
    [deviceId],
  );
  return row;
}

export async function countWrongCode(q: Queryable, deviceId: string): Promise<void> {
  await q.query("UPDATE email_codes SET attempts = attempts + 1 WHERE device_id = $1", [deviceId]);
}

export async function deleteEmailCode(q: Queryable, deviceId: string): Promise<void> {
  await q.query("DELETE FROM email_codes WHERE device_id = $1", [deviceId]);
}
