/**
 * The relay's API: create a session among the account's devices, post sealed envelopes, and
 * receive them — over a WebSocket (pushed as they arrive) or, as the fallback, by polling HTTP.
 * The WebSocket is authenticated like any request, by the signed GET of its path, but carried in
 * its first frame (a browser's WebSocket cannot send headers): until the provider has checked it
 * and answered "authenticated", nothing of the relay is reachable, and a socket that sends
 * anything else first, a second authentication, or nothing in time is closed.
 *
 * A socket may also watch: it is then sent a notice whenever a relay session is opened that its
 * device is invited to (a key generation, a key change, a proposal, a signature it is named for),
 * so a cosigner waits on its socket instead of polling. Notices come from the same database poll
 * that closes revoked sockets, so a session opened through another replica is noticed too.
 */
import websocket from "@fastify/websocket";
import { endpoints, MAX_ENVELOPES, UUID_FORM } from "@keyshard/api";
import {
  AUTHENTICATION_WAIT_MS,
  MAX_AUTHENTICATION_FRAME_BYTES,
  POLICY_VIOLATION_CLOSE_CODE,
  RELAY_SOCKET_PATH,
  REQUEST_HEADERS,
  REVOKED_CLOSE_CODE,
  RequestSignatureError,
  readAuthenticationFrame,
} from "@keyshard/transport";
import type { FastifyBaseLogger } from "fastify";
import type { RawData, WebSocket } from "ws";
import type { ProviderContext, RelaySocketSettings } from "../../context.js";
import type { AuthenticatedDevice } from "../../devices/authenticated.js";
import { invalid, ProviderError, quotaExceeded } from "../../errors.js";
import { MAX_SUBSCRIPTIONS } from "../../quotas.js";
import { relayPost } from "../../relay/provider-party.js";
import {
  createRelaySession,
  DEVICE_REVOKED,
  findRelaySession,
  inactiveDevices,
  openRelaySessions,
  readEnvelopes,
  relayEvents,
  relaySessionsCreatedSince,
} from "../../relay/relay.js";
import type { App } from "../app.js";
import { route } from "../endpoint.js";
import { HttpError, refusal } from "../errors.js";
import { authenticateSignedRequest, OLD_SIGNATURE_HEADERS } from "../plugins/auth.js";

/** How often a subscriber looks for envelopes stored by other replicas. */
const POLL_MS = 250;
/**
 * How far back the sweep looks for new relay sessions: a session whose insert commits late, or
 * whose replica's clock is behind, is still noticed within this margin.
 */
const NOTICE_WINDOW_MS = 30_000;
/** The limits on sockets that have not proved their device yet, where the context sets none. */
export const RELAY_SOCKET_DEFAULTS: RelaySocketSettings = {
  authenticationWaitMs: AUTHENTICATION_WAIT_MS,
  // Each holds a connection and at most one checked frame: far more than honest devices need at once.
  maxUnauthenticated: 1_000,
  // A device opens one socket per session and one watch; a reconnecting cosigner backs off.
  upgradesPerMinute: 120,
};
/**
 * How long a refused socket is given to answer its close frame before its connection is cut: the
 * close carries the reason to an honest client, and a peer that never answers holds nothing.
 */
const CLOSE_ANSWER_MS = 1_000;
/** RFC 6455 §7.4.1: an unexpected condition on the server's side. */
const INTERNAL_ERROR_CLOSE_CODE = 1011;
/** RFC 6455 §5.5: a close frame's reason is at most 123 bytes. */
const MAX_CLOSE_REASON = 123;

const sessionView = (s: Awaited<ReturnType<typeof findRelaySession>>) => ({
  relayId: s.id,
  sid: Buffer.from(s.sid).toString("hex"),
  purpose: s.purpose,
  participants: s.participants,
  createdBy: s.createdBy,
  expiresMs: s.expiresMs,
});

