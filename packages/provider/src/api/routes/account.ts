/** The caller's own account: its devices and its audit chain. Nothing here reaches another account. */
import type { FastifyInstance } from "fastify";
import { readAudit, verifyAudit } from "../../audit/log.js";
import { authenticate } from "../auth.js";
import type { ProviderContext } from "../context.js";
import { errorSchema } from "../errors.js";

export function accountRoutes(app: FastifyInstance, ctx: ProviderContext): void {
  app.get(
    "/v1/account",
    {
      schema: {
        summary: "The account of the signing device, with its devices",
        response: {
          200: {
            type: "object",
            properties: {
              id: { type: "string" },
              email: { type: "string" },
              devices: {
                type: "array",
                items: {
                  type: "object",
                  properties: { id: { type: "string" }, name: { type: "string" }, state: { type: "string" } },
                },
              },
            },
          },
          "4xx": errorSchema,
        },
      },
    },
    async (request) => {
      const device = await authenticate(ctx, request);
      const [account] = await ctx.db.query<{ email: string }>("SELECT email FROM accounts WHERE id = $1", [
        device.accountId,
      ]);
      // An unverified device is anyone's registration under the address, not yet the account's.
      const devices = await ctx.db.query(
        "SELECT id, name, state FROM devices WHERE account_id = $1 AND state <> 'unverified' ORDER BY created_ms",
        [device.accountId],
      );
      return { id: device.accountId, email: account?.email, devices };
    },
  );

  app.get(
    "/v1/audit",
    { schema: { summary: "The account's audit chain, oldest first", response: { "4xx": errorSchema } } },
    async (request) => {
      const device = await authenticate(ctx, request);
      return { entries: await readAudit(ctx.db, device.accountId) };
    },
  );

  app.get(
    "/v1/audit/verify",
    {
      schema: {
        summary: "Recompute the account's audit chain and name the first broken link",
        response: {
          200: {
            type: "object",
            properties: {
              ok: { type: "boolean" },
              length: { type: "integer" },
              firstBroken: { type: "integer" },
              head: { type: "string" },
            },
          },
          "4xx": errorSchema,
        },
      },
    },
    async (request) => {
      const device = await authenticate(ctx, request);
      return verifyAudit(ctx.db, device.accountId);
    },
  );
}
