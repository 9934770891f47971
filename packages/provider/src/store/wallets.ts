/** Reading a wallet row on behalf of an account: another account's wallet does not exist for it. */
import type { SchemeName } from "@keyshard/transport";
import { conflict, notFound } from "../api/errors.js";
import type { Queryable } from "./database.js";

export interface WalletRow {
  id: string;
  account_id: string;
  name: string;
  scheme: SchemeName;
  state: "creating" | "active" | "failed" | "self-custodied" | "abandoned";
  public_key: Uint8Array | null;
  share: Uint8Array | null;
  policy: string;
  threshold: number;
  /** Member ids in party order (t-of-n wallets), as JSON; null for a hybrid wallet. */
  members: string | null;
  /** The key's epoch: 0 from keygen, one more after each committed refresh or reshare. */
  epoch: number;
}

/**
 * The account's wallet `id`, or 404. `lock` takes the wallet's lock, which serializes everything
 * that decides on its policy or history, for the rest of the transaction. It is an advisory lock
 * (namespace 1 of the two-key form) rather than a row lock: rows that reference the wallet take
 * key-share locks on its row, and with a row lock here PostgreSQL reported deadlocks under the
 * 16-client benchmark.
 * `active` refuses a wallet whose key is not made.
 */
export async function findWallet(
  q: Queryable,
  id: string,
  accountId: string,
  options: { lock?: boolean; active?: boolean } = {},
): Promise<WalletRow> {
  if (options.lock) await lockWallet(q, id);
  const [wallet] = await q.query<WalletRow>(
    `SELECT id, account_id, name, scheme, state, public_key, share, policy, threshold, members, epoch FROM wallets
     WHERE id = $1 AND account_id = $2`,
    [id, accountId],
  );
  if (wallet === undefined) throw notFound("no such wallet in this account");
  if (options.active && wallet.state !== "active") throw conflict(`wallet is ${wallet.state}`);
  return wallet;
}

/** The wallet's lock (see `findWallet`); taking it again in the same transaction is harmless. */
export async function lockWallet(q: Queryable, id: string): Promise<void> {
  await q.query("SELECT pg_advisory_xact_lock(1, hashtext($1))", [id]);
}
