/** Backup by request of a hybrid wallet's provider share (see `wallets/backups.ts`). */
import { endpoints } from "@keyshard/api";
import { hexToBytes } from "@noble/hashes/utils.js";
import type { ProviderContext } from "../../context.js";
import { backupStatus, cancelBackup, downloadBackup, requestBackup } from "../../wallets/backups.js";
import type { App } from "../app.js";
import { route } from "../endpoint.js";

export function backupRoutes(app: App, ctx: ProviderContext): void {
  route(
    app,
    endpoints.requestBackup,
    {
      config: { auth: ["active"] },
      summary:
        "Ask for the provider's share, sealed to a recovery key, after the backup delay (needs the TOTP code where one is enrolled)",
    },
    (request) => {
      const { recoveryKey, totp } = request.body;
      return requestBackup(ctx, request.device, request.params.id, hexToBytes(recoveryKey), totp);
    },
  );

  route(
    app,
    endpoints.backupStatus,
    { config: { auth: ["active"] }, summary: "The wallet's latest backup request" },
    (request) => backupStatus(ctx, request.device, request.params.id),
  );

  route(
    app,
    endpoints.cancelBackup,
    { config: { auth: ["active"] }, summary: "Any active device of the account cancels a waiting backup" },
    (request) => cancelBackup(ctx, request.device, request.params.id),
  );

  route(
    app,
    endpoints.downloadBackup,
    {
      config: { auth: ["active"] },
      summary: "Once the delay has passed: the share sealed to the recovery key; the wallet becomes self-custodied",
    },
    (request) => downloadBackup(ctx, request.device, request.params.id),
  );
}
