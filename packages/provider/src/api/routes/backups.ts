/** Backup by request of a hybrid wallet's provider share (see `wallets/backups.ts`). */
import { hexToBytes } from "@noble/hashes/utils.js";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { requireSecondFactor } from "../../policy/account-totp.js";
import type { Queryable } from "../../store/database.js";
import { findWallet, type WalletRow } from "../../store/wallets.js";
import { type BackupView, backupStatus, cancelBackup, downloadBackup, requestBackup } from "../../wallets/backups.js";
import { type AuthenticatedDevice, authenticate } from "../auth.js";
import type { ProviderContext } from "../context.js";
import { errorSchema } from "../errors.js";
import { uuidParams } from "../schemas.js";

const backupSchema = {
  type: "object",
  properties: {
    id: { type: "string" },
    walletId: { type: "string" },
    status: { type: "string" },
    requestedBy: { type: "string" },
    requestedAt: { type: "string" },
    readyAt: { type: "string" },
    box: { type: "string" },
  },
} as const;

type Change = (
  ctx: ProviderContext,
  tx: Queryable,
  device: AuthenticatedDevice,
  wallet: WalletRow,
) => Promise<BackupView>;

export function backupRoutes(app: FastifyInstance, ctx: ProviderContext): void {
  /**
   * Runs `change` on the request's wallet under its lock, then sends the mail it queued;
   * `secondFactor`: the TOTP code the change needs where the account has one in force.
   */
  async function changeBackup(
    request: FastifyRequest,
    change: Change,
    secondFactor?: { code: string | undefined },
  ): Promise<BackupView> {
    const device = await authenticate(ctx, request);
    if (secondFactor !== undefined) await requireSecondFactor(ctx, device, secondFactor.code);
    const backup = await ctx.db.transaction(async (tx) => {
      const wallet = await findWallet(tx, (request.params as { id: string }).id, device.accountId, { lock: true });
      return change(ctx, tx, device, wallet);
    });
    ctx.notifier.kick();
    return backup;
  }

  app.post(
    "/v1/wallets/:id/backup",
    {
      schema: {
        summary:
          "Ask for the provider's share, sealed to a recovery key, after the backup delay (needs the TOTP code where one is enrolled)",
        params: uuidParams,
        body: {
          type: "object",
          additionalProperties: false,
          required: ["recoveryKey"],
          properties: {
            recoveryKey: { type: "string", pattern: "^[0-9a-f]{64}$" },
            totp: { type: "string", pattern: "^[0-9]{6}$" },
          },
        },
        response: { 201: backupSchema, "4xx": errorSchema },
      },
    },
    async (request, reply) => {
      const body = request.body as { recoveryKey: string; totp?: string };
      const recoveryKey = hexToBytes(body.recoveryKey);
      const backup = await changeBackup(
        request,
        (c, tx, device, wallet) => requestBackup(c, tx, device, wallet, recoveryKey),
        { code: body.totp },
      );
      return reply.code(201).send(backup);
    },
  );

  app.get(
    "/v1/wallets/:id/backup",
    {
      schema: {
        summary: "The wallet's latest backup request",
        params: uuidParams,
        response: { 200: backupSchema, "4xx": errorSchema },
      },
    },
    async (request) => {
      const device = await authenticate(ctx, request);
      const wallet = await findWallet(ctx.db, (request.params as { id: string }).id, device.accountId);
      return backupStatus(ctx.db, wallet);
    },
  );

  app.post(
    "/v1/wallets/:id/backup/cancel",
    {
      schema: {
        summary: "Any active device of the account cancels a waiting backup",
        params: uuidParams,
        response: { 200: backupSchema, "4xx": errorSchema },
      },
    },
    (request) => changeBackup(request, cancelBackup),
  );

  app.post(
    "/v1/wallets/:id/backup/download",
    {
      schema: {
        summary: "Once the delay has passed: the share sealed to the recovery key; the wallet becomes self-custodied",
        params: uuidParams,
        response: { 200: backupSchema, "4xx": errorSchema },
      },
    },
    (request) => changeBackup(request, downloadBackup),
  );
}
