/**
 * Hybrid wallets: creating one starts the key generation session with the provider as party 1;
 * every protocol session (keygen or signing) then advances one round per request.
 */
import { randomUUID } from "node:crypto";
import { PROVIDER, SCHEME_NAMES, type SchemeName, scheme } from "@keyshard/transport";
import type { FastifyInstance } from "fastify";
import { appendAudit } from "../../audit/log.js";
import { canonicalJson } from "../../canonical-json.js";
import { DEFAULT_POLICY, type Policy, parsePolicy } from "../../policy/policy.js";
import { advanceSession, startSession } from "../../sessions/driver.js";
import { authenticate } from "../auth.js";
import type { ProviderContext } from "../context.js";
import { conflict, errorSchema } from "../errors.js";
import { freeObject, uuidParams } from "../schemas.js";

const sessionSchema = {
  type: "object",
  properties: {
    sessionId: { type: "string" },
    sid: { type: "string" },
    round: { type: "integer" },
    messages: { type: "array", items: freeObject },
    done: { type: "boolean" },
    publicKey: { type: "string" },
    signature: { type: "string" },
  },
} as const;
const _HEX = "^([0-9a-f]{2})+$";
const _PATH = "^m(/[0-9]{1,10}){0,8}$";

export function walletRoutes(app: FastifyInstance, ctx: ProviderContext): void {
  app.post(
    "/v1/wallets",
    {
      schema: {
        summary: "Create a hybrid 2-of-2 wallet: starts the key generation session",
        body: {
          type: "object",
          additionalProperties: false,
          required: ["name", "scheme"],
          properties: {
            name: { type: "string", minLength: 1, maxLength: 64 },
            scheme: { type: "string", enum: [...SCHEME_NAMES] },
            policy: { type: "array", maxItems: 100, items: freeObject },
          },
        },
        response: {
          201: { type: "object", properties: { walletId: { type: "string" }, session: sessionSchema } },
          "4xx": errorSchema,
        },
      },
    },
    async (request, reply) => {
      const device = await authenticate(ctx, request);
      const body = request.body as { name: string; scheme: SchemeName; policy?: unknown };
      const policy: Policy = body.policy === undefined ? DEFAULT_POLICY : parsePolicy(body.policy);
      const walletId = randomUUID();
      const sid = crypto.getRandomValues(new Uint8Array(32));
      const party = scheme(body.scheme).keygen(sid, PROVIDER);
      const session = await ctx.db.transaction(async (tx) => {
        const taken = await tx.query("SELECT 1 FROM wallets WHERE account_id = $1 AND name = $2", [
          device.accountId,
          body.name,
        ]);
        if (taken.length > 0) throw conflict(`a wallet named ${body.name} exists`);
        await tx.query(
          "INSERT INTO wallets (id, account_id, name, scheme, state, policy, created_ms) VALUES ($1, $2, $3, $4, 'creating', $5, $6)",
          [walletId, device.accountId, body.name, body.scheme, canonicalJson(policy), ctx.now()],
        );
        await appendAudit(tx, {
          chain: device.accountId,
          atMs: ctx.now(),
          actor: device.id,
          action: "wallet.requested",
          details: { wallet: walletId, name: body.name, scheme: body.scheme, policy },
        });
        return startSession(
          ctx,
          tx,
          { id: randomUUID(), accountId: device.accountId, walletId, kind: "keygen", sid },
          party,
        );
      });
      ctx.parties.put(session.sessionId, 0, party);
      return reply.code(201).send({ walletId, session: { ...session, sid: Buffer.from(sid).toString("hex") } });
    },
  );

  app.get(
    "/v1/wallets",
    { schema: { summary: "The account's wallets", response: { "4xx": errorSchema } } },
    async (request) => {
      const device = await authenticate(ctx, request);
      const rows = await ctx.db.query<{
        id: string;
        name: string;
        scheme: string;
        state: string;
        public_key: Uint8Array | null;
      }>("SELECT id, name, scheme, state, public_key FROM wallets WHERE account_id = $1 ORDER BY created_ms", [
        device.accountId,
      ]);
      return {
        wallets: rows.map((w) => ({
          id: w.id,
          name: w.name,
          scheme: w.scheme,
          state: w.state,
          publicKey: w.public_key === null ? null : Buffer.from(w.public_key).toString("hex"),
        })),
      };
    },
  );

  app.post(
    "/v1/sessions/:id/round",
    {
      schema: {
        summary: "Send the device's messages of one round; get the provider's",
        params: uuidParams,
        body: {
          type: "object",
          additionalProperties: false,
          required: ["round", "messages"],
          properties: {
            round: { type: "integer", minimum: 0, maximum: 100 },
            messages: { type: "array", maxItems: 16, items: freeObject },
          },
        },
        response: { 200: sessionSchema, "4xx": errorSchema },
      },
    },
    async (request) => {
      const device = await authenticate(ctx, request);
      const { id } = request.params as { id: string };
      const body = request.body as { round: number; messages: unknown[] };
      const raw = (request as typeof request & { rawBody?: Buffer }).rawBody ?? Buffer.alloc(0);
      return advanceSession(ctx, {
        sessionId: id,
        accountId: device.accountId,
        actor: device.id,
        round: body.round,
        messages: body.messages,
        rawBody: new Uint8Array(raw),
      });
    },
  );
}
