/**
 * The relay's store-and-forward. A relay session belongs to one account and names its devices in
 * party order; only they may post or read, a device posts only as itself and only to another
 * participant, and every envelope is checked for shape and session before it is stored. The
 * provider cannot open what it forwards. A local event wakes WebSocket subscribers at once;
 * subscribers also poll, so an envelope stored by another replica arrives too.
 */

import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { type Envelope, EnvelopeError, parseEnvelope } from "@keyshard/transport";
import { bytesToHex } from "@noble/hashes/utils.js";
import { appendAudit } from "../audit/log.js";
import type { ProviderContext } from "../context.js";
import { forbidden, invalid, notFound, ProviderError } from "../errors.js";
import type { Queryable } from "../store/queryable.js";

/** A relay session stays open this long after its creation. */
export const RELAY_LIFETIME_MS = 60 * 60_000;
const MAX_READ = 500;

export interface RelaySession {
  id: string;
  sid: Uint8Array;
  purpose: string;
  participants: string[];
  createdBy: string;
  expiresMs: number;
}

/**
 * Fires `${relayId}:${deviceId}` when an envelope for that device is stored by this process, and
 * `DEVICE_REVOKED` with a device id when this process revoked it (other replicas' revocations
 * reach open sockets by their poll of the devices' states).
 */
export const relayEvents = new EventEmitter().setMaxListeners(0);
export const DEVICE_REVOKED = "device-revoked";

/** Tells this process's open sockets of `deviceId` that it was revoked; call after the revocation commits. */
export function announceRevocation(deviceId: string): void {
  relayEvents.emit(DEVICE_REVOKED, deviceId);
}

/**
 * Refuses envelopes from or to a device that is no longer active: authentication checks the
 * sender once per HTTP request but only once per WebSocket, and the recipients not at all.
 */
async function checkActive(ctx: ProviderContext, from: string, recipients: string[]): Promise<void> {
  const devices = [from, ...recipients.filter((to) => to !== ctx.identityId)];
  const active = new Set(
    (
      await ctx.db.query<{ id: string }>("SELECT id FROM devices WHERE id = ANY($1::text[]) AND state = 'active'", [
        devices,
      ])
    ).map((r) => r.id),
  );
  if (!active.has(from))
    throw new ProviderError("forbidden", "device-revoked", "the sending device is no longer active");
  if (devices.some((d) => !active.has(d)))
    throw new ProviderError(
      "forbidden",
      "device-revoked",
      "an envelope is addressed to a device that is no longer active",
    );
}

/**
 * Opens a relay session among active devices of the account. Only the provider's own code adds
 * the provider (`withProvider`), for runs in which it is a party.
 */
