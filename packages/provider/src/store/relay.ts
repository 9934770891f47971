/**
 * The rows of the relay: its sessions (an account's, naming their participants in party order,
 * as JSON) and the envelopes stored for each participant, paged by envelope id.
 */
import type { Queryable } from "./queryable.js";

export interface RelaySessionRow {
  id: string;
  sid: Uint8Array;
  purpose: string;
  /** Device ids in party order, as JSON. */
  participants: string;
  created_by: string;
  expires_ms: string;
}

export async function insertRelaySession(
  q: Queryable,
  session: {
    id: string;
    accountId: string;
    sid: Uint8Array;
    purpose: string;
    /** Device ids in party order, as JSON. */
    participants: string;
    createdBy: string;
    createdMs: number;
    expiresMs: number;
  },
): Promise<void> {
  await q.query(
    `INSERT INTO relay_sessions (id, account_id, sid, purpose, participants, created_by, created_ms, expires_ms)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      session.id,
      session.accountId,
      session.sid,
      session.purpose,
      session.participants,
      session.createdBy,
      session.createdMs,
      session.expiresMs,
    ],
  );
}

/** The account's relay session `id`, if there is one. */
export async function findRelaySessionRow(
  q: Queryable,
  id: string,
  accountId: string,
): Promise<RelaySessionRow | undefined> {
  const [row] = await q.query<RelaySessionRow>(
    "SELECT id, sid, purpose, participants, created_by, expires_ms FROM relay_sessions WHERE id = $1 AND account_id = $2",
    [id, accountId],
  );
  return row;
}

/** The account's latest 100 relay sessions not expired at `nowMs`, newest first. */
export async function openAccountRelaySessions(
  q: Queryable,
  accountId: string,
  nowMs: number,
): Promise<RelaySessionRow[]> {
  return q.query<RelaySessionRow>(
    "SELECT id, sid, purpose, participants, created_by, expires_ms FROM relay_sessions WHERE account_id = $1 AND expires_ms > $2 ORDER BY created_ms DESC LIMIT 100",
    [accountId, nowMs],
  );
}

/**
 * Sessions of `accountIds` created after `createdAfterMs`, with who takes part. The caller also
 * gives the expiry those creations imply: it is what the account index orders by.
 */
export async function relaySessionsCreatedAfter(
  q: Queryable,
  accountIds: readonly string[],
  createdAfterMs: number,
  expiresAfterMs: number,
): Promise<{ id: string; participants: string; created_by: string; created_ms: string }[]> {
  return q.query<{ id: string; participants: string; created_by: string; created_ms: string }>(
    "SELECT id, participants, created_by, created_ms FROM relay_sessions WHERE account_id = ANY($1::uuid[]) AND expires_ms > $2 AND created_ms > $3",
    [accountIds, expiresAfterMs, createdAfterMs],
  );
}

/** Locks the relay session's row until commit: the writers of its envelopes go one at a time. */
export async function lockRelaySession(q: Queryable, relayId: string): Promise<void> {
  await q.query("SELECT id FROM relay_sessions WHERE id = $1 FOR UPDATE", [relayId]);
}

export async function insertEnvelope(
  q: Queryable,
  envelope: { relayId: string; from: string; to: string /** The envelope as JSON. */; json: string; createdMs: number },
): Promise<void> {
  await q.query(
    "INSERT INTO relay_envelopes (relay_id, from_device, to_device, envelope, created_ms) VALUES ($1, $2, $3, $4, $5)",
    [envelope.relayId, envelope.from, envelope.to, envelope.json, envelope.createdMs],
  );
}

/** Up to `limit` envelopes (as JSON) for `deviceId` stored after envelope id `after`, oldest first. */
export async function envelopesAfter(
  q: Queryable,
  relayId: string,
  deviceId: string,
  after: number,
  limit: number,
): Promise<{ id: string; envelope: string }[]> {
  return q.query<{ id: string; envelope: string }>(
    "SELECT id, envelope FROM relay_envelopes WHERE relay_id = $1 AND to_device = $2 AND id > $3 ORDER BY id LIMIT $4",
    [relayId, deviceId, after, limit],
  );
}

/** Ends the account's relay sessions opened for `purpose` that have not expired by `nowMs`. */
export async function expireRelaySessionsOf(
  q: Queryable,
  accountId: string,
  purpose: string,
  nowMs: number,
): Promise<void> {
  await q.query(
    "UPDATE relay_sessions SET expires_ms = $3 WHERE account_id = $1 AND purpose = $2 AND expires_ms > $3",
    [accountId, purpose, nowMs],
  );
}
