/**
 * The count of an account's runs still going, across the tables that hold them: two-party
 * sessions, and the provider's parties in relayed runs of the account's wallets.
 */
import type { Queryable } from "./queryable.js";

/** How many runs of the account whose id is the statement's parameter `param` are still going. */
export const runningRuns = (param: string) =>
  `(SELECT count(*) FROM sessions WHERE account_id = ${param} AND status = 'running')
   + (SELECT count(*) FROM relay_parties p JOIN wallets w ON w.id = p.wallet_id
      WHERE w.account_id = ${param} AND p.status = 'running')`;

export async function countRunningRuns(q: Queryable, accountId: string): Promise<number> {
  const [row] = await q.query<{ n: string }>(`SELECT ${runningRuns("$1")} AS n`, [accountId]);
  return Number(row?.n ?? 0);
}
