/**
 * The relay's API: create a session among the account's devices, post sealed envelopes, and
 * receive them — over a WebSocket (pushed as they arrive) or, as the fallback, by polling HTTP.
 * The WebSocket is authenticated like any request: the upgrade carries the signed headers.
 *
 * A socket may also watch: it is then sent a notice whenever a relay session is opened that its
 * device is invited to (a key generation, a key change, a proposal, a signature it is named for),
 * so a cosigner waits on its socket instead of polling. Notices come from the same database poll
 * that closes revoked sockets, so a session opened through another replica is noticed too.
 */
import websocket from "@fastify/websocket";
import { endpoints, MAX_ENVELOPES } from "@keyshard/api";
import { REVOKED_CLOSE_CODE } from "@keyshard/transport";
import type { FastifyBaseLogger } from "fastify";
import type { WebSocket } from "ws";
import type { ProviderContext } from "../../context.js";
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
import { refusal } from "../errors.js";

/** How often a subscriber looks for envelopes stored by other replicas. */
const POLL_MS = 250;
/**
 * How far back the sweep looks for new relay sessions: a session whose insert commits late, or
 * whose replica's clock is behind, is still noticed within this margin.
 */
const NOTICE_WINDOW_MS = 30_000;

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
const relayId = { type: "string", format: "uuid" };
const envelopes = {
  type: "array",
  maxItems: MAX_ENVELOPES,
  items: { type: "object", description: "a sealed envelope" },
};

/** The socket's frames as the OpenAPI document describes them (`serveSocket` reads and writes them). */
const SOCKET_FRAMES = {
  path: "/v1/relay/ws",
  authentication: "the upgrade request carries the deviceSignature headers; only an active device is let in",
  clientFrames: {
    watch: frameSchema("watch", {}, []),
    subscribe: frameSchema("subscribe", { relayId, after: { type: "integer", description: "an envelope id" } }, [
      "relayId",
    ]),
    send: frameSchema("send", { relayId, envelopes }, ["relayId", "envelopes"]),
  },
  serverFrames: {
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
  closeCodes: { [REVOKED_CLOSE_CODE]: "the device was revoked" },
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
      // A frame may carry an id; the reply to it (watching, subscribed, stored or error) carries it back.
      if (Number.isSafeInteger(frame.id)) id = frame.id as number;
      if (frame.type === "watch") {
        open.watch(socket, device);
        if (id !== undefined) socket.send(JSON.stringify({ type: "watching", id }));
        return;
      }
      if (typeof frame.relayId !== "string" || !/^[0-9a-f-]{36}$/.test(frame.relayId))
        throw invalid("relayId must be a UUID");
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
  const open = new OpenSockets();
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
    "/v1/relay/ws",
    {
      websocket: true,
      // The WebSocket plugin hides its routes from the document; this one is shown, frames and all.
      config: {
        auth: ["active"],
        swaggerTransform: ({ schema, url }) => ({ schema: { ...schema, hide: false }, url }),
      },
      schema: {
        operationId: "relaySocket",
        summary: "WebSocket: subscribe to relay sessions and send envelopes (upgrade signed like a request)",
        description:
          "An RFC 6455 upgrade of a GET signed as every request is (Content-Digest of the empty body included). " +
          "Frames are JSON text, described in x-websocket; a frame's optional integer id comes back on its reply.",
        response: { 101: { description: "Switching Protocols: the socket is open", type: "null" } },
        "x-websocket": SOCKET_FRAMES,
      },
    },
    (socket, request) => serveSocket(ctx, open, request.log, socket, request.device),
  );
}
