/**
 * The account's second factor and the wallets' rules over HTTP. A new TOTP (the first, or a
 * replacement, which needs the current code) counts only once its guarded change has waited out
 * its delay (see `policy/account-totp.ts`); a wallet's rules change as `wallets/rules.ts` says.
 */
import {
  AllowListAdded,
  AllowListEntry,
  AllowListRemoved,
  ErrorBody,
  PolicyChangeAccepted,
  PolicyChangeCancelled,
  PolicyChangeRequest,
  TotpBody,
  TotpConfirmed,
  TotpSecret,
  TotpStart,
  UuidParams,
  WalletRules,
} from "@keyshard/api";
import type { ProviderContext } from "../../context.js";
import { confirmTotpEnrollment, requireSecondFactor, startTotpEnrollment } from "../../policy/account-totp.js";
import { base32Secret, otpauthUri } from "../../policy/totp.js";
import { accountEmail } from "../../store/accounts.js";
import {
  addToAllowList,
  cancelPolicyChange,
  changeWalletPolicy,
  removeFromAllowList,
  walletRules,
} from "../../wallets/rules.js";
import type { App } from "../app.js";
import { codeRateLimit } from "../rate-limits.js";

export function policyRoutes(app: App, ctx: ProviderContext): void {
  app.post(
    "/v1/totp",
    {
      config: { rateLimit: codeRateLimit(ctx), auth: ["active"] },
      schema: {
        summary:
          "Start TOTP enrollment: a new secret, confirmed by its first code (replacing one needs the current code); it counts once its account change has waited out its delay",
        body: TotpStart,
        response: { 200: TotpSecret, "4xx": ErrorBody },
      },
    },
    async (request) => {
      const { device } = request;
      // The body is optional: none for a first enrollment.
      await requireSecondFactor(ctx, device, request.body?.code);
      const secret = await startTotpEnrollment(ctx, device.accountId);
      const email = (await accountEmail(ctx.db, device.accountId)) as string;
      return { secret: base32Secret(secret), uri: otpauthUri(secret, email) };
    },
  );

  app.post(
    "/v1/totp/confirm",
    {
      config: { rateLimit: codeRateLimit(ctx), auth: ["active"] },
      schema: {
        summary:
          "Confirm TOTP enrollment with a code from the authenticator: the new TOTP counts once the account change has waited out its delay",
        body: TotpBody,
        response: { 200: TotpConfirmed, "4xx": ErrorBody },
      },
    },
    async (request) => {
      const { device } = request;
      const change = await confirmTotpEnrollment(ctx, { id: device.accountId, actor: device.id }, request.body.code);
      return { enrolled: false, ...change };
    },
  );

  app.get(
    "/v1/wallets/:id/policy",
    {
      config: { auth: ["active"] },
      schema: {
        summary: "The wallet's policy in force, pending changes and the allow-list",
        params: UuidParams,
        response: { 200: WalletRules, "4xx": ErrorBody },
      },
    },
    (request) => walletRules(ctx, request.device, request.params.id),
  );

  app.post(
    "/v1/wallets/:id/policy",
    {
      config: { rateLimit: codeRateLimit(ctx), auth: ["active"] },
      schema: {
        summary: "Ask for a new policy: needs a TOTP code, takes effect after the policy delay unless cancelled",
        params: UuidParams,
        body: PolicyChangeRequest,
        response: { 202: PolicyChangeAccepted, "4xx": ErrorBody },
      },
    },
    async (request, reply) => {
      const { policy, totp } = request.body;
      return reply.code(202).send(await changeWalletPolicy(ctx, request.device, request.params.id, policy, totp));
    },
  );

  app.post(
    "/v1/policy-changes/:id/cancel",
    {
      config: { auth: ["active"] },
      schema: {
        summary: "Any device of the account cancels a pending policy change",
        params: UuidParams,
        response: { 200: PolicyChangeCancelled, "4xx": ErrorBody },
      },
    },
    async (request) => {
      await cancelPolicyChange(ctx, request.device, request.params.id);
      return { cancelled: true };
    },
  );

  app.post(
    "/v1/wallets/:id/allow-list",
    {
      config: { auth: ["active"] },
      schema: {
        summary:
          "Add a destination to the wallet's allow-list (counts after its rule's cooling-off; the account is mailed)",
        params: UuidParams,
        body: AllowListEntry,
        response: { 201: AllowListAdded, "4xx": ErrorBody },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await addToAllowList(ctx, request.device, request.params.id, request.body)),
  );

  app.post(
    "/v1/wallets/:id/allow-list/remove",
    {
      config: { auth: ["active"] },
      schema: {
        summary: "Remove a destination from the wallet's allow-list, at once",
        params: UuidParams,
        body: AllowListEntry,
        response: { 200: AllowListRemoved, "4xx": ErrorBody },
      },
    },
    async (request) => {
      await removeFromAllowList(ctx, request.device, request.params.id, request.body);
      return { removed: true };
    },
  );
}
