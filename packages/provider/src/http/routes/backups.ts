/** Backup by request of a hybrid wallet's provider share (see `wallets/backups.ts`). */
import { Backup, BackupRequest, ErrorBody, UuidParams } from "@keyshard/api";
import { hexToBytes } from "@noble/hashes/utils.js";
import type { ProviderContext } from "../../context.js";
import { backupStatus, cancelBackup, downloadBackup, requestBackup } from "../../wallets/backups.js";
import type { App } from "../app.js";

export function backupRoutes(app: App, ctx: ProviderContext): void {
  app.post(
    "/v1/wallets/:id/backup",
    {
      config: { auth: ["active"] },
      schema: {
        summary:
          "Ask for the provider's share, sealed to a recovery key, after the backup delay (needs the TOTP code where one is enrolled)",
        params: UuidParams,
        body: BackupRequest,
        response: { 201: Backup, "4xx": ErrorBody },
      },
    },
    async (request, reply) => {
      const { recoveryKey, totp } = request.body;
      const backup = await requestBackup(ctx, request.device, request.params.id, hexToBytes(recoveryKey), totp);
      return reply.code(201).send(backup);
    },
  );

  app.get(
    "/v1/wallets/:id/backup",
    {
      config: { auth: ["active"] },
      schema: {
        summary: "The wallet's latest backup request",
        params: UuidParams,
        response: { 200: Backup, "4xx": ErrorBody },
      },
    },
    (request) => backupStatus(ctx, request.device, request.params.id),
  );

  app.post(
    "/v1/wallets/:id/backup/cancel",
    {
      config: { auth: ["active"] },
      schema: {
        summary: "Any active device of the account cancels a waiting backup",
        params: UuidParams,
        response: { 200: Backup, "4xx": ErrorBody },
      },
    },
    (request) => cancelBackup(ctx, request.device, request.params.id),
  );

  app.post(
    "/v1/wallets/:id/backup/download",
    {
      config: { auth: ["active"] },
      schema: {
        summary: "Once the delay has passed: the share sealed to the recovery key; the wallet becomes self-custodied",
        params: UuidParams,
        response: { 200: Backup, "4xx": ErrorBody },
      },
    },
    (request) => downloadBackup(ctx, request.device, request.params.id),
  );
}
