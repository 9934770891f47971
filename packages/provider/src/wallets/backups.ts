/**
 * Backup by request: the user may take the provider's share of a hybrid wallet and hold the whole
 * key alone. The request needs the account's TOTP code where one is in force and is a guarded account change (`account/guarded-changes.ts`): it waits `backupDelayMs`
 * (7 days by default) while the account is told by mail, and any active device of the account
 * (one added since included) or the mailed token can cancel it meanwhile, so a thief holding one
 * device cannot quietly take the provider out. Once the delay has passed, the share is released sealed to
 * the recovery key named in the request, the provider forgets its share, and the wallet is marked
 * self-custodied: from then on the provider neither co-signs nor enforces a policy for it.
 */
import { backupBoxContext, sealToRecoveryKey } from "@keyshard/recovery";
import { cancelChangeOf, defineChangeKind, requestGuardedChange } from "../account/guarded-changes.js";
import { requireSecondFactor } from "../account/totp.js";
import { appendAudit } from "../audit/log.js";
import type { ProviderContext } from "../context.js";
import { conflict, invalid, notFound } from "../errors.js";
import {
  type BackupRow,
  cancelWaitingBackup,
  insertBackup,
  latestBackup,
  lockBackupChange,
  releaseBackup,
} from "../store/backups.js";
import type { Queryable } from "../store/queryable.js";
import { findWallet, markSelfCustodied, type WalletRow } from "../store/wallets.js";

export const DEFAULT_BACKUP_DELAY_MS = 7 * 24 * 60 * 60_000;

export interface BackupView {
  id: string;
  walletId: string;
  status: BackupRow["status"];
  requestedBy: string;
  requestedAt: string;
  readyAt: string;
}

interface Requester {
  id: string;
  accountId: string;
}

const view = (row: BackupRow): BackupView => ({
  id: row.id,
  walletId: row.wallet_id,
  status: row.status,
  requestedBy: row.requested_by,
  requestedAt: new Date(Number(row.requested_ms)).toISOString(),
  readyAt: new Date(Number(row.ready_ms)).toISOString(),
});

async function record(
  ctx: ProviderContext,
  tx: Queryable,
  device: Requester,
  action: string,
  details: object,
  mail?: { subject: string; body: string },
) {
  await appendAudit(tx, { chain: device.accountId, atMs: ctx.now(), actor: device.id, action, details });
  if (mail !== undefined) await ctx.notifier.queueForAccount(tx, device.accountId, mail, ctx.now());
}

/** Runs `change` on the device's account's wallet `walletId` under the wallet's lock, then sends the mail it queued. */
async function changeBackup<T>(
  ctx: ProviderContext,
  device: Requester,
  walletId: string,
  change: (tx: Queryable, wallet: WalletRow) => Promise<T>,
): Promise<T> {
  const backup = await ctx.db.transaction(async (tx) =>
    change(tx, await findWallet(tx, walletId, device.accountId, { lock: true })),
  );
  ctx.notifier.kick();
  return backup;
}

/** Starts the delay of a backup sealed to `recoveryKey`; `totp`: the code, where the account has one in force. */
export async function requestBackup(
  ctx: ProviderContext,
  device: Requester,
  walletId: string,
  recoveryKey: Uint8Array,
  totp: string | undefined,
): Promise<BackupView> {
  await requireSecondFactor(ctx, device, totp);
  return changeBackup(ctx, device, walletId, async (tx, wallet) => {
    if (wallet.members !== null)
      throw invalid("backup by request releases a hybrid wallet's provider share; this wallet is t-of-n");
    if (wallet.state !== "active" || wallet.share === null) throw conflict(`wallet is ${wallet.state}`);
    const open = await latestBackup(tx, wallet.id);
    if (open?.status === "waiting") throw conflict(`a backup of this wallet already waits until ${view(open).readyAt}`);
    const id = crypto.randomUUID();
    const now = ctx.now();
    await insertBackup(tx, {
      id,
      walletId: wallet.id,
      accountId: device.accountId,
      requestedBy: device.id,
      recoveryKey,
      requestedMs: now,
      readyMs: now + ctx.backupDelayMs,
    });
    const backup = view((await latestBackup(tx, wallet.id)) as BackupRow);
    await record(ctx, tx, device, "backup.requested", { wallet: wallet.id, backup: id, readyAt: backup.readyAt });
    // The change mails the account; it takes effect when the share may be downloaded.
    await requestGuardedChange(ctx, tx, device, {
      kind: "backup",
      subject: id,
      summary: `the provider's share of wallet ${wallet.name} (a backup: the provider then no longer co-signs it or applies your policies to it)`,
      delayMs: ctx.backupDelayMs,
    });
    return backup;
  });
}

