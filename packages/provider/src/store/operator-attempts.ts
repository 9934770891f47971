/**
 * A recovery operator's record of evaluations asked of it (each evaluated one is a face guess
 * counted against its enrollment's limit) and of the tickets it has evaluated under, each once.
 */
import { TICKET_CLOCK_SKEW_MS, TICKET_LIFETIME_MS } from "@keyshard/recovery";
import type { Queryable } from "./queryable.js";

export type AttemptOutcome = "evaluated" | "refused";

/** How many evaluations the enrollment had after `sinceMs`. */
export async function evaluationsSince(q: Queryable, enrollmentId: string, sinceMs: number): Promise<number> {
  const [count] = await q.query<{ n: string }>(
    "SELECT count(*) AS n FROM operator_attempts WHERE enrollment_id = $1 AND outcome = 'evaluated' AND at_ms > $2",
    [enrollmentId, sinceMs],
  );
  return Number(count?.n ?? 0);
}

export async function insertOperatorAttempt(
  q: Queryable,
  attempt: { enrollmentId: string; device: string; atMs: number; outcome: AttemptOutcome },
): Promise<void> {
  await q.query("INSERT INTO operator_attempts (enrollment_id, device, at_ms, outcome) VALUES ($1, $2, $3, $4)", [
    attempt.enrollmentId,
    attempt.device,
    attempt.atMs,
    attempt.outcome,
  ]);
}

/**
 * How long a used ticket is remembered: a ticket expires at most its lifetime and the clock skew
 * readers allow after it is first used, and an expired ticket is refused before it gets here;
 * twice that leaves room for the operator's clock.
 */
const REMEMBER_USED_MS = 2 * (TICKET_LIFETIME_MS + TICKET_CLOCK_SKEW_MS);

/**
 * Marks the ticket (the SHA-256 of its signed payload) used; false when it was used already.
 * Tickets too old to be accepted again are forgotten on the way.
 */
export async function useTicket(
  q: Queryable,
  ticket: { digest: Uint8Array; enrollmentId: string; atMs: number },
): Promise<boolean> {
  await q.query("DELETE FROM operator_used_tickets WHERE used_ms < $1", [ticket.atMs - REMEMBER_USED_MS]);
  const rows = await q.query(
    "INSERT INTO operator_used_tickets (digest, enrollment_id, used_ms) VALUES ($1, $2, $3) ON CONFLICT (digest) DO NOTHING RETURNING digest",
    [ticket.digest, ticket.enrollmentId, ticket.atMs],
  );
  return rows.length === 1;
}
