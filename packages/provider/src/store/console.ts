/**
 * The operator console's reads across every account: counts by state, the newest accounts with
 * their devices, held requests with their approvals, an account's newest audit entries,
 * recoveries and enrollments, and each wallet's policy in force. Each list is the newest `limit`
 * rows, with the count of all (`total`) beside every row; long texts come cut, with their length.
 */
import type { Queryable } from "./queryable.js";
import type { RequestRow } from "./sign-requests.js";

/** How many rows of each kind there are, by state or status (`accounts` under the key `all`). */
export interface CountRow {
  what: "account" | "device" | "wallet" | "request";
  key: string;
  n: number;
}

export async function consoleCounts(q: Queryable): Promise<CountRow[]> {
  return q.query<CountRow>(
    `SELECT 'account' AS what, 'all' AS key, count(*)::int AS n FROM accounts
     UNION ALL SELECT 'device', state, count(*)::int FROM devices GROUP BY state
     UNION ALL SELECT 'wallet', state, count(*)::int FROM wallets GROUP BY state
     UNION ALL SELECT 'request', status, count(*)::int FROM sign_requests GROUP BY status`,
  );
}

interface Counted {
  /** Rows in all, of which these are the newest. */
  total: number;
}

export interface ConsoleAccountRow extends Counted {
  id: string;
  email: string;
  verified: boolean;
  created_ms: string;
  last_active_ms: string | null;
}

export async function newestAccounts(q: Queryable, limit: number): Promise<ConsoleAccountRow[]> {
  return q.query<ConsoleAccountRow>(
    `SELECT id, email, verified, created_ms, last_active_ms, count(*) OVER ()::int AS total
     FROM accounts ORDER BY created_ms DESC, id LIMIT $1`,
    [limit],
  );
}

export interface ConsoleDeviceRow {
  id: string;
  account_id: string;
  name: string;
  state: string;
  created_ms: string;
  /** The account's devices in all, of which at most `perAccount` are listed. */
  account_devices: number;
}

/**
 * Up to `perAccount` devices of each of the accounts `accountIds`, with how many each has: anyone
 * can start registrations under an address, so the unverified ones are listed after the others,
 * newest first within each.
 */
export async function devicesOfAccounts(
  q: Queryable,
  accountIds: string[],
  perAccount: number,
): Promise<ConsoleDeviceRow[]> {
  return q.query<ConsoleDeviceRow>(
    `SELECT id, account_id, name, state, created_ms, account_devices FROM (
       SELECT id, account_id, name, state, created_ms, count(*) OVER (PARTITION BY account_id)::int AS account_devices,
         row_number() OVER (PARTITION BY account_id ORDER BY state = 'unverified', created_ms DESC, id) AS place
       FROM devices WHERE account_id = ANY($1::uuid[])) d
     WHERE place <= $2 ORDER BY place`,
    [accountIds, perAccount],
  );
}

export interface HeldRequestRow
  extends Pick<
      RequestRow,
      | "id"
      | "wallet_id"
      | "account_id"
      | "device_id"
      | "kind"
      | "chain"
      | "decision"
      | "rule"
      | "rule_number"
      | "approvals_needed"
      | "totp_needed"
      | "release_ms"
      | "created_ms"
    >,
    Counted {
  wallet_name: string;
  device_name: string;
  email: string;
}

export async function newestHeldRequests(q: Queryable, limit: number): Promise<HeldRequestRow[]> {
  return q.query<HeldRequestRow>(
    `SELECT r.id, r.wallet_id, r.account_id, r.device_id, r.kind, r.chain, r.decision, r.rule, r.rule_number,
       r.approvals_needed, r.totp_needed, r.release_ms, r.created_ms,
       w.name AS wallet_name, d.name AS device_name, a.email, count(*) OVER ()::int AS total
     FROM sign_requests r JOIN wallets w ON w.id = r.wallet_id JOIN devices d ON d.id = r.device_id
       JOIN accounts a ON a.id = r.account_id
     WHERE r.status = 'held' ORDER BY r.created_ms DESC, r.id LIMIT $1`,
    [limit],
  );
}

export interface ConsoleApprovalRow {
  request_id: string;
  device_id: string;
  at_ms: string;
  /** False when the approving device has since been revoked. */
  counts: boolean;
}

