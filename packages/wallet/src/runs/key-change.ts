/**
 * The device's part in refreshing and resharing a wallet's key (the provider's side and the
 * two-phase commit are in the provider's `wallets/key-changes.ts`):
 *
 * - **hybrid wallets** refresh with the provider over /v1/sessions;
 * - **t-of-n wallets** refresh or reshare over the relay: every member of the new epoch runs its
 *   party (members that leave take no part), continuing members deal from their current share,
 *   newcomers start from nothing and check that the dealt shares give the wallet's public key.
 *
 * The result is a `NextShare` the device stores *beside* its current share and reports to the
 * provider; it replaces the current share only once the provider says the whole epoch is kept.
 * Member lists the provider announces are checked against what the device stored at keygen
 * (existing members) and against device ids (newcomers: a device id is its key's hash). A
 * continuing member claims the run's sid for its current share before its party is made, as
 * signing runs do; the new share's record starts with that sid.
 */
import { endpoints, type KeyChangeStarted } from "@keyshard/api";
import { reshareMembers, type SchemeName, type Share, scheme } from "@keyshard/mpc";
import { type DeviceIdentity, deviceId, driveSession } from "@keyshard/transport";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import type { ProviderClient } from "../client.js";
import { WalletError } from "../errors.js";
import { membersOf, present, startedSession } from "../replies.js";
import { sidHex } from "../session-ids.js";
import type { Member, NextShare, StoredWallet } from "../state.js";
import { relayRun, roundSender, toPeer } from "./signing.js";

interface DeviceLink {
  client: ProviderClient;
  identity: DeviceIdentity;
  progress(text: string): void;
  /** Records `sid` as taken by `wallet`'s current share, or throws having recorded nothing. */
  claim(wallet: StoredWallet, sid: string): Promise<void>;
}

/** A t-of-n change's relay run, as the provider announced it. */
interface RelayChange {
  epoch: number;
  relayId: string;
  sid: string;
  threshold: number;
  members: Member[];
  previous: Member[];
}

const RUN_TIMEOUT_MS = 120_000;

/** A wallet as the provider describes it, with the key change under way if any. */
export const remoteWallet = (client: ProviderClient, id: string) =>
  client.request(endpoints.wallet, { params: { id } });

/** A t-of-n change's relay run, from the reply that started it. */
const relayChange = (started: KeyChangeStarted): RelayChange => ({
  epoch: started.epoch,
  relayId: present(started.relayId, "relay session"),
  sid: present(started.sid, "session id"),
  threshold: present(started.threshold, "threshold"),
  members: membersOf(started.members),
  previous: membersOf(started.previous),
});

/** Starts a key change as its initiator and runs this device's part of it. */
export async function startKeyChange(
  link: DeviceLink,
  wallet: StoredWallet,
  share: Share,
  request: { devices?: string[]; threshold?: number },
): Promise<NextShare> {
  const started = await link.client.request(endpoints.startKeyChange, { params: { id: wallet.id }, body: request });
  if (started.session === undefined)
    return runKeyChange(
      link,
      { scheme: wallet.scheme, publicKey: wallet.publicKey },
      wallet,
      share,
      relayChange(started),
    );
  link.progress(`refreshing the shares of ${wallet.name} with the provider`);
  const session = startedSession(started.session);
  await link.claim(wallet, session.sid);
  const party = scheme(wallet.scheme).refresh(share, hexToBytes(session.sid));
  const done = await driveSession(party, session, roundSender(link.client, session.sessionId));
  if (done.publicKey !== wallet.publicKey)
    throw new WalletError("signing-failed", "the provider's new share gives another key: the current shares stay");
  return kept(wallet.scheme, wallet.publicKey, {
    epoch: started.epoch,
    share: party.result(),
    index: wallet.index,
    threshold: 2,
    members: null,
    sid: session.sid,
  });
}

/**
 * This device's party in a t-of-n change over the relay. `wallet` and `share` are null for a
 * newcomer, which takes the key's scheme and public key from the provider.
 */
export async function runKeyChange(
  link: DeviceLink,
  key: { scheme: SchemeName; publicKey: string },
  wallet: StoredWallet | null,
  share: Share | null,
  change: RelayChange,
): Promise<NextShare> {
  const self = deviceId(link.identity.publicKey);
  checkAnnounced(wallet, change);
  const index = change.members.findIndex((m) => m.deviceId === self);
  if (index < 0) throw new WalletError("usage", "this device is not a member of that key change");
  link.progress(
    `passing the key on to ${change.members.length} part(ies), any ${change.threshold} signing (epoch ${change.epoch})`,
  );
  if (wallet !== null) await link.claim(wallet, change.sid);
  const party = scheme(key.scheme).reshare(share, {
    sid: hexToBytes(change.sid),
    members: reshareMembers(
      change.previous.map((m) => m.deviceId),
      change.members.map((m) => m.deviceId),
    ),
    index,
    threshold: change.threshold,
    ...(share === null && { publicKey: hexToBytes(key.publicKey) }),
  });
  const result = await relayRun(link, change, {
    party,
    index,
    peers: change.members.filter((m) => m.index !== index).map(toPeer),
    timeoutMs: RUN_TIMEOUT_MS,
  });
  if (result === null) throw new WalletError("signing-failed", "the run gave this device no share");
  return kept(key.scheme, key.publicKey, {
    epoch: change.epoch,
    share: result,
    index,
    threshold: change.threshold,
    members: change.members,
    sid: change.sid,
  });
}

/** The announced lists must keep every stored member's key and order; a newcomer's key must hash to its id. */
function checkAnnounced(wallet: StoredWallet | null, change: RelayChange): void {
  const stored = wallet?.members;
  if (stored) {
    const same = (a: Member[], b: Member[]) =>
      a.map((m) => m.identityKey).join() === b.map((m) => m.identityKey).join();
    if (!same(stored, change.previous))
      throw new WalletError(
        "signing-failed",
        "the provider lists the wallet's current members otherwise than this device knows them",
      );
  }
  for (const [i, m] of change.members.entries()) {
    const known = [...(stored ?? []), ...change.previous].find((s) => s.deviceId === m.deviceId);
    const ok =
      m.index === i &&
      (known !== undefined
        ? known.identityKey === m.identityKey
        : !m.provider && deviceId(hexToBytes(m.identityKey)) === m.deviceId);
    if (!ok)
      throw new WalletError("signing-failed", `the provider announced member ${m.deviceId} wrongly; nothing changed`);
  }
}

/** The new share, checked to give the wallet's key, as it is stored. */
function kept(
  schemeName: SchemeName,
  publicKey: string,
  next: { epoch: number; share: Share; index: number; threshold: number; members: Member[] | null; sid: string },
): NextShare {
  const engine = scheme(schemeName);
  if (bytesToHex(engine.publicKey(next.share)) !== publicKey)
    throw new WalletError("signing-failed", "the new share gives another key: the current shares stay");
  const { sid, ...rest } = next;
  return { ...rest, share: bytesToHex(engine.encodeShare(next.share)), sids: [sidHex(sid)] };
}
