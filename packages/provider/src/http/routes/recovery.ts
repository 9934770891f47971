/** Face recovery and heirs (see `recovery/face.ts` for the steps and their checks). */
import { endpoints } from "@keyshard/api";
import { newChallenge } from "@keyshard/recovery";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import type { ProviderContext } from "../../context.js";
import {
  activeEnrollments,
  claimRecovery,
  completeEnrollment,
  decideRecovery,
  enrollmentView,
  evaluateAttempt,
  listRecoveries,
  recoverableEnrollments,
  resealBoxes,
  startEnrollment,
  vetoHeir,
} from "../../recovery/face.js";
import type { App } from "../app.js";
import { route } from "../endpoint.js";
import { codeRateLimit } from "../rate-limits.js";

export function recoveryRoutes(app: App, ctx: ProviderContext): void {
  // ── enrollment (an active device) ────────────────────────────────────────────────────────────

  route(
    app,
    endpoints.startEnrollment,
    {
      config: { auth: ["active"] },
      summary: "Start a face enrollment (the owner's, or an heir's): helper data and the blinded face secret",
    },
    async (request) => {
      const { id, kind, heirEmail, inactivityDays, helper, blinded } = request.body;
      const started = await startEnrollment(ctx, request.device, {
        id,
        kind,
        ...(heirEmail !== undefined && { heirEmail }),
        ...(inactivityDays !== undefined && { inactivityDays }),
        helper,
        blinded: hexToBytes(blinded),
      });
      return { id, email: started.email, evaluated: bytesToHex(started.evaluated) };
    },
  );

  route(
    app,
    endpoints.completeEnrollment,
    {
      config: { auth: ["active"] },
      summary:
        "Finish an enrollment: the wrapped recovery key, its public keys, and the device's shares sealed to it; it takes effect once its account change has waited out its delay (needs the TOTP code where one is enrolled)",
    },
    async (request) => {
      const { wrappedKey, recoveryKey, authKey, boxes, totp } = request.body;
      const { row, changeId, effectiveMs } = await completeEnrollment(
        ctx,
        request.device,
        request.params.id,
        {
          wrappedKey: hexToBytes(wrappedKey),
          recoveryKey: hexToBytes(recoveryKey),
          authKey: hexToBytes(authKey),
          boxes: boxes.map((b) => ({ walletId: b.walletId, epoch: b.epoch, box: hexToBytes(b.box) })),
        },
        totp,
      );
      return { ...enrollmentView(row), changeId, effectiveAt: new Date(effectiveMs).toISOString() };
    },
  );

  route(
    app,
    endpoints.recoveryKeys,
    {
      config: { auth: ["active"] },
      summary:
        "The account's active enrollments, and those waiting to take effect, and the recovery keys its shares are sealed to",
    },
    async (request) => ({
      enrollments: (await activeEnrollments(ctx.db, request.device.accountId)).map(enrollmentView),
    }),
  );

  route(
    app,
    endpoints.resealRecoveryBoxes,
    {
      config: { auth: ["active"] },
      summary: "The device's share of a hybrid wallet, sealed again to every enrollment (after a refresh)",
    },
    async (request) => {
      const { epoch, boxes } = request.body;
      const sealed = await resealBoxes(
        ctx,
        request.device,
        request.params.id,
        epoch,
        boxes.map((b) => ({ enrollmentId: b.enrollmentId, box: hexToBytes(b.box) })),
      );
      return { sealed };
    },
  );

  route(
    app,
    endpoints.vetoHeir,
    { config: { auth: ["active"] }, summary: "The owner vetoes an heir" },
    async (request) => enrollmentView(await vetoHeir(ctx, request.device, request.params.id)),
  );

  // ── recovery (a device that proved the email by code) ────────────────────────────────────────

  route(
    app,
    endpoints.recoverableEnrollments,
    {
      config: { rateLimit: codeRateLimit(ctx), auth: ["awaiting-approval", "active"] },
      summary: "The enrollments this device may recover with, their helper data, and a liveness challenge",
    },
    async (request) => {
      const rows = await recoverableEnrollments(ctx, ctx.db, request.device);
      return {
        challenge: newChallenge(ctx.challengeRandom),
        enrollments: rows.map((r) => ({ id: r.id, kind: r.kind, email: r.email, helper: JSON.parse(r.helper) })),
      };
    },
  );

  route(
    app,
    endpoints.evaluateFaceGuess,
    {
      config: { rateLimit: codeRateLimit(ctx), auth: ["awaiting-approval", "active"] },
      summary: "One face guess: the OPRF evaluation of a blinded face secret (counted, limited, mailed)",
    },
    async (request) => {
      const { evaluated, enrollment, attemptsLeft } = await evaluateAttempt(
        ctx,
        request.device,
        request.params.id,
        hexToBytes(request.body.blinded),
      );
      return {
        evaluated: bytesToHex(evaluated),
        wrappedKey: bytesToHex(new Uint8Array(enrollment.wrapped_key as Uint8Array)),
        recoveryKey: bytesToHex(new Uint8Array(enrollment.recovery_key as Uint8Array)),
        attemptsLeft,
      };
    },
  );

  route(
    app,
    endpoints.claimRecovery,
    {
      config: { rateLimit: codeRateLimit(ctx), auth: ["awaiting-approval", "active"] },
      summary: "Prove the recovery key: the device's shares, sealed; an owner's device becomes active",
    },
    async (request) => {
      const claimed = await claimRecovery(ctx, request.device, request.params.id, hexToBytes(request.body.signature));
      return {
        recoveryId: claimed.recoveryId,
        holdUntil: claimed.holdUntilMs === null ? null : new Date(claimed.holdUntilMs).toISOString(),
        boxes: claimed.boxes.map((b) => ({ walletId: b.walletId, epoch: b.epoch, box: bytesToHex(b.box) })),
      };
    },
  );

  // ── after a recovery (the account's older devices) ───────────────────────────────────────────

  route(
    app,
    endpoints.recoveries,
    { config: { auth: ["active"] }, summary: "The account's recent face recoveries" },
    async (request) => ({ recoveries: await listRecoveries(ctx.db, request.device.accountId) }),
  );

  route(
    app,
    endpoints.confirmRecovery,
    {
      config: { auth: ["active"] },
      summary: "A device older than the recovery confirms it: the transfer hold ends",
    },
    (request) => decideRecovery(ctx, request.device, request.params.id, "confirmed"),
  );

  route(
    app,
    endpoints.rejectRecovery,
    {
      config: { auth: ["active"] },
      summary: "A device older than the recovery rejects it: the recovered device is revoked",
    },
    (request) => decideRecovery(ctx, request.device, request.params.id, "rejected"),
  );
}
