/**
 * The account's second factor and the wallets' rules over HTTP. A new TOTP (the first, or a
 * replacement, which needs the current code) counts only once its guarded change has waited out
 * its delay (see `account/totp.ts`); a wallet's rules change as `wallets/rules.ts` says.
 */
import { endpoints } from "@keyshard/api";
import { confirmTotpEnrollment, requireSecondFactor, startTotpEnrollment } from "../../account/totp.js";
import type { ProviderContext } from "../../context.js";
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
import { route } from "../endpoint.js";
import { codeRateLimit } from "../rate-limits.js";

export function policyRoutes(app: App, ctx: ProviderContext): void {
  route(
    app,
    endpoints.startTotp,
    {
      config: { rateLimit: codeRateLimit(ctx), auth: ["active"] },
      summary:
        "Start TOTP enrollment: a new secret, confirmed by its first code (replacing one needs the current code); it counts once its account change has waited out its delay",
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

  route(
    app,
    endpoints.confirmTotp,
    {
      config: { rateLimit: codeRateLimit(ctx), auth: ["active"] },
      summary:
        "Confirm TOTP enrollment with a code from the authenticator: the new TOTP counts once the account change has waited out its delay",
    },
    async (request) => {
      const { device } = request;
      const change = await confirmTotpEnrollment(ctx, { id: device.accountId, actor: device.id }, request.body.code);
      return { enrolled: false, ...change };
    },
  );

  route(
    app,
    endpoints.walletRules,
    { config: { auth: ["active"] }, summary: "The wallet's policy in force, pending changes and the allow-list" },
    (request) => walletRules(ctx, request.device, request.params.id),
  );

  route(
    app,
    endpoints.policyTemplates,
    {
      config: { auth: ["active"] },
      summary:
        "The policies the provider offers a new wallet (`policyTemplate` of a wallet's creation), its default first",
    },
    async () => ({ templates: [...ctx.policyTemplates] }),
  );

  route(
    app,
    endpoints.changePolicy,
    {
      config: { rateLimit: codeRateLimit(ctx), auth: ["active"] },
      summary: "Ask for a new policy: needs a TOTP code, takes effect after the policy delay unless cancelled",
    },
    (request) => {
      const { policy, totp } = request.body;
      return changeWalletPolicy(ctx, request.device, request.params.id, policy, totp);
    },
  );

  route(
    app,
    endpoints.cancelPolicyChange,
    { config: { auth: ["active"] }, summary: "Any device of the account cancels a pending policy change" },
    async (request) => {
      await cancelPolicyChange(ctx, request.device, request.params.id);
      return { cancelled: true };
    },
  );

  route(
    app,
    endpoints.addToAllowList,
    {
      config: { auth: ["active"] },
      summary:
        "Add a destination to the wallet's allow-list (counts after its rule's cooling-off; the account is mailed)",
    },
    (request) => addToAllowList(ctx, request.device, request.params.id, request.body),
  );

  route(
    app,
    endpoints.removeFromAllowList,
    { config: { auth: ["active"] }, summary: "Remove a destination from the wallet's allow-list, at once" },
    async (request) => {
      await removeFromAllowList(ctx, request.device, request.params.id, request.body);
      return { removed: true };
    },
  );
}
