/**
 * The statements on the outbox: queuing a message in the transaction that caused it, claiming due
 * messages for a lease, recording each send's outcome, and reading the messages not sent.
 */
import type { Queryable } from "./queryable.js";

/** A message still in the outbox, as the log and the development mail viewer show it. */
export interface UnsentMessage {
  id: string;
  to: string;
  subject: string;
  body: string;
  createdMs: number;
}

/** A message claimed by a worker; `attempts` counts this one and identifies the claim. */
export interface ClaimedMessage {
  id: string;
  recipient: string;
  subject: string;
  body: string;
  attempts: number;
}

const UNSENT_COLUMNS = "id, recipient, subject, body, created_ms";
type UnsentRow = { id: string; recipient: string; subject: string; body: string; created_ms: string };

const unsentMessage = (r: UnsentRow): UnsentMessage => ({
  id: String(r.id),
  to: r.recipient,
  subject: r.subject,
  body: r.body,
  createdMs: Number(r.created_ms),
});

/** Queues a message, due at once. */
export async function insertOutboxMessage(
  q: Queryable,
  message: { accountId: string | null; to: string; subject: string; body: string },
  nowMs: number,
): Promise<void> {
  await q.query(
    "INSERT INTO outbox (account_id, recipient, subject, body, created_ms, next_attempt_ms) VALUES ($1, $2, $3, $4, $5, $5)",
    [message.accountId, message.to, message.subject, message.body, nowMs],
  );
}

/** The newest `limit` messages neither sent nor given up, newest first. */
export async function newestUnsent(q: Queryable, limit: number): Promise<UnsentMessage[]> {
  const rows = await q.query<UnsentRow>(
    `SELECT ${UNSENT_COLUMNS} FROM outbox
        WHERE sent_ms IS NULL AND failed_ms IS NULL ORDER BY created_ms DESC, id DESC LIMIT $1`,
    [limit],
  );
  return rows.map(unsentMessage);
}

/** The messages neither sent nor given up that were queued from `sinceMs` on, except `skipIds`, oldest first. */
export async function unsentSince(q: Queryable, sinceMs: number, skipIds: string[]): Promise<UnsentMessage[]> {
  const rows = await q.query<UnsentRow>(
    `SELECT ${UNSENT_COLUMNS} FROM outbox
        WHERE sent_ms IS NULL AND failed_ms IS NULL AND created_ms >= $1 AND NOT (id = ANY($2::bigint[]))
        ORDER BY id`,
    [sinceMs, skipIds],
  );
  return rows.map(unsentMessage);
}

/**
 * Claims up to `limit` messages due at `nowMs` until `leaseUntilMs`: the earliest next attempts
 * first, none under a live lease, none in `skipIds`. SKIP LOCKED and the lease condition,
 * re-checked on a row another replica just claimed, keep two replicas off one message.
 */
export async function claimDueMessages(
  q: Queryable,
  claim: { leaseUntilMs: number; nowMs: number; skipIds: string[]; limit: number },
): Promise<ClaimedMessage[]> {
  const rows = await q.query<ClaimedMessage>(
    `UPDATE outbox SET claimed_until_ms = $1, attempts = attempts + 1
        WHERE id IN (
          SELECT id FROM outbox
           WHERE sent_ms IS NULL AND failed_ms IS NULL AND next_attempt_ms <= $2
             AND (claimed_until_ms IS NULL OR claimed_until_ms <= $2) AND NOT (id = ANY($3::bigint[]))
           ORDER BY next_attempt_ms, id LIMIT $4 FOR UPDATE SKIP LOCKED)
        RETURNING id, recipient, subject, body, attempts`,
    [claim.leaseUntilMs, claim.nowMs, claim.skipIds, claim.limit],
  );
  return rows.map((row) => ({ ...row, id: String(row.id) }));
}

/** The message went out, whoever holds its claim now. */
export async function markSent(q: Queryable, id: string, nowMs: number): Promise<void> {
  await q.query(
    "UPDATE outbox SET sent_ms = $1, claimed_until_ms = NULL, last_error = NULL WHERE id = $2 AND sent_ms IS NULL",
    [nowMs, id],
  );
}

/** Gives the message up with `error`, if its claim of `attempts` is still the latest. */
export async function markFailed(
  q: Queryable,
  message: { id: string; attempts: number },
  nowMs: number,
  error: string,
): Promise<void> {
  await q.query(
    "UPDATE outbox SET failed_ms = $1, claimed_until_ms = NULL, last_error = $2 WHERE id = $3 AND attempts = $4 AND sent_ms IS NULL",
    [nowMs, error, message.id, message.attempts],
  );
}

/** Makes the message due again at `nextAttemptMs`, if its claim of `attempts` is still the latest. */
export async function scheduleRetry(
  q: Queryable,
  message: { id: string; attempts: number },
  nextAttemptMs: number,
  error: string,
): Promise<void> {
  await q.query(
    "UPDATE outbox SET next_attempt_ms = $1, claimed_until_ms = NULL, last_error = $2 WHERE id = $3 AND attempts = $4 AND sent_ms IS NULL",
    [nextAttemptMs, error, message.id, message.attempts],
  );
}