const frameSchema = (type: string, properties: Record<string, object>, required: string[]) => ({
  type: "object",
  properties: { type: { const: type }, id: { type: "integer", description: "echoed on the reply" }, ...properties },
  required: ["type", ...required],
});
const relayId = { type: "string", format: "uuid", pattern: UUID_FORM.source };
const envelopes = {
  type: "array",
  maxItems: MAX_ENVELOPES,
  items: { type: "object", description: "a sealed envelope" },
};

/** The socket's frames as the OpenAPI document describes them (`serveSocket` reads and writes them). */
const SOCKET_FRAMES = {
  path: RELAY_SOCKET_PATH,
  authentication:
    "the upgrade carries no signature: the first frame is `authenticate`, whose headers are the deviceSignature " +
    "headers of a GET of this path (the upgrade's path and query) with an empty body, checked as any request's " +
    "(clock window, nonce spent once, only an active device). The provider answers `authenticated`; a socket " +
    `that sends another frame first, any frame before that answer, a second authenticate or none within ${RELAY_SOCKET_DEFAULTS.authenticationWaitMs / 1000} s ` +
    `is closed with code ${POLICY_VIOLATION_CLOSE_CODE} and the reason (${REVOKED_CLOSE_CODE} for a revoked device). Upgrades are limited ` +
    "per client address (429), and refused with 503 while too many sockets wait for their authentication",
  clientFrames: {
    authenticate: {
      type: "object",
      properties: {
        type: { const: "authenticate" },
        headers: {
          type: "object",
          properties: {
            "signature-input": { type: "string", maxLength: 256 },
            signature: { type: "string", maxLength: 256 },
            "content-digest": { type: "string", maxLength: 256 },
          },
          required: ["signature-input", "signature", "content-digest"],
          additionalProperties: false,
        },
      },
      required: ["type", "headers"],
      additionalProperties: false,
      description: `at most ${MAX_AUTHENTICATION_FRAME_BYTES} bytes of JSON text`,
    },
    watch: frameSchema("watch", {}, []),
    subscribe: frameSchema("subscribe", { relayId, after: { type: "integer", description: "an envelope id" } }, [
      "relayId",
    ]),
    send: frameSchema("send", { relayId, envelopes }, ["relayId", "envelopes"]),
  },
  serverFrames: {
    authenticated: { type: "object", properties: { type: { const: "authenticated" } }, required: ["type"] },
    watching: frameSchema("watching", {}, []),
    subscribed: frameSchema("subscribed", { relayId }, ["relayId"]),
    stored: frameSchema("stored", { stored: { type: "integer" } }, ["stored"]),
    envelopes: frameSchema(
      "envelopes",
      {
        relayId,
        envelopes: {
          type: "array",
          items: { type: "object", properties: { id: { type: "integer" }, envelope: { type: "object" } } },
        },
      },
      ["relayId", "envelopes"],
    ),
    notice: frameSchema("notice", { relayId }, ["relayId"]),
    error: frameSchema("error", { error: { type: "string" }, message: { type: "string" } }, ["error", "message"]),
  },
  closeCodes: {
    [POLICY_VIOLATION_CLOSE_CODE]: "the socket did not authenticate as it must (the reason says how)",
    [INTERNAL_ERROR_CLOSE_CODE]: "the provider could not check the authentication",
    [REVOKED_CLOSE_CODE]: "the device was revoked",
  },
};

/** A frame the socket could not act on: the same error codes as the HTTP API's. */
function errorFrame(e: unknown, id?: number): string {
  const refused = refusal(e);
  const [error, message] =
    refused !== undefined
      ? [refused.code, refused.message]
      : e instanceof SyntaxError
        ? ["invalid-request", "a frame must be JSON"]
        : ["internal", "internal error"];
  return JSON.stringify({ type: "error", error, message, ...(id !== undefined && { id }) });
}

