/**
 * Request authentication: the device the signature names (its `keyid`) signed this exact request
 * (an HTTP Message Signature, `@keyshard/transport`'s `request-signature.ts`), recently, with a
 * nonce it never used before. A route says which device states may use it
 * (`config: { auth: ["active"] }`); its handler then finds the device in `request.device`. A
 * route whose requests bring their own key (registration) says where (`config: { selfSigned }`),
 * and its requests are checked against that key. Authentication runs after the schema checks, so
 * a malformed request is told so first. The relay's WebSocket, whose upgrade a browser cannot
 * sign, carries its signed request in its first frame, checked here the same way
 * (`authenticateSignedRequest`).
 */
import {
  deviceId,
  REQUEST_HEADERS,
  type ReceivedSignature,
  RequestSignatureError,
  readRequestSignature,
  verifyRequestSignature,
} from "@keyshard/transport";
import type { FastifyContextConfig, FastifyRequest, preHandlerAsyncHookHandler } from "fastify";
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
    /**
     * The route's requests are signed, but by a key the request itself brings (registration): the
     * plugin checks them against the key `keyOf` reads from the request, whose schema it has
     * passed. The document shows them signed like the others.
     */
    selfSigned?: { keyOf(request: FastifyRequest): Uint8Array };
  }
  interface FastifyRequest {
    /** The authenticated device, on routes with `config.auth`. */
    device: AuthenticatedDevice;
  }
}

/** How far a request's `created` may be from the server's clock. */
export const REQUEST_WINDOW_MS = 5 * 60_000;

/** The name of the OpenAPI security scheme (`docs.ts`) that describes these signatures. */
export const SECURITY_SCHEME = "deviceSignature";

/** The headers requests were signed with before HTTP Message Signatures. */
export const OLD_SIGNATURE_HEADERS = [
  "x-keyshard-device",
  "x-keyshard-timestamp",
  "x-keyshard-nonce",
  "x-keyshard-signature",
];

/** A signed request as the signature sees it: wherever it came from, a route's request or a socket's first frame. */
export interface SignedRequest {
  method: string;
  /** Path and query, as the request named them. */
  target: string;
  headers: Record<string, string | string[] | undefined>;
  body: Uint8Array;
}

/** `request`'s signature, checked for form and against its body; refused as unauthorized if it is not one. */
function readSignature(request: SignedRequest): ReceivedSignature {
  try {
    return readRequestSignature(request);
  } catch (e) {
    if (e instanceof RequestSignatureError) throw unauthorized(e.message, { cause: e });
    throw e;
  }
}

/** The request's signature, checked for form and against its body; refused as unauthorized if it is not one. */
function requestSignature(request: FastifyRequest): ReceivedSignature {
  // Its own code, so that a client from before HTTP Message Signatures learns to upgrade, not that its signature is bad.
  if (
    request.headers[REQUEST_HEADERS.signatureInput] === undefined &&
    OLD_SIGNATURE_HEADERS.some((name) => request.headers[name] !== undefined)
  )
    throw new HttpError(
      401,
      "outdated-client",
      "this client signs its requests the old way (x-keyshard-* headers), which the provider no longer accepts: upgrade it",
    );
  return readSignature({
    method: request.method,
    target: request.url,
    headers: request.headers,
    body: new Uint8Array(request.rawBody ?? Buffer.alloc(0)),
  });
}

/** Checks `signed` against `identityKey` and the clock; returns the nonce and its expiry, not yet spent. */
function verifySignature(
  ctx: ProviderContext,
  signed: ReceivedSignature,
  identityKey: Uint8Array,
): { nonce: string; expiresMs: number } {
  const createdMs = signed.params.created * 1000;
  if (Math.abs(ctx.now() - createdMs) > REQUEST_WINDOW_MS) throw unauthorized("request is stale or from the future");
  if (!verifyRequestSignature(identityKey, signed)) throw unauthorized("request signature does not verify");
  return { nonce: signed.params.nonce, expiresMs: createdMs + 2 * REQUEST_WINDOW_MS };
}

/** Checks that `request` is signed by `identityKey`, the key it brings itself, and spends its nonce. */
async function authenticateSelfSigned(
  ctx: ProviderContext,
  request: FastifyRequest,
  identityKey: Uint8Array,
): Promise<void> {
  const signed = requestSignature(request);
  if (signed.params.keyid !== deviceId(identityKey))
    throw unauthorized("the signature's keyid is not the device id of the key the request brings");
  const { nonce, expiresMs } = verifySignature(ctx, signed, identityKey);
  if (!(await spendNonce(ctx.db, signed.params.keyid, nonce, expiresMs))) throw unauthorized("request was replayed");
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

/**
 * Authenticates a registered device by `signed`, its request's signature; only devices in
 * `states` pass.
 */
async function authenticate(
  ctx: ProviderContext,
  signed: ReceivedSignature,
  states: readonly DeviceState[],
): Promise<AuthenticatedDevice> {
  const id = signed.params.keyid;
  const { accountId, identityKey } = await knownDevice(ctx, id);
  const { nonce, expiresMs } = verifySignature(ctx, signed, identityKey);
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

/**
 * Authenticates a signed request that did not come as a route's own (the relay socket's first
 * frame carries one) with the same checks, clock window, nonce store and device states.
 */
export const authenticateSignedRequest = (
  ctx: ProviderContext,
  request: SignedRequest,
  states: readonly DeviceState[],
): Promise<AuthenticatedDevice> => authenticate(ctx, readSignature(request), states);

/** The check a route's configuration asks for, if any. */
function authenticator(
  ctx: ProviderContext,
  config: FastifyContextConfig | undefined,
): preHandlerAsyncHookHandler | undefined {
  const states = config?.auth;
  if (states !== undefined)
    return async (request) => {
      request.device = await authenticate(ctx, requestSignature(request), states);
    };
  const selfSigned = config?.selfSigned;
  if (selfSigned !== undefined)
    return async (request) => authenticateSelfSigned(ctx, request, selfSigned.keyOf(request));
  return undefined;
}

/**
 * Authenticates every route that declares `config.auth` or `config.selfSigned`, before its handler
 * and after its schema checks, and marks it signed in the OpenAPI document: the document's
 * security requirements come from the same configuration that makes the checks.
 */
export function authPlugin(app: App, ctx: ProviderContext): void {
  app.decorateRequest("device", null as unknown as AuthenticatedDevice);
  app.addHook("onRoute", (route) => {
    const authenticateRequest = authenticator(ctx, route.config);
    if (authenticateRequest === undefined) return;
    // The documentation plugin keeps this same route object and reads its schema when it builds the document.
    route.schema = { ...route.schema, security: [{ [SECURITY_SCHEME]: [] }] };
    const earlier = route.preHandler === undefined ? [] : [route.preHandler].flat();
    route.preHandler = [...earlier, authenticateRequest];
  });
}
