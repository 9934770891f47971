/**
 * Sign requests. The provider reads the bytes itself (`requests/read.ts`), evaluates the wallet's
 * policy on that reading and on its own records, writes the decision to the audit chain, and
 * then either starts its half of the signing sessions, denies, or holds the request until its
 * conditions are met: a TOTP code, approvals signed by the account's other devices, a time lock.
 * Until signing starts, any device of the account may cancel a held request.
 *
 * Lock order, everywhere: wallet row, then sessions, then the request row.
 */
import { randomUUID } from "node:crypto";
import { MAX_OPENINGS, verifyApproval } from "@keyshard/transport";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import type { FastifyInstance } from "fastify";
import { appendAudit } from "../../audit/log.js";
import { canonicalJson } from "../../canonical-json.js";
import { verifyAccountTotp } from "../../policy/account-totp.js";
import { currentPolicy } from "../../policy/changes.js";
import { evaluatePolicy, longestWindowMs, REQUEST_KINDS, ruleLabel } from "../../policy/policy.js";
import { recoveryHoldUntil } from "../../recovery/face.js";
import {
  approvalsOf,
  holdOf,
  REQUEST_COLUMNS,
  type RequestRow,
  refusalAtRelease,
  waitingFor,
  walletHistory,
} from "../../requests/holds.js";
import { readSignRequest, type SignRequestBody } from "../../requests/read.js";
import { type DeviceOpening, type StartedSigning, startSigning } from "../../requests/signing.js";
import { keepingRefusedSids } from "../../sessions/driver.js";
import type { Queryable } from "../../store/database.js";
import { findWallet } from "../../store/wallets.js";
import { type AuthenticatedDevice, authenticate } from "../auth.js";
import type { ProviderContext } from "../context.js";
import { badRequest, conflict, errorSchema, forbidden, HttpError, notFound } from "../errors.js";
import { codeRateLimit } from "../rate-limits.js";
import { freeObject, uuidParams } from "../schemas.js";

const HEX = "^([0-9a-f]{2})+$";
const PATH = "^m(/[0-9]{1,10}){0,8}$";

const requestSchema = {
  type: "object",
  properties: {
    requestId: { type: "string" },
    walletId: { type: "string" },
    deviceId: { type: "string" },
    kind: { type: "string" },
    chain: { type: "string" },
    status: { type: "string" },
    rule: { type: ["string", "null"] },
    ruleNumber: { type: ["integer", "null"] },
    description: freeObject,
    waitingFor: freeObject,
    payload: { type: "string" },
    path: { type: ["string", "null"] },
    approvals: { type: "array", items: freeObject },
    signatures: { type: "array", items: freeObject },
    sessions: { type: "array", items: freeObject },
    relays: { type: "array", items: freeObject },
    createdMs: { type: "integer" },
  },
} as const;

function started(ctx: ProviderContext, signing: StartedSigning | undefined) {
  for (const [sessionId, round, party] of signing?.parties ?? []) ctx.parties.put(sessionId, round, party);
  if (signing === undefined) return {};
  return signing.relays.length > 0 ? { relays: signing.relays } : { sessions: signing.sessions };
}

/**
 * How long after its signing began a failed request may be started again on the decision it got;
 * later, a new request has the policy decide anew (it may have changed since, for good reason).
 */
const RESTART_WINDOW_MS = 24 * 3_600_000;

/** The account's request `id`, locked for update when `lock`; another account's does not exist. */
async function findRequest(q: Queryable, id: string, accountId: string, lock = false): Promise<RequestRow> {
  const [row] = await q.query<RequestRow>(
    `SELECT ${REQUEST_COLUMNS} FROM sign_requests WHERE id = $1 AND account_id = $2${lock ? " FOR UPDATE" : ""}`,
    [id, accountId],
  );
  if (row === undefined) throw notFound("no such sign request in this account");
  return row;
}

