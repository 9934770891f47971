/**
 * Changing a wallet's shares while its key (and so its addresses) stays: a refresh renews them,
 * a reshare moves a t-of-n wallet to other devices or another threshold. The protocol runs are
 * in `runs/key-change.ts`; here a new share is kept beside the current one and swapped in once the
 * provider commits its epoch, and the changes other members start are joined.
 */
import { endpoints } from "@keyshard/api";
import type { Device } from "../device/device.js";
import { WalletError } from "../errors.js";
import { sealForRecovery } from "../face-recovery.js";
import { membersOf, present, schemeOf } from "../replies.js";
import { remoteWallet, runKeyChange, startKeyChange } from "../runs/key-change.js";
import { usedBy } from "../session-ids.js";
import type { NextShare, StoredWallet } from "../state.js";
import { deviceIdArgument } from "./arguments.js";
import { relaySessions } from "./wallets.js";

/** How long the device that starts a key change waits for the other members to report theirs. */
const COMMIT_WAIT_MS = 60_000;

/** What the key-change runs need of the device. */
const linkOf = (device: Device) => ({
  client: device.client,
  identity: device.identity,
  progress: device.progress,
  claim: (wallet: StoredWallet, sid: string) => device.claim(wallet, [sid], "key-change"),
});

export const refresh = (device: Device, name: string): Promise<StoredWallet> => changeKey(device, name, {});

export interface MemberChange {
  add?: string[];
  remove?: string[];
  threshold?: number;
  n?: number;
}

export async function reshare(device: Device, name: string, change: MemberChange): Promise<StoredWallet> {
  const wallet = device.find(name);
  if (wallet.members === null)
    throw new WalletError(
      "usage",
      `wallet ${wallet.name} is hybrid (2-of-2 with the provider), and reshare is for t-of-n wallets`,
      {},
      { next: { step: "refresh" } },
    );
  const current = wallet.members.filter((m) => !m.provider).map((m) => m.deviceId);
  for (const id of change.remove ?? [])
    if (!current.includes(id)) throw new WalletError("usage", `device ${id} is not a member of ${wallet.name}`);
  for (const id of change.add ?? []) {
    deviceIdArgument(id);
    if (current.includes(id)) throw new WalletError("usage", `device ${id} is a member of ${wallet.name} already`);
  }
  const devices = [...current.filter((id) => !change.remove?.includes(id)), ...(change.add ?? [])];
  const withProvider = wallet.members.some((m) => m.provider) ? 1 : 0;
  if (change.n !== undefined && change.n !== devices.length + withProvider)
    throw new WalletError(
      "usage",
      `\`n\` is ${change.n}, but the wallet would have ${devices.length + withProvider} parties`,
      { parameter: "n" },
    );
  return changeKey(device, name, {
    devices,
    ...(change.threshold !== undefined && { threshold: change.threshold }),
  });
}

async function changeKey(
  device: Device,
  name: string,
  request: { devices?: string[]; threshold?: number },
): Promise<StoredWallet> {
  if (device.find(name).providerShare !== undefined)
    throw new WalletError("usage", `wallet ${name} is self-custodied: there is no provider to change its key with`);
  const wallet = await current(device, name);
  const next = await startKeyChange(linkOf(device), wallet, device.share(wallet), request);
  return keep(device, wallet, next, COMMIT_WAIT_MS);
}

/**
 * Stores `next` beside the current share (a newcomer's as its wallet), reports it, and swaps it
 * in once the provider commits the epoch, waiting up to `waitMs` for the other members.
 */
async function keep(
  device: Device,
  wallet: Pick<StoredWallet, "id" | "name" | "scheme" | "publicKey">,
  next: NextShare,
  waitMs: number,
): Promise<StoredWallet> {
  await device.save((s) => {
    const stored = s.wallets.find((w) => w.id === wallet.id);
    if (stored !== undefined) stored.next = next;
    else
      s.wallets.push({
        id: wallet.id,
        name: wallet.name,
        scheme: wallet.scheme,
        publicKey: wallet.publicKey,
        share: next.share,
        index: next.index,
        threshold: next.threshold,
        members: next.members,
        epoch: next.epoch,
        sids: next.sids ?? [],
      });
  });
  const deadline = Date.now() + waitMs;
  let { committed } = await confirmNext(device, wallet.publicKey, wallet.id, next);
  while (!committed && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    committed = (await remoteWallet(device.client, wallet.id)).epoch === next.epoch;
  }
  if (committed) await swap(device, wallet.id, next);
  else device.progress(`the new shares of ${wallet.name} wait for the other members to report theirs`);
  return device.find(wallet.id);
}

const confirmNext = (device: Device, publicKey: string, walletId: string, next: NextShare) =>
  device.client.request(endpoints.confirmKeyChange, {
    params: { id: walletId, epoch: String(next.epoch) },
    body: { publicKey },
  });

