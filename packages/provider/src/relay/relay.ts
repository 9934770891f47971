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
import { activeAccountDevicesAmong, activeDevicesAmong } from "../store/devices.js";
import type { Queryable } from "../store/queryable.js";
import {
  envelopesAfter,
  findRelaySessionRow,
  insertEnvelope,
  insertRelaySession,
  lockRelaySession,
  openAccountRelaySessions,
  type RelaySessionRow,
  relaySessionsCreatedAfter,
} from "../store/relay.js";

export { inactiveDevices } from "../store/devices.js";

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
  const active = new Set(await activeDevicesAmong(ctx.db, devices));
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
  const active = await activeAccountDevicesAmong(tx, device.accountId, request.participants);
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
  await insertRelaySession(tx, {
    id: session.id,
    accountId: device.accountId,
    sid: session.sid,
    purpose: session.purpose,
    participants: JSON.stringify(participants),
    createdBy: device.id,
    createdMs: ctx.now(),
    expiresMs: session.expiresMs,
  });
  await appendAudit(tx, {
    chain: device.accountId,
    atMs: ctx.now(),
    actor: device.id,
    action: "relay.created",
    details: { relay: session.id, purpose: session.purpose, participants },
  });
  return session;
}

const toSession = (row: RelaySessionRow): RelaySession => ({
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
  const row = await findRelaySessionRow(q, id, device.accountId);
  const session = row === undefined ? undefined : toSession(row);
  if (session === undefined || !session.participants.includes(device.id)) throw notFound("no such relay session");
  return session;
}

/** Open sessions `device` takes part in: how a cosigner learns it is invited. */
export async function openRelaySessions(ctx: ProviderContext, device: { id: string; accountId: string }) {
  const rows = await openAccountRelaySessions(ctx.db, device.accountId, ctx.now());
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
  const rows = await relaySessionsCreatedAfter(q, accountIds, sinceMs, sinceMs + RELAY_LIFETIME_MS);
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
  await lockRelaySession(tx, relayId);
  for (const envelope of envelopes)
    await insertEnvelope(tx, { relayId, from, to: envelope.to, json: JSON.stringify(envelope), createdMs: nowMs });
}

/** Envelopes for `device` stored after `after` (an envelope id), oldest first. */
export async function readEnvelopes(
  q: Queryable,
  relayId: string,
  deviceId: string,
  after: number,
): Promise<{ id: number; envelope: unknown }[]> {
  const rows = await envelopesAfter(q, relayId, deviceId, after, MAX_READ);
  return rows.map((r) => ({ id: Number(r.id), envelope: JSON.parse(r.envelope) as unknown }));
}