async function view(ctx: ProviderContext, q: Queryable, row: RequestRow, detail: boolean) {
  const approvals = row.status === "held" || detail ? await approvalsOf(q, row.id) : [];
  const base = {
    requestId: row.id,
    walletId: row.wallet_id,
    deviceId: row.device_id,
    kind: row.kind,
    chain: row.chain,
    status: row.status,
    rule: row.rule,
    ruleNumber: row.rule_number,
    description: JSON.parse(row.description) as Record<string, unknown>,
    createdMs: Number(row.created_ms),
    ...(row.status === "held" && { waitingFor: waitingFor(row, approvals, ctx.now()) }),
  };
  if (!detail) return base;
  const signatures = await q.query<{ idx: number; input: number | null; signature: Uint8Array | null }>(
    "SELECT idx, input, signature FROM request_signatures WHERE request_id = $1 ORDER BY idx",
    [row.id],
  );
  return {
    ...base,
    payload: bytesToHex(new Uint8Array(row.payload)),
    path: row.path,
    // An approval by a device revoked since is listed, marked: it no longer counts.
    approvals: approvals.map((a) => ({ deviceId: a.deviceId, atMs: a.atMs, ...(!a.counts && { revoked: true }) })),
    signatures: signatures.map((s) => ({
      index: s.idx,
      ...(s.input !== null && { input: s.input }),
      signature: s.signature === null ? null : bytesToHex(new Uint8Array(s.signature)),
    })),
  };
}

async function audit(
  ctx: ProviderContext,
  tx: Queryable,
  device: AuthenticatedDevice,
  action: string,
  details: object,
) {
  await appendAudit(tx, { chain: device.accountId, atMs: ctx.now(), actor: device.id, action, details });
}

