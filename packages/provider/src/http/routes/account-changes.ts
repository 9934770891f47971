/**
 * The account's guarded changes (see `account/guarded-changes.ts`): any active device lists and
 * cancels them; the mailed one-time token cancels its change without a device, so that an owner
 * whose every device is lost or stolen can still stop a thief's change from the mailbox. A
 * revocation of another device is undone only with its token (`devices/revoke.ts`).
 */
import { AccountChange, AccountChangeCancelToken, AccountChangeList, ErrorBody, UuidParams } from "@keyshard/api";
import { cancelChangeById, cancelChangeByToken, changeView, pendingChanges } from "../../account/guarded-changes.js";
import type { ProviderContext } from "../../context.js";
import type { App } from "../app.js";
import { codeRateLimit } from "../rate-limits.js";

export function accountChangeRoutes(app: App, ctx: ProviderContext): void {
  app.get(
    "/v1/account-changes",
    {
      config: { auth: ["active"] },
      schema: {
        summary: "The account's security changes still waiting out their delay",
        response: { 200: AccountChangeList, "4xx": ErrorBody },
      },
    },
    async (request) => ({ changes: (await pendingChanges(ctx.db, request.device.accountId)).map(changeView) }),
  );

  app.post(
    "/v1/account-changes/:id/cancel",
    {
      config: { auth: ["active"] },
      schema: {
        summary:
          "Any active device of the account cancels a waiting security change (not a revocation: only its mailed token undoes one, 403 `token-only-change`)",
        params: UuidParams,
        response: { 200: AccountChange, "4xx": ErrorBody },
      },
    },
    async (request) => changeView(await cancelChangeById(ctx, request.device, request.params.id)),
  );

  app.post(
    "/v1/account-changes/cancel",
    {
      // Unsigned: the token is the credential. Limited like the other routes that check codes.
      config: { rateLimit: codeRateLimit(ctx) },
      schema: {
        summary: "Cancel a waiting security change with the one-time token mailed to the account",
        body: AccountChangeCancelToken,
        response: { 200: AccountChange, "4xx": ErrorBody },
      },
    },
    async (request) => changeView(await cancelChangeByToken(ctx, request.body.token)),
  );
}
