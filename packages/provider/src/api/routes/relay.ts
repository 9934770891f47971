/**
 * The relay's API: create a session among the account's devices, post sealed envelopes, and
 * receive them — over a WebSocket (pushed as they arrive) or, as the fallback, by polling HTTP.
 * The WebSocket is authenticated like any request: the upgrade carries the signed headers.
 */
import websocket from "@fastify/websocket";
import type { FastifyInstance } from "fastify";
import type { WebSocket } from "ws";
import { relayPost } from "../../relay/provider-party.js";
import {
  createRelaySession,
  findRelaySession,
  openRelaySessions,
  readEnvelopes,
  relayEvents,
} from "../../relay/relay.js";
import { type AuthenticatedDevice, authenticate } from "../auth.js";
import type { ProviderContext } from "../context.js";
import { errorSchema, HttpError } from "../errors.js";
import { freeObject, uuidParams } from "../schemas.js";

const DEVICE_ID = { type: "string", pattern: "^[0-9a-f]{32}$" } as const;
const MAX_ENVELOPES = 64;
/** How often a subscriber looks for envelopes stored by other replicas. */
const POLL_MS = 250;

const sessionView = (s: Awaited<ReturnType<typeof findRelaySession>>) => ({
  relayId: s.id,
  sid: Buffer.from(s.sid).toString("hex"),
  purpose: s.purpose,
  participants: s.participants,
  createdBy: s.createdBy,
  expiresMs: s.expiresMs,
});

const relaySessionSchema = {
  type: "object",
  properties: {
    relayId: { type: "string" },
    sid: { type: "string" },
    purpose: { type: "string" },
    participants: { type: "array", items: { type: "string" } },
    createdBy: { type: "string" },
    expiresMs: { type: "integer" },
  },
} as const;

/** One socket: subscriptions to relay sessions, each pumping new envelopes to the device. */
function serveSocket(ctx: ProviderContext, socket: WebSocket, device: AuthenticatedDevice): void {
  const stops: (() => void)[] = [];
  const fail = (message: string, id?: number) =>
    socket.send(JSON.stringify({ type: "error", message, ...(id !== undefined && { id }) }));
  async function subscribe(relayId: string, after: number) {
    await findRelaySession(ctx.db, relayId, device);
    let cursor = after;
    let pumping = false;
    const pump = async () => {
      if (pumping) return;
      pumping = true;
      try {
        const envelopes = await readEnvelopes(ctx.db, relayId, device.id, cursor);
        if (envelopes.length > 0) {
          cursor = (envelopes.at(-1) as { id: number }).id;
          socket.send(JSON.stringify({ type: "envelopes", relayId, envelopes }));
        }
      } finally {
        pumping = false;
      }
    };
    const event = `${relayId}:${device.id}`;
    const onEvent = () => void pump().catch(() => {});
    relayEvents.on(event, onEvent);
    const timer = setInterval(onEvent, POLL_MS);
    stops.push(() => {
      relayEvents.off(event, onEvent);
      clearInterval(timer);
    });
    await pump();
  }
  socket.on("message", (data) => {
    let id: number | undefined;
    void (async () => {
      const message = JSON.parse(String(data)) as {
        type?: unknown;
        id?: unknown;
        relayId?: unknown;
        after?: unknown;
        envelopes?: unknown;
      };
      // A send may carry an id; the reply to it (stored or error) carries it back.
      if (Number.isSafeInteger(message.id)) id = message.id as number;
      if (typeof message.relayId !== "string" || !/^[0-9a-f-]{36}$/.test(message.relayId))
        throw new HttpError(400, "invalid-request", "relayId must be a UUID");
      if (message.type === "subscribe") {
        const after = message.after ?? 0;
        if (!Number.isSafeInteger(after)) throw new HttpError(400, "invalid-request", "after must be an integer");
        await subscribe(message.relayId, after as number);
      } else if (message.type === "send") {
        if (!Array.isArray(message.envelopes) || message.envelopes.length > MAX_ENVELOPES)
          throw new HttpError(400, "invalid-request", `envelopes must be a list of at most ${MAX_ENVELOPES}`);
        const stored = await relayPost(ctx, message.relayId, device, message.envelopes);
        if (id !== undefined) socket.send(JSON.stringify({ type: "stored", id, stored }));
      } else throw new HttpError(400, "invalid-request", "type must be subscribe or send");
    })().catch((e) =>
      fail(e instanceof HttpError ? e.message : e instanceof SyntaxError ? "not JSON" : "internal error", id),
    );
  });
  socket.on("close", () => {
    for (const stop of stops) stop();
  });
}

