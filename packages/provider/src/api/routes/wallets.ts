/**
 * Wallets. A hybrid wallet (2-of-2, the creating device party 0, the provider party 1) makes its
 * key over /v1/sessions, one round per request. A t-of-n wallet among the account's devices makes
 * it over the relay, with the provider as the last party or only as the relay; each device then
 * confirms the public key it got, and the wallet is active once all agree. A wallet whose key
 * generation never finished can be deleted, freeing its name (`wallets/abandon.ts`).
 */
import { randomUUID } from "node:crypto";
import { PROVIDER, SCHEME_NAMES, type SchemeName, scheme } from "@keyshard/transport";
import { hexToBytes } from "@noble/hashes/utils.js";
import type { FastifyInstance } from "fastify";
import { appendAudit } from "../../audit/log.js";
import { canonicalJson } from "../../canonical-json.js";
import { refuseUnenforceablePolicy } from "../../policy/changes.js";
import { DEFAULT_POLICY, type Policy, parsePolicy } from "../../policy/policy.js";
import { openMembersRun } from "../../relay/provider-party.js";
import { advanceSession, startSession } from "../../sessions/driver.js";
import { activateIfAgreed } from "../../sessions/outcome.js";
import type { Queryable } from "../../store/database.js";
import { findWallet } from "../../store/wallets.js";
import { abandonWallet } from "../../wallets/abandon.js";
import { findKeyChange } from "../../wallets/key-changes.js";
import { memberViews } from "../../wallets/members.js";
import { type AuthenticatedDevice, authenticate } from "../auth.js";
import type { ProviderContext } from "../context.js";
import { badRequest, conflict, errorSchema, forbidden } from "../errors.js";
import { freeObject, sessionSchema, uuidParams } from "../schemas.js";

interface CreateBody {
  name: string;
  scheme: SchemeName;
  policy?: unknown;
  /** Device ids in party order; present for a t-of-n wallet. */
  members?: string[];
  threshold?: number;
  /** Whether the provider is a party of a t-of-n wallet (default) or only its relay. */
  provider?: boolean;
}

async function createHybrid(
  ctx: ProviderContext,
  tx: Queryable,
  device: AuthenticatedDevice,
  walletId: string,
  body: CreateBody,
) {
  if (body.threshold !== undefined || body.provider !== undefined)
    throw badRequest("threshold and provider go with members (a t-of-n wallet)");
  const sid = crypto.getRandomValues(new Uint8Array(32));
  const { reply: session, party } = await startSession(
    ctx,
    tx,
    { id: randomUUID(), accountId: device.accountId, walletId, kind: "keygen", sid },
    (claimed) => scheme(body.scheme).keygen(claimed, PROVIDER),
  );
  return { reply: { session: { ...session, sid: Buffer.from(sid).toString("hex") } }, party };
}

async function createMultiparty(
  ctx: ProviderContext,
  tx: Queryable,
  device: AuthenticatedDevice,
  walletId: string,
  body: CreateBody,
  members: string[],
) {
  if (!scheme(body.scheme).multiparty) throw badRequest(`${body.scheme} keys are 2-of-2: use dkls23 or FROST`);
  const threshold = body.threshold ?? 2;
  if (members.length < 2 || threshold > members.length)
    throw badRequest(`a ${threshold}-of-${members.length} wallet is not possible`);
  const quorum = { t: threshold, n: members.length };
  const relay = await openMembersRun(
    ctx,
    tx,
    device,
    { walletId, kind: "keygen", purpose: `keygen of wallet ${body.name}`, members },
    (sid, index) => scheme(body.scheme).keygen(sid, index, quorum),
  );
  return {
    reply: {
      relayId: relay.id,
      sid: Buffer.from(relay.sid).toString("hex"),
      threshold,
      members: await memberViews(ctx, tx, members),
    },
  };
}

