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
import {
  abandonRunningKeyChanges,
  commitKeyChange,
  failRunningKeyChange,
  findKeyChange,
  insertKeyChange,
  insertKeyChangeConfirmation,
  type KeyChangeRow,
  keyChangeConfirmedDevices,
  lastKeyChangeEpoch,
  storeKeyChangeShare,
} from "../store/key-changes.js";
import type { Queryable } from "../store/queryable.js";
import { lockWallet, type WalletRow, walletPublicKey } from "../store/wallets.js";

interface Actor {
  accountId: string;
  /** The device whose request or message caused this, for the audit log. */
  actor: string;
}

const audit = (ctx: ProviderContext, tx: Queryable, who: Actor, action: string, details: object) =>
  appendAudit(tx, { chain: who.accountId, atMs: ctx.now(), actor: who.actor, action, details });

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
  for (const abandoned of await abandonRunningKeyChanges(tx, wallet.id))
    await audit(ctx, tx, who, "key-change.abandoned", { wallet: wallet.id, epoch: abandoned, reason: "superseded" });
  const epoch = Math.max(wallet.epoch, await lastKeyChangeEpoch(tx, wallet.id)) + 1;
  await insertKeyChange(tx, {
    walletId: wallet.id,
    epoch,
    kind: change.kind,
    members: change.members === null ? null : JSON.stringify(change.members),
    threshold: change.threshold,
    createdBy: who.actor,
    createdMs: ctx.now(),
  });
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
  const walletKey = await walletPublicKey(tx, run.walletId);
  if (walletKey === undefined || bytesToHex(new Uint8Array(walletKey)) !== bytesToHex(key)) {
    await failKeyChange(ctx, tx, run, "the new shares give another public key");
    return key;
  }
  await storeKeyChangeShare(
    tx,
    run.walletId,
    run.epoch,
    ctx.masterKey.seal(engine.encodeShare(share as Share), `share:${run.walletId}`),
  );
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
  if (await failRunningKeyChange(tx, run.walletId, run.epoch))
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
 * harmless (a device that lost the answer asks again); a different key fails the change, which
 * the caller keeps (commits) before it tells the device so: `{ failed: reason }`.
 */
export async function confirmKeyChange(
  ctx: ProviderContext,
  tx: Queryable,
  who: Actor & { walletId: string; epoch: number },
  publicKey: Uint8Array,
): Promise<{ epoch: number; committed: boolean } | { failed: string }> {
  await lockWallet(tx, who.walletId);
  const change = await findKeyChange(tx, who.walletId, who.epoch);
  if (change === undefined) throw notFound("no such key change of this wallet");
  if (!devicesOf(ctx, change).includes(who.actor)) throw forbidden("this device gets no share in that key change");
  if (change.status === "committed") return { epoch: change.epoch, committed: true };
  if (change.status !== "running") throw conflict(`that key change is ${change.status}`);
  const walletKey = (await walletPublicKey(tx, who.walletId)) as Uint8Array;
  if (bytesToHex(new Uint8Array(walletKey)) !== bytesToHex(publicKey)) {
    await failKeyChange(ctx, tx, who, `device ${who.actor} reports another public key`);
    return { failed: "that is not the wallet's public key: the key change failed and the old shares stay" };
  }
  await insertKeyChangeConfirmation(tx, who.walletId, who.epoch, who.actor, publicKey, ctx.now());
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
  const have = new Set(await keyChangeConfirmedDevices(tx, run.walletId, run.epoch));
  if (!devicesOf(ctx, change).every((d) => have.has(d))) return false;
  await commitKeyChange(tx, change);
  await audit(ctx, tx, run, "key-change.committed", {
    wallet: run.walletId,
    epoch: change.epoch,
    kind: change.kind,
    ...(change.members && { members: JSON.parse(change.members), threshold: change.threshold }),
  });
  return true;
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
