/**
 * Making a wallet's key: a hybrid 2-of-2 with the provider (driven over /v1/sessions), or a
 * t-of-n wallet among devices (and the provider, when it is a party) over the relay, which the
 * other devices join from the provider's list of waiting key generations. A key generation that
 * never finished can be deleted, freeing its name.
 */
import { endpoints, POLICY_TEMPLATE_ID, type Policy } from "@keyshard/api";
import { type SchemeName, type Share, scheme, WALLET_DEVICE } from "@keyshard/mpc";
import { deviceId, driveSession, type RelayChannel, wsRelayChannel } from "@keyshard/transport";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import type { Device } from "../device/device.js";
import { WalletError } from "../errors.js";
import { sealForRecovery } from "../face-recovery.js";
import { policyForProvider } from "../policy-units.js";
import { membersOf, present, schemeOf, startedSession } from "../replies.js";
import { relayRun, roundSender, toPeer } from "../runs/signing.js";
import { sidHex } from "../session-ids.js";
import type { Member, StoredWallet } from "../state.js";

/** How long a key generation over the relay waits for a round from the other parties. */
const KEYGEN_WAIT_MS = 120_000;
/** How often a device waiting in a key generation asks whether the wallet was deleted meanwhile. */
const KEYGEN_CHECK_MS = 2_000;

export interface NewWallet {
  name: string;
  scheme?: SchemeName;
  threshold?: number;
  n?: number;
  /** The other devices of a t-of-n wallet; none: a hybrid wallet with the provider. */
  devices?: string[];
  /** Whether the provider holds a share of a t-of-n wallet. */
  providerParty?: boolean;
  policy?: unknown[];
  /** The id of one of the provider's policy templates (`policyTemplates`): the wallet gets a copy of its rules. Not with `policy`. */
  policyTemplate?: string;
}

/** What the creation's body says of the wallet's policy, checked: a policy, a template, or neither. */
function policyFields(options: NewWallet): { policy?: Policy; policyTemplate?: string } {
  if (options.policy !== undefined && options.policyTemplate !== undefined)
    throw new WalletError("usage", "give a policy or a policy template, not both", { parameter: "policyTemplate" });
  if (options.policyTemplate !== undefined) {
    if (typeof options.policyTemplate !== "string" || !POLICY_TEMPLATE_ID.test(options.policyTemplate))
      throw new WalletError("usage", "a policy template's id is 1 to 40 lower-case letters, digits and hyphens", {
        parameter: "policyTemplate",
      });
    return { policyTemplate: options.policyTemplate };
  }
  return options.policy === undefined ? {} : { policy: policyForProvider(options.policy) };
}

export async function createWallet(device: Device, options: NewWallet): Promise<StoredWallet> {
  if (device.state.wallets.some((w) => w.name === options.name))
    throw new WalletError("usage", `this device has a wallet named ${options.name} already`);
  const policy = policyFields(options);
  if (options.devices === undefined || options.devices.length === 0) {
    if ((options.n !== undefined && options.n !== 2) || options.providerParty === false)
      throw new WalletError(
        "usage",
        "a wallet without other devices is hybrid: this device and the provider, 2-of-2; a t-of-n wallet needs each other device's id in `devices`",
        { parameter: "devices" },
      );
    return createHybrid(device, options.name, options.scheme ?? "ecdsa2p", policy);
  }
  const schemeName = options.scheme ?? "dkls23";
  const devices = [device.deviceId, ...options.devices];
  const providerParty = options.providerParty ?? (options.n === undefined || options.n === devices.length + 1);
  const parties = devices.length + (providerParty ? 1 : 0);
  const n = options.n ?? parties;
  if (n !== parties)
    throw new WalletError(
      "usage",
      `\`n\` is ${n}, but it counts the parties: here ${devices.length} devices (this one and those in \`devices\`)${providerParty ? " and the provider" : ""}, so ${parties}`,
      { parameter: "n" },
    );
  const threshold = options.threshold ?? 2;
  const created = await device.client.request(endpoints.createWallet, {
    body: {
      name: options.name,
      scheme: schemeName,
      members: devices,
      threshold,
      provider: providerParty,
      ...policy,
    },
  });
  const relay = {
    relayId: present(created.relayId, "relay session"),
    sid: present(created.sid, "session id"),
    members: membersOf(created.members),
  };
  checkMembers(relay.members, devices);
  return joinKeygen(device, { id: created.walletId, name: options.name, scheme: schemeName, threshold }, relay);
}

