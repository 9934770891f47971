/** Face recovery and heirs (see `recovery/face.ts` for the steps and their checks). */
import { newChallenge } from "@keyshard/biometric";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import type { FastifyInstance } from "fastify";
import { requireSecondFactor } from "../../policy/account-totp.js";
import {
  activeEnrollments,
  claimRecovery,
  completeEnrollment,
  decideRecovery,
  enrollmentView,
  evaluateAttempt,
  listRecoveries,
  MAX_BOX_BYTES,
  recoverableEnrollments,
  replaceBoxes,
  startEnrollment,
  vetoHeir,
} from "../../recovery/face.js";
import { MIN_HEIR_INACTIVITY_MS } from "../../recovery/heirs.js";
import { findWallet } from "../../store/wallets.js";
import { authenticate } from "../auth.js";
import type { ProviderContext } from "../context.js";
import { badRequest, errorSchema } from "../errors.js";
import { codeRateLimit } from "../rate-limits.js";
import { freeObject, uuidParams } from "../schemas.js";

const hex = (bytes: number) => ({ type: "string", pattern: `^[0-9a-f]{${bytes * 2}}$` }) as const;
const boxHex = { type: "string", pattern: "^([0-9a-f]{2})+$", maxLength: MAX_BOX_BYTES * 2 } as const;
const UUID = { type: "string", format: "uuid" } as const;
const DAY_MS = 24 * 60 * 60_000;

const enrollmentSchema = {
  type: "object",
  properties: {
    id: { type: "string" },
    kind: { type: "string" },
    status: { type: "string" },
    heirEmail: { type: "string" },
    inactivityDays: { type: "number" },
    recoveryKey: { type: "string" },
    createdAt: { type: "string" },
    changeId: { type: "string" },
    effectiveAt: { type: "string" },
  },
} as const;
const recoverySchema = {
  type: "object",
  properties: {
    id: { type: "string" },
    device: { type: "string" },
    at: { type: "string" },
    holdUntil: { type: "string" },
    status: { type: "string" },
  },
} as const;
const boxesSchema = {
  type: "array",
  maxItems: 64,
  items: {
    type: "object",
    additionalProperties: false,
    required: ["walletId", "epoch", "box"],
    properties: { walletId: UUID, epoch: { type: "integer", minimum: 0 }, box: boxHex },
  },
} as const;

