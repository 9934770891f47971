/**
 * The rows of key changes: one per epoch a refresh or reshare opens beside a wallet's current one,
 * the confirmations of the devices that keep a new share, and the commit that moves the wallet to
 * the new epoch (the two-phase rules are in `wallets/key-changes.ts`).
 */
import type { Queryable } from "./queryable.js";

export interface KeyChangeRow {
  wallet_id: string;
  epoch: number;
  kind: "refresh" | "reshare";
  members: string | null;
  threshold: number;
  share: Uint8Array | null;
  status: "running" | "committed" | "abandoned" | "failed";
  relay_id: string | null;
  created_by: string;
}

const KEY_CHANGE_COLUMNS = "wallet_id, epoch, kind, members, threshold, share, status, relay_id, created_by";

/** The change that would make `epoch`, or the wallet's running change when `epoch` is omitted. */
export async function findKeyChange(q: Queryable, walletId: string, epoch?: number): Promise<KeyChangeRow | undefined> {
  const [row] =
    epoch === undefined
      ? await q.query<KeyChangeRow>(
          `SELECT ${KEY_CHANGE_COLUMNS} FROM key_changes WHERE wallet_id = $1 AND status = 'running'`,
          [walletId],
        )
      : await q.query<KeyChangeRow>(
          `SELECT ${KEY_CHANGE_COLUMNS} FROM key_changes WHERE wallet_id = $1 AND epoch = $2`,
          [walletId, epoch],
        );
  return row;
}

/** Abandons the wallet's running change, if any; returns the epochs it would have made. */
export async function abandonRunningKeyChanges(q: Queryable, walletId: string): Promise<number[]> {
  const abandoned = await q.query<{ epoch: number }>(
    "UPDATE key_changes SET status = 'abandoned' WHERE wallet_id = $1 AND status = 'running' RETURNING epoch",
    [walletId],
  );
  return abandoned.map((a) => a.epoch);
}

/** The highest epoch any change of the wallet opened, whatever became of it; 0 if none. */
export async function lastKeyChangeEpoch(q: Queryable, walletId: string): Promise<number> {
  const [last] = await q.query<{ epoch: number | null }>(
    "SELECT max(epoch) AS epoch FROM key_changes WHERE wallet_id = $1",
    [walletId],
  );
  return Number(last?.epoch ?? 0);
}

export async function insertKeyChange(
  q: Queryable,
  change: {
    walletId: string;
    epoch: number;
    kind: "refresh" | "reshare";
    /** Member ids of the new epoch in party order, as JSON; null for a hybrid wallet. */
    members: string | null;
    threshold: number;
    createdBy: string;
    createdMs: number;
  },
): Promise<void> {
  await q.query(
    `INSERT INTO key_changes (wallet_id, epoch, kind, members, threshold, status, created_by, created_ms)
     VALUES ($1, $2, $3, $4, $5, 'running', $6, $7)`,
    [change.walletId, change.epoch, change.kind, change.members, change.threshold, change.createdBy, change.createdMs],
  );
}

/** Keeps the provider's new share (sealed) in the change, if it is still running. */
export async function storeKeyChangeShare(
  q: Queryable,
  walletId: string,
  epoch: number,
  sealedShare: Uint8Array,
): Promise<void> {
  await q.query("UPDATE key_changes SET share = $3 WHERE wallet_id = $1 AND epoch = $2 AND status = 'running'", [
    walletId,
    epoch,
    sealedShare,
  ]);
}

/** Fails the change if it is still running; false if it was not. */
export async function failRunningKeyChange(q: Queryable, walletId: string, epoch: number): Promise<boolean> {
  const failed = await q.query(
    "UPDATE key_changes SET status = 'failed' WHERE wallet_id = $1 AND epoch = $2 AND status = 'running' RETURNING epoch",
    [walletId, epoch],
  );
  return failed.length > 0;
}

/** Records that a device keeps its new share; a second report of it changes nothing. */
export async function insertKeyChangeConfirmation(
  q: Queryable,
  walletId: string,
  epoch: number,
  deviceId: string,
  publicKey: Uint8Array,
  atMs: number,
): Promise<void> {
  await q.query(
    "INSERT INTO key_change_confirmations (wallet_id, epoch, device_id, public_key, at_ms) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    [walletId, epoch, deviceId, publicKey, atMs],
  );
}

/** The devices that reported keeping their share of the change's epoch. */
export async function keyChangeConfirmedDevices(q: Queryable, walletId: string, epoch: number): Promise<string[]> {
  const confirmed = await q.query<{ device_id: string }>(
    "SELECT device_id FROM key_change_confirmations WHERE wallet_id = $1 AND epoch = $2",
    [walletId, epoch],
  );
  return confirmed.map((c) => c.device_id);
}

/**
 * Moves the wallet to the change's epoch: its share, members and threshold become the change's,
 * and the change is committed with its copy of the share dropped.
 */
export async function commitKeyChange(q: Queryable, change: KeyChangeRow): Promise<void> {
  await q.query(
    "UPDATE wallets SET share = $2, epoch = $3, members = COALESCE($4, members), threshold = $5 WHERE id = $1",
    [change.wallet_id, change.share, change.epoch, change.members, change.threshold],
  );
  await q.query("UPDATE key_changes SET status = 'committed', share = NULL WHERE wallet_id = $1 AND epoch = $2", [
    change.wallet_id,
    change.epoch,
  ]);
}

/** Names the relay session of the change's run (t-of-n wallets). */
export async function setKeyChangeRelay(q: Queryable, walletId: string, epoch: number, relayId: string): Promise<void> {
  await q.query("UPDATE key_changes SET relay_id = $3 WHERE wallet_id = $1 AND epoch = $2", [walletId, epoch, relayId]);
}