async function createHybrid(
  device: Device,
  name: string,
  schemeName: SchemeName,
  policy: ReturnType<typeof policyFields>,
): Promise<StoredWallet> {
  const created = await device.client.request(endpoints.createWallet, {
    body: { name, scheme: schemeName, ...policy },
  });
  const session = startedSession(created.session);
  device.progress("making the key with the provider (distributed key generation)");
  const party = scheme(schemeName).keygen(hexToBytes(session.sid), WALLET_DEVICE);
  const done = await driveSession(party, session, roundSender(device.client, session.sessionId));
  const share = party.result();
  const publicKey = bytesToHex(scheme(schemeName).publicKey(share));
  if (done.publicKey !== undefined && done.publicKey !== publicKey)
    throw new WalletError("signing-failed", "the provider reports another public key than the one this device made");
  const wallet: StoredWallet = {
    id: created.walletId,
    name,
    scheme: schemeName,
    publicKey,
    share: bytesToHex(scheme(schemeName).encodeShare(share)),
    index: WALLET_DEVICE,
    threshold: 2,
    members: null,
    sids: [sidHex(session.sid)],
  };
  await device.save((s) => void s.wallets.push(wallet));
  await sealForRecovery(device, wallet);
  return wallet;
}

/** The members the provider lists must be the devices asked for, with keys that hash to their ids. */
function checkMembers(members: Member[], devices: string[]): void {
  for (const [i, id] of devices.entries()) {
    const m = members[i];
    if (m === undefined || m.deviceId !== id || m.provider || deviceId(hexToBytes(m.identityKey)) !== id)
      throw new WalletError("signing-failed", `the provider listed member ${i} wrongly; nothing was made`);
  }
}

async function joinKeygen(
  device: Device,
  wallet: { id: string; name: string; scheme: SchemeName; threshold: number },
  relay: { relayId: string; sid: string; members: Member[] },
): Promise<StoredWallet> {
  const index = relay.members.findIndex((m) => m.deviceId === device.deviceId);
  if (index < 0) throw new WalletError("usage", `this device is not a member of wallet ${wallet.name}`);
  device.progress(`making the key of ${wallet.name} with ${relay.members.length - 1} other part(ies) over the relay`);
  const party = scheme(wallet.scheme).keygen(hexToBytes(relay.sid), index, {
    t: wallet.threshold,
    n: relay.members.length,
  });
  const channel = watchKeygen(device, await wsRelayChannel(device.client.url, device.identity, relay.relayId), wallet);
  let share: Share;
  try {
    share = await relayRun({ client: device.client, identity: device.identity }, relay, {
      party,
      index,
      peers: relay.members.filter((m) => m.index !== index).map(toPeer),
      channel,
      timeoutMs: KEYGEN_WAIT_MS,
    });
  } catch (e) {
    if (!(e instanceof WalletError) || e.code !== "signing-failed") throw e;
    throw new WalletError(
      "keygen-ended",
      `the key generation of wallet ${wallet.name} did not finish (${e.message})`,
      { walletId: wallet.id },
      { cause: e, next: { step: "join-or-delete-wallet", wallet: wallet.name } },
    );
  }
  const publicKey = bytesToHex(scheme(wallet.scheme).publicKey(share));
  const confirmed = await device.client.request(endpoints.confirmWalletKey, {
    params: { id: wallet.id },
    body: { publicKey },
  });
  const stored: StoredWallet = {
    ...wallet,
    publicKey,
    share: bytesToHex(scheme(wallet.scheme).encodeShare(share)),
    index,
    members: relay.members,
    sids: [sidHex(relay.sid)],
  };
  await device.save((s) => void s.wallets.push(stored));
  device.progress(`wallet ${wallet.name} is ${confirmed.state}`);
  return stored;
}

/**
 * `channel`, stopping with a `keygen-ended` error soon after a device of the account deletes the
 * wallet (or its key generation fails): the others then stop waiting for parties that will
 * never come, instead of waiting out the whole run's timeout.
 */
function watchKeygen(device: Device, channel: RelayChannel, wallet: { id: string; name: string }): RelayChannel {
  let checkedAt = Date.now();
  return {
    send: (envelopes) => channel.send(envelopes),
    receive: async () => {
      if (Date.now() - checkedAt >= KEYGEN_CHECK_MS) {
        checkedAt = Date.now();
        const { state } = await device.client.request(endpoints.wallet, { params: { id: wallet.id } });
        if (state === "abandoned" || state === "failed")
          throw state === "abandoned"
            ? new WalletError(
                "keygen-ended",
                `the key generation of wallet ${wallet.name} was deleted by a device of the account: nothing was made, and the name is free`,
                { walletId: wallet.id },
              )
            : new WalletError(
                "keygen-ended",
                `the key generation of wallet ${wallet.name} failed: nothing was made`,
                { walletId: wallet.id },
                { next: { step: "delete-wallet", wallet: wallet.name } },
              );
      }
      return channel.receive();
    },
    close: () => channel.close(),
  };
}

