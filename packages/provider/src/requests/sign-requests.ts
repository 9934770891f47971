/**
 * Sign requests. The provider reads the bytes itself (`read.ts`), evaluates the wallet's policy on
 * that reading and on its own records, writes the decision to the audit chain, and then either
 * starts its half of the signing sessions, denies, or holds the request until its conditions are
 * met: a TOTP code, approvals signed by the account's other devices, a time lock (`holds.ts`).
 * Until signing starts, any device of the account may cancel a held request.
 *
 * Lock order, everywhere: wallet row, then sessions, then the request row.
 */
import { randomUUID } from "node:crypto";
import { canonicalJson, type RequestStatus, ruleLabel, type SignRequestCreate } from "@keyshard/api";
import { verifyApproval } from "@keyshard/transport";
import { bytesToHex } from "@noble/hashes/utils.js";
import { verifyAccountTotp } from "../account/totp.js";
import { appendAudit } from "../audit/log.js";
import type { ProviderContext } from "../context.js";
import type { AuthenticatedDevice } from "../devices/authenticated.js";
import { conflict, forbidden, invalid, ProviderError } from "../errors.js";
import { evaluatePolicy, longestWindowMs } from "../policy/policy.js";
import { recoveryHoldUntil } from "../recovery/face.js";
import { keepingRefusedSids } from "../sessions/driver.js";
import type { Queryable } from "../store/queryable.js";
import {
  activeSince,
  cancelRequest,
  denyHeldRequest,
  findRequest,
  insertApproval,
  insertRequest,
  insertRequestMessage,
  latestRequests,
  markTotpGiven,
  moveToSigning,
  type RequestRow,
  requestSignatures,
} from "../store/sign-requests.js";
import { findWallet } from "../store/wallets.js";
import { currentPolicy } from "../wallets/policy-changes.js";
import { approvalsOf, holdOf, refusalAtRelease, waitingFor, walletHistory } from "./holds.js";
import { parseSignRequest, readSignRequest } from "./read.js";
import { type StartedSigning, startSigning } from "./signing.js";

/**
 * How long after its signing began a failed request may be started again on the decision it got;
 * later, a new request has the policy decide anew (it may have changed since, for good reason).
 */
const RESTART_WINDOW_MS = 24 * 3_600_000;

/** Hands the signing's parties to this process once its transaction has committed; the reply's part about it. */
function started(ctx: ProviderContext, signing: StartedSigning | undefined) {
  for (const [sessionId, round, party] of signing?.parties ?? []) ctx.parties.put(sessionId, round, party);
  if (signing === undefined) return {};
  return signing.relays.length > 0 ? { relays: signing.relays } : { sessions: signing.sessions };
}

/** A request as the account's devices see it; `detail` adds its bytes, approvals and signatures. */
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
  const signatures = await requestSignatures(q, row.id);
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

/** Decides on a new request to the account's wallet `walletId`: signing (started here), held or denied. */
export async function createSignRequest(
  ctx: ProviderContext,
  device: AuthenticatedDevice,
  walletId: string,
  { totp, signers, epoch, sessions: openings, ...body }: SignRequestCreate,
) {
  // Checked before anything is spent or looked up, as the route's schema checks it.
  const request = parseSignRequest(body);
  // A code given up front is checked (and spent) before the decision, which may not need it.
  if (totp !== undefined) await verifyAccountTotp(ctx, { id: device.accountId, actor: device.id }, totp);
  const requestId = randomUUID();
  const now = ctx.now();
  let signing: StartedSigning | undefined;
  const outcome = await keepingRefusedSids(ctx).transaction(async (tx) => {
    const wallet = await findWallet(tx, walletId, device.accountId, { lock: true, active: true });
    if (epoch !== undefined && epoch !== wallet.epoch)
      throw conflict(
        `the wallet's shares are at epoch ${wallet.epoch}, not ${epoch}: update this device's share first`,
      );
    if (wallet.share === null)
      throw conflict("the provider only relays for this wallet: its devices sign among themselves over /v1/relay");
    if ((wallet.members === null) !== (signers === undefined))
      throw invalid("signers go with t-of-n wallets, and only there");
    const share = ctx.shares.get(wallet.id, wallet.scheme, new Uint8Array(wallet.share as Uint8Array));
    const read = readSignRequest(wallet.scheme, share, request);
    if (openings !== undefined && (wallet.members !== null || openings.length !== read.toSign.length))
      throw invalid("first rounds go with hybrid wallets' requests, one for each signature the request needs");
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
    const row = await insertRequest(tx, {
      id: requestId,
      walletId: wallet.id,
      accountId: device.accountId,
      deviceId: device.id,
      kind: read.facts.kind,
      chain: request.chain,
      payload: read.payload,
      path: request.path ?? null,
      description: canonicalJson(read.summary),
      decision: decision.decision,
      rule: decision.rule,
      status: hold.status,
      approvalsNeeded: hold.approvalsNeeded,
      totpNeeded: hold.totpNeeded,
      releaseMs: hold.releaseMs,
      signingMs: hold.status === "signing" ? now : null,
      createdMs: now,
      signers: signers === undefined ? null : JSON.stringify(signers),
      ruleNumber: decision.ruleNumber,
    });
    for (const [idx, item] of read.toSign.entries())
      await insertRequestMessage(tx, requestId, idx, item.input ?? null, item.message);
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
        { id: requestId, path: request.path ?? null, signers: signers === undefined ? null : JSON.stringify(signers) },
        device,
        {
          messages: read.toSign.map((item, idx) => ({ idx, input: item.input ?? null, message: item.message })),
          ...(openings !== undefined && { openings }),
        },
      );
    return row;
  });
  if (outcome.status === "held") ctx.notifier.kick();
  return { ...(await view(ctx, ctx.db, outcome, false)), ...started(ctx, signing) };
}