export function requestRoutes(app: FastifyInstance, ctx: ProviderContext): void {
  app.post(
    "/v1/wallets/:id/sign-requests",
    {
      schema: {
        summary: "Ask the provider to co-sign; it decides by the wallet's policy (signing, held or denied)",
        params: uuidParams,
        body: {
          type: "object",
          additionalProperties: false,
          required: ["chain"],
          properties: {
            kind: { type: "string", enum: [...REQUEST_KINDS] },
            chain: { type: "string", enum: ["ethereum", "solana", "bitcoin"] },
            payload: { type: "string", pattern: HEX, maxLength: 262144 },
            typedData: { type: "object", additionalProperties: true, maxProperties: 8 },
            chainId: { type: "integer", minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
            network: { type: "string", enum: ["mainnet", "testnet", "regtest"] },
            path: { type: "string", pattern: PATH },
            totp: { type: "string", pattern: "^[0-9]{6}$" },
            signers: { type: "array", minItems: 1, maxItems: 15, items: { type: "string", pattern: "^[0-9a-f]{32}$" } },
            // The key epoch the device signs with: after a refresh or reshare, a stale share is refused
            // here instead of failing (and, for ecdsa2p, locking) in the middle of a run.
            epoch: { type: "integer", minimum: 0 },
            // Hybrid wallets: the device's first round of each signature's session, in the request's
            // message order, under a sid it drew. If the request is signed at once, the provider
            // answers those rounds in this reply (one request fewer); if it is held, they are unused.
            sessions: {
              type: "array",
              minItems: 1,
              maxItems: MAX_OPENINGS,
              items: {
                type: "object",
                additionalProperties: false,
                required: ["sid", "messages"],
                properties: {
                  sid: { type: "string", pattern: "^[0-9a-f]{64}$" },
                  messages: { type: "array", maxItems: 16, items: freeObject },
                },
              },
            },
          },
        },
        response: { 201: requestSchema, "4xx": errorSchema },
      },
    },
    async (request, reply) => {
      const device = await authenticate(ctx, request);
      const { id } = request.params as { id: string };
      const {
        totp,
        signers,
        epoch,
        sessions: openings,
        ...body
      } = request.body as SignRequestBody & {
        totp?: string;
        signers?: string[];
        epoch?: number;
        sessions?: DeviceOpening[];
      };
      // A code given up front is checked (and spent) before the decision, which may not need it.
      if (totp !== undefined) await verifyAccountTotp(ctx, { id: device.accountId, actor: device.id }, totp);
      const requestId = randomUUID();
      const now = ctx.now();
      let signing: StartedSigning | undefined;
      const outcome = await keepingRefusedSids(ctx).transaction(async (tx) => {
        const wallet = await findWallet(tx, id, device.accountId, { lock: true, active: true });
        if (epoch !== undefined && epoch !== wallet.epoch)
          throw conflict(
            `the wallet's shares are at epoch ${wallet.epoch}, not ${epoch}: update this device's share first`,
          );
        if (wallet.share === null)
          throw conflict("the provider only relays for this wallet: its devices sign among themselves over /v1/relay");
        if ((wallet.members === null) !== (signers === undefined))
          throw badRequest("signers go with t-of-n wallets, and only there");
        const share = ctx.shares.get(wallet.id, wallet.scheme, new Uint8Array(wallet.share as Uint8Array));
        const read = readSignRequest(wallet.scheme, share, body);
        if (openings !== undefined && (wallet.members !== null || openings.length !== read.toSign.length))
          throw badRequest("first rounds go with hybrid wallets' requests, one for each signature the request needs");
        const policy = await currentPolicy(ctx, tx, wallet);
        const decision = evaluatePolicy(
          policy,
          read.facts,
          await walletHistory(ctx, tx, wallet.id, longestWindowMs(policy)),
        );
        const hold = holdOf(decision, now);
        if (hold.totpNeeded && totp !== undefined) hold.totpNeeded = false;
        // After a face recovery, transfers wait out the cooling-off on top of what the policy asks.
        const recoveryHold =
          read.facts.kind === "transaction" && hold.status !== "denied"
            ? await recoveryHoldUntil(tx, device.accountId, now)
            : null;
        if (recoveryHold !== null) {
          hold.status = "held";
          hold.releaseMs = Math.max(hold.releaseMs ?? 0, recoveryHold);
        }
        if (hold.status === "held" && !hold.totpNeeded && hold.approvalsNeeded === 0 && hold.releaseMs === null)
          hold.status = "signing";
        const [row] = await tx.query<RequestRow>(
          `INSERT INTO sign_requests (id, wallet_id, account_id, device_id, kind, chain, payload, path, description, decision, rule, status,
             approvals_needed, totp_needed, release_ms, signing_ms, created_ms, signers, rule_number)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
           RETURNING ${REQUEST_COLUMNS}`,
          [
            requestId,
            wallet.id,
            device.accountId,
            device.id,
            read.facts.kind,
            body.chain,
            read.payload,
            body.path ?? null,
            canonicalJson(read.summary),
            decision.decision,
            decision.rule,
            hold.status,
            hold.approvalsNeeded,
            hold.totpNeeded,
            hold.releaseMs,
            hold.status === "signing" ? now : null,
            now,
            signers === undefined ? null : JSON.stringify(signers),
            decision.ruleNumber,
          ],
        );
        for (const [idx, item] of read.toSign.entries())
          await tx.query("INSERT INTO request_signatures (request_id, idx, input, message) VALUES ($1, $2, $3, $4)", [
            requestId,
            idx,
            item.input ?? null,
            item.message,
          ]);
        await audit(ctx, tx, device, `request.${hold.status}`, {
          request: requestId,
          wallet: wallet.id,
          decision: decision.decision,
          rule: decision.rule,
          description: read.summary,
          ...(recoveryHold !== null && { recoveryHoldUntilMs: recoveryHold }),
        });
        if (hold.status === "held")
          await ctx.notifier.queueForAccount(
            tx,
            device.accountId,
            {
              subject: `keyshard: a request on wallet ${wallet.name} is held`,
              body: `Device ${device.id} asked wallet ${wallet.name} to sign request ${requestId}; ${recoveryHold === null ? `${ruleLabel(decision.ruleNumber, decision.rule)} holds it (${decision.decision})` : `the cooling-off after a face recovery holds it until ${new Date(recoveryHold).toISOString()}`}.\nIf this was not you, cancel it from another device.`,
            },
            now,
          );
        if (hold.status === "signing")
          signing = await startSigning(
            ctx,
            tx,
            wallet,
            {
              id: requestId,
              path: body.path ?? null,
              signers: signers === undefined ? null : JSON.stringify(signers),
            },
            device,
            {
              messages: read.toSign.map((item, idx) => ({ idx, input: item.input ?? null, message: item.message })),
              ...(openings !== undefined && { openings }),
            },
          );
        return row as RequestRow;
      });
      if (outcome.status === "held") ctx.notifier.kick();
      return reply.code(201).send({ ...(await view(ctx, ctx.db, outcome, false)), ...started(ctx, signing) });
    },
  );

  app.get(
    "/v1/sign-requests",
    {
      schema: {
        summary: "The account's latest sign requests, optionally only those in one status",
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            status: { type: "string", enum: ["denied", "held", "signing", "signed", "failed", "cancelled"] },
          },
        },
        response: {
          200: { type: "object", properties: { requests: { type: "array", items: requestSchema } } },
          "4xx": errorSchema,
        },
      },
    },
    async (request) => {
      const device = await authenticate(ctx, request);
      const { status } = request.query as { status?: string };
      const rows = await ctx.db.query<RequestRow>(
        `SELECT ${REQUEST_COLUMNS} FROM sign_requests WHERE account_id = $1 AND ($2::text IS NULL OR status = $2)
         ORDER BY created_ms DESC LIMIT 100`,
        [device.accountId, status ?? null],
      );
      return { requests: await Promise.all(rows.map((row) => view(ctx, ctx.db, row, false))) };
    },
  );

  app.get(
    "/v1/sign-requests/:id",
    {
      schema: {
        summary: "One request with its bytes, approvals and signatures",
        params: uuidParams,
        response: { 200: requestSchema, "4xx": errorSchema },
      },
    },
    async (request) => {
      const device = await authenticate(ctx, request);
      const { id } = request.params as { id: string };
      return view(ctx, ctx.db, await findRequest(ctx.db, id, device.accountId), true);
    },
  );

  app.post(
    "/v1/sign-requests/:id/approve",
    {
      schema: {
        summary: "Another device of the account approves a held request: its signature over the request id and bytes",
        params: uuidParams,
        body: {
          type: "object",
          additionalProperties: false,
          required: ["signature"],
          properties: { signature: { type: "string", pattern: "^[0-9a-f]{128}$" } },
        },
        response: { 200: requestSchema, "4xx": errorSchema },
      },
    },
    async (request) => {
      const device = await authenticate(ctx, request);
      const { id } = request.params as { id: string };
      const signature = hexToBytes((request.body as { signature: string }).signature);
      const row = await ctx.db.transaction(async (tx) => {
        const row = await findRequest(tx, id, device.accountId, true);
        if (row.status !== "held") throw conflict(`request is ${row.status}`);
        if (row.device_id === device.id) throw forbidden("a device cannot approve its own request");
        const [approver] = await tx.query<{ active_since_ms: string | null }>(
          "SELECT active_since_ms FROM devices WHERE id = $1",
          [device.id],
        );
        const since = approver?.active_since_ms === null ? Infinity : Number(approver?.active_since_ms);
        if (since > ctx.now() - ctx.policyDelayMs)
          throw forbidden("a device may approve requests only after it has been active for the policy delay");
        if (!verifyApproval(device.identityKey, row.id, new Uint8Array(row.payload), signature))
          throw badRequest("the approval signature does not verify for this request's bytes");
        const inserted = await tx.query(
          "INSERT INTO approvals (request_id, device_id, signature, at_ms) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING device_id",
          [row.id, device.id, signature, ctx.now()],
        );
        if (inserted.length === 0) throw conflict("this device already approved the request");
        await audit(ctx, tx, device, "request.approved", { request: row.id, signature: bytesToHex(signature) });
        return row;
      });
      return view(ctx, ctx.db, row, false);
    },
  );

  app.post(
    "/v1/sign-requests/:id/cancel",
    {
      schema: {
        summary: "Any device of the account cancels (or, for another device's request, denies) a held request",
        params: uuidParams,
        response: { 200: requestSchema, "4xx": errorSchema },
      },
    },
    async (request) => {
      const device = await authenticate(ctx, request);
      const { id } = request.params as { id: string };
      const row = await ctx.db.transaction(async (tx) => {
        const row = await findRequest(tx, id, device.accountId, true);
        if (row.status !== "held") throw conflict(`only a held request can be cancelled; this one is ${row.status}`);
        await tx.query("UPDATE sign_requests SET status = 'cancelled' WHERE id = $1", [row.id]);
        await audit(ctx, tx, device, "request.cancelled", { request: row.id });
        return { ...row, status: "cancelled" as const };
      });
      return view(ctx, ctx.db, row, false);
    },
  );

  app.post(
    "/v1/sign-requests/:id/totp",
    {
      config: { rateLimit: codeRateLimit(ctx) },
      schema: {
        summary: "Give the TOTP code a held request waits for",
        params: uuidParams,
        body: {
          type: "object",
          additionalProperties: false,
          required: ["code"],
          properties: { code: { type: "string", pattern: "^[0-9]{6}$" } },
        },
        response: { 200: requestSchema, "4xx": errorSchema },
      },
    },
    async (request) => {
      const device = await authenticate(ctx, request);
      const { id } = request.params as { id: string };
      const existing = await findRequest(ctx.db, id, device.accountId);
      if (existing.status !== "held" || !existing.totp_needed) throw conflict("the request does not wait for a code");
      await verifyAccountTotp(ctx, { id: device.accountId, actor: device.id }, (request.body as { code: string }).code);
      const row = await ctx.db.transaction(async (tx) => {
        const row = await findRequest(tx, id, device.accountId, true);
        if (row.status !== "held") throw conflict(`request is ${row.status}`);
        await tx.query("UPDATE sign_requests SET totp_needed = false WHERE id = $1", [row.id]);
        await audit(ctx, tx, device, "request.totp-given", { request: row.id });
        return { ...row, totp_needed: false };
      });
      return view(ctx, ctx.db, row, false);
    },
  );

  app.post(
    "/v1/sign-requests/:id/sign",
    {
      schema: {
        summary: "The requesting device starts (or restarts) signing once nothing is waited for",
        params: uuidParams,
        response: { 200: requestSchema, "4xx": errorSchema },
      },
    },
    async (request) => {
      const device = await authenticate(ctx, request);
      const { id } = request.params as { id: string };
      let signing: StartedSigning | undefined;
      let refusal: string | null = null;
      const row = await ctx.db.transaction(async (tx) => {
        const found = await findRequest(tx, id, device.accountId);
        if (found.device_id !== device.id) throw forbidden("only the requesting device can start signing");
        const wallet = await findWallet(tx, found.wallet_id, device.accountId, { lock: true, active: true });
        const row = await findRequest(tx, id, device.accountId);
        if (row.status === "held") {
          const waiting = waitingFor(row, await approvalsOf(tx, row.id), ctx.now());
          if (Object.keys(waiting).length > 0)
            throw new HttpError(409, "held", `the request still waits for ${Object.keys(waiting).join(", ")}`);
          // The denial is committed, then reported: the request must not be released later either.
          refusal = await refusalAtRelease(ctx, tx, wallet, row);
          if (refusal !== null) {
            await tx.query("UPDATE sign_requests SET status = 'denied' WHERE id = $1 AND status = 'held'", [row.id]);
            await audit(ctx, tx, device, "request.denied", { request: row.id, rule: row.rule, reason: refusal });
            return row;
          }
        } else if (row.status !== "signing" && row.status !== "failed")
          throw conflict(`a ${row.status} request cannot be signed`);
        if (row.status === "failed" && ctx.now() - Number(row.signing_ms ?? row.created_ms) > RESTART_WINDOW_MS)
          throw conflict(
            "this request's signing began over a day ago; make a new request, for the policy to decide again",
          );
        signing = await startSigning(ctx, tx, wallet, row, device);
        // Conditional: a cancel that committed meanwhile wins.
        const moved = await tx.query(
          "UPDATE sign_requests SET status = 'signing', signing_ms = COALESCE(signing_ms, $2) WHERE id = $1 AND status = $3 RETURNING id",
          [row.id, ctx.now(), row.status],
        );
        if (moved.length === 0) throw conflict("the request changed meanwhile; read it again");
        if (row.status === "held") await audit(ctx, tx, device, "request.released", { request: row.id });
        return { ...row, status: "signing" as const };
      });
      if (refusal !== null) throw new HttpError(409, "denied", `denied at release: ${refusal}`);
      return { ...(await view(ctx, ctx.db, row, false)), ...started(ctx, signing) };
    },
  );
}
