/**
 * Key changes: a refresh (new shares, same parties) or a reshare (another set of parties or
 * threshold) of a wallet's key, which keeps its public key and so its addresses.
 *
 * The change is two-phase, so that no party ever drops a share another party still needs:
 *   1. `beginKeyChange` opens epoch e + 1 beside the wallet's current epoch e; everyone keeps
 *      signing with epoch e's shares meanwhile.
 *   2. Each party's run ends with a new share. The provider's (when it is a party) is sealed into
 *      the change (`newShareMade`); each device member of the new epoch stores its own beside
 *      the old one and then reports it (`confirmKeyChange`), with the public key it got.
 *   3. Once every party of the new epoch has its share, `commitIfKept` swaps the provider's share,
 *      members and threshold in one transaction and moves the wallet to epoch e + 1. Devices see
 *      the new epoch and drop their old shares; a device left out of the new epoch drops its own.
 * A change that fails or is superseded before step 3 leaves epoch e as it was.
 */
import { type SchemeName, type Share, scheme } from "@keyshard/mpc";
import { bytesToHex } from "@noble/hashes/utils.js";
import { appendAudit } from "../audit/log.js";
import type { ProviderContext } from "../context.js";
import { conflict, forbidden, invalid, notFound } from "../errors.js";
import type { Queryable } from "../store/queryable.js";
import { lockWallet, type WalletRow } from "../store/wallets.js";

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

interface Actor {
  accountId: string;
  /** The device whose request or message caused this, for the audit log. */
  actor: string;
}

const audit = (ctx: ProviderContext, tx: Queryable, who: Actor, action: string, details: object) =>
  appendAudit(tx, { chain: who.accountId, atMs: ctx.now(), actor: who.actor, action, details });

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

/**
 * Opens the wallet's next epoch (the caller holds the wallet's lock). A change still running is
 * abandoned: its shares were never committed, so nobody relies on them.
 */
export async function beginKeyChange(
  ctx: ProviderContext,
  tx: Queryable,
  who: Actor,
  wallet: WalletRow & { epoch: number },
  change: { kind: "refresh" | "reshare"; members: string[] | null; threshold: number },
): Promise<number> {
  const abandoned = await tx.query<{ epoch: number }>(
    "UPDATE key_changes SET status = 'abandoned' WHERE wallet_id = $1 AND status = 'running' RETURNING epoch",
    [wallet.id],
  );
  for (const a of abandoned)
    await audit(ctx, tx, who, "key-change.abandoned", { wallet: wallet.id, epoch: a.epoch, reason: "superseded" });
  const [last] = await tx.query<{ epoch: number | null }>(
    "SELECT max(epoch) AS epoch FROM key_changes WHERE wallet_id = $1",
    [wallet.id],
  );
  const epoch = Math.max(wallet.epoch, Number(last?.epoch ?? 0)) + 1;
  await tx.query(
    `INSERT INTO key_changes (wallet_id, epoch, kind, members, threshold, status, created_by, created_ms)
     VALUES ($1, $2, $3, $4, $5, 'running', $6, $7)`,
    [
      wallet.id,
      epoch,
      change.kind,
      change.members === null ? null : JSON.stringify(change.members),
      change.threshold,
      who.actor,
      ctx.now(),
    ],
  );
  await audit(ctx, tx, who, "key-change.started", {
    wallet: wallet.id,
    epoch,
    kind: change.kind,
    ...(change.members && { members: change.members, threshold: change.threshold }),
  });
  return epoch;
}

/** The provider's run of a change ended with `share` (null: it leaves the key). */
export async function newShareMade(
  ctx: ProviderContext,
  tx: Queryable,
  run: Actor & { walletId: string; epoch: number; scheme: SchemeName },
  share: unknown,
): Promise<Uint8Array | null> {
  if (share === null) return null;
  const engine = scheme(run.scheme);
  const key = engine.publicKey(share as Share);
  const [wallet] = await tx.query<{ public_key: Uint8Array }>("SELECT public_key FROM wallets WHERE id = $1", [
    run.walletId,
  ]);
  if (wallet === undefined || bytesToHex(new Uint8Array(wallet.public_key)) !== bytesToHex(key)) {
    await failKeyChange(ctx, tx, run, "the new shares give another public key");
    return key;
  }
  await tx.query("UPDATE key_changes SET share = $3 WHERE wallet_id = $1 AND epoch = $2 AND status = 'running'", [
    run.walletId,
    run.epoch,
    ctx.masterKey.seal(engine.encodeShare(share as Share), `share:${run.walletId}`),
  ]);
  await commitIfKept(ctx, tx, run);
  return key;
}

/** A failed run ends its change; the wallet keeps its epoch. */
export async function failKeyChange(
  ctx: ProviderContext,
  tx: Queryable,
  run: Actor & { walletId: string; epoch: number },
  reason: string,
): Promise<void> {
  const failed = await tx.query(
    "UPDATE key_changes SET status = 'failed' WHERE wallet_id = $1 AND epoch = $2 AND status = 'running' RETURNING epoch",
    [run.walletId, run.epoch],
  );
  if (failed.length > 0)
    await audit(ctx, tx, run, "key-change.failed", { wallet: run.walletId, epoch: run.epoch, reason });
}

