/**
 * The rows of two-party protocol sessions: the sid each claims, the provider's sealed party state
 * between rounds, and the last reply kept for a retry. A session's row is locked for its round.
 */
import type { SchemeName } from "@keyshard/mpc";
import type { Queryable } from "./queryable.js";
import { runningRuns } from "./running-runs.js";

export type SessionKind = "keygen" | "sign" | "refresh";

/**
 * The columns a session's kind fills: a signature's request and message, or a refresh's epoch.
 * (The failed row that only keeps a refused sid taken has no request; no round ever reads it.)
 */
type RunColumns =
  | { kind: "keygen"; sign_request_id: null; message_index: null; epoch: null }
  | { kind: "refresh"; sign_request_id: null; message_index: null; epoch: number }
  | { kind: "sign"; sign_request_id: string; message_index: number; epoch: null };

/** A running session holds its party's sealed state; an ended one holds none. */
type StateColumns = { status: "running"; state: Uint8Array } | { status: "done" | "failed"; state: null };

/** A session's row with its wallet's scheme and sealed share. */
export type SessionRow = {
  wallet_id: string;
  round: number;
  last_input: Uint8Array | null;
  last_output: Uint8Array | null;
  updated_ms: string;
  scheme: SchemeName;
  share: Uint8Array | null;
} & RunColumns &
  StateColumns;

/**
 * Claims the session's sid with a new running row and counts the account's runs going (as they
 * were before this one) in one statement: the signing path's statements are what a
 * single-connection database serialises on. `claimed` is false for a sid any session has used
 * (the unique index of 011 is the compare-and-swap).
 */
export async function claimSession(
  q: Queryable,
  session: {
    id: string;
    accountId: string;
    walletId: string;
    kind: SessionKind;
    signRequestId: string | null;
    messageIndex: number | null;
    epoch: number | null;
    sid: Uint8Array;
  },
  nowMs: number,
): Promise<{ claimed: boolean; runningBefore: number }> {
  const [row] = await q.query<{ id: string | null; running: string }>(
    `WITH claimed AS (
       INSERT INTO sessions (id, account_id, wallet_id, kind, sign_request_id, message_index, epoch, sid, round, status, updated_ms)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, 'running', $9)
       ON CONFLICT (sid) DO NOTHING RETURNING id)
     SELECT (SELECT id FROM claimed) AS id, ${runningRuns("$2")} AS running`,
    [
      session.id,
      session.accountId,
      session.walletId,
      session.kind,
      session.signRequestId,
      session.messageIndex,
      session.epoch,
      session.sid,
      nowMs,
    ],
  );
  return { claimed: row?.id != null, runningBefore: Number(row?.running ?? 0) };
}

/** The new session's first state, sealed, at the round it starts at. */
export async function saveStartedSession(q: Queryable, id: string, round: number, state: Uint8Array): Promise<void> {
  await q.query("UPDATE sessions SET round = $2, state = $3 WHERE id = $1", [id, round, state]);
}

/** Keeps a sid a refused first round was run under taken, as a failed signing session of no request. */
export async function keepRefusedSid(
  q: Queryable,
  session: { id: string; accountId: string; walletId: string; sid: Uint8Array },
  nowMs: number,
): Promise<void> {
  await q.query(
    `INSERT INTO sessions (id, account_id, wallet_id, kind, sid, round, status, updated_ms)
     VALUES ($1, $2, $3, 'sign', $4, 0, 'failed', $5) ON CONFLICT (sid) DO NOTHING`,
    [session.id, session.accountId, session.walletId, session.sid, nowMs],
  );
}

/** The session's row, locked, with its wallet's scheme and share; only within the account. */
export async function lockSession(q: Queryable, sessionId: string, accountId: string): Promise<SessionRow | undefined> {
  const [row] = await q.query<SessionRow>(
    `SELECT s.wallet_id, s.kind, s.sign_request_id, s.message_index, s.epoch, s.round, s.state, s.last_input, s.last_output,
            s.status, s.updated_ms, w.scheme, w.share
     FROM sessions s JOIN wallets w ON w.id = s.wallet_id
     WHERE s.id = $1 AND s.account_id = $2 FOR UPDATE OF s`,
    [sessionId, accountId],
  );
  return row;
}

/** A round's outcome, and its sealed reply for a retry of the same request (whose body hashes to `inputHash`), in one write. */
export async function saveRound(
  q: Queryable,
  id: string,
  round: {
    state: Uint8Array | null;
    status: "running" | "done";
    round: number;
    inputHash: Uint8Array;
    reply: Uint8Array;
    nowMs: number;
  },
): Promise<void> {
  await q.query(
    "UPDATE sessions SET state = $2, status = $3, round = $4, last_input = $5, last_output = $6, updated_ms = $7 WHERE id = $1",
    [id, round.state, round.status, round.round, round.inputHash, round.reply, round.nowMs],
  );
}

/** A batch of running sessions no round has come to since `beforeMs`. */
export async function idleSessions(q: Queryable, beforeMs: number): Promise<{ id: string; account_id: string }[]> {
  return q.query<{ id: string; account_id: string }>(
    "SELECT id, account_id FROM sessions WHERE status = 'running' AND updated_ms < $1 LIMIT 100",
    [beforeMs],
  );
}

/** The session failed: its sealed state and kept reply are erased. */
export async function markSessionFailed(q: Queryable, id: string, nowMs: number): Promise<void> {
  await q.query(
    "UPDATE sessions SET state = NULL, last_output = NULL, status = 'failed', updated_ms = $2 WHERE id = $1",
    [id, nowMs],
  );
}

/** Fails the request's sessions still running, erasing their state. */
export async function failRequestSessions(q: Queryable, requestId: string, nowMs: number): Promise<void> {
  await q.query(
    "UPDATE sessions SET status = 'failed', state = NULL, updated_ms = $2 WHERE sign_request_id = $1 AND status = 'running'",
    [requestId, nowMs],
  );
}

/** Fails the wallet's sessions still running, erasing their state. */
export async function failWalletSessions(q: Queryable, walletId: string, nowMs: number): Promise<void> {
  await q.query(
    "UPDATE sessions SET state = NULL, status = 'failed', updated_ms = $2 WHERE wallet_id = $1 AND status = 'running'",
    [walletId, nowMs],
  );
}
