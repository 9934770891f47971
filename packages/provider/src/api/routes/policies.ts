/**
 * The account's second factor and the wallets' rules. A new TOTP (the first, or a replacement,
 * which needs the current code) counts only once its guarded change has waited out its delay
 * (see `policy/account-totp.ts`). A policy change needs a TOTP code and then waits out
 * the policy delay, cancellable by any device; allow-list entries count only after their rule's
 * cooling-off period; removals and cancellations, which only tighten, take effect at once.
 */
import type { FastifyInstance } from "fastify";
import { appendAudit } from "../../audit/log.js";
import {
  confirmTotpEnrollment,
  requireSecondFactor,
  startTotpEnrollment,
  totpEnrolled,
  verifyAccountTotp,
} from "../../policy/account-totp.js";
import {
  allowListAddress,
  currentPolicy,
  refuseUnenforceablePolicy,
  requestPolicyChange,
} from "../../policy/changes.js";
import { parsePolicy } from "../../policy/policy.js";
import { base32Secret, otpauthUri } from "../../policy/totp.js";
import { findWallet } from "../../store/wallets.js";
import { authenticate } from "../auth.js";
import type { ProviderContext } from "../context.js";
import { conflict, errorSchema, notFound } from "../errors.js";
import { codeRateLimit } from "../rate-limits.js";
import { freeObject, uuidParams } from "../schemas.js";

const CODE = { type: "string", pattern: "^[0-9]{6}$" } as const;
const allowListEntry = {
  type: "object",
  additionalProperties: false,
  required: ["chain", "address"],
  properties: {
    chain: { type: "string", enum: ["ethereum", "bitcoin", "solana"] },
    address: { type: "string", minLength: 1, maxLength: 128 },
    label: { type: "string", maxLength: 64 },
  },
} as const;