async function swap(device: Device, walletId: string, next: NextShare): Promise<void> {
  await device.save((s) => {
    const stored = s.wallets.find((w) => w.id === walletId);
    if (stored === undefined || stored.next?.epoch !== next.epoch) return;
    // The old share's record goes with it: nothing holds that share any more (see session-ids.ts).
    Object.assign(stored, {
      share: next.share,
      index: next.index,
      threshold: next.threshold,
      members: next.members ?? stored.members,
      epoch: next.epoch,
      sids: next.sids ?? [],
    });
    delete stored.next;
  });
  device.forgetShare(walletId);
  device.progress(`wallet ${device.find(walletId).name} now signs with its epoch ${next.epoch} shares`);
  await sealForRecovery(device, device.find(walletId));
}

/**
 * The wallet with its share at the provider's epoch: a committed new share is swapped in first,
 * one whose change failed is dropped. A share the wallet moved on from is refused here, before
 * any run, with what happened.
 */
export async function current(device: Device, name: string): Promise<StoredWallet> {
  let wallet = device.find(name);
  const remote = await remoteWallet(device.client, wallet.id);
  const next = wallet.next;
  if (next !== undefined) {
    if (remote.epoch === next.epoch) await swap(device, wallet.id, next);
    else if (remote.change?.epoch === next.epoch) {
      if ((await confirmNext(device, wallet.publicKey, wallet.id, next)).committed) await swap(device, wallet.id, next);
    } else
      await device.save((s) => {
        const stored = s.wallets.find((w) => w.id === wallet.id);
        if (stored?.next?.epoch === next.epoch) delete stored.next;
      });
    wallet = device.find(wallet.id);
  }
  const epoch = wallet.epoch ?? 0;
  if (remote.epoch === epoch) return wallet;
  if (remote.change?.epoch === epoch)
    throw new WalletError(
      "stale-share",
      `this device's share of ${wallet.name} is for epoch ${epoch}, which waits for the other members to report theirs: try again shortly`,
    );
  const member = remote.members === null || remote.members.some((m) => m.deviceId === device.deviceId);
  throw member
    ? new WalletError(
        "stale-share",
        `wallet ${wallet.name} moved on to epoch ${remote.epoch} without this device's share: have a member refresh it`,
        {},
        { next: { step: "run-cosigner" } },
      )
    : new WalletError(
        "stale-share",
        `this device was removed from wallet ${wallet.name} (now at epoch ${remote.epoch}): its old share signs nothing`,
      );
}

/** Brings every wallet with a new share waiting up to date (a cosigner does this as it polls). */
export async function settleAll(device: Device): Promise<void> {
  for (const w of device.state.wallets) if (w.next !== undefined) await current(device, w.id).catch(() => undefined);
}

/** Takes part in every refresh or reshare of the account's wallets that waits for this device. */
export async function joinKeyChanges(device: Device): Promise<StoredWallet[]> {
  // A change builds on the epoch before it: shares of an earlier change this device took part
  // in are swapped in first, or their members would not match the new change's.
  await settleAll(device);
  const { sessions } = await relaySessions(device);
  const joined: StoredWallet[] = [];
  for (const session of sessions) {
    const name = /^(?:refresh|reshare) of wallet (.+)$/.exec(session.purpose)?.[1];
    if (name === undefined || session.createdBy === device.deviceId) continue;
    const { wallets } = await device.client.request(endpoints.wallets);
    const listed = wallets.find((w) => w.name === name);
    if (listed === undefined) continue;
    const remote = await remoteWallet(device.client, listed.id);
    const change = remote.change;
    if (change?.relayId !== session.relayId || change.members === null || remote.members === null) continue;
    const stored = device.state.wallets.find((w) => w.id === remote.id);
    if (stored !== undefined && (stored.next?.epoch === change.epoch || stored.epoch === change.epoch)) continue;
    // A run this share took part in, listed again (after a restart, or by a relay replaying it).
    if (stored !== undefined && usedBy(stored, session.sid)) {
      device.progress(`not joining the ${change.kind} of ${stored.name} again: its session id was used before`);
      continue;
    }
    if (stored !== undefined && remote.scheme !== stored.scheme)
      throw new WalletError(
        "provider-refused",
        `the provider names another scheme for wallet ${stored.name} than the one this device holds its share of`,
      );
    const key = {
      scheme: stored?.scheme ?? schemeOf(remote.scheme),
      publicKey: present(stored?.publicKey ?? remote.publicKey, "public key"),
    };
    const next = await runKeyChange(
      linkOf(device),
      key,
      stored ?? null,
      stored === undefined ? null : device.share(stored),
      {
        epoch: change.epoch,
        relayId: session.relayId,
        sid: session.sid,
        threshold: change.threshold,
        members: membersOf(change.members),
        previous: membersOf(remote.members),
      },
    );
    joined.push(await keep(device, stored ?? { ...remote, ...key }, next, 0));
  }
  return joined;
}