export function walletRoutes(app: FastifyInstance, ctx: ProviderContext): void {
  app.post(
    "/v1/wallets",
    {
      schema: {
        summary: "Create a hybrid 2-of-2 wallet, or a t-of-n wallet among the account's devices (`members`)",
        body: {
          type: "object",
          additionalProperties: false,
          required: ["name", "scheme"],
          properties: {
            name: { type: "string", minLength: 1, maxLength: 64 },
            scheme: { type: "string", enum: [...SCHEME_NAMES] },
            policy: { type: "array", maxItems: 100, items: freeObject },
            members: { type: "array", minItems: 1, maxItems: 15, items: { type: "string", pattern: "^[0-9a-f]{32}$" } },
            threshold: { type: "integer", minimum: 2, maximum: 16 },
            provider: { type: "boolean" },
          },
        },
        response: {
          201: {
            type: "object",
            properties: {
              walletId: { type: "string" },
              session: sessionSchema,
              relayId: { type: "string" },
              sid: { type: "string" },
              threshold: { type: "integer" },
              members: { type: "array", items: freeObject },
            },
          },
          "4xx": errorSchema,
        },
      },
    },
    async (request, reply) => {
      const device = await authenticate(ctx, request);
      const body = request.body as CreateBody;
      const policy: Policy = body.policy === undefined ? DEFAULT_POLICY : parsePolicy(body.policy);
      await refuseUnenforceablePolicy(ctx.db, device.accountId, policy);
      const walletId = randomUUID();
      const created = await ctx.db.transaction(async (tx) => {
        const [taken] = await tx.query<{ state: string }>(
          "SELECT state FROM wallets WHERE account_id = $1 AND name = $2 AND state <> 'abandoned'",
          [device.accountId, body.name],
        );
        if (taken !== undefined)
          throw conflict(
            taken.state === "creating" || taken.state === "failed"
              ? `a wallet named ${body.name} exists whose key generation never finished: delete it to use the name again`
              : `a wallet named ${body.name} exists`,
          );
        const members = body.members && [...body.members, ...(body.provider === false ? [] : [ctx.identityId])];
        await tx.query(
          "INSERT INTO wallets (id, account_id, name, scheme, state, policy, threshold, members, created_ms) VALUES ($1, $2, $3, $4, 'creating', $5, $6, $7, $8)",
          [
            walletId,
            device.accountId,
            body.name,
            body.scheme,
            canonicalJson(policy),
            body.threshold ?? 2,
            members ? JSON.stringify(members) : null,
            ctx.now(),
          ],
        );
        await appendAudit(tx, {
          chain: device.accountId,
          atMs: ctx.now(),
          actor: device.id,
          action: "wallet.requested",
          details: {
            wallet: walletId,
            name: body.name,
            scheme: body.scheme,
            policy,
            ...(members && { members, threshold: body.threshold }),
          },
        });
        return members
          ? createMultiparty(ctx, tx, device, walletId, body, members)
          : createHybrid(ctx, tx, device, walletId, body);
      });
      if ("party" in created) ctx.parties.put(created.reply.session.sessionId, 0, created.party);
      return reply.code(201).send({ walletId, ...created.reply });
    },
  );

  app.post(
    "/v1/wallets/:id/confirm",
    {
      schema: {
        summary: "A member device of a t-of-n wallet reports the public key its keygen produced",
        params: uuidParams,
        body: {
          type: "object",
          additionalProperties: false,
          required: ["publicKey"],
          properties: { publicKey: { type: "string", pattern: "^([0-9a-f]{2}){32,33}$" } },
        },
        response: { 200: { type: "object", properties: { state: { type: "string" } } }, "4xx": errorSchema },
      },
    },
    async (request) => {
      const device = await authenticate(ctx, request);
      const { id } = request.params as { id: string };
      const publicKey = hexToBytes((request.body as { publicKey: string }).publicKey);
      return ctx.db.transaction(async (tx) => {
        const wallet = await findWallet(tx, id, device.accountId, { lock: true });
        if (wallet.members === null || !(JSON.parse(wallet.members) as string[]).includes(device.id))
          throw forbidden("only a member device of a t-of-n wallet confirms its key");
        if (wallet.state !== "creating") throw conflict(`wallet is ${wallet.state}`);
        const inserted = await tx.query(
          "INSERT INTO wallet_confirmations (wallet_id, device_id, public_key, at_ms) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING device_id",
          [id, device.id, publicKey, ctx.now()],
        );
        if (inserted.length === 0) throw conflict("this device already confirmed");
        await activateIfAgreed(ctx, tx, { accountId: device.accountId, actor: device.id, walletId: id });
        const [after] = await tx.query<{ state: string }>("SELECT state FROM wallets WHERE id = $1", [id]);
        return { state: (after as { state: string }).state };
      });
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
        threshold: number;
        members: string | null;
        epoch: number;
      }>(
        "SELECT id, name, scheme, state, public_key, threshold, members, epoch FROM wallets WHERE account_id = $1 AND state <> 'abandoned' ORDER BY created_ms",
        [device.accountId],
      );
      return {
        wallets: rows.map((w) => ({
          id: w.id,
          name: w.name,
          scheme: w.scheme,
          state: w.state,
          publicKey: w.public_key === null ? null : Buffer.from(w.public_key).toString("hex"),
          threshold: w.threshold,
          epoch: w.epoch,
          members: w.members === null ? null : (JSON.parse(w.members) as string[]),
        })),
      };
    },
  );

  app.get(
    "/v1/wallets/:id",
    {
      schema: {
        summary: "One wallet; a t-of-n wallet with its members' identity keys in party order",
        params: uuidParams,
        response: { "4xx": errorSchema },
      },
    },
    async (request) => {
      const device = await authenticate(ctx, request);
      const wallet = await findWallet(ctx.db, (request.params as { id: string }).id, device.accountId);
      const change = await findKeyChange(ctx.db, wallet.id);
      return {
        id: wallet.id,
        name: wallet.name,
        scheme: wallet.scheme,
        state: wallet.state,
        publicKey: wallet.public_key === null ? null : Buffer.from(wallet.public_key).toString("hex"),
        epoch: wallet.epoch,
        threshold: wallet.threshold,
        members:
          wallet.members === null ? null : await memberViews(ctx, ctx.db, JSON.parse(wallet.members) as string[]),
        // The key change under way, for the devices that must take part in it.
        change:
          change === undefined
            ? null
            : {
                epoch: change.epoch,
                kind: change.kind,
                threshold: change.threshold,
                relayId: change.relay_id,
                createdBy: change.created_by,
                members:
                  change.members === null
                    ? null
                    : await memberViews(ctx, ctx.db, JSON.parse(change.members) as string[]),
              },
      };
    },
  );

  app.delete(
    "/v1/wallets/:id",
    {
      schema: {
        summary:
          "Delete a wallet whose key generation never finished (any device of the account): its name is free again and its key generation ends",
        params: uuidParams,
        response: {
          200: { type: "object", properties: { walletId: { type: "string" }, name: { type: "string" } } },
          "4xx": errorSchema,
        },
      },
    },
    async (request) => {
      const device = await authenticate(ctx, request);
      const { id } = request.params as { id: string };
      return ctx.db.transaction((tx) => abandonWallet(ctx, tx, device, id));
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
