/**
 * Device registration, email verification, approval and revocation (see `devices/registration.ts`,
 * `devices/approval.ts` and `devices/revoke.ts`). Registration is signed by the key it registers,
 * so the auth plugin checks it against that key rather than a registered device's.
 */
import { type BodyOf, endpoints } from "@keyshard/api";
import { deviceId } from "@keyshard/transport";
import { ed25519 } from "@noble/curves/ed25519.js";
import { hexToBytes } from "@noble/hashes/utils.js";
import type { FastifyRequest } from "fastify";
import type { ProviderContext } from "../../context.js";
import { approveDevice } from "../../devices/approval.js";
import { registerDevice, resendCode, verifyDevice } from "../../devices/registration.js";
import { revokeByDevice } from "../../devices/revoke.js";
import { invalid } from "../../errors.js";
import type { App } from "../app.js";
import { route } from "../endpoint.js";
import { codeRateLimit } from "../rate-limits.js";

/** The key a registration registers, and signs with: its body's `identityKey`, which its schema has checked is hex. */
function registeredKey(request: FastifyRequest): Uint8Array {
  const identityKey = hexToBytes((request.body as BodyOf<typeof endpoints.registerDevice>).identityKey);
  try {
    ed25519.Point.fromBytes(identityKey);
  } catch {
    throw invalid("identityKey is not an Ed25519 public key");
  }
  return identityKey;
}

export function deviceRoutes(app: App, ctx: ProviderContext): void {
  route(
    app,
    endpoints.registerDevice,
    {
      config: { rateLimit: codeRateLimit(ctx), selfSigned: { keyOf: registeredKey } },
      summary: "Register a device identity key under an email (signed by that key)",
    },
    async (request) => {
      const { email, name } = request.body;
      const identityKey = hexToBytes(request.body.identityKey);
      const id = deviceId(identityKey);
      const accountId = await registerDevice(ctx, { id, identityKey, email, name });
      return { deviceId: id, accountId, state: "unverified" };
    },
  );

  route(
    app,
    endpoints.deviceSelf,
    {
      // A device that stopped between registering and verifying learns here where it stands.
      config: { auth: ["unverified", "awaiting-approval", "approved", "active"] },
      summary: "The calling device's own state, in any state short of revoked",
    },
    async (request) => ({
      deviceId: request.device.id,
      accountId: request.device.accountId,
      state: request.device.state,
    }),
  );

  route(
    app,
    endpoints.resendDeviceCode,
    {
      config: { rateLimit: codeRateLimit(ctx), auth: ["unverified"] },
      summary: "Send a new email code to an unverified device",
    },
    async (request) => {
      await resendCode(ctx, request.device);
      return { deviceId: request.device.id, state: request.device.state };
    },
  );

  route(
    app,
    endpoints.verifyDevice,
    {
      config: { rateLimit: codeRateLimit(ctx), auth: ["unverified"] },
      summary: "Prove the account's email with the one-time code",
    },
    async (request) => {
      const state = await verifyDevice(ctx, request.device, request.body.code);
      return { deviceId: request.device.id, accountId: request.device.accountId, state };
    },
  );

  route(
    app,
    endpoints.approveDevice,
    {
      config: { rateLimit: codeRateLimit(ctx), auth: ["active"] },
      summary:
        "An active device lets another device of its account in (with the TOTP code where one is enrolled): it becomes active once the account change has waited out its delay",
    },
    async (request) => {
      const { id } = request.params;
      const change = await approveDevice(ctx, request.device, id, request.body?.totp);
      return {
        deviceId: id,
        accountId: request.device.accountId,
        state: "approved",
        changeId: change.changeId,
        effectiveAt: new Date(change.effectiveMs).toISOString(),
      };
    },
  );

  route(
    app,
    endpoints.revokeDevice,
    {
      config: { auth: ["active"] },
      summary:
        "An active device shuts a device of its account out, itself included, unless it is the last active one or `strandWallets` is needed",
      description:
        "Lists the account's t-of-n wallets the device is a member of, with how many members could still sign without it. A revocation that would leave a wallet fewer signers than its threshold is refused (409) unless the body says `strandWallets: true`: such a wallet could neither sign nor reshare again.",
    },
    async (request) => {
      const { id } = request.params;
      const wallets = await revokeByDevice(ctx, request.device, id, request.body?.strandWallets ?? false);
      return { deviceId: id, accountId: request.device.accountId, state: "revoked", wallets };
    },
  );
}
