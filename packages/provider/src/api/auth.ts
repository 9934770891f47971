/**
 * Request authentication: the device named in the headers signed this exact request, recently,
 * with a nonce it never used before. Nonces are recorded in the database so that a replay is
 * refused by every replica, and forgotten once their timestamp is outside the window anyway.
 */

import { REQUEST_HEADERS, verifyRequestSignature } from "@keyshard/transport";
import { hexToBytes } from "@noble/hashes/utils.js";
import type { FastifyRequest } from "fastify";
import { applyDueChanges } from "../account/guarded-changes.js";
import { touchAccount } from "../recovery/heirs.js";
import type { ProviderContext } from "./context.js";
import { forbidden, HttpError, unauthorized } from "./errors.js";

/** How far a request's timestamp may be from the server's clock. */
export const REQUEST_WINDOW_MS = 5 * 60_000;

/** `approved`: an active device let it in, and the change that activates it is still waiting. */
export type DeviceState = "unverified" | "awaiting-approval" | "approved" | "active" | "revoked";

export interface AuthenticatedDevice {
  id: string;
  accountId: string;
  state: DeviceState;
  identityKey: Uint8Array;
}

const HEX = /^[0-9a-f]+$/;

function header(request: FastifyRequest, name: string): string {
  const value = request.headers[name];
  if (typeof value !== "string" || value.length === 0 || value.length > 256)
    throw unauthorized(`missing or malformed ${name} header`);
  return value;
}

/** Checks the signature headers against `identityKey`; returns the nonce and its expiry, not yet spent. */
function verifySignedHeaders(
  ctx: ProviderContext,
  request: FastifyRequest,
  identityKey: Uint8Array,
): { nonce: string; expiresMs: number } {
  const timestamp = Number(header(request, REQUEST_HEADERS.timestamp));
  const nonce = header(request, REQUEST_HEADERS.nonce);
  const signature = header(request, REQUEST_HEADERS.signature);
  if (!Number.isSafeInteger(timestamp)) throw unauthorized("timestamp is not a number of milliseconds");
  if (!HEX.test(nonce) || nonce.length !== 32) throw unauthorized("nonce must be 16 bytes in hex");
  if (!HEX.test(signature) || signature.length !== 128) throw unauthorized("signature must be 64 bytes in hex");
  const now = ctx.now();
  if (Math.abs(now - timestamp) > REQUEST_WINDOW_MS) throw unauthorized("request is stale or from the future");
  const body = (request as FastifyRequest & { rawBody?: Buffer }).rawBody ?? Buffer.alloc(0);
  const signed = { method: request.method, path: request.url, body: new Uint8Array(body), timestamp, nonce };
  if (!verifyRequestSignature(identityKey, signed, hexToBytes(signature)))
    throw unauthorized("request signature does not verify");
  return { nonce, expiresMs: timestamp + 2 * REQUEST_WINDOW_MS };
}

const SPEND_NONCE =
  "INSERT INTO request_nonces (device_id, nonce, expires_ms) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING nonce";

/** Checks the signature headers against `identityKey` and spends the nonce (a device registering itself). */
export async function checkSignedRequest(
  ctx: ProviderContext,
  request: FastifyRequest,
  deviceId: string,
  identityKey: Uint8Array,
): Promise<void> {
  const { nonce, expiresMs } = verifySignedHeaders(ctx, request, identityKey);
  const spent = await ctx.db.query(SPEND_NONCE, [deviceId, nonce, expiresMs]);
  if (spent.length === 0) throw unauthorized("request was replayed");
}

interface KnownDevice {
  accountId: string;
  identityKey: Uint8Array;
}

/**
 * Devices' identity keys and accounts, per database: neither ever changes for a device id (the id
 * is a hash of the key), so a request from a known device needs one statement, which spends its
 * nonce and reads the device's state (which does change, and is never cached). Rows of devices
 * are never deleted; a database restored under a running provider needs the provider restarted.
 */
const knownDevices = new WeakMap<object, Map<string, KnownDevice>>();
const KNOWN_DEVICES_MAX = 10_000;

async function knownDevice(ctx: ProviderContext, id: string): Promise<KnownDevice> {
  let known = knownDevices.get(ctx.db);
  if (known === undefined) knownDevices.set(ctx.db, (known = new Map()));
  const hit = known.get(id);
  if (hit !== undefined) return hit;
  const [row] = await ctx.db.query<{ account_id: string; identity_key: Uint8Array }>(
    "SELECT account_id, identity_key FROM devices WHERE id = $1",
    [id],
  );
  if (row === undefined) throw unauthorized("unknown device");
  const device = { accountId: row.account_id, identityKey: new Uint8Array(row.identity_key) };
  if (known.size >= KNOWN_DEVICES_MAX) known.delete(known.keys().next().value as string);
  known.set(id, device);
  return device;
}

/** Authenticates a registered device; only devices in `states` may use the route. */
export async function authenticate(
  ctx: ProviderContext,
  request: FastifyRequest,
  states: readonly DeviceState[] = ["active"],
): Promise<AuthenticatedDevice> {
  const id = header(request, REQUEST_HEADERS.device);
  if (!HEX.test(id) || id.length !== 32) throw unauthorized("device id must be 16 bytes in hex");
  const { accountId, identityKey } = await knownDevice(ctx, id);
  const { nonce, expiresMs } = verifySignedHeaders(ctx, request, identityKey);
  // The same statement tells whether one of the account's guarded changes is due, so that it
  // takes effect before the request reads the account (no extra round trip when none is).
  const [row] = await ctx.db.query<{ state: DeviceState; fresh: boolean; due: boolean }>(
    `WITH spent AS (${SPEND_NONCE}) SELECT state, EXISTS (SELECT 1 FROM spent) AS fresh,
       EXISTS (SELECT 1 FROM account_changes WHERE account_id = devices.account_id AND status = 'pending' AND effective_ms <= $4) AS due
     FROM devices WHERE id = $1`,
    [id, nonce, expiresMs, ctx.now()],
  );
  if (row === undefined) throw unauthorized("unknown device");
  if (!row.fresh) throw unauthorized("request was replayed");
  if (row.due) {
    await ctx.db.transaction((tx) => applyDueChanges(ctx, tx, accountId));
    ctx.notifier.kick();
    const [now] = await ctx.db.query<{ state: DeviceState }>("SELECT state FROM devices WHERE id = $1", [id]);
    row.state = (now as { state: DeviceState }).state;
  }
  // Its own code, so that a client tells "shut out for good" from a refusal it can act on.
  if (row.state === "revoked" && !states.includes("revoked"))
    throw new HttpError(403, "device-revoked", "device is revoked");
  if (!states.includes(row.state)) throw forbidden(`device is ${row.state}`);
  if (row.state === "active") await touchAccount(ctx, accountId);
  return { id, accountId, state: row.state, identityKey };
}

/** Drops nonces whose requests would be refused as stale anyway. */
export async function forgetExpiredNonces(ctx: ProviderContext): Promise<void> {
  await ctx.db.query("DELETE FROM request_nonces WHERE expires_ms < $1", [ctx.now()]);
}
