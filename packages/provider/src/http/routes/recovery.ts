/** Face recovery and heirs (see `recovery/face.ts` for the steps and their checks). */
import {
  ClaimedRecovery,
  Enrollment,
  EnrollmentCompletion,
  EnrollmentList,
  EnrollmentStart,
  EnrollmentStarted,
  ErrorBody,
  FaceGuess,
  FaceGuessReply,
  RecoverableEnrollments,
  Recovery,
  RecoveryBoxesSealed,
  RecoveryBoxesUpdate,
  RecoveryClaim,
  RecoveryList,
  UuidParams,
} from "@keyshard/api";
import { newChallenge } from "@keyshard/biometric";
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
import { codeRateLimit } from "../rate-limits.js";

export function recoveryRoutes(app: App, ctx: ProviderContext): void {
  // ── enrollment (an active device) ────────────────────────────────────────────────────────────

  app.post(
    "/v1/recovery/enrollments",
    {
      config: { auth: ["active"] },
      schema: {
        summary: "Start a face enrollment (the owner's, or an heir's): helper data and the blinded face secret",
        body: EnrollmentStart,
        response: { 201: EnrollmentStarted, "4xx": ErrorBody },
      },
    },
    async (request, reply) => {
      const { id, kind, heirEmail, inactivityDays, helper, blinded } = request.body;
      const started = await startEnrollment(ctx, request.device, {
        id,
        kind,
        ...(heirEmail !== undefined && { heirEmail }),
        ...(inactivityDays !== undefined && { inactivityDays }),
        helper,
        blinded: hexToBytes(blinded),
      });
      return reply.code(201).send({ id, email: started.email, evaluated: bytesToHex(started.evaluated) });
    },
  );

  app.put(
    "/v1/recovery/enrollments/:id",
    {
      config: { auth: ["active"] },
      schema: {
        summary:
          "Finish an enrollment: the wrapped recovery key, its public keys, and the device's shares sealed to it; it takes effect once its account change has waited out its delay (needs the TOTP code where one is enrolled)",
        params: UuidParams,
        body: EnrollmentCompletion,
        response: { 200: Enrollment, "4xx": ErrorBody },
      },
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

  app.get(
    "/v1/recovery/keys",
    {
      config: { auth: ["active"] },
      schema: {
        summary:
          "The account's active enrollments, and those waiting to take effect, and the recovery keys its shares are sealed to",
        response: { 200: EnrollmentList, "4xx": ErrorBody },
      },
    },
    async (request) => ({
      enrollments: (await activeEnrollments(ctx.db, request.device.accountId)).map(enrollmentView),
    }),
  );

  app.put(
    "/v1/wallets/:id/recovery-boxes",
    {
      config: { auth: ["active"] },
      schema: {
        summary: "The device's share of a hybrid wallet, sealed again to every enrollment (after a refresh)",
        params: UuidParams,
        body: RecoveryBoxesUpdate,
        response: { 200: RecoveryBoxesSealed, "4xx": ErrorBody },
      },
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

  app.post(
    "/v1/recovery/enrollments/:id/veto",
    {
      config: { auth: ["active"] },
      schema: {
        summary: "The owner vetoes an heir",
        params: UuidParams,
        response: { 200: Enrollment, "4xx": ErrorBody },
      },
    },
    async (request) => enrollmentView(await vetoHeir(ctx, request.device, request.params.id)),
  );

  // ── recovery (a device that proved the email by code) ────────────────────────────────────────

  app.get(
    "/v1/recovery/enrollments",
    {
      config: { rateLimit: codeRateLimit(ctx), auth: ["awaiting-approval", "active"] },
      schema: {
        summary: "The enrollments this device may recover with, their helper data, and a liveness challenge",
        response: { 200: RecoverableEnrollments, "4xx": ErrorBody },
      },
    },
    async (request) => {
      const rows = await recoverableEnrollments(ctx, ctx.db, request.device);
      return {
        challenge: newChallenge(ctx.challengeRandom),
        enrollments: rows.map((r) => ({ id: r.id, kind: r.kind, email: r.email, helper: JSON.parse(r.helper) })),
      };
    },
  );

  app.post(
    "/v1/recovery/enrollments/:id/evaluate",
    {
      config: { rateLimit: codeRateLimit(ctx), auth: ["awaiting-approval", "active"] },
      schema: {
        summary: "One face guess: the OPRF evaluation of a blinded face secret (counted, limited, mailed)",
        params: UuidParams,
        body: FaceGuess,
        response: { 200: FaceGuessReply, "4xx": ErrorBody },
      },
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

  app.post(
    "/v1/recovery/enrollments/:id/claim",
    {
      config: { rateLimit: codeRateLimit(ctx), auth: ["awaiting-approval", "active"] },
      schema: {
        summary: "Prove the recovery key: the device's shares, sealed; an owner's device becomes active",
        params: UuidParams,
        body: RecoveryClaim,
        response: { 200: ClaimedRecovery, "4xx": ErrorBody },
      },
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

  app.get(
    "/v1/recovery/recoveries",
    {
      config: { auth: ["active"] },
      schema: {
        summary: "The account's recent face recoveries",
        response: { 200: RecoveryList, "4xx": ErrorBody },
      },
    },
    async (request) => ({ recoveries: await listRecoveries(ctx.db, request.device.accountId) }),
  );

  for (const [verb, verdict] of [
    ["confirm", "confirmed"],
    ["reject", "rejected"],
  ] as const)
    app.post(
      `/v1/recovery/recoveries/:id/${verb}`,
      {
        config: { auth: ["active"] },
        schema: {
          summary:
            verb === "confirm"
              ? "A device older than the recovery confirms it: the transfer hold ends"
              : "A device older than the recovery rejects it: the recovered device is revoked",
          params: UuidParams,
          response: { 200: Recovery, "4xx": ErrorBody },
        },
      },
      (request) => decideRecovery(ctx, request.device, request.params.id, verdict),
    );
}
