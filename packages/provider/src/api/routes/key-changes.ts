/**
 * Refresh and reshare. A hybrid wallet refreshes over /v1/sessions with the device that holds
 * its other share; a t-of-n wallet refreshes or reshares over the relay, every member of the new
 * epoch taking part (the provider too when it is one). Each device member then confirms its new
 * share, and the wallet moves to the new epoch once all have (see `wallets/key-changes.ts`).
 */
import { randomUUID } from "node:crypto";
import { reshareMembers, scheme } from "@keyshard/transport";
import { hexToBytes } from "@noble/hashes/utils.js";
import type { FastifyInstance } from "fastify";
import { openMembersRun } from "../../relay/provider-party.js";
import { startSession } from "../../sessions/driver.js";
import type { Queryable } from "../../store/database.js";
import { findWallet, type WalletRow } from "../../store/wallets.js";
import { beginKeyChange, confirmKeyChange, planReshare } from "../../wallets/key-changes.js";
import { memberViews } from "../../wallets/members.js";
import { type AuthenticatedDevice, authenticate } from "../auth.js";
import type { ProviderContext } from "../context.js";
import { badRequest, errorSchema, forbidden } from "../errors.js";
import { freeObject, sessionSchema, uuidParams } from "../schemas.js";

const DEVICE_ID = { type: "string", pattern: "^[0-9a-f]{32}$" } as const;

interface ChangeBody {
  /** The device members of the new epoch, in party order (default: the current ones). */
  devices?: string[];
  threshold?: number;
}

function sharedShare(ctx: ProviderContext, wallet: WalletRow): unknown {
  if (wallet.share === null) return null;
  return ctx.shares.get(wallet.id, wallet.scheme, new Uint8Array(wallet.share));
}

async function refreshHybrid(ctx: ProviderContext, tx: Queryable, device: AuthenticatedDevice, wallet: WalletRow) {
  const who = { accountId: device.accountId, actor: device.id };
  const epoch = await beginKeyChange(ctx, tx, who, wallet, { kind: "refresh", members: null, threshold: 2 });
  const sid = crypto.getRandomValues(new Uint8Array(32));
  const { reply: session, party } = await startSession(
    ctx,
    tx,
    { id: randomUUID(), accountId: device.accountId, walletId: wallet.id, kind: "refresh", epoch, sid },
    (claimed) => scheme(wallet.scheme).refresh(sharedShare(ctx, wallet), claimed),
  );
  return { reply: { epoch, kind: "refresh", session: { ...session, sid: Buffer.from(sid).toString("hex") } }, party };
}

async function changeMultiparty(
  ctx: ProviderContext,
  tx: Queryable,
  device: AuthenticatedDevice,
  wallet: WalletRow,
  body: ChangeBody,
) {
  const current = JSON.parse(wallet.members as string) as string[];
  if (!current.includes(device.id)) throw forbidden("only a member device changes a wallet's key");
  const members = planReshare(ctx, wallet, {
    devices: body.devices ?? current.filter((m) => m !== ctx.identityId),
    threshold: body.threshold ?? wallet.threshold,
  });
  const threshold = body.threshold ?? wallet.threshold;
  const kind = members.join() === current.join() && threshold === wallet.threshold ? "refresh" : "reshare";
  const who = { accountId: device.accountId, actor: device.id };
  const epoch = await beginKeyChange(ctx, tx, who, wallet, { kind, members, threshold });
  const relay = await openMembersRun(
    ctx,
    tx,
    device,
    { walletId: wallet.id, kind: "reshare", epoch, purpose: `${kind} of wallet ${wallet.name}`, members },
    (sid, index) =>
      scheme(wallet.scheme).reshare(sharedShare(ctx, wallet), {
        sid,
        members: reshareMembers(current, members),
        index,
        threshold,
      }),
  );
  await tx.query("UPDATE key_changes SET relay_id = $3 WHERE wallet_id = $1 AND epoch = $2", [
    wallet.id,
    epoch,
    relay.id,
  ]);
  return {
    reply: {
      epoch,
      kind,
      relayId: relay.id,
      sid: Buffer.from(relay.sid).toString("hex"),
      threshold,
      members: await memberViews(ctx, tx, members),
      previous: await memberViews(ctx, tx, current),
    },
  };
}

export function keyChangeRoutes(app: FastifyInstance, ctx: ProviderContext): void {
  app.post(
    "/v1/wallets/:id/key-changes",
    {
      schema: {
        summary:
          "Refresh a wallet's shares, or reshare a t-of-n wallet to other devices or another threshold (same key)",
        params: uuidParams,
        body: {
          type: "object",
          additionalProperties: false,
          properties: {
            devices: { type: "array", minItems: 1, maxItems: 15, items: DEVICE_ID },
            threshold: { type: "integer", minimum: 2, maximum: 16 },
          },
        },
        response: {
          201: {
            type: "object",
            properties: {
              epoch: { type: "integer" },
              kind: { type: "string" },
              session: sessionSchema,
              relayId: { type: "string" },
              sid: { type: "string" },
              threshold: { type: "integer" },
              members: { type: "array", items: freeObject },
              previous: { type: "array", items: freeObject },
            },
          },
          "4xx": errorSchema,
        },
      },
    },
    async (request, reply) => {
      const device = await authenticate(ctx, request);
      const { id } = request.params as { id: string };
      const body = (request.body ?? {}) as ChangeBody;
      const created = await ctx.db.transaction(async (tx) => {
        const wallet = await findWallet(tx, id, device.accountId, { lock: true, active: true });
        if (wallet.members !== null) return changeMultiparty(ctx, tx, device, wallet, body);
        if (body.devices !== undefined || body.threshold !== undefined)
          throw badRequest("a hybrid wallet is 2-of-2 with the provider: it refreshes, it does not reshare");
        return refreshHybrid(ctx, tx, device, wallet);
      });
      if ("party" in created) ctx.parties.put(created.reply.session.sessionId, 0, created.party);
      return reply.code(201).send(created.reply);
    },
  );

  app.post(
    "/v1/wallets/:id/key-changes/:epoch/confirm",
    {
      schema: {
        summary: "A device of the new epoch reports that it keeps its new share",
        params: {
          type: "object",
          required: ["id", "epoch"],
          properties: {
            id: { type: "string", format: "uuid" },
            epoch: { type: "string", pattern: "^[1-9][0-9]{0,8}$" },
          },
        },
        body: {
          type: "object",
          additionalProperties: false,
          required: ["publicKey"],
          properties: { publicKey: { type: "string", pattern: "^([0-9a-f]{2}){32,33}$" } },
        },
        response: {
          200: { type: "object", properties: { epoch: { type: "integer" }, committed: { type: "boolean" } } },
          "4xx": errorSchema,
        },
      },
    },
    async (request) => {
      const device = await authenticate(ctx, request);
      const { id } = request.params as { id: string };
      const epoch = Number((request.params as { epoch: string }).epoch);
      const publicKey = hexToBytes((request.body as { publicKey: string }).publicKey);
      return ctx.db.transaction(async (tx) => {
        const wallet = await findWallet(tx, id, device.accountId, { lock: true });
        return confirmKeyChange(
          ctx,
          tx,
          { accountId: device.accountId, actor: device.id, walletId: wallet.id, epoch },
          publicKey,
        );
      });
    },
  );
}