/**
 * This process's open sockets, by device, and its relay subscriptions, by account. Each
 * subscription polls the database, so an account gets at most `MAX_SUBSCRIPTIONS` of them here,
 * and a socket subscribes to a relay session once.
 */
class OpenSockets {
  readonly byDevice = new Map<string, Set<WebSocket>>();
  private readonly subscriptions = new Map<string, number>();
  /** Sockets told of new relay sessions their device is invited to. */
  private readonly watchers = new Map<WebSocket, { deviceId: string; accountId: string }>();
  /** Sessions already told of, by id, with their creation time: forgotten once out of the window. */
  private readonly noticed = new Map<string, number>();

  add(deviceId: string, socket: WebSocket): void {
    const sockets = this.byDevice.get(deviceId) ?? new Set();
    this.byDevice.set(deviceId, sockets.add(socket));
  }

  watch(socket: WebSocket, device: { id: string; accountId: string }): void {
    this.watchers.set(socket, { deviceId: device.id, accountId: device.accountId });
  }

  remove(deviceId: string, socket: WebSocket): void {
    this.watchers.delete(socket);
    const sockets = this.byDevice.get(deviceId);
    sockets?.delete(socket);
    if (sockets?.size === 0) this.byDevice.delete(deviceId);
  }

  subscribe(accountId: string): void {
    const count = this.subscriptions.get(accountId) ?? 0;
    if (count >= MAX_SUBSCRIPTIONS)
      throw quotaExceeded(
        `an account may hold at most ${MAX_SUBSCRIPTIONS} relay subscriptions at once: close sockets it no longer uses`,
      );
    this.subscriptions.set(accountId, count + 1);
  }

  unsubscribe(accountId: string, count: number): void {
    const left = (this.subscriptions.get(accountId) ?? 0) - count;
    if (left > 0) this.subscriptions.set(accountId, left);
    else this.subscriptions.delete(accountId);
  }

  /** Closes every socket of a device that was revoked. */
  revoked(deviceId: string): void {
    for (const socket of this.byDevice.get(deviceId) ?? []) {
      if (socket.readyState !== socket.OPEN) continue;
      socket.send(errorFrame(new ProviderError("forbidden", "device-revoked", "the device was revoked")));
      socket.close(REVOKED_CLOSE_CODE, "device revoked");
    }
  }

  /**
   * Closes the sockets of devices that are no longer active: a revocation by another replica
   * reaches this one's sockets as its envelopes do, by polling the database.
   */
  async sweep(ctx: ProviderContext): Promise<void> {
    if (this.byDevice.size === 0) return;
    for (const id of await inactiveDevices(ctx.db, [...this.byDevice.keys()])) this.revoked(id);
    await this.notice(ctx);
  }

  /** Tells watching sockets of the relay sessions opened since the last sweep that invite their device. */
  private async notice(ctx: ProviderContext): Promise<void> {
    const since = ctx.now() - NOTICE_WINDOW_MS;
    for (const [id, createdMs] of this.noticed) if (createdMs <= since) this.noticed.delete(id);
    if (this.watchers.size === 0) return;
    const accounts = [...new Set([...this.watchers.values()].map((w) => w.accountId))];
    for (const session of await relaySessionsCreatedSince(ctx.db, accounts, since)) {
      if (this.noticed.has(session.id)) continue;
      this.noticed.set(session.id, session.createdMs);
      const frame = JSON.stringify({ type: "notice", relayId: session.id });
      for (const [socket, watcher] of this.watchers)
        if (
          watcher.deviceId !== session.createdBy &&
          session.participants.includes(watcher.deviceId) &&
          socket.readyState === socket.OPEN
        )
          socket.send(frame);
    }
  }
}

/** Closes `socket` with `code` (by default for a breach of the authentication rules) and `reason`, cut to what a close frame holds. */
function closeWithReason(socket: WebSocket, reason: string, code = POLICY_VIOLATION_CLOSE_CODE): void {
  if (socket.readyState !== socket.OPEN) return;
  let cut = reason;
  while (Buffer.byteLength(cut) > MAX_CLOSE_REASON) cut = cut.slice(0, -1);
  socket.close(code, cut);
}