/**
 * Deletes a wallet whose key generation never finished (interrupted, timed out or failed), at the
 * provider: its name is free again, and devices still waiting in its key generation stop. The
 * provider refuses a wallet whose key was made.
 */
export async function deleteWallet(device: Device, name: string): Promise<{ walletId: string; name: string }> {
  const { wallets } = await device.client.request(endpoints.wallets);
  const remote = wallets.find((w) => w.name === name || w.id === name);
  if (remote === undefined)
    throw new WalletError(
      "unknown-wallet",
      `the account has no wallet named ${name}`,
      {},
      { next: { step: "list-wallets" } },
    );
  return device.client.request(endpoints.deleteWallet, { params: { id: remote.id } });
}

/** A t-of-n wallet whose key generation waits for this device, as the provider lists it. */
export interface WaitingWallet {
  walletId: string;
  name: string;
  scheme: SchemeName;
  threshold: number;
  /** The parties in order, each device's key checked against its id. */
  members: Member[];
  /** The device that asked for the wallet. */
  createdBy: string;
  relayId: string;
  sid: string;
}

/** The key generations of the account's t-of-n wallets that wait for this device. */
export async function waitingWallets(device: Device): Promise<WaitingWallet[]> {
  const sessions = await device.client.request(endpoints.relaySessions);
  const { wallets } = await device.client.request(endpoints.wallets);
  const waiting: WaitingWallet[] = [];
  for (const session of sessions.sessions) {
    const name = /^keygen of wallet (.+)$/.exec(session.purpose)?.[1];
    const remote = wallets.find((w) => w.name === name && w.state === "creating");
    if (remote === undefined || session.createdBy === device.deviceId) continue;
    if (device.state.wallets.some((w) => w.id === remote.id)) continue;
    const detail = await device.client.request(endpoints.wallet, { params: { id: remote.id } });
    const members = membersOf(present(detail.members, "members"));
    for (const m of members)
      if (!m.provider && deviceId(hexToBytes(m.identityKey)) !== m.deviceId)
        throw new WalletError("signing-failed", `the provider gave a wrong key for member ${m.deviceId}`);
    // A provider listed as two parties would hold two shares while shown as one; a threshold
    // outside 2..n makes no wallet. Such a listing is not offered.
    if (!members.some((m) => m.deviceId === device.deviceId)) continue;
    if (members.filter((m) => m.provider).length > 1) continue;
    if (!Number.isSafeInteger(detail.threshold) || detail.threshold < 2 || detail.threshold > members.length) continue;
    waiting.push({
      walletId: remote.id,
      name: remote.name,
      scheme: schemeOf(detail.scheme),
      threshold: detail.threshold,
      members,
      createdBy: session.createdBy,
      relayId: session.relayId,
      sid: session.sid,
    });
  }
  return waiting;
}

/** Who takes part in a wallet as a device was shown it: the member devices' ids in party order, whether the provider is a party, and the threshold. */
export interface WalletParties {
  devices: string[];
  provider: boolean;
  threshold: number;
}

/**
 * Joins the key generation of the account's t-of-n wallet `walletId` if the provider still lists
 * it with exactly the parties and threshold in `shown` (what the person at this device agreed to);
 * `unknown-wallet` when none such waits, `provider-refused` when it now lists other parties.
 */
export async function joinWaitingWallet(device: Device, walletId: string, shown: WalletParties): Promise<StoredWallet> {
  const found = (await waitingWallets(device)).filter((w) => w.walletId === walletId);
  const [wallet] = found;
  if (wallet === undefined || found.length > 1)
    throw new WalletError(
      "unknown-wallet",
      `no key generation of wallet ${walletId} waits for this device: it finished, was deleted, or stopped waiting`,
    );
  const devices = wallet.members.filter((m) => !m.provider).map((m) => m.deviceId);
  const provider = wallet.members.some((m) => m.provider);
  if (wallet.threshold !== shown.threshold || provider !== shown.provider || devices.join() !== shown.devices.join())
    throw new WalletError(
      "provider-refused",
      `the provider now lists wallet ${wallet.name} with other parties or another threshold than the ones shown: nothing was joined`,
    );
  return joinKeygen(
    device,
    { id: wallet.walletId, name: wallet.name, scheme: wallet.scheme, threshold: wallet.threshold },
    { relayId: wallet.relayId, sid: wallet.sid, members: wallet.members },
  );
}

/** Joins the key generation of every t-of-n wallet of the account that waits for this device. */
export async function joinPendingWallets(device: Device): Promise<StoredWallet[]> {
  const joined: StoredWallet[] = [];
  for (const w of await waitingWallets(device))
    joined.push(
      await joinKeygen(
        device,
        { id: w.walletId, name: w.name, scheme: w.scheme, threshold: w.threshold },
        { relayId: w.relayId, sid: w.sid, members: w.members },
      ),
    );
  return joined;
}
