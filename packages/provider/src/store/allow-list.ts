/** The rows of wallets' allow-lists: destinations a policy's rules may name, each with when it was added. */
import type { ChainName } from "@keyshard/chains";
import type { Queryable } from "./queryable.js";

export interface AllowListRow {
  chain: string;
  address: string;
  label: string;
  added_ms: string;
}

/** The wallet's allow-list, oldest entry first. */
export async function allowListOf(q: Queryable, walletId: string): Promise<AllowListRow[]> {
  return q.query<AllowListRow>(
    "SELECT chain, address, label, added_ms FROM allow_list WHERE wallet_id = $1 ORDER BY added_ms",
    [walletId],
  );
}

/** When each entry of the wallet's allow-list was added, in no order: what the policy's rules read. */
export async function allowListAddedTimes(
  q: Queryable,
  walletId: string,
): Promise<{ chain: ChainName; address: string; added_ms: string }[]> {
  return q.query<{ chain: ChainName; address: string; added_ms: string }>(
    "SELECT chain, address, added_ms FROM allow_list WHERE wallet_id = $1",
    [walletId],
  );
}

/** Adds the (normalized) address; false if it is on the list already. */
export async function insertAllowListEntry(
  q: Queryable,
  entry: { walletId: string; chain: string; address: string; label: string; addedBy: string; addedMs: number },
): Promise<boolean> {
  const inserted = await q.query(
    `INSERT INTO allow_list (wallet_id, chain, address, label, added_by, added_ms) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT DO NOTHING RETURNING address`,
    [entry.walletId, entry.chain, entry.address, entry.label, entry.addedBy, entry.addedMs],
  );
  return inserted.length > 0;
}

/** Removes the (normalized) address; false if it was not on the list. */
export async function deleteAllowListEntry(
  q: Queryable,
  walletId: string,
  chain: string,
  address: string,
): Promise<boolean> {
  const removed = await q.query(
    "DELETE FROM allow_list WHERE wallet_id = $1 AND chain = $2 AND address = $3 RETURNING address",
    [walletId, chain, address],
  );
  return removed.length > 0;
}