export async function createRelaySession(
  ctx: ProviderContext,
  tx: Queryable,
  device: { id: string; accountId: string },
  request: { participants: string[]; purpose: string; withProvider?: boolean },
): Promise<RelaySession> {
  const participants = request.withProvider ? [...request.participants, ctx.identityId] : request.participants;
  if (!participants.includes(device.id)) throw invalid("the creating device must take part");
  if (new Set(participants).size !== participants.length) throw invalid("a device takes part once");
  const active = await tx.query<{ id: string }>(
    "SELECT id FROM devices WHERE account_id = $1 AND state = 'active' AND id = ANY($2::text[])",
    [device.accountId, request.participants],
  );
  if (active.length !== request.participants.length)
    throw invalid("every participant must be an active device of the account");
  const session: RelaySession = {
    id: randomUUID(),
    sid: crypto.getRandomValues(new Uint8Array(32)),
    purpose: request.purpose,
    participants,
    createdBy: device.id,
    expiresMs: ctx.now() + RELAY_LIFETIME_MS,
  };
  await tx.query(
    `INSERT INTO relay_sessions (id, account_id, sid, purpose, participants, created_by, created_ms, expires_ms)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      session.id,
      device.accountId,
      session.sid,
      session.purpose,
      JSON.stringify(participants),
      device.id,
      ctx.now(),
      session.expiresMs,
    ],
  );
  await appendAudit(tx, {
    chain: device.accountId,
    atMs: ctx.now(),
    actor: device.id,
    action: "relay.created",
    details: { relay: session.id, purpose: session.purpose, participants },
  });
  return session;
}

interface RelayRow {
  id: string;
  sid: Uint8Array;
  purpose: string;
  participants: string;
  created_by: string;
  expires_ms: string;
}

const toSession = (row: RelayRow): RelaySession => ({
  id: row.id,
  sid: new Uint8Array(row.sid),
  purpose: row.purpose,
  participants: JSON.parse(row.participants) as string[],
  createdBy: row.created_by,
  expiresMs: Number(row.expires_ms),
});

/** The relay session, if `device` takes part in it; 404 otherwise, as if it did not exist. */
export async function findRelaySession(
  q: Queryable,
  id: string,
  device: { id: string; accountId: string },
): Promise<RelaySession> {
  const [row] = await q.query<RelayRow>(
    "SELECT id, sid, purpose, participants, created_by, expires_ms FROM relay_sessions WHERE id = $1 AND account_id = $2",
    [id, device.accountId],
  );
  const session = row === undefined ? undefined : toSession(row);
  if (session === undefined || !session.participants.includes(device.id)) throw notFound("no such relay session");
  return session;
}

/** Open sessions `device` takes part in: how a cosigner learns it is invited. */
export async function openRelaySessions(ctx: ProviderContext, device: { id: string; accountId: string }) {
  const rows = await ctx.db.query<RelayRow>(
    "SELECT id, sid, purpose, participants, created_by, expires_ms FROM relay_sessions WHERE account_id = $1 AND expires_ms > $2 ORDER BY created_ms DESC LIMIT 100",
    [device.accountId, ctx.now()],
  );
  return rows.map(toSession).filter((s) => s.participants.includes(device.id));
}

/**
 * Sessions of `accountIds` created after `sinceMs`, with who takes part: what the relay's watchers
 * are told of, by whichever replica they are connected to.
 */
export async function relaySessionsCreatedSince(
  q: Queryable,
  accountIds: readonly string[],
  sinceMs: number,
): Promise<{ id: string; participants: string[]; createdBy: string; createdMs: number }[]> {
  const rows = await q.query<{ id: string; participants: string; created_by: string; created_ms: string }>(
    // The expiry follows from the creation and is what the account index orders by.
    "SELECT id, participants, created_by, created_ms FROM relay_sessions WHERE account_id = ANY($1::uuid[]) AND expires_ms > $2 AND created_ms > $3",
    [accountIds, sinceMs + RELAY_LIFETIME_MS, sinceMs],
  );
  return rows.map((r) => ({
    id: r.id,
    participants: JSON.parse(r.participants) as string[],
    createdBy: r.created_by,
    createdMs: Number(r.created_ms),
  }));
}

/** Checks and stores a device's envelopes; returns the devices they are for (each woken). */
export async function postEnvelopes(
  ctx: ProviderContext,
  relayId: string,
  device: { id: string; accountId: string },
  envelopes: unknown[],
): Promise<string[]> {
  const session = await findRelaySession(ctx.db, relayId, device);
  if (session.expiresMs <= ctx.now()) throw forbidden("the relay session has expired");
  const sid = bytesToHex(session.sid);
  const checked = envelopes.map((raw) => {
    let envelope: ReturnType<typeof parseEnvelope>;
    try {
      envelope = parseEnvelope(raw);
    } catch (e) {
      throw invalid(e instanceof EnvelopeError ? e.message : "malformed envelope");
    }
    if (envelope.sid !== sid) throw invalid("an envelope belongs to another session");
    if (envelope.from !== device.id) throw forbidden("a device posts only its own envelopes");
    if (envelope.to === device.id || !session.participants.includes(envelope.to))
      throw invalid("an envelope is addressed to a device outside the session");
    return envelope;
  });
  const recipients = [...new Set(checked.map((e) => e.to))];
  await checkActive(ctx, device.id, recipients);
  await ctx.db.transaction((tx) => storeEnvelopes(tx, relayId, device.id, checked, ctx.now()));
  for (const to of recipients) relayEvents.emit(`${relayId}:${to}`);
  return recipients;
}

/**
 * Stores envelopes already checked (or made by the provider itself). Readers page by envelope id,
 * so ids must become visible in order: the session row's lock, held to commit, serializes writers.
 */
export async function storeEnvelopes(
  tx: Queryable,
  relayId: string,
  from: string,
  envelopes: readonly Envelope[],
  nowMs: number,
): Promise<void> {
  await tx.query("SELECT id FROM relay_sessions WHERE id = $1 FOR UPDATE", [relayId]);
  for (const envelope of envelopes)
    await tx.query(
      "INSERT INTO relay_envelopes (relay_id, from_device, to_device, envelope, created_ms) VALUES ($1, $2, $3, $4, $5)",
      [relayId, from, envelope.to, JSON.stringify(envelope), nowMs],
    );
}

/** Of the devices `ids`, those no longer active (revoked, or never let in). */
export async function inactiveDevices(q: Queryable, ids: string[]): Promise<string[]> {
  const rows = await q.query<{ id: string }>(
    "SELECT id FROM devices WHERE id = ANY($1::text[]) AND state <> 'active'",
    [ids],
  );
  return rows.map((row) => row.id);
}

/** Envelopes for `device` stored after `after` (an envelope id), oldest first. */
export async function readEnvelopes(
  q: Queryable,
  relayId: string,
  deviceId: string,
  after: number,
): Promise<{ id: number; envelope: unknown }[]> {
  const rows = await q.query<{ id: string; envelope: string }>(
    "SELECT id, envelope FROM relay_envelopes WHERE relay_id = $1 AND to_device = $2 AND id > $3 ORDER BY id LIMIT $4",
    [relayId, deviceId, after, MAX_READ],
  );
  return rows.map((r) => ({ id: Number(r.id), envelope: JSON.parse(r.envelope) as unknown }));
}
