/** The rows of wallets: created, confirmed and listed, and read on behalf of an account (another account's wallet does not exist for it). */
import type { SchemeName } from "@keyshard/mpc";
import { conflict, notFound } from "../errors.js";
import { abandonRunningKeyChanges } from "./key-changes.js";
import type { Queryable } from "./queryable.js";

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

/** The wallet's key is now its owner's alone: the provider forgets its share and any key change stops. */
export async function markSelfCustodied(q: Queryable, id: string): Promise<void> {
  await q.query("UPDATE wallets SET state = 'self-custodied', share = NULL WHERE id = $1", [id]);
  await abandonRunningKeyChanges(q, id);
}

/** The state of the account's wallet named `name` that is not abandoned, if there is one. */
export async function walletNamed(q: Queryable, accountId: string, name: string): Promise<string | undefined> {
  const [taken] = await q.query<{ state: string }>(
    "SELECT state FROM wallets WHERE account_id = $1 AND name = $2 AND state <> 'abandoned'",
    [accountId, name],
  );
  return taken?.state;
}

export async function insertWallet(
  q: Queryable,
  wallet: {
    id: string;
    accountId: string;
    name: string;
    scheme: SchemeName;
    /** Canonical JSON. */
    policy: string;
    threshold: number;
    /** Member ids in party order, as JSON; null for a hybrid wallet. */
    members: string | null;
    createdMs: number;
  },
): Promise<void> {
  await q.query(
    "INSERT INTO wallets (id, account_id, name, scheme, state, policy, threshold, members, created_ms) VALUES ($1, $2, $3, $4, 'creating', $5, $6, $7, $8)",
    [
      wallet.id,
      wallet.accountId,
      wallet.name,
      wallet.scheme,
      wallet.policy,
      wallet.threshold,
      wallet.members,
      wallet.createdMs,
    ],
  );
}

/** Records the public key a member device got; false if it confirmed already. */
export async function insertConfirmation(
  q: Queryable,
  walletId: string,
  deviceId: string,
  publicKey: Uint8Array,
  atMs: number,
): Promise<boolean> {
  const inserted = await q.query(
    "INSERT INTO wallet_confirmations (wallet_id, device_id, public_key, at_ms) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING device_id",
    [walletId, deviceId, publicKey, atMs],
  );
  return inserted.length > 0;
}

/** Whether any member device confirmed the wallet's key. */
export async function anyConfirmation(q: Queryable, walletId: string): Promise<boolean> {
  const rows = await q.query("SELECT 1 FROM wallet_confirmations WHERE wallet_id = $1 LIMIT 1", [walletId]);
  return rows.length > 0;
}

/** The wallet's key was never made: it is abandoned, its name free again, and any share it holds forgotten. */
export async function markAbandoned(q: Queryable, id: string): Promise<void> {
  await q.query("UPDATE wallets SET state = 'abandoned', share = NULL WHERE id = $1", [id]);
}

export async function walletPublicKey(q: Queryable, id: string): Promise<Uint8Array | undefined> {
  const [wallet] = await q.query<{ public_key: Uint8Array }>("SELECT public_key FROM wallets WHERE id = $1", [id]);
  return wallet?.public_key;
}

export async function walletState(q: Queryable, id: string): Promise<string> {
  const [row] = await q.query<{ state: string }>("SELECT state FROM wallets WHERE id = $1", [id]);
  return (row as { state: string }).state;
}

export interface WalletSummaryRow {
  id: string;
  name: string;
  scheme: string;
  state: string;
  public_key: Uint8Array | null;
  threshold: number;
  members: string | null;
  epoch: number;
}

/** The account's wallets that are not abandoned, oldest first. */
export async function accountWallets(q: Queryable, accountId: string): Promise<WalletSummaryRow[]> {
  return q.query<WalletSummaryRow>(
    "SELECT id, name, scheme, state, public_key, threshold, members, epoch FROM wallets WHERE account_id = $1 AND state <> 'abandoned' ORDER BY created_ms",
    [accountId],
  );
}

/** The account's active hybrid wallets, whose device shares a face enrollment holds boxes of. */
export async function activeHybridWallets(q: Queryable, accountId: string): Promise<{ id: string; epoch: number }[]> {
  return q.query<{ id: string; epoch: number }>(
    "SELECT id, epoch FROM wallets WHERE account_id = $1 AND state = 'active' AND members IS NULL ORDER BY id",
    [accountId],
  );
}

/** Moves the wallet from the owner's account to the heir's, its name marked inherited on `dateLabel`. */
export async function transferWalletToHeir(
  q: Queryable,
  id: string,
  ownerAccountId: string,
  heirAccountId: string,
  dateLabel: string,
): Promise<void> {
  await q.query(
    "UPDATE wallets SET account_id = $2, name = name || ' (inherited ' || $3 || ')' WHERE id = $1 AND account_id = $4",
    [id, heirAccountId, dateLabel, ownerAccountId],
  );
}

/** The account's active t-of-n wallets by name, with their members as JSON. */
export async function activeMultipartyWallets(
  q: Queryable,
  accountId: string,
): Promise<{ id: string; name: string; threshold: number; members: string }[]> {
  return q.query<{ id: string; name: string; threshold: number; members: string }>(
    "SELECT id, name, threshold, members FROM wallets WHERE account_id = $1 AND state = 'active' AND members IS NOT NULL ORDER BY name",
    [accountId],
  );
}

/** The share a key generation made, sealed, with the public key it gives. */
export async function storeWalletShare(
  q: Queryable,
  id: string,
  sealedShare: Uint8Array,
  publicKey: Uint8Array,
): Promise<void> {
  await q.query("UPDATE wallets SET share = $2, public_key = $3 WHERE id = $1", [id, sealedShare, publicKey]);
}

/** The wallet if its key is still being made: the key and share the provider's run stored, if any. */
export async function creatingWallet(
  q: Queryable,
  id: string,
): Promise<
  { scheme: SchemeName; members: string | null; public_key: Uint8Array | null; share: Uint8Array | null } | undefined
> {
  const [wallet] = await q.query<{
    scheme: SchemeName;
    members: string | null;
    public_key: Uint8Array | null;
    share: Uint8Array | null;
  }>("SELECT scheme, members, public_key, share FROM wallets WHERE id = $1 AND state = 'creating'", [id]);
  return wallet;
}

/** The public keys member devices reported from the wallet's key generation. */
export async function confirmedPublicKeys(q: Queryable, walletId: string): Promise<Uint8Array[]> {
  const confirmed = await q.query<{ public_key: Uint8Array }>(
    "SELECT public_key FROM wallet_confirmations WHERE wallet_id = $1",
    [walletId],
  );
  return confirmed.map((c) => c.public_key);
}

export async function markWalletFailed(q: Queryable, id: string): Promise<void> {
  await q.query("UPDATE wallets SET state = 'failed' WHERE id = $1", [id]);
}

/** The wallet's key is made, and every member agrees it is `publicKey`. */
export async function activateWallet(q: Queryable, id: string, publicKey: Uint8Array): Promise<void> {
  await q.query("UPDATE wallets SET state = 'active', public_key = $2 WHERE id = $1", [id, publicKey]);
}