/** The devices that must report their new share: the new members, or the requester of a hybrid refresh. */
function devicesOf(ctx: ProviderContext, change: KeyChangeRow): string[] {
  if (change.members === null) return [change.created_by];
  return (JSON.parse(change.members) as string[]).filter((m) => m !== ctx.identityId);
}

function providerTakesPart(ctx: ProviderContext, change: KeyChangeRow): boolean {
  return change.members === null || (JSON.parse(change.members) as string[]).includes(ctx.identityId);
}

/**
 * A device member of the new epoch reports that it keeps its new share. Reporting twice is
 * harmless (a device that lost the answer asks again); a different key fails the change.
 */
export async function confirmKeyChange(
  ctx: ProviderContext,
  tx: Queryable,
  who: Actor & { walletId: string; epoch: number },
  publicKey: Uint8Array,
): Promise<{ epoch: number; committed: boolean }> {
  await lockWallet(tx, who.walletId);
  const change = await findKeyChange(tx, who.walletId, who.epoch);
  if (change === undefined) throw notFound("no such key change of this wallet");
  if (!devicesOf(ctx, change).includes(who.actor)) throw forbidden("this device gets no share in that key change");
  if (change.status === "committed") return { epoch: change.epoch, committed: true };
  if (change.status !== "running") throw conflict(`that key change is ${change.status}`);
  const [wallet] = await tx.query<{ public_key: Uint8Array }>("SELECT public_key FROM wallets WHERE id = $1", [
    who.walletId,
  ]);
  if (bytesToHex(new Uint8Array((wallet as { public_key: Uint8Array }).public_key)) !== bytesToHex(publicKey)) {
    await failKeyChange(ctx, tx, who, `device ${who.actor} reports another public key`);
    throw conflict("that is not the wallet's public key: the key change failed and the old shares stay");
  }
  await tx.query(
    "INSERT INTO key_change_confirmations (wallet_id, epoch, device_id, public_key, at_ms) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    [who.walletId, who.epoch, who.actor, publicKey, ctx.now()],
  );
  return { epoch: who.epoch, committed: await commitIfKept(ctx, tx, who) };
}

/** Moves the wallet to the change's epoch once every party of it has its share. */
async function commitIfKept(
  ctx: ProviderContext,
  tx: Queryable,
  run: Actor & { walletId: string; epoch: number },
): Promise<boolean> {
  await lockWallet(tx, run.walletId);
  const change = await findKeyChange(tx, run.walletId, run.epoch);
  if (change?.status !== "running") return false;
  if (providerTakesPart(ctx, change) && change.share === null) return false;
  const confirmed = await tx.query<{ device_id: string }>(
    "SELECT device_id FROM key_change_confirmations WHERE wallet_id = $1 AND epoch = $2",
    [run.walletId, run.epoch],
  );
  const have = new Set(confirmed.map((c) => c.device_id));
  if (!devicesOf(ctx, change).every((d) => have.has(d))) return false;
  await tx.query(
    "UPDATE wallets SET share = $2, epoch = $3, members = COALESCE($4, members), threshold = $5 WHERE id = $1",
    [run.walletId, change.share, change.epoch, change.members, change.threshold],
  );
  await tx.query("UPDATE key_changes SET status = 'committed', share = NULL WHERE wallet_id = $1 AND epoch = $2", [
    run.walletId,
    run.epoch,
  ]);
  await audit(ctx, tx, run, "key-change.committed", {
    wallet: run.walletId,
    epoch: change.epoch,
    kind: change.kind,
    ...(change.members && { members: JSON.parse(change.members), threshold: change.threshold }),
  });
  return true;
}

/** Names the relay session of the change's run (t-of-n wallets). */
export async function setKeyChangeRelay(q: Queryable, walletId: string, epoch: number, relayId: string): Promise<void> {
  await q.query("UPDATE key_changes SET relay_id = $3 WHERE wallet_id = $1 AND epoch = $2", [walletId, epoch, relayId]);
}

/**
 * Checks a requested reshare of a t-of-n wallet and gives the new member list in party order
 * (the provider stays a member at the end when it is one now).
 */
export function planReshare(
  ctx: ProviderContext,
  wallet: WalletRow,
  request: { devices: string[]; threshold: number },
): string[] {
  const old = JSON.parse(wallet.members as string) as string[];
  const members = [...request.devices, ...(old.includes(ctx.identityId) ? [ctx.identityId] : [])];
  if (new Set(members).size !== members.length) throw invalid("a device is a member once");
  if (request.threshold < 2 || request.threshold > members.length)
    throw invalid(`a ${request.threshold}-of-${members.length} wallet is not possible`);
  const dealers = members.filter((m) => old.includes(m)).length;
  if (dealers < wallet.threshold)
    throw invalid(
      `at least ${wallet.threshold} of the current members must stay to pass the key on (${dealers} would)`,
    );
  return members;
}