/** Closes a socket that has proved nothing with `reason`, and cuts it if it does not answer the close at once. */
function refuseSocket(socket: WebSocket, reason: string, code?: number): void {
  closeWithReason(socket, reason, code);
  const cut = setTimeout(() => socket.terminate(), CLOSE_ANSWER_MS);
  socket.once("close", () => clearTimeout(cut));
}

/**
 * A socket before its device is known: its first frame must be the signed GET of the path it
 * was opened on (`target`), sent within the wait, and no frame may follow until the provider has
 * checked it. Only then does `serve` get the socket, before "authenticated" is sent, so that no
 * frame the device sends after that answer is missed.
 */
function authenticateSocket(
  ctx: ProviderContext,
  settings: RelaySocketSettings,
  log: FastifyBaseLogger,
  socket: WebSocket,
  target: string,
  serve: (device: AuthenticatedDevice) => void,
): void {
  let checking = false;
  const refuse = (reason: string, code?: number) => {
    clearTimeout(timer);
    socket.off("message", onFirstFrames);
    refuseSocket(socket, reason, code);
  };
  const timer = setTimeout(
    () => refuse(`no authentication frame within ${settings.authenticationWaitMs / 1000} s`),
    settings.authenticationWaitMs,
  );
  socket.once("close", () => clearTimeout(timer));
  function onFirstFrames(data: RawData, isBinary: boolean): void {
    if (checking) {
      refuse("a frame came before the authentication was answered");
      return;
    }
    checking = true;
    (async () => {
      // ws hands a text frame over as one Buffer; its size is checked before it is decoded.
      const headers = readAuthenticationFrame(!isBinary && Buffer.isBuffer(data) ? data : undefined);
      await settings.beforeCheck?.();
      return authenticateSignedRequest(ctx, { method: "GET", target, headers, body: new Uint8Array() }, ["active"]);
    })().then(
      (device) => {
        // Refused meanwhile (a frame too early, the wait over) or closed by the device.
        if (socket.readyState !== socket.OPEN) return;
        clearTimeout(timer);
        socket.off("message", onFirstFrames);
        serve(device);
        socket.send(JSON.stringify({ type: "authenticated" }));
      },
      (e: unknown) => {
        if (e instanceof RequestSignatureError) return refuse(e.message);
        const refused = refusal(e);
        // A device revoked while it was away learns it as a connected one does.
        if (refused?.code === "device-revoked") return refuse(refused.message, REVOKED_CLOSE_CODE);
        if (refused !== undefined) return refuse(refused.message);
        log.error({ err: { message: (e as Error).message, stack: (e as Error).stack } }, "relay authentication failed");
        refuse("internal error", INTERNAL_ERROR_CLOSE_CODE);
      },
    );
  }
  socket.on("message", onFirstFrames);
}

