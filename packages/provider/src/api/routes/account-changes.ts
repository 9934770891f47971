/**
 * The account's guarded changes (see `account/guarded-changes.ts`): any active device lists and
 * cancels them; the mailed one-time token cancels its change without a device, so that an owner
 * whose every device is lost or stolen can still stop a thief's change from the mailbox. A
 * revocation of another device is undone only with its token (`devices/revoke.ts`).
 */
import type { FastifyInstance } from "fastify";
import { cancelChangeById, cancelChangeByToken, changeView, pendingChanges } from "../../account/guarded-changes.js";
import { announceRevocation } from "../../relay/relay.js";
import { authenticate } from "../auth.js";
import type { ProviderContext } from "../context.js";
import { errorSchema } from "../errors.js";
import { codeRateLimit } from "../rate-limits.js";
import { uuidParams } from "../schemas.js";

const changeSchema = {
  type: "object",
  properties: {
    id: { type: "string" },
    kind: { type: "string" },
    subject: { type: "string" },
    summary: { type: "string" },
    requestedBy: { type: "string" },
    requestedAt: { type: "string" },
    effectiveAt: { type: "string" },
    status: { type: "string" },
  },
} as const;

export function accountChangeRoutes(app: FastifyInstance, ctx: ProviderContext): void {
  app.get(
    "/v1/account-changes",
    {
      schema: {
        summary: "The account's security changes still waiting out their delay",
        response: {
          200: { type: "object", properties: { changes: { type: "array", items: changeSchema } } },
          "4xx": errorSchema,
        },
      },
    },
    async (request) => {
      const device = await authenticate(ctx, request);
      return { changes: (await pendingChanges(ctx.db, device.accountId)).map(changeView) };
    },
  );

  app.post(
    "/v1/account-changes/:id/cancel",
    {
      schema: {
        summary:
          "Any active device of the account cancels a waiting security change (not a revocation: only its mailed token undoes one, 403 `token-only-change`)",
        params: uuidParams,
        response: { 200: changeSchema, "4xx": errorSchema },
      },
    },
    async (request) => {
      const device = await authenticate(ctx, request);
      const change = await ctx.db.transaction((tx) =>
        cancelChangeById(ctx, tx, device, (request.params as { id: string }).id),
      );
      ctx.notifier.kick();
      return changeView(change);
    },
  );

  app.post(
    "/v1/account-changes/cancel",
    {
      // Unsigned: the token is the credential. Limited like the other routes that check codes.
      config: { rateLimit: codeRateLimit(ctx) },
      schema: {
        summary: "Cancel a waiting security change with the one-time token mailed to the account",
        body: {
          type: "object",
          additionalProperties: false,
          required: ["token"],
          properties: { token: { type: "string", maxLength: 128 } },
        },
        response: { 200: changeSchema, "4xx": errorSchema },
      },
    },
    async (request) => {
      const { token } = request.body as { token: string };
      const change = await ctx.db.transaction((tx) => cancelChangeByToken(ctx, tx, token));
      // An undone revocation revoked the device that made it: its open sockets close now.
      if (change.kind === "revocation") announceRevocation(change.requested_by);
      ctx.notifier.kick();
      return changeView(change);
    },
  );
}