/** The approvals of the requests `requestIds`, oldest first: one query for a whole list. */
export async function approvalsOfRequests(q: Queryable, requestIds: string[]): Promise<ConsoleApprovalRow[]> {
  return q.query<ConsoleApprovalRow>(
    `SELECT a.request_id, a.device_id, a.at_ms, d.state <> 'revoked' AS counts FROM approvals a
       JOIN devices d ON d.id = a.device_id
     WHERE a.request_id = ANY($1::uuid[]) ORDER BY a.at_ms`,
    [requestIds],
  );
}

export interface ConsoleAuditRow extends Counted {
  seq: string;
  at_ms: string;
  actor: string;
  action: string;
  /** The entry's details (canonical JSON), cut to their first `textLimit` characters. */
  details: string;
  details_length: number;
  hash: Uint8Array;
}

/** The newest `limit` entries of the audit chain `chain`, newest first. */
export async function newestAuditEntries(
  q: Queryable,
  chain: string,
  limit: number,
  textLimit: number,
): Promise<ConsoleAuditRow[]> {
  return q.query<ConsoleAuditRow>(
    `SELECT seq, at_ms, actor, action, left(details, $3) AS details, length(details)::int AS details_length, hash,
       count(*) OVER ()::int AS total
     FROM audit_log WHERE chain = $1 ORDER BY seq DESC LIMIT $2`,
    [chain, limit, textLimit],
  );
}

export interface ConsoleRecoveryRow extends Counted {
  id: string;
  account_id: string;
  device_id: string;
  device_name: string;
  at_ms: string;
  hold_until_ms: string;
  status: string;
  decided_by: string | null;
  decided_ms: string | null;
}

export async function newestRecoveries(q: Queryable, limit: number): Promise<ConsoleRecoveryRow[]> {
  return q.query<ConsoleRecoveryRow>(
    `SELECT f.id, f.account_id, f.device_id, d.name AS device_name, f.at_ms, f.hold_until_ms, f.status,
       f.decided_by, f.decided_ms, count(*) OVER ()::int AS total
     FROM face_recoveries f JOIN devices d ON d.id = f.device_id ORDER BY f.at_ms DESC, f.id LIMIT $1`,
    [limit],
  );
}

export interface ConsoleEnrollmentRow extends Counted {
  id: string;
  account_id: string;
  kind: "owner" | "heir";
  email: string;
  status: string;
  inactivity_ms: string | null;
  created_by: string;
  created_ms: string;
  changed_ms: string | null;
}

export async function newestEnrollments(q: Queryable, limit: number): Promise<ConsoleEnrollmentRow[]> {
  return q.query<ConsoleEnrollmentRow>(
    `SELECT id, account_id, kind, email, status, inactivity_ms, created_by, created_ms, changed_ms,
       count(*) OVER ()::int AS total
     FROM face_enrollments ORDER BY created_ms DESC, id LIMIT $1`,
    [limit],
  );
}

export interface ConsoleWalletPolicyRow extends Counted {
  id: string;
  account_id: string;
  name: string;
  scheme: string;
  state: string;
  created_ms: string;
  /**
   * The policy in force at `nowMs` (the last change whose delay has passed, applied or not yet,
   * else the wallet's own), cut to its first `textLimit` characters.
   */
  policy: string;
  policy_length: number;
  /** When the next pending change takes effect, if one waits. */
  next_change_ms: string | null;
}

export async function newestWalletPolicies(
  q: Queryable,
  limit: number,
  nowMs: number,
  textLimit: number,
): Promise<ConsoleWalletPolicyRow[]> {
  return q.query<ConsoleWalletPolicyRow>(
    `SELECT id, account_id, name, scheme, state, created_ms, left(policy, $3) AS policy,
       length(policy)::int AS policy_length, next_change_ms, total
     FROM (SELECT w.id, w.account_id, w.name, w.scheme, w.state, w.created_ms,
             COALESCE((SELECT c.policy FROM policy_changes c WHERE c.wallet_id = w.id AND c.status = 'pending'
                         AND c.effective_ms <= $2 ORDER BY c.effective_ms DESC, c.requested_ms DESC LIMIT 1), w.policy) AS policy,
             (SELECT min(c.effective_ms) FROM policy_changes c WHERE c.wallet_id = w.id AND c.status = 'pending'
                AND c.effective_ms > $2) AS next_change_ms,
             count(*) OVER ()::int AS total
           FROM wallets w ORDER BY w.created_ms DESC, w.id LIMIT $1) newest
     ORDER BY created_ms DESC, id`,
    [limit, nowMs, textLimit],
  );
}
