/**
 * Request authentication: the device named in the headers signed this exact request, recently,
 * with a nonce it never used before. A route says which device states may use it
 * (`config: { auth: ["active"] }`); its handler then finds the device in `request.device`.
 * Authentication runs after the schema checks, so a malformed request is told so first.
 */
import { REQUEST_HEADERS, verifyRequestSignature } from "@keyshard/transport";
import { hexToBytes } from "@noble/hashes/utils.js";
import type { FastifyRequest, preHandlerAsyncHookHandler } from "fastify";
import { applyDueChanges } from "../../account/guarded-changes.js";
import type { ProviderContext } from "../../context.js";
import type { AuthenticatedDevice, DeviceState } from "../../devices/authenticated.js";
import { touchAccount } from "../../recovery/heirs.js";
import { deviceIdentity, deviceState, spendNonce, spendNonceReadingDevice } from "../../store/request-auth.js";
import type { App } from "../app.js";
import { HttpError, unauthorized } from "../errors.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** The device states that may use the route; without it, the route does not authenticate. */
    auth?: readonly DeviceState[];
  }
  interface FastifyRequest {
    /** The authenticated device, on routes with `config.auth`. */
    device: AuthenticatedDevice;
  }
}

/** How far a request's timestamp may be from the server's clock. */
const REQUEST_WINDOW_MS = 5 * 60_000;

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
  const body = request.rawBody ?? Buffer.alloc(0);
  const signed = { method: request.method, path: request.url, body: new Uint8Array(body), timestamp, nonce };
  if (!verifyRequestSignature(identityKey, signed, hexToBytes(signature)))
    throw unauthorized("request signature does not verify");
  return { nonce, expiresMs: timestamp + 2 * REQUEST_WINDOW_MS };
}

/** Checks the signature headers against `identityKey` and spends the nonce (a device registering itself). */
export async function checkSignedRequest(
  ctx: ProviderContext,
  request: FastifyRequest,
  deviceId: string,
  identityKey: Uint8Array,
): Promise<void> {
  const { nonce, expiresMs } = verifySignedHeaders(ctx, request, identityKey);
  if (!(await spendNonce(ctx.db, deviceId, nonce, expiresMs))) throw unauthorized("request was replayed");
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
  const device = await deviceIdentity(ctx.db, id);
  if (device === undefined) throw unauthorized("unknown device");
  if (known.size >= KNOWN_DEVICES_MAX) known.delete(known.keys().next().value as string);
  known.set(id, device);
  return device;
}

/** Authenticates a registered device; only devices in `states` may use the route. */
async function authenticate(
  ctx: ProviderContext,
  request: FastifyRequest,
  states: readonly DeviceState[],
): Promise<AuthenticatedDevice> {
  const id = header(request, REQUEST_HEADERS.device);
  if (!HEX.test(id) || id.length !== 32) throw unauthorized("device id must be 16 bytes in hex");
  const { accountId, identityKey } = await knownDevice(ctx, id);
  const { nonce, expiresMs } = verifySignedHeaders(ctx, request, identityKey);
  const row = await spendNonceReadingDevice(ctx.db, id, nonce, expiresMs, ctx.now());
  if (row === undefined) throw unauthorized("unknown device");
  if (!row.fresh) throw unauthorized("request was replayed");
  if (row.due) {
    await ctx.db.transaction((tx) => applyDueChanges(ctx, tx, accountId));
    ctx.notifier.kick();
    row.state = await deviceState(ctx.db, id);
  }
  // Its own code, so that a client tells "shut out for good" from a refusal it can act on.
  if (row.state === "revoked" && !states.includes("revoked"))
    throw new HttpError(403, "device-revoked", "device is revoked");
  if (!states.includes(row.state)) throw new HttpError(403, "forbidden", `device is ${row.state}`);
  // Any request of an active device is its owner's activity, which heirs wait out.
  if (row.state === "active") await touchAccount(ctx, accountId);
  return { id, accountId, state: row.state, identityKey };
}

/** Authenticates every route that declares `config.auth`, before its handler and after its schema checks. */
export function authPlugin(app: App, ctx: ProviderContext): void {
  app.decorateRequest("device", null as unknown as AuthenticatedDevice);
  app.addHook("onRoute", (route) => {
    const states = route.config?.auth;
    if (states === undefined) return;
    const authenticateRequest: preHandlerAsyncHookHandler = async (request) => {
      request.device = await authenticate(ctx, request, states);
    };
    const earlier = route.preHandler === undefined ? [] : [route.preHandler].flat();
    route.preHandler = [...earlier, authenticateRequest];
  });
}
