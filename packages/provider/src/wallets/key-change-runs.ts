/**
 * Starting and confirming a wallet's key change. A hybrid wallet refreshes over /v1/sessions with
 * the device that holds its other share; a t-of-n wallet refreshes or reshares over the relay,
 * every member of the new epoch taking part (the provider too when it is one). Each device member
 * then confirms its new share, and the wallet moves to the new epoch once all have (`key-changes.ts`).
 */
import { randomUUID } from "node:crypto";
import type { KeyChangeRequest } from "@keyshard/api";
import { reshareMembers, type Share, scheme } from "@keyshard/mpc";
import type { ProviderContext } from "../context.js";
import type { AuthenticatedDevice } from "../devices/authenticated.js";
import { conflict, forbidden, invalid } from "../errors.js";
import { openMembersRun } from "../relay/provider-party.js";
import { startSession } from "../sessions/driver.js";
import { setKeyChangeRelay } from "../store/key-changes.js";
import type { Queryable } from "../store/queryable.js";
import { findWallet, type WalletRow } from "../store/wallets.js";
import { beginKeyChange, confirmKeyChange, planReshare } from "./key-changes.js";
import { memberViews } from "./members.js";

function sharedShare(ctx: ProviderContext, wallet: WalletRow): Share | null {
  if (wallet.share === null) return null;
  return ctx.shares.get(wallet.id, wallet.scheme, new Uint8Array(wallet.share));
}

async function refreshHybrid(ctx: ProviderContext, tx: Queryable, device: AuthenticatedDevice, wallet: WalletRow) {
  const who = { accountId: device.accountId, actor: device.id };
  const epoch = await beginKeyChange(ctx, tx, who, wallet, { kind: "refresh", members: null, threshold: 2 });
  const sid = crypto.getRandomValues(new Uint8Array(32));
  const { reply: session, party } = await startSession(
    ctx,
    tx,
    { id: randomUUID(), accountId: device.accountId, walletId: wallet.id, kind: "refresh", epoch, sid },
    (claimed) => scheme(wallet.scheme).refresh(sharedShare(ctx, wallet) as Share, claimed),
  );
  return { reply: { epoch, kind: "refresh", session: { ...session, sid: Buffer.from(sid).toString("hex") } }, party };
}

async function changeMultiparty(
  ctx: ProviderContext,
  tx: Queryable,
  device: AuthenticatedDevice,
  wallet: WalletRow,
  body: KeyChangeRequest,
) {
  const current = JSON.parse(wallet.members as string) as string[];
  if (!current.includes(device.id)) throw forbidden("only a member device changes a wallet's key");
  const members = planReshare(ctx, wallet, {
    devices: body.devices ?? current.filter((m) => m !== ctx.identityId),
    threshold: body.threshold ?? wallet.threshold,
  });
  const threshold = body.threshold ?? wallet.threshold;
  const kind = members.join() === current.join() && threshold === wallet.threshold ? "refresh" : "reshare";
  const who = { accountId: device.accountId, actor: device.id };
  const epoch = await beginKeyChange(ctx, tx, who, wallet, { kind, members, threshold });
  const relay = await openMembersRun(
    ctx,
    tx,
    device,
    { walletId: wallet.id, kind: "reshare", epoch, purpose: `${kind} of wallet ${wallet.name}`, members },
    (sid, index) =>
      scheme(wallet.scheme).reshare(sharedShare(ctx, wallet), {
        sid,
        members: reshareMembers(current, members),
        index,
        threshold,
      }),
  );
  await setKeyChangeRelay(tx, wallet.id, epoch, relay.id);
  return {
    reply: {
      epoch,
      kind,
      relayId: relay.id,
      sid: Buffer.from(relay.sid).toString("hex"),
      threshold,
      members: await memberViews(ctx, tx, members),
      previous: await memberViews(ctx, tx, current),
    },
  };
}

/** Starts a refresh (or, for a t-of-n wallet, a reshare) of the account's wallet `walletId`. */
export async function startKeyChange(
  ctx: ProviderContext,
  device: AuthenticatedDevice,
  walletId: string,
  body: KeyChangeRequest,
) {
  const created = await ctx.db.transaction(async (tx) => {
    const wallet = await findWallet(tx, walletId, device.accountId, { lock: true, active: true });
    if (wallet.members !== null) return changeMultiparty(ctx, tx, device, wallet, body);
    if (body.devices !== undefined || body.threshold !== undefined)
      throw invalid("a hybrid wallet is 2-of-2 with the provider: it refreshes, it does not reshare");
    return refreshHybrid(ctx, tx, device, wallet);
  });
  if ("party" in created) ctx.parties.put(created.reply.session.sessionId, 0, created.party);
  return created.reply;
}

/** A device of the new epoch reports that it keeps its new share, with the public key it got. */
export async function confirmNewShare(
  ctx: ProviderContext,
  device: AuthenticatedDevice,
  walletId: string,
  epoch: number,
  publicKey: Uint8Array,
) {
  const confirmed = await ctx.db.transaction(async (tx) => {
    const wallet = await findWallet(tx, walletId, device.accountId, { lock: true });
    return confirmKeyChange(
      ctx,
      tx,
      { accountId: device.accountId, actor: device.id, walletId: wallet.id, epoch },
      publicKey,
    );
  });
  if ("failed" in confirmed) throw conflict(confirmed.failed);
  return confirmed;
}
