/**
 * Device registration, email verification, approval and revocation (see `devices/registration.ts`,
 * `devices/approval.ts` and `devices/revoke.ts`). Registration is signed by the key it registers,
 * so it is checked here against that key rather than a registered device's.
 */
import {
  ApprovedDevice,
  Device,
  DeviceApproval,
  DeviceIdParams,
  DeviceRegistration,
  DeviceRevocation,
  DeviceVerification,
  ErrorBody,
  RevokedDevice,
} from "@keyshard/api";
import { deviceId, REQUEST_HEADERS } from "@keyshard/transport";
import { ed25519 } from "@noble/curves/ed25519.js";
import { hexToBytes } from "@noble/hashes/utils.js";
import type { ProviderContext } from "../../context.js";
import { approveDevice } from "../../devices/approval.js";
import { registerDevice, resendCode, verifyDevice } from "../../devices/registration.js";
import { revokeByDevice } from "../../devices/revoke.js";
import { invalid } from "../../errors.js";
import type { App } from "../app.js";
import { unauthorized } from "../errors.js";
import { checkSignedRequest } from "../plugins/auth.js";
import { codeRateLimit } from "../rate-limits.js";

export function deviceRoutes(app: App, ctx: ProviderContext): void {
  app.post(
    "/v1/devices",
    {
      config: { rateLimit: codeRateLimit(ctx) },
      schema: {
        summary: "Register a device identity key under an email (signed by that key)",
        body: DeviceRegistration,
        response: { 201: Device, "4xx": ErrorBody },
      },
    },
    async (request, reply) => {
      const { email, name } = request.body;
      const identityKey = hexToBytes(request.body.identityKey);
      try {
        ed25519.Point.fromBytes(identityKey);
      } catch {
        throw invalid("identityKey is not an Ed25519 public key");
      }
      const id = deviceId(identityKey);
      if (request.headers[REQUEST_HEADERS.device] !== id)
        throw unauthorized("device header does not match identityKey");
      await checkSignedRequest(ctx, request, id, identityKey);
      const accountId = await registerDevice(ctx, { id, identityKey, email, name });
      return reply.code(201).send({ deviceId: id, accountId, state: "unverified" });
    },
  );

  app.get(
    "/v1/devices/self",
    {
      // A device that stopped between registering and verifying learns here where it stands.
      config: { auth: ["unverified", "awaiting-approval", "approved", "active"] },
      schema: {
        summary: "The calling device's own state, in any state short of revoked",
        response: { 200: Device, "4xx": ErrorBody },
      },
    },
    async (request) => ({
      deviceId: request.device.id,
      accountId: request.device.accountId,
      state: request.device.state,
    }),
  );

  app.post(
    "/v1/devices/code",
    {
      config: { rateLimit: codeRateLimit(ctx), auth: ["unverified"] },
      schema: {
        summary: "Send a new email code to an unverified device",
        response: { 200: Device, "4xx": ErrorBody },
      },
    },
    async (request) => {
      await resendCode(ctx, request.device);
      return { deviceId: request.device.id, state: request.device.state };
    },
  );

  app.post(
    "/v1/devices/verify",
    {
      config: { rateLimit: codeRateLimit(ctx), auth: ["unverified"] },
      schema: {
        summary: "Prove the account's email with the one-time code",
        body: DeviceVerification,
        response: { 200: Device, "4xx": ErrorBody },
      },
    },
    async (request) => {
      const state = await verifyDevice(ctx, request.device, request.body.code);
      return { deviceId: request.device.id, accountId: request.device.accountId, state };
    },
  );

  app.post(
    "/v1/devices/:id/approve",
    {
      config: { rateLimit: codeRateLimit(ctx), auth: ["active"] },
      schema: {
        summary:
          "An active device lets another device of its account in (with the TOTP code where one is enrolled): it becomes active once the account change has waited out its delay",
        params: DeviceIdParams,
        body: DeviceApproval,
        response: { 200: ApprovedDevice, "4xx": ErrorBody },
      },
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

  app.post(
    "/v1/devices/:id/revoke",
    {
      config: { auth: ["active"] },
      schema: {
        summary:
          "An active device shuts a device of its account out, itself included, unless it is the last active one or `strandWallets` is needed",
        description:
          "Lists the account's t-of-n wallets the device is a member of, with how many members could still sign without it. A revocation that would leave a wallet fewer signers than its threshold is refused (409) unless the body says `strandWallets: true`: such a wallet could neither sign nor reshare again.",
        params: DeviceIdParams,
        body: DeviceRevocation,
        response: { 200: RevokedDevice, "4xx": ErrorBody },
      },
    },
    async (request) => {
      const { id } = request.params;
      const wallets = await revokeByDevice(ctx, request.device, id, request.body?.strandWallets ?? false);
      return { deviceId: id, accountId: request.device.accountId, state: "revoked", wallets };
    },
  );
}
