/** The caller's own account: its devices and its audit chain. Nothing here reaches another account. */
import { endpoints } from "@keyshard/api";
import { accountWithDevices } from "../../account/account.js";
import { readAudit, verifyAudit } from "../../audit/log.js";
import type { ProviderContext } from "../../context.js";
import type { App } from "../app.js";
import { route } from "../endpoint.js";

export function accountRoutes(app: App, ctx: ProviderContext): void {
  route(
    app,
    endpoints.account,
    { config: { auth: ["active"] }, summary: "The account of the signing device, with its devices" },
    (request) => accountWithDevices(ctx.db, request.device.accountId),
  );

  route(
    app,
    endpoints.audit,
    { config: { auth: ["active"] }, summary: "The account's audit chain, oldest first" },
    async (request) => ({ entries: await readAudit(ctx.db, request.device.accountId) }),
  );

  route(
    app,
    endpoints.verifyAudit,
    {
      config: { auth: ["active"] },
      summary: "Recompute the account's audit chain and name the first broken link",
    },
    (request) => verifyAudit(ctx.db, request.device.accountId),
  );
}