export async function relayRoutes(app: FastifyInstance, ctx: ProviderContext): Promise<void> {
  await app.register(websocket, { options: { maxPayload: 4 * 1024 * 1024 } });

  app.post(
    "/v1/relay",
    {
      schema: {
        summary: "Open a relay session among active devices of the account (party order as given)",
        body: {
          type: "object",
          additionalProperties: false,
          required: ["participants", "purpose"],
          properties: {
            participants: { type: "array", minItems: 2, maxItems: 16, items: DEVICE_ID },
            purpose: { type: "string", minLength: 1, maxLength: 200 },
          },
        },
        response: { 201: relaySessionSchema, "4xx": errorSchema },
      },
    },
    async (request, reply) => {
      const device = await authenticate(ctx, request);
      const { participants, purpose } = request.body as { participants: string[]; purpose: string };
      const session = await ctx.db.transaction((tx) => createRelaySession(ctx, tx, device, { participants, purpose }));
      return reply.code(201).send(sessionView(session));
    },
  );

  app.get(
    "/v1/relay",
    {
      schema: {
        summary: "Open relay sessions the device takes part in",
        response: {
          200: { type: "object", properties: { sessions: { type: "array", items: relaySessionSchema } } },
          "4xx": errorSchema,
        },
      },
    },
    async (request) => {
      const device = await authenticate(ctx, request);
      return { sessions: (await openRelaySessions(ctx, device)).map(sessionView) };
    },
  );

  app.get(
    "/v1/relay/:id",
    {
      schema: {
        summary: "One relay session",
        params: uuidParams,
        response: { 200: relaySessionSchema, "4xx": errorSchema },
      },
    },
    async (request) => {
      const device = await authenticate(ctx, request);
      return sessionView(await findRelaySession(ctx.db, (request.params as { id: string }).id, device));
    },
  );

  app.post(
    "/v1/relay/:id/envelopes",
    {
      schema: {
        summary: "Post sealed envelopes from this device to others in the session",
        params: uuidParams,
        body: {
          type: "object",
          additionalProperties: false,
          required: ["envelopes"],
          properties: { envelopes: { type: "array", maxItems: MAX_ENVELOPES, items: freeObject } },
        },
        response: { 200: { type: "object", properties: { stored: { type: "integer" } } }, "4xx": errorSchema },
      },
    },
    async (request) => {
      const device = await authenticate(ctx, request);
      const { id } = request.params as { id: string };
      return { stored: await relayPost(ctx, id, device, (request.body as { envelopes: unknown[] }).envelopes) };
    },
  );

  app.get(
    "/v1/relay/:id/envelopes",
    {
      schema: {
        summary: "Envelopes for this device after an envelope id (the HTTP fallback of the WebSocket)",
        params: uuidParams,
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: { after: { type: "string", pattern: "^[0-9]{1,15}$" } },
        },
        response: {
          200: { type: "object", properties: { envelopes: { type: "array", items: freeObject } } },
          "4xx": errorSchema,
        },
      },
    },
    async (request) => {
      const device = await authenticate(ctx, request);
      const { id } = request.params as { id: string };
      await findRelaySession(ctx.db, id, device);
      const { after = "0" } = request.query as { after?: string };
      return { envelopes: await readEnvelopes(ctx.db, id, device.id, Number(after)) };
    },
  );

  app.get(
    "/v1/relay/ws",
    {
      websocket: true,
      schema: { summary: "WebSocket: subscribe to relay sessions and send envelopes (upgrade signed like a request)" },
      preValidation: async (request) => {
        (request as typeof request & { device?: AuthenticatedDevice }).device = await authenticate(ctx, request);
      },
    },
    (socket, request) => serveSocket(ctx, socket, (request as typeof request & { device: AuthenticatedDevice }).device),
  );
}
