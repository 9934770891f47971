/**
 * The rows of face attempts: every recovery ticket the provider issues is a guess at a face,
 * counted per enrollment for the provider's own rate limit (each operator counts its own too).
 */
import type { Queryable } from "./queryable.js";

/** How many attempts the enrollment had after `sinceMs`. */
export async function attemptsSince(q: Queryable, enrollmentId: string, sinceMs: number): Promise<number> {
  const [count] = await q.query<{ n: string }>(
    "SELECT count(*) AS n FROM face_attempts WHERE enrollment_id = $1 AND at_ms > $2",
    [enrollmentId, sinceMs],
  );
  return Number(count?.n ?? 0);
}

export async function insertAttempt(q: Queryable, enrollmentId: string, deviceId: string, atMs: number): Promise<void> {
  await q.query("INSERT INTO face_attempts (enrollment_id, device_id, at_ms) VALUES ($1, $2, $3)", [
    enrollmentId,
    deviceId,
    atMs,
  ]);
}
