/**
 * The rows of sign requests, their signatures and approvals. Lock order, everywhere: wallet, then
 * sessions, then the request row (`findRequest` with `lock`).
 */
import type { RequestStatus } from "@keyshard/api";
import type { ChainName, RequestKind } from "@keyshard/chains";
import { notFound } from "../errors.js";
import type { Decision } from "../policy/policy.js";
import type { Queryable } from "./queryable.js";

export interface RequestRow {
  id: string;
  wallet_id: string;
  account_id: string;
  device_id: string;
  kind: RequestKind;
  chain: ChainName;
  payload: Uint8Array;
  path: string | null;
  signers: string | null;
  description: string;
  decision: Decision["decision"];
  rule: string | null;
  rule_number: number | null;
  status: RequestStatus;
  approvals_needed: number;
  totp_needed: boolean;
  release_ms: string | null;
  /** When its signing first began. */
  signing_ms: string | null;
  created_ms: string;
}

const REQUEST_COLUMNS =
  "id, wallet_id, account_id, device_id, kind, chain, payload, path, signers, description, decision, rule, rule_number, status, approvals_needed, totp_needed, release_ms, signing_ms, created_ms";

/** The account's request `id`, locked for update when `lock`; another account's does not exist. */
export async function findRequest(q: Queryable, id: string, accountId: string, lock = false): Promise<RequestRow> {
  const [row] = await q.query<RequestRow>(
    `SELECT ${REQUEST_COLUMNS} FROM sign_requests WHERE id = $1 AND account_id = $2${lock ? " FOR UPDATE" : ""}`,
    [id, accountId],
  );
  if (row === undefined) throw notFound("no such sign request in this account");
  return row;
}

/** The account's latest 100 requests, newest first; only those in `status` if given. */
export async function latestRequests(
  q: Queryable,
  accountId: string,
  status: RequestStatus | undefined,
): Promise<RequestRow[]> {
  return q.query<RequestRow>(
    `SELECT ${REQUEST_COLUMNS} FROM sign_requests WHERE account_id = $1 AND ($2::text IS NULL OR status = $2)
     ORDER BY created_ms DESC LIMIT 100`,
    [accountId, status ?? null],
  );
}

export interface NewRequest {
  id: string;
  walletId: string;
  accountId: string;
  deviceId: string;
  kind: string;
  chain: string;
  payload: Uint8Array;
  path: string | null;
  /** Canonical JSON of what the provider read in the request. */
  description: string;
  decision: Decision["decision"];
  rule: string | null;
  ruleNumber: number | null;
  status: RequestStatus;
  approvalsNeeded: number;
  totpNeeded: boolean;
  releaseMs: number | null;
  signingMs: number | null;
  createdMs: number;
  /** The signing devices of a t-of-n wallet's request, as JSON. */
  signers: string | null;
}

export async function insertRequest(q: Queryable, r: NewRequest): Promise<RequestRow> {
  const [row] = await q.query<RequestRow>(
    `INSERT INTO sign_requests (id, wallet_id, account_id, device_id, kind, chain, payload, path, description, decision, rule, status,
       approvals_needed, totp_needed, release_ms, signing_ms, created_ms, signers, rule_number)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
     RETURNING ${REQUEST_COLUMNS}`,
    [
      r.id,
      r.walletId,
      r.accountId,
      r.deviceId,
      r.kind,
      r.chain,
      r.payload,
      r.path,
      r.description,
      r.decision,
      r.rule,
      r.status,
      r.approvalsNeeded,
      r.totpNeeded,
      r.releaseMs,
      r.signingMs,
      r.createdMs,
      r.signers,
      r.ruleNumber,
    ],
  );
  return row as RequestRow;
}

/** One message the request signs (`input`: the Bitcoin input it signs for). */
export async function insertRequestMessage(
  q: Queryable,
  requestId: string,
  idx: number,
  input: number | null,
  message: Uint8Array,
): Promise<void> {
  await q.query("INSERT INTO request_signatures (request_id, idx, input, message) VALUES ($1, $2, $3, $4)", [
    requestId,
    idx,
    input,
    message,
  ]);
}

/** The request's signatures so far, in message order (null where not yet made). */
export async function requestSignatures(
  q: Queryable,
  requestId: string,
): Promise<{ idx: number; input: number | null; signature: Uint8Array | null }[]> {
  return q.query<{ idx: number; input: number | null; signature: Uint8Array | null }>(
    "SELECT idx, input, signature FROM request_signatures WHERE request_id = $1 ORDER BY idx",
    [requestId],
  );
}

/** Records the device's approval; false if it approved the request already. */
export async function insertApproval(
  q: Queryable,
  requestId: string,
  deviceId: string,
  signature: Uint8Array,
  atMs: number,
): Promise<boolean> {
  const inserted = await q.query(
    "INSERT INTO approvals (request_id, device_id, signature, at_ms) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING device_id",
    [requestId, deviceId, signature, atMs],
  );
  return inserted.length > 0;
}