/** The latest backup request of the device's account's wallet `walletId`. */
export async function backupStatus(ctx: ProviderContext, device: Requester, walletId: string): Promise<BackupView> {
  const wallet = await findWallet(ctx.db, walletId, device.accountId);
  const row = await latestBackup(ctx.db, wallet.id);
  if (row === undefined) throw notFound("no backup of this wallet was requested");
  return view(row);
}

export function cancelBackup(ctx: ProviderContext, device: Requester, walletId: string): Promise<BackupView> {
  return changeBackup(ctx, device, walletId, async (tx, wallet) => {
    const row = await latestBackup(tx, wallet.id);
    if (row?.status !== "waiting") throw conflict("no backup of this wallet is waiting");
    // Its change, if still waiting, cancels it (audited and mailed there); past its delay, or
    // requested before backups were account changes, the backup is cancelled here.
    if (await cancelChangeOf(ctx, tx, device, "backup", row.id)) return { ...view(row), status: "cancelled" };
    await cancelWaitingBackup(tx, row.id, ctx.now());
    await record(
      ctx,
      tx,
      device,
      "backup.cancelled",
      { wallet: wallet.id, backup: row.id },
      {
        subject: `keyshard: the backup of wallet ${wallet.name} was cancelled`,
        body: `Device ${device.id} cancelled the backup of wallet ${wallet.name}; the provider keeps its share.`,
      },
    );
    return { ...view(row), status: "cancelled" };
  });
}

/**
 * The provider's share sealed to the request's recovery key, once the delay has passed. The first
 * download releases it and ends the provider's part; later ones return the same box.
 */
export function downloadBackup(
  ctx: ProviderContext,
  device: Requester,
  walletId: string,
): Promise<BackupView & { box: string }> {
  return changeBackup(ctx, device, walletId, async (tx, wallet) => {
    const row = await latestBackup(tx, wallet.id);
    if (row === undefined || row.status === "cancelled") throw notFound("no backup of this wallet is requested");
    if (row.status === "released") return { ...view(row), box: Buffer.from(row.box as Uint8Array).toString("hex") };
    if (ctx.now() < Number(row.ready_ms))
      throw conflict(`the backup is released on ${view(row).readyAt}: download it then`);
    if (wallet.share === null) throw conflict(`wallet is ${wallet.state}`);
    // The guarded change decides, under its row lock: a cancel racing this download either lands
    // first (the change is cancelled) or finds the change applied and is refused.
    const change = await lockBackupChange(tx, row.id);
    if (change !== undefined && change !== "applied")
      throw conflict(`the backup's change is ${change}: it is released once that change has taken effect`);
    const share = ctx.masterKey.open(new Uint8Array(wallet.share), `share:${wallet.id}`);
    const box = sealToRecoveryKey(new Uint8Array(row.recovery_key), backupBoxContext(wallet.id), share);
    await releaseBackup(tx, row.id, box, ctx.now());
    await markSelfCustodied(tx, wallet.id);
    await record(
      ctx,
      tx,
      device,
      "backup.released",
      { wallet: wallet.id, backup: row.id },
      {
        subject: `keyshard: wallet ${wallet.name} is now self-custodied`,
        body: `The provider's share of wallet ${wallet.name} was released to your recovery key and deleted here. The provider no longer co-signs or applies policies to this wallet.`,
      },
    );
    return { ...view(row), status: "released", box: Buffer.from(box).toString("hex") };
  });
}

defineChangeKind("backup", {
  // Nothing to do when the delay has passed: the download checks it and releases the share.
  async apply() {},
  async cancel(ctx, tx, change) {
    await cancelWaitingBackup(tx, change.subject, ctx.now());
  },
});
