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
  issueRecoveryTicket,
  listRecoveries,
  recoverableEnrollments,
  resealBoxes,
  startEnrollment,
  vetoHeir,
} from "../../recovery/face.js";
import { providerTicketKey } from "../../recovery-operator/ticket-key.js";
import type { App } from "../app.js";
import { route } from "../endpoint.js";
import { codeRateLimit } from "../rate-limits.js";

export function recoveryRoutes(app: App, ctx: ProviderContext): void {
  const ticketKey = bytesToHex(providerTicketKey(ctx.masterKey));

  route(
    app,
    endpoints.faceRecoveryOperators,
    {
      summary:
        "The recovery operators that hold face enrollments' OPRF key shares, how many answer together, and the key the provider signs their tickets with",
    },
    () => ({ threshold: ctx.recoveryThreshold, operators: [...ctx.recoveryOperators], ticketKey }),
  );

  // ── enrollment (an active device) ────────────────────────────────────────────────────────────

  route(
    app,
    endpoints.startEnrollment,
    {
      config: { auth: ["active"] },
      summary:
        "Start a face enrollment (the owner's, or an heir's): the helper data; the reply's ticket registers the OPRF key's shares at the recovery operators (409 no-recovery-operators when there are none)",
    },
    async (request) => {
      const { id, kind, heirEmail, inactivityDays, helper } = request.body;
      const started = await startEnrollment(ctx, request.device, {
        id,
        kind,
        ...(heirEmail !== undefined && { heirEmail }),
        ...(inactivityDays !== undefined && { inactivityDays }),
        helper,
      });
      return { id, email: started.email, ticket: started.ticket };
    },
  );

  route(
    app,
    endpoints.completeEnrollment,
    {
      config: { auth: ["active"] },
      summary:
        "Finish an enrollment: the wrapped recovery key, its public keys, the OPRF public key dealt to the recovery operators and their threshold, and the device's shares sealed to it; it takes effect once its account change has waited out its delay (needs the TOTP code where one is enrolled)",
    },
    async (request) => {
      const { wrappedKey, recoveryKey, authKey, oprfKey, threshold, boxes, totp } = request.body;
      const { row, changeId, effectiveMs } = await completeEnrollment(
        ctx,
        request.device,
        request.params.id,
        {
          wrappedKey: hexToBytes(wrappedKey),
          recoveryKey: hexToBytes(recoveryKey),
          authKey: hexToBytes(authKey),
          oprfKey: hexToBytes(oprfKey),
          threshold,
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
    endpoints.faceRecoveryTicket,
    {
      config: { rateLimit: codeRateLimit(ctx), auth: ["awaiting-approval", "active"] },
      summary:
        "One face guess (counted, limited, mailed): a ticket the recovery operators evaluate the given blinded face secret for (400 unless a ristretto255 element other than the identity), the wrapped recovery key and the public keys bound into it, and the operators to ask",
    },
    async (request) => {
      const { ticket, enrollment, operators, threshold, attemptsLeft } = await issueRecoveryTicket(
        ctx,
        request.device,
        request.params.id,
        hexToBytes(request.body.blinded),
      );
      const hex = (column: Uint8Array | null) => bytesToHex(new Uint8Array(column as Uint8Array));
      return {
        ticket,
        wrappedKey: hex(enrollment.wrapped_key),
        recoveryKey: hex(enrollment.recovery_key),
        oprfKey: hex(enrollment.oprf_key),
        threshold,
        operators: [...operators],
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