/** The request's approvals in the order given; `counts` is false for a revoked device's. */
export async function requestApprovals(
  q: Queryable,
  requestId: string,
): Promise<{ device_id: string; at_ms: string; counts: boolean }[]> {
  return q.query<{ device_id: string; at_ms: string; counts: boolean }>(
    `SELECT a.device_id, a.at_ms, d.state <> 'revoked' AS counts FROM approvals a JOIN devices d ON d.id = a.device_id
     WHERE a.request_id = $1 ORDER BY a.at_ms`,
    [requestId],
  );
}

/** Since when the device is active (null: it is not), or undefined for no such device. */
export async function activeSince(
  q: Queryable,
  deviceId: string,
): Promise<{ active_since_ms: string | null } | undefined> {
  const [row] = await q.query<{ active_since_ms: string | null }>("SELECT active_since_ms FROM devices WHERE id = $1", [
    deviceId,
  ]);
  return row;
}

export async function cancelRequest(q: Queryable, id: string): Promise<void> {
  await q.query("UPDATE sign_requests SET status = 'cancelled' WHERE id = $1", [id]);
}

/** Denies the request if it is still held. */
export async function denyHeldRequest(q: Queryable, id: string): Promise<void> {
  await q.query("UPDATE sign_requests SET status = 'denied' WHERE id = $1 AND status = 'held'", [id]);
}

export async function markTotpGiven(q: Queryable, id: string): Promise<void> {
  await q.query("UPDATE sign_requests SET totp_needed = false WHERE id = $1", [id]);
}

/** Moves the request from `from` to signing; false if its status changed meanwhile (a cancel won). */
export async function moveToSigning(q: Queryable, id: string, from: RequestStatus, nowMs: number): Promise<boolean> {
  const moved = await q.query(
    "UPDATE sign_requests SET status = 'signing', signing_ms = COALESCE(signing_ms, $2) WHERE id = $1 AND status = $3 RETURNING id",
    [id, nowMs, from],
  );
  return moved.length > 0;
}

/**
 * The account's held requests whose release was a recovery's hold ending at `holdUntilMs` are
 * released now; a policy's own delay stays.
 */
export async function releaseRecoveryHeldRequests(q: Queryable, accountId: string, holdUntilMs: string): Promise<void> {
  await q.query(
    "UPDATE sign_requests SET release_ms = NULL WHERE account_id = $1 AND status = 'held' AND decision <> 'delay' AND release_ms = $2",
    [accountId, holdUntilMs],
  );
}

/** Cancels the device's requests still held. */
export async function cancelHeldRequestsOf(q: Queryable, deviceId: string): Promise<void> {
  await q.query("UPDATE sign_requests SET status = 'cancelled' WHERE device_id = $1 AND status = 'held'", [deviceId]);
}

/** The request's messages not yet signed, in order (`input`: the Bitcoin input each signs for). */
export async function unsignedMessages(
  q: Queryable,
  requestId: string,
): Promise<{ idx: number; input: number | null; message: Uint8Array }[]> {
  return q.query<{ idx: number; input: number | null; message: Uint8Array }>(
    "SELECT idx, input, message FROM request_signatures WHERE request_id = $1 AND signature IS NULL ORDER BY idx",
    [requestId],
  );
}

/**
 * Stores the signature of the request's message `idx`; true when that was its last one missing,
 * and the request is now signed. The runs of one request (a PSBT's inputs) may finish at the same
 * moment on different connections: locking the request first (the lock its update takes anyway)
 * makes the last of them see every other's signature. (The update's condition does not see the
 * signature its own first part stores, hence `idx <> $2`.)
 */
export async function storeSignature(
  q: Queryable,
  requestId: string,
  idx: number,
  signature: Uint8Array,
): Promise<boolean> {
  await q.query("SELECT id FROM sign_requests WHERE id = $1 FOR NO KEY UPDATE", [requestId]);
  const completed = await q.query(
    `WITH stored AS (UPDATE request_signatures SET signature = $3 WHERE request_id = $1 AND idx = $2)
     UPDATE sign_requests SET status = 'signed' WHERE id = $1
       AND NOT EXISTS (SELECT 1 FROM request_signatures WHERE request_id = $1 AND idx <> $2 AND signature IS NULL)
     RETURNING id`,
    [requestId, idx, signature],
  );
  return completed.length === 1;
}

/** A run of the request failed (`id` null: the run was of no request, and nothing changes). */
export async function markRequestFailed(q: Queryable, id: string | null): Promise<void> {
  await q.query("UPDATE sign_requests SET status = 'failed' WHERE id = $1", [id]);
}

/**
 * The wallet's transaction requests whose signing began after `sinceMs`, failed ones among them,
 * with their stored descriptions.
 */
export async function transactionsSigningSince(
  q: Queryable,
  walletId: string,
  sinceMs: number,
): Promise<{ description: string; signing_ms: string }[]> {
  return q.query<{ description: string; signing_ms: string }>(
    "SELECT description, signing_ms FROM sign_requests WHERE wallet_id = $1 AND kind = 'transaction' AND signing_ms > $2",
    [walletId, sinceMs],
  );
}