/** One socket: subscriptions to relay sessions, each pumping new envelopes to the device. */
function serveSocket(
  ctx: ProviderContext,
  open: OpenSockets,
  log: FastifyBaseLogger,
  socket: WebSocket,
  device: AuthenticatedDevice,
): void {
  // Per relay session: where its pump reads from next, and how to stop it.
  const subscriptions = new Map<string, { cursor: number; pump(): Promise<void>; stop(): void }>();
  open.add(device.id, socket);
  async function subscribe(relayId: string, after: number) {
    await findRelaySession(ctx.db, relayId, device);
    const existing = subscriptions.get(relayId);
    // Subscribing again moves the cursor of the one subscription, so a client can ask for a replay.
    if (existing !== undefined) {
      existing.cursor = after;
      return existing.pump();
    }
    if (socket.readyState !== socket.OPEN) return;
    open.subscribe(device.accountId);
    let pumping = false;
    const subscription = {
      cursor: after,
      async pump() {
        if (pumping || !subscriptions.has(relayId)) return;
        pumping = true;
        try {
          const envelopes = await readEnvelopes(ctx.db, relayId, device.id, subscription.cursor);
          if (envelopes.length > 0) {
            subscription.cursor = (envelopes.at(-1) as { id: number }).id;
            socket.send(JSON.stringify({ type: "envelopes", relayId, envelopes }));
          }
        } finally {
          pumping = false;
        }
      },
      stop() {
        relayEvents.off(event, onEvent);
        clearInterval(timer);
      },
    };
    const event = `${relayId}:${device.id}`;
    const onEvent = () => void subscription.pump().catch(() => {});
    relayEvents.on(event, onEvent);
    const timer = setInterval(onEvent, POLL_MS);
    subscriptions.set(relayId, subscription);
    await subscription.pump();
  }
  socket.on("message", (data) => {
    // Closing (a second authentication, a revocation): nothing more is acted on.
    if (socket.readyState !== socket.OPEN) return;
    let id: number | undefined;
    void (async () => {
      const message = JSON.parse(String(data)) as unknown;
      if (typeof message !== "object" || message === null || Array.isArray(message))
        throw invalid("a frame must be a JSON object");
      const frame = message as {
        type?: unknown;
        id?: unknown;
        relayId?: unknown;
        after?: unknown;
        envelopes?: unknown;
      };
      if (frame.type === "authenticate") return closeWithReason(socket, "the socket is already authenticated");
      // A frame may carry an id; the reply to it (watching, subscribed, stored or error) carries it back.
      if (Number.isSafeInteger(frame.id)) id = frame.id as number;
      if (frame.type === "watch") {
        open.watch(socket, device);
        if (id !== undefined) socket.send(JSON.stringify({ type: "watching", id }));
        return;
      }
      if (typeof frame.relayId !== "string" || !UUID_FORM.test(frame.relayId)) throw invalid("relayId must be a UUID");
      if (frame.type === "subscribe") {
        const after = frame.after ?? 0;
        if (!Number.isSafeInteger(after)) throw invalid("after must be an integer");
        await subscribe(frame.relayId, after as number);
        if (id !== undefined) socket.send(JSON.stringify({ type: "subscribed", id, relayId: frame.relayId }));
      } else if (frame.type === "send") {
        if (!Array.isArray(frame.envelopes) || frame.envelopes.length > MAX_ENVELOPES)
          throw invalid(`envelopes must be a list of at most ${MAX_ENVELOPES}`);
        const stored = await relayPost(ctx, frame.relayId, device, frame.envelopes);
        if (id !== undefined) socket.send(JSON.stringify({ type: "stored", id, stored }));
      } else throw invalid("type must be watch, subscribe or send");
    })().catch((e) => {
      if (refusal(e) === undefined && !(e instanceof SyntaxError))
        log.error({ err: { message: (e as Error).message, stack: (e as Error).stack } }, "relay frame failed");
      if (socket.readyState === socket.OPEN) socket.send(errorFrame(e, id));
    });
  });
  socket.on("close", () => {
    for (const subscription of subscriptions.values()) subscription.stop();
    open.unsubscribe(device.accountId, subscriptions.size);
    subscriptions.clear();
    open.remove(device.id, socket);
  });
}