export function policyRoutes(app: FastifyInstance, ctx: ProviderContext): void {
  app.post(
    "/v1/totp",
    {
      config: { rateLimit: codeRateLimit(ctx) },
      schema: {
        summary:
          "Start TOTP enrollment: a new secret, confirmed by its first code (replacing one needs the current code); it counts once its account change has waited out its delay",
        body: { type: "object", additionalProperties: false, properties: { code: CODE } },
        response: {
          200: { type: "object", properties: { secret: { type: "string" }, uri: { type: "string" } } },
          "4xx": errorSchema,
        },
      },
    },
    async (request) => {
      const device = await authenticate(ctx, request);
      const { code } = (request.body ?? {}) as { code?: string };
      await requireSecondFactor(ctx, device, code);
      const secret = await startTotpEnrollment(ctx, device.accountId);
      const [account] = await ctx.db.query<{ email: string }>("SELECT email FROM accounts WHERE id = $1", [
        device.accountId,
      ]);
      return { secret: base32Secret(secret), uri: otpauthUri(secret, (account as { email: string }).email) };
    },
  );

  app.post(
    "/v1/totp/confirm",
    {
      config: { rateLimit: codeRateLimit(ctx) },
      schema: {
        summary:
          "Confirm TOTP enrollment with a code from the authenticator: the new TOTP counts once the account change has waited out its delay",
        body: { type: "object", additionalProperties: false, required: ["code"], properties: { code: CODE } },
        response: {
          200: {
            type: "object",
            properties: {
              enrolled: { type: "boolean" },
              changeId: { type: "string" },
              effectiveMs: { type: "integer" },
            },
          },
          "4xx": errorSchema,
        },
      },
    },
    async (request) => {
      const device = await authenticate(ctx, request);
      const { code } = request.body as { code: string };
      const change = await confirmTotpEnrollment(ctx, { id: device.accountId, actor: device.id }, code);
      return { enrolled: false, ...change };
    },
  );

  app.get(
    "/v1/wallets/:id/policy",
    {
      schema: {
        summary: "The wallet's policy in force, pending changes and the allow-list",
        params: uuidParams,
        response: {
          200: {
            type: "object",
            properties: {
              policy: { type: "array", items: freeObject },
              pending: { type: "array", items: freeObject },
              allowList: { type: "array", items: freeObject },
              totpEnrolled: { type: "boolean" },
            },
          },
          "4xx": errorSchema,
        },
      },
    },
    async (request) => {
      const device = await authenticate(ctx, request);
      const { id } = request.params as { id: string };
      return ctx.db.transaction(async (tx) => {
        const wallet = await findWallet(tx, id, device.accountId, { lock: true });
        const policy = await currentPolicy(ctx, tx, wallet);
        const pending = await tx.query<{ id: string; policy: string; requested_by: string; effective_ms: string }>(
          "SELECT id, policy, requested_by, effective_ms FROM policy_changes WHERE wallet_id = $1 AND status = 'pending' ORDER BY effective_ms",
          [id],
        );
        const listed = await tx.query<{ chain: string; address: string; label: string; added_ms: string }>(
          "SELECT chain, address, label, added_ms FROM allow_list WHERE wallet_id = $1 ORDER BY added_ms",
          [id],
        );
        return {
          policy,
          pending: pending.map((p) => ({
            changeId: p.id,
            policy: JSON.parse(p.policy),
            requestedBy: p.requested_by,
            effectiveMs: Number(p.effective_ms),
          })),
          allowList: listed.map((e) => ({
            chain: e.chain,
            address: e.address,
            label: e.label,
            addedMs: Number(e.added_ms),
          })),
          totpEnrolled: await totpEnrolled(tx, device.accountId),
        };
      });
    },
  );

  app.post(
    "/v1/wallets/:id/policy",
    {
      config: { rateLimit: codeRateLimit(ctx) },
      schema: {
        summary: "Ask for a new policy: needs a TOTP code, takes effect after the policy delay unless cancelled",
        params: uuidParams,
        body: {
          type: "object",
          additionalProperties: false,
          required: ["policy", "totp"],
          properties: { policy: { type: "array", maxItems: 100, items: freeObject }, totp: CODE },
        },
        response: {
          202: { type: "object", properties: { changeId: { type: "string" }, effectiveMs: { type: "integer" } } },
          "4xx": errorSchema,
        },
      },
    },
    async (request, reply) => {
      const device = await authenticate(ctx, request);
      const { id } = request.params as { id: string };
      const body = request.body as { policy: unknown; totp: string };
      const policy = parsePolicy(body.policy);
      await findWallet(ctx.db, id, device.accountId, { active: true });
      await refuseUnenforceablePolicy(ctx.db, device.accountId, policy);
      await verifyAccountTotp(ctx, { id: device.accountId, actor: device.id }, body.totp);
      const change = await ctx.db.transaction(async (tx) =>
        requestPolicyChange(ctx, tx, await findWallet(tx, id, device.accountId, { lock: true }), device.id, policy),
      );
      ctx.notifier.kick();
      return reply.code(202).send(change);
    },
  );

  app.post(
    "/v1/policy-changes/:id/cancel",
    {
      schema: {
        summary: "Any device of the account cancels a pending policy change",
        params: uuidParams,
        response: { 200: { type: "object", properties: { cancelled: { type: "boolean" } } }, "4xx": errorSchema },
      },
    },
    async (request) => {
      const device = await authenticate(ctx, request);
      const { id } = request.params as { id: string };
      await ctx.db.transaction(async (tx) => {
        const [change] = await tx.query<{ wallet_id: string; status: string }>(
          `SELECT c.wallet_id, c.status FROM policy_changes c JOIN wallets w ON w.id = c.wallet_id
           WHERE c.id = $1 AND w.account_id = $2`,
          [id, device.accountId],
        );
        if (change === undefined) throw notFound("no such policy change in this account");
        await findWallet(tx, change.wallet_id, device.accountId, { lock: true });
        const cancelled = await tx.query(
          "UPDATE policy_changes SET status = 'cancelled' WHERE id = $1 AND status = 'pending' AND effective_ms > $2 RETURNING id",
          [id, ctx.now()],
        );
        if (cancelled.length === 0) throw conflict("the change is no longer pending");
        await appendAudit(tx, {
          chain: device.accountId,
          atMs: ctx.now(),
          actor: device.id,
          action: "policy.change-cancelled",
          details: { change: id },
        });
      });
      return { cancelled: true };
    },
  );

  app.post(
    "/v1/wallets/:id/allow-list",
    {
      schema: {
        summary:
          "Add a destination to the wallet's allow-list (counts after its rule's cooling-off; the account is mailed)",
        params: uuidParams,
        body: allowListEntry,
        response: {
          201: { type: "object", properties: { address: { type: "string" }, addedMs: { type: "integer" } } },
          "4xx": errorSchema,
        },
      },
    },
    async (request, reply) => {
      const device = await authenticate(ctx, request);
      const { id } = request.params as { id: string };
      const body = request.body as { chain: string; address: string; label?: string };
      const address = allowListAddress(body.chain, body.address);
      const addedMs = ctx.now();
      await ctx.db.transaction(async (tx) => {
        const wallet = await findWallet(tx, id, device.accountId, { lock: true });
        const inserted = await tx.query(
          `INSERT INTO allow_list (wallet_id, chain, address, label, added_by, added_ms) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT DO NOTHING RETURNING address`,
          [id, body.chain, address, body.label ?? "", device.id, addedMs],
        );
        if (inserted.length === 0) throw conflict("the address is already on the allow-list");
        await appendAudit(tx, {
          chain: device.accountId,
          atMs: addedMs,
          actor: device.id,
          action: "allow-list.added",
          details: { wallet: id, chain: body.chain, address },
        });
        await ctx.notifier.queueForAccount(
          tx,
          device.accountId,
          {
            subject: `keyshard: new allow-listed address on wallet ${wallet.name}`,
            body: `Device ${device.id} added ${body.chain} address ${address} to the allow-list of wallet ${wallet.name}.\nIf this was not you, remove it from another device before its cooling-off period ends.`,
          },
          addedMs,
        );
      });
      ctx.notifier.kick();
      return reply.code(201).send({ address, addedMs });
    },
  );

  app.post(
    "/v1/wallets/:id/allow-list/remove",
    {
      schema: {
        summary: "Remove a destination from the wallet's allow-list, at once",
        params: uuidParams,
        body: allowListEntry,
        response: { 200: { type: "object", properties: { removed: { type: "boolean" } } }, "4xx": errorSchema },
      },
    },
    async (request) => {
      const device = await authenticate(ctx, request);
      const { id } = request.params as { id: string };
      const body = request.body as { chain: string; address: string };
      const address = allowListAddress(body.chain, body.address);
      await ctx.db.transaction(async (tx) => {
        await findWallet(tx, id, device.accountId, { lock: true });
        const removed = await tx.query(
          "DELETE FROM allow_list WHERE wallet_id = $1 AND chain = $2 AND address = $3 RETURNING address",
          [id, body.chain, address],
        );
        if (removed.length === 0) throw notFound("the address is not on the allow-list");
        await appendAudit(tx, {
          chain: device.accountId,
          atMs: ctx.now(),
          actor: device.id,
          action: "allow-list.removed",
          details: { wallet: id, chain: body.chain, address },
        });
      });
      return { removed: true };
    },
  );
}