/** The account's latest requests, optionally only those in `status`. */
export async function listSignRequests(ctx: ProviderContext, device: AuthenticatedDevice, status?: RequestStatus) {
  const rows = await latestRequests(ctx.db, device.accountId, status);
  return Promise.all(rows.map((row) => view(ctx, ctx.db, row, false)));
}

/** One request of the account, with its bytes, approvals and signatures. */
export async function signRequestDetail(ctx: ProviderContext, device: AuthenticatedDevice, id: string) {
  return view(ctx, ctx.db, await findRequest(ctx.db, id, device.accountId), true);
}

/** Another device of the account approves a held request with its signature over the request id and bytes. */
export async function approveSignRequest(
  ctx: ProviderContext,
  device: AuthenticatedDevice,
  id: string,
  signature: Uint8Array,
) {
  const row = await ctx.db.transaction(async (tx) => {
    const row = await findRequest(tx, id, device.accountId, true);
    if (row.status !== "held") throw conflict(`request is ${row.status}`);
    if (row.device_id === device.id) throw forbidden("a device cannot approve its own request");
    const approver = await activeSince(tx, device.id);
    const since = approver?.active_since_ms === null ? Infinity : Number(approver?.active_since_ms);
    if (since > ctx.now() - ctx.policyDelayMs)
      throw forbidden("a device may approve requests only after it has been active for the policy delay");
    if (!verifyApproval(device.identityKey, row.id, new Uint8Array(row.payload), signature))
      throw invalid("the approval signature does not verify for this request's bytes");
    if (!(await insertApproval(tx, row.id, device.id, signature, ctx.now())))
      throw conflict("this device already approved the request");
    await audit(ctx, tx, device, "request.approved", { request: row.id, signature: bytesToHex(signature) });
    return row;
  });
  return view(ctx, ctx.db, row, false);
}

/** Any device of the account cancels (or, for another device's request, denies) a held request. */
export async function cancelSignRequest(ctx: ProviderContext, device: AuthenticatedDevice, id: string) {
  const row = await ctx.db.transaction(async (tx) => {
    const row = await findRequest(tx, id, device.accountId, true);
    if (row.status !== "held") throw conflict(`only a held request can be cancelled; this one is ${row.status}`);
    await cancelRequest(tx, row.id);
    await audit(ctx, tx, device, "request.cancelled", { request: row.id });
    return { ...row, status: "cancelled" as const };
  });
  return view(ctx, ctx.db, row, false);
}

/** The TOTP code a held request waits for. */
export async function giveRequestTotp(ctx: ProviderContext, device: AuthenticatedDevice, id: string, code: string) {
  const existing = await findRequest(ctx.db, id, device.accountId);
  if (existing.status !== "held" || !existing.totp_needed) throw conflict("the request does not wait for a code");
  await verifyAccountTotp(ctx, { id: device.accountId, actor: device.id }, code);
  const row = await ctx.db.transaction(async (tx) => {
    const row = await findRequest(tx, id, device.accountId, true);
    if (row.status !== "held") throw conflict(`request is ${row.status}`);
    await markTotpGiven(tx, row.id);
    await audit(ctx, tx, device, "request.totp-given", { request: row.id });
    return { ...row, totp_needed: false };
  });
  return view(ctx, ctx.db, row, false);
}

/**
 * The requesting device starts (or restarts) signing once nothing is waited for. A held request
 * whose rule refuses it at release is denied, and that denial committed before it is reported.
 */
export async function signSignRequest(ctx: ProviderContext, device: AuthenticatedDevice, id: string) {
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
        throw new ProviderError("conflict", "held", `the request still waits for ${Object.keys(waiting).join(", ")}`);
      refusal = await refusalAtRelease(ctx, tx, wallet, row);
      if (refusal !== null) {
        await denyHeldRequest(tx, row.id);
        await audit(ctx, tx, device, "request.denied", { request: row.id, rule: row.rule, reason: refusal });
        return row;
      }
    } else if (row.status !== "signing" && row.status !== "failed")
      throw conflict(`a ${row.status} request cannot be signed`);
    if (row.status === "failed" && ctx.now() - Number(row.signing_ms ?? row.created_ms) > RESTART_WINDOW_MS)
      throw conflict("this request's signing began over a day ago; make a new request, for the policy to decide again");
    signing = await startSigning(ctx, tx, wallet, row, device);
    // Conditional: a cancel that committed meanwhile wins.
    if (!(await moveToSigning(tx, row.id, row.status, ctx.now())))
      throw conflict("the request changed meanwhile; read it again");
    if (row.status === "held") await audit(ctx, tx, device, "request.released", { request: row.id });
    return { ...row, status: "signing" as const };
  });
  if (refusal !== null) throw new ProviderError("conflict", "denied", `denied at release: ${refusal}`);
  return { ...(await view(ctx, ctx.db, row, false)), ...started(ctx, signing) };
}