export function recoveryRoutes(app: FastifyInstance, ctx: ProviderContext): void {
  // ── enrollment (an active device) ────────────────────────────────────────────────────────────

  app.post(
    "/v1/recovery/enrollments",
    {
      schema: {
        summary: "Start a face enrollment (the owner's, or an heir's): helper data and the blinded face secret",
        body: {
          type: "object",
          additionalProperties: false,
          required: ["id", "kind", "helper", "blinded"],
          properties: {
            id: UUID,
            kind: { type: "string", enum: ["owner", "heir"] },
            heirEmail: { type: "string", maxLength: 254, pattern: "^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$" },
            inactivityDays: { type: "integer", minimum: MIN_HEIR_INACTIVITY_MS / DAY_MS, maximum: 3660 },
            helper: freeObject,
            blinded: hex(32),
          },
        },
        response: {
          201: {
            type: "object",
            properties: { id: { type: "string" }, email: { type: "string" }, evaluated: { type: "string" } },
          },
          "4xx": errorSchema,
        },
      },
    },
    async (request, reply) => {
      const device = await authenticate(ctx, request);
      const body = request.body as {
        id: string;
        kind: "owner" | "heir";
        heirEmail?: string;
        inactivityDays?: number;
        helper: unknown;
        blinded: string;
      };
      if (body.kind === "owner" && body.inactivityDays !== undefined)
        throw badRequest("inactivityDays goes with an heir");
      const started = await ctx.db.transaction((tx) =>
        startEnrollment(ctx, tx, device, {
          id: body.id,
          kind: body.kind,
          ...(body.heirEmail !== undefined && { heirEmail: body.heirEmail }),
          inactivityMs: body.inactivityDays === undefined ? ctx.heirInactivityMs : body.inactivityDays * DAY_MS,
          helper: body.helper,
          blinded: hexToBytes(body.blinded),
        }),
      );
      return reply.code(201).send({ id: body.id, email: started.email, evaluated: bytesToHex(started.evaluated) });
    },
  );

  app.put(
    "/v1/recovery/enrollments/:id",
    {
      schema: {
        summary:
          "Finish an enrollment: the wrapped recovery key, its public keys, and the device's shares sealed to it; it takes effect once its account change has waited out its delay (needs the TOTP code where one is enrolled)",
        params: uuidParams,
        body: {
          type: "object",
          additionalProperties: false,
          required: ["wrappedKey", "recoveryKey", "authKey", "boxes"],
          properties: {
            wrappedKey: hex(60),
            recoveryKey: hex(32),
            authKey: hex(32),
            boxes: boxesSchema,
            totp: { type: "string", pattern: "^[0-9]{6}$" },
          },
        },
        response: { 200: enrollmentSchema, "4xx": errorSchema },
      },
    },
    async (request) => {
      const device = await authenticate(ctx, request);
      const body = request.body as {
        wrappedKey: string;
        recoveryKey: string;
        authKey: string;
        boxes: { walletId: string; epoch: number; box: string }[];
        totp?: string;
      };
      await requireSecondFactor(ctx, device, body.totp);
      const { row, changeId, effectiveMs } = await ctx.db.transaction((tx) =>
        completeEnrollment(ctx, tx, device, (request.params as { id: string }).id, {
          wrappedKey: hexToBytes(body.wrappedKey),
          recoveryKey: hexToBytes(body.recoveryKey),
          authKey: hexToBytes(body.authKey),
          boxes: body.boxes.map((b) => ({ walletId: b.walletId, epoch: b.epoch, box: hexToBytes(b.box) })),
        }),
      );
      ctx.notifier.kick();
      return { ...enrollmentView(row), changeId, effectiveAt: new Date(effectiveMs).toISOString() };
    },
  );

  app.get(
    "/v1/recovery/keys",
    {
      schema: {
        summary:
          "The account's active enrollments, and those waiting to take effect, and the recovery keys its shares are sealed to",
        response: {
          200: { type: "object", properties: { enrollments: { type: "array", items: enrollmentSchema } } },
          "4xx": errorSchema,
        },
      },
    },
    async (request) => {
      const device = await authenticate(ctx, request);
      return { enrollments: (await activeEnrollments(ctx.db, device.accountId)).map(enrollmentView) };
    },
  );

  app.put(
    "/v1/wallets/:id/recovery-boxes",
    {
      schema: {
        summary: "The device's share of a hybrid wallet, sealed again to every enrollment (after a refresh)",
        params: uuidParams,
        body: {
          type: "object",
          additionalProperties: false,
          required: ["epoch", "boxes"],
          properties: {
            epoch: { type: "integer", minimum: 0 },
            boxes: {
              type: "array",
              maxItems: 64,
              items: {
                type: "object",
                additionalProperties: false,
                required: ["enrollmentId", "box"],
                properties: { enrollmentId: UUID, box: boxHex },
              },
            },
          },
        },
        response: { 200: { type: "object", properties: { sealed: { type: "integer" } } }, "4xx": errorSchema },
      },
    },
    async (request) => {
      const device = await authenticate(ctx, request);
      const body = request.body as { epoch: number; boxes: { enrollmentId: string; box: string }[] };
      const sealed = await ctx.db.transaction(async (tx) => {
        const wallet = await findWallet(tx, (request.params as { id: string }).id, device.accountId, { lock: true });
        if (wallet.epoch !== body.epoch)
          throw badRequest(`the wallet is at epoch ${wallet.epoch}, not ${body.epoch}: seal its current share`);
        return replaceBoxes(
          ctx,
          tx,
          device,
          wallet,
          body.boxes.map((b) => ({ enrollmentId: b.enrollmentId, box: hexToBytes(b.box) })),
        );
      });
      return { sealed };
    },
  );

  app.post(
    "/v1/recovery/enrollments/:id/veto",
    {
      schema: {
        summary: "The owner vetoes an heir",
        params: uuidParams,
        response: { 200: enrollmentSchema, "4xx": errorSchema },
      },
    },
    async (request) => {
      const device = await authenticate(ctx, request);
      const row = await ctx.db.transaction((tx) => vetoHeir(ctx, tx, device, (request.params as { id: string }).id));
      ctx.notifier.kick();
      return enrollmentView(row);
    },
  );

  // ── recovery (a device that proved the email by code) ────────────────────────────────────────

  app.get(
    "/v1/recovery/enrollments",
    {
      config: { rateLimit: codeRateLimit(ctx) },
      schema: {
        summary: "The enrollments this device may recover with, their helper data, and a liveness challenge",
        response: {
          200: {
            type: "object",
            properties: {
              challenge: freeObject,
              enrollments: {
                type: "array",
                items: {
                  type: "object",
                  properties: {
                    id: { type: "string" },
                    kind: { type: "string" },
                    email: { type: "string" },
                    helper: freeObject,
                  },
                },
              },
            },
          },
          "4xx": errorSchema,
        },
      },
    },
    async (request) => {
      const device = await authenticate(ctx, request, ["awaiting-approval", "active"]);
      const rows = await recoverableEnrollments(ctx, ctx.db, device);
      return {
        challenge: newChallenge(ctx.challengeRandom),
        enrollments: rows.map((r) => ({ id: r.id, kind: r.kind, email: r.email, helper: JSON.parse(r.helper) })),
      };
    },
  );

  app.post(
    "/v1/recovery/enrollments/:id/evaluate",
    {
      config: { rateLimit: codeRateLimit(ctx) },
      schema: {
        summary: "One face guess: the OPRF evaluation of a blinded face secret (counted, limited, mailed)",
        params: uuidParams,
        body: { type: "object", additionalProperties: false, required: ["blinded"], properties: { blinded: hex(32) } },
        response: {
          200: {
            type: "object",
            properties: {
              evaluated: { type: "string" },
              wrappedKey: { type: "string" },
              recoveryKey: { type: "string" },
              attemptsLeft: { type: "integer" },
            },
          },
          "4xx": errorSchema,
        },
      },
    },
    async (request) => {
      const device = await authenticate(ctx, request, ["awaiting-approval", "active"]);
      const { blinded } = request.body as { blinded: string };
      const { evaluated, enrollment, attemptsLeft } = await evaluateAttempt(
        ctx,
        device,
        (request.params as { id: string }).id,
        hexToBytes(blinded),
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
      config: { rateLimit: codeRateLimit(ctx) },
      schema: {
        summary: "Prove the recovery key: the device's shares, sealed; an owner's device becomes active",
        params: uuidParams,
        body: {
          type: "object",
          additionalProperties: false,
          required: ["signature"],
          properties: { signature: hex(64) },
        },
        response: {
          200: {
            type: "object",
            properties: {
              recoveryId: { type: ["string", "null"] },
              holdUntil: { type: ["string", "null"] },
              boxes: boxesSchema,
            },
          },
          "4xx": errorSchema,
        },
      },
    },
    async (request) => {
      const device = await authenticate(ctx, request, ["awaiting-approval", "active"]);
      const { signature } = request.body as { signature: string };
      const claimed = await ctx.db.transaction((tx) =>
        claimRecovery(ctx, tx, device, (request.params as { id: string }).id, hexToBytes(signature)),
      );
      ctx.notifier.kick();
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
      schema: {
        summary: "The account's recent face recoveries",
        response: {
          200: { type: "object", properties: { recoveries: { type: "array", items: recoverySchema } } },
          "4xx": errorSchema,
        },
      },
    },
    async (request) => {
      const device = await authenticate(ctx, request);
      return { recoveries: await listRecoveries(ctx.db, device.accountId) };
    },
  );

  for (const [verb, verdict] of [
    ["confirm", "confirmed"],
    ["reject", "rejected"],
  ] as const)
    app.post(
      `/v1/recovery/recoveries/:id/${verb}`,
      {
        schema: {
          summary:
            verb === "confirm"
              ? "A device older than the recovery confirms it: the transfer hold ends"
              : "A device older than the recovery rejects it: the recovered device is revoked",
          params: uuidParams,
          response: { 200: recoverySchema, "4xx": errorSchema },
        },
      },
      async (request) => {
        const device = await authenticate(ctx, request);
        const view = await ctx.db.transaction((tx) =>
          decideRecovery(ctx, tx, device, (request.params as { id: string }).id, verdict),
        );
        ctx.notifier.kick();
        return view;
      },
    );
}
