/** The caller's own account: its devices and its audit chain. Nothing here reaches another account. */
import { Account, AuditVerification, ErrorBody } from "@keyshard/api";
import { accountWithDevices } from "../../account/account.js";
import { readAudit, verifyAudit } from "../../audit/log.js";
import type { ProviderContext } from "../../context.js";
import type { App } from "../app.js";

export function accountRoutes(app: App, ctx: ProviderContext): void {
  app.get(
    "/v1/account",
    {
      config: { auth: ["active"] },
      schema: {
        summary: "The account of the signing device, with its devices",
        response: { 200: Account, "4xx": ErrorBody },
      },
    },
    (request) => accountWithDevices(ctx.db, request.device.accountId),
  );

  app.get<{ Reply: object }>(
    "/v1/audit",
    {
      config: { auth: ["active"] },
      schema: { summary: "The account's audit chain, oldest first", response: { "4xx": ErrorBody } },
    },
    async (request) => ({ entries: await readAudit(ctx.db, request.device.accountId) }),
  );

  app.get(
    "/v1/audit/verify",
    {
      config: { auth: ["active"] },
      schema: {
        summary: "Recompute the account's audit chain and name the first broken link",
        response: { 200: AuditVerification, "4xx": ErrorBody },
      },
    },
    (request) => verifyAudit(ctx.db, request.device.accountId),
  );
}
