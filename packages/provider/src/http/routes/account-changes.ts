/**
 * The account's guarded changes (see `account/guarded-changes.ts`): any active device lists and
 * cancels them; the mailed one-time token cancels its change without a device, so that an owner
 * whose every device is lost or stolen can still stop a thief's change from the mailbox. A
 * revocation of another device is undone only with its token (`devices/revoke.ts`).
 */
import { endpoints } from "@keyshard/api";
import { cancelChangeById, cancelChangeByToken, changeView } from "../../account/guarded-changes.js";
import type { ProviderContext } from "../../context.js";
import { pendingChanges } from "../../store/account-changes.js";
import type { App } from "../app.js";
import { route } from "../endpoint.js";
import { codeRateLimit } from "../rate-limits.js";

export function accountChangeRoutes(app: App, ctx: ProviderContext): void {
  route(
    app,
    endpoints.accountChanges,
    { config: { auth: ["active"] }, summary: "The account's security changes still waiting out their delay" },
    async (request) => ({ changes: (await pendingChanges(ctx.db, request.device.accountId)).map(changeView) }),
  );

  route(
    app,
    endpoints.cancelAccountChange,
    {
      config: { auth: ["active"] },
      summary:
        "Any active device of the account cancels a waiting security change (not a revocation: only its mailed token undoes one, 403 `token-only-change`)",
    },
    async (request) => changeView(await cancelChangeById(ctx, request.device, request.params.id)),
  );

  route(
    app,
    endpoints.cancelAccountChangeByToken,
    {
      // Unsigned: the token is the credential. Limited like the other routes that check codes.
      config: { rateLimit: codeRateLimit(ctx) },
      summary: "Cancel a waiting security change with the one-time token mailed to the account",
    },
    async (request) => changeView(await cancelChangeByToken(ctx, request.body.token)),
  );
}