export async function relayRoutes(app: App, ctx: ProviderContext): Promise<void> {
  await app.register(websocket, { options: { maxPayload: 4 * 1024 * 1024 } });
  const settings = { ...RELAY_SOCKET_DEFAULTS, ...ctx.relaySockets };
  const open = new OpenSockets();
  /** Sockets of this process not yet authenticated: each holds a connection for an outsider. */
  let unauthenticated = 0;
  const onRevoked = (deviceId: string) => open.revoked(deviceId);
  relayEvents.on(DEVICE_REVOKED, onRevoked);
  const sweep = setInterval(
    () =>
      void open
        .sweep(ctx)
        .catch((e) => app.log.error({ err: { message: (e as Error).message } }, "closing revoked sockets failed")),
    POLL_MS,
  );
  sweep.unref();
  app.addHook("onClose", async () => {
    clearInterval(sweep);
    relayEvents.off(DEVICE_REVOKED, onRevoked);
  });

  route(
    app,
    endpoints.openRelaySession,
    {
      config: { auth: ["active"] },
      summary: "Open a relay session among active devices of the account (party order as given)",
    },
    async (request) =>
      sessionView(await ctx.db.transaction((tx) => createRelaySession(ctx, tx, request.device, request.body))),
  );

  route(
    app,
    endpoints.relaySessions,
    { config: { auth: ["active"] }, summary: "Open relay sessions the device takes part in" },
    async (request) => ({ sessions: (await openRelaySessions(ctx, request.device)).map(sessionView) }),
  );

  route(app, endpoints.relaySession, { config: { auth: ["active"] }, summary: "One relay session" }, async (request) =>
    sessionView(await findRelaySession(ctx.db, request.params.id, request.device)),
  );

  route(
    app,
    endpoints.postEnvelopes,
    { config: { auth: ["active"] }, summary: "Post sealed envelopes from this device to others in the session" },
    async (request) => ({
      stored: await relayPost(ctx, request.params.id, request.device, request.body.envelopes),
    }),
  );

  route(
    app,
    endpoints.envelopes,
    {
      config: { auth: ["active"] },
      summary: "Envelopes for this device after an envelope id (the HTTP fallback of the WebSocket)",
    },
    async (request) => {
      const { id } = request.params;
      await findRelaySession(ctx.db, id, request.device);
      const { after = "0" } = request.query;
      return { envelopes: await readEnvelopes(ctx.db, id, request.device.id, Number(after)) };
    },
  );

  app.get(
    RELAY_SOCKET_PATH,
    {
      websocket: true,
      // The WebSocket plugin hides its routes from the document; this one is shown, frames and all.
      // The upgrade is not signed (a browser cannot add headers to it): its first frame is.
      config: {
        swaggerTransform: ({ schema, url }) => ({ schema: { ...schema, hide: false }, url }),
        // Per address, not per device: an upgrade has not said which device it is.
        rateLimit: {
          max: settings.upgradesPerMinute,
          timeWindow: "1 minute",
          keyGenerator: (request: { ip: string }) => request.ip,
        },
      },
      preValidation: async () => {
        if (unauthenticated >= settings.maxUnauthenticated)
          throw new HttpError(
            503,
            "busy",
            "the relay has too many sockets waiting for their authentication: try again",
          );
      },
      schema: {
        operationId: "relaySocket",
        summary: "WebSocket: subscribe to relay sessions and send envelopes (its first frame signed like a request)",
        description:
          "An RFC 6455 upgrade, not signed itself: the socket's first frame carries the deviceSignature headers of a " +
          "GET of this path (Content-Digest of the empty body included), as x-websocket's authentication says. " +
          "Frames are JSON text, described in x-websocket; a frame's optional integer id comes back on its reply.",
        response: { 101: { description: "Switching Protocols: the socket is open", type: "null" } },
        "x-websocket": SOCKET_FRAMES,
      },
    },
    (socket, request) => {
      // A client from before the first-frame authentication signs the upgrade instead.
      if (
        [REQUEST_HEADERS.signatureInput, ...OLD_SIGNATURE_HEADERS].some((name) => request.headers[name] !== undefined)
      )
        return refuseSocket(socket, "outdated client: update keyshard");
      unauthenticated += 1;
      let waiting = true;
      const done = () => {
        if (waiting) unauthenticated -= 1;
        waiting = false;
      };
      socket.once("close", done);
      authenticateSocket(ctx, settings, request.log, socket, request.url, (device) => {
        done();
        serveSocket(ctx, open, request.log, socket, device);
      });
    },
  );
}
