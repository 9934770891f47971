/**
 * `Wallet`: the user's side of keyshard on one device, for embedding (the `keyshard` command line
 * is one user of it). It owns the device's keystore and speaks to the provider; every signing run
 * computes what it signs from bytes this device built or decoded itself.
 *
 *     const wallet = await Wallet.init(home, passphrase);
 *     await wallet.register("https://provider.example", "me@example.com");
 *     await wallet.verify(codeFromMail);
 *     await wallet.createWallet({ name: "main" });
 *     const { transactionId } = await wallet.sendEthereum({ wallet: "main", to, amount: "0.1", rpc });
 */
import type { Challenge } from "@keyshard/biometric";
import { type BitcoinNetwork, ethereumAddress, solanaAddress } from "@keyshard/chains";
import { runLocal } from "@keyshard/mpc";
import {
  backupBoxContext,
  type DeviceIdentity,
  deviceId,
  driveSession,
  isEcdsa,
  newDeviceIdentity,
  newRecoveryKey,
  openRecoveryBox,
  RecoveryBoxError,
  type RelayChannel,
  type RelayWatch,
  type RoundReply,
  type SchemeName,
  type Share,
  scheme,
  signApproval,
  TRIAL_HEADER,
  WALLET_DEVICE,
  watchRelay,
  wsRelayChannel,
} from "@keyshard/transport";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { buildBitcoinTransfer } from "./chains/bitcoin.js";
import { buildEthereumTransfer, ethereumReceipt } from "./chains/ethereum.js";
import { nodeRefusal, shownUrl } from "./chains/rpc.js";
import {
  broadcastSent,
  canStillBeMined,
  KEPT_SENDS,
  keptRecord,
  keptSend,
  onChainOf,
  type SentState,
  sendIntent,
  sentState,
} from "./chains/sent.js";
import { buildSolanaTransfer } from "./chains/solana.js";
import { ProviderClient } from "./client.js";
import { isRevoked, WalletError } from "./errors.js";
import { enrollFaceAt, type FaceLink, type Recovered, recoverWithFace, sealRecoveryBoxes } from "./face-recovery.js";
import { type RemoteWallet, remoteWallet, runKeyChange, startKeyChange } from "./key-changes.js";
import { Keystore } from "./keystore.js";
import { policyForPeople, policyForProvider, ruleLabel } from "./policy-units.js";
import {
  bitcoinOutput,
  describeMessageRequest,
  describeRequest,
  finishRequest,
  type MessageRequestDescription,
  messagesToSign,
  type RequestKey,
  requestKey,
} from "./requests.js";
import { claimIn, type RunKind, sidHex, usedBy } from "./session-ids.js";
import {
  openingsOf,
  openSessions,
  type RunContext,
  relayRun,
  runAmongDevices,
  runWithProvider,
  toPeer,
} from "./signing.js";
import type {
  DeviceState,
  Member,
  NextShare,
  PendingRequest,
  SendIntent,
  SentTransaction,
  SignBody,
  StoredWallet,
} from "./state.js";

export type Chain = "ethereum" | "bitcoin" | "solana";

export interface SignOutcome {
  requestId?: string;
  /**
   * Signed transaction (0x-hex for Ethereum, hex for Bitcoin, base64 for Solana) or signature
   * (messages; base64 BIP322 witness for Bitcoin).
   */
  signed: string;
  /** Set once broadcast; for Bitcoin, as soon as the transaction is final. */
  transactionId?: string;
  /** The address a Bitcoin message was signed for. */
  address?: string;
  receiptStatus?: number;
  /** Transactions: whether it went to a node (false: signed offline, for the user to broadcast). */
  broadcast?: boolean;
  /** Set when a retried send found its transaction from before: nothing new was signed. */
  sentBefore?: true;
}

/** What became of a transaction this device sent, as `tx status` shows it. */
export interface TransactionStatus {
  transactionId: string;
  requestId?: string;
  state: SentState["state"];
  /** The block (Solana: slot) it was mined in, when known. */
  block?: number;
}

/** How long a send waits for an Ethereum receipt unless told otherwise. */
const RECEIPT_WAIT_MS = 30_000;

/** A sign request as the provider shows it to the account's devices. */
export interface RequestDetail {
  requestId: string;
  walletId: string;
  deviceId: string;
  payload: string;
  chain: SignBody["chain"];
  kind: SignBody["kind"];
  path?: string | null;
  status: string;
  description?: { network?: string };
}

/** A t-of-n wallet a revoked device was a member of, as the provider reports it. */
export interface RevokedMemberWallet {
  walletId: string;
  name: string;
  threshold: number;
  /** Members that can still sign: the account's active devices, and the provider when a member. */
  signersLeft: number;
}

export interface WalletOptions {
  /** Where long steps report progress (default: nowhere). */
  progress?: (text: string) => void;
  /** Where warnings about the provider go, each once (default: nowhere): a provider in trial mode. */
  warn?: (text: string) => void;
}

const schemeFor = (chain: Chain) => (chain === "solana" ? "frost-ed25519" : "ecdsa2p");

/** How long a key generation over the relay waits for a round from the other parties. */
const KEYGEN_WAIT_MS = 120_000;
/** How often a device waiting in a key generation asks whether the wallet was deleted meanwhile. */
const KEYGEN_CHECK_MS = 2_000;

/** How long the device that starts a key change waits for the other members to report theirs. */
const COMMIT_WAIT_MS = 60_000;

export class Wallet {
  readonly progress: (text: string) => void;

  private constructor(
    private readonly store: Keystore<DeviceState>,
    private state: DeviceState,
    options: WalletOptions,
  ) {
    this.progress = options.progress ?? (() => {});
    this.warn = options.warn ?? (() => {});
  }

  private readonly warn: (text: string) => void;
  private trialWarned = false;

  /** Warns once when the provider says it runs in trial mode: its delays protect nothing real. */
  private readonly noticeTrial = (headers: Record<string, string | string[] | undefined>): void => {
    const notice = headers[TRIAL_HEADER];
    if (notice === undefined || this.trialWarned) return;
    this.trialWarned = true;
    this.warn(`warning: the provider runs in trial mode (${String(notice)}): use it only to try keyshard out`);
  };

  /** A new device: its identity key and an empty encrypted keystore in `home`. */
  static async init(
    home: string,
    passphrase: string,
    options: WalletOptions & { name?: string } = {},
  ): Promise<Wallet> {
    const identity = newDeviceIdentity();
    const state: DeviceState = {
      version: 1,
      name: options.name ?? "device",
      identity: { secretKey: bytesToHex(identity.secretKey), publicKey: bytesToHex(identity.publicKey) },
      provider: null,
      wallets: [],
      pending: [],
    };
    return new Wallet(await Keystore.create(home, passphrase, state), state, options);
  }

  static async open(home: string, passphrase: string, options: WalletOptions = {}): Promise<Wallet> {
    const { store, content } = await Keystore.open<DeviceState>(home, passphrase);
    if (content?.version !== 1 || !Array.isArray(content.wallets))
      throw new WalletError("keystore", "the keystore holds something this version does not read");
    return new Wallet(store, content, options);
  }

  get identity(): DeviceIdentity {
    return {
      secretKey: hexToBytes(this.state.identity.secretKey),
      publicKey: hexToBytes(this.state.identity.publicKey),
    };
  }

  get deviceId(): string {
    return deviceId(this.identity.publicKey);
  }

  get providerUrl(): string | undefined {
    return this.state.provider?.url;
  }

  private get client(): ProviderClient {
    if (this.state.provider === null)
      throw new WalletError(
        "not-registered",
        "this device has no provider yet: run `keyshard register --provider URL --email E`",
      );
    return new ProviderClient(this.state.provider.url, this.identity, this.noticeTrial);
  }

  /** Applies `change` to the keystore on disk (under its lock) and to this object. */
  private async save(change: (state: DeviceState) => void): Promise<void> {
    this.state = await this.store.update((state) => {
      change(state);
      return state;
    });
  }

  // ── account ────────────────────────────────────────────────────────────────────────────────

  async register(url: string, email: string): Promise<{ deviceId: string; state: string }> {
    let base: string;
    try {
      base = new URL(url).origin;
    } catch {
      throw new WalletError("usage", `${url} is not a URL: give the provider's address, e.g. http://127.0.0.1:8080`);
    }
    const client = new ProviderClient(base, this.identity, this.noticeTrial);
    const reply = await client.call<{ deviceId: string; state: string }>("POST", "/v1/devices", {
      identityKey: this.state.identity.publicKey,
      email,
      name: this.state.name,
    });
    await this.save((s) => void (s.provider = { url: base, email }));
    return reply;
  }

  /**
   * Asks the provider to mail a new code for this registered, not yet verified device. The provider
   * mails an address at most one code per 10 minutes until one is used: sooner, this fails with
   * `code-recently-sent`.
   */
  resendCode(): Promise<{ deviceId: string; state: string }> {
    return this.client.call("POST", "/v1/devices/code");
  }

  /** Proves the account's email with the mailed code; the first device is active at once. */
  verify(code: string): Promise<{ deviceId: string; state: string }> {
    if (!/^\d{6}$/.test(code)) throw new WalletError("usage", "the code is the 6 digits from the mail");
    return this.client.call("POST", "/v1/devices/verify", { code });
  }

  /** Where this device stands at the provider: "unverified" until its code is entered, then on. */
  deviceState(): Promise<{ deviceId: string; state: string }> {
    return this.client.call("GET", "/v1/devices/self");
  }

  account(): Promise<{ id: string; email: string; devices: { id: string; name: string; state: string }[] }> {
    return this.client.call("GET", "/v1/account");
  }

  /**
   * Lets another device of the account in (it registered with the same email and verified), with
   * the account's TOTP code where it has one; the device is active from `effectiveAt` on.
   */
  approveDevice(
    id: string,
    totp?: string,
  ): Promise<{ deviceId: string; state: string; changeId: string; effectiveAt: string }> {
    return this.client.call("POST", `/v1/devices/${deviceIdArgument(id)}/approve`, totp && { totp });
  }

  /** The account's security changes still waiting out their delay (new TOTP, face, heir, backup, device). */
  accountChanges(): Promise<{ changes: Record<string, unknown>[] }> {
    return this.client.call("GET", "/v1/account-changes");
  }

  cancelAccountChange(id: string): Promise<Record<string, unknown>> {
    return this.client.call("POST", `/v1/account-changes/${uuidArgument(id, "change", "keyshard changes")}/cancel`);
  }

  /**
   * Shuts a device of the account out at the provider (this one included, unless it is the last
   * active one). The reply lists the t-of-n wallets it was a member of and how many members can
   * still sign each; the provider refuses to leave one below its threshold unless `strandWallets`.
   */
  revokeDevice(
    id: string,
    options: { strandWallets?: boolean } = {},
  ): Promise<{ deviceId: string; state: string; wallets: RevokedMemberWallet[] }> {
    return this.client.call(
      "POST",
      `/v1/devices/${deviceIdArgument(id)}/revoke`,
      options.strandWallets ? { strandWallets: true } : undefined,
    );
  }

  // ── wallets ────────────────────────────────────────────────────────────────────────────────

  /**
   * This device's wallets (from the keystore) with their state at the provider, as far as this
   * device is concerned: "removed" once a reshare left it out, "revoked device" once the device
   * was shut out — its shares are still here, and sign nothing.
   */
  async wallets(): Promise<(Omit<StoredWallet, "share" | "next" | "providerShare"> & { state: string })[]> {
    let remote: { wallets: { id: string; state: string; members: string[] | null }[] } | undefined;
    try {
      remote = await this.client.call("GET", "/v1/wallets");
    } catch (e) {
      if (!isRevoked(e)) throw e;
    }
    const stateOf = (id: string) => {
      if (remote === undefined) return "revoked device";
      const r = remote.wallets.find((w) => w.id === id);
      if (r === undefined) return "unknown";
      return r.members !== null && !r.members.includes(this.deviceId) ? "removed" : r.state;
    };
    return this.state.wallets.map(({ share: _share, next: _next, providerShare: _provider, ...w }) => ({
      ...w,
      state: stateOf(w.id),
    }));
  }

  /** Tells `onNotice` of every relay session this device is invited to from now on (`watchRelay`). */
  watchRelay(onNotice: (relayId: string) => void): Promise<RelayWatch> {
    return watchRelay(this.client.url, this.identity, onNotice);
  }

  /** The provider's open relay sessions this device takes part in. */
  relaySessions(): Promise<{
    sessions: { relayId: string; sid: string; purpose: string; createdBy: string; participants: string[] }[];
  }> {
    return this.client.call("GET", "/v1/relay");
  }

  find(name: string): StoredWallet {
    const wallet = this.state.wallets.find((w) => w.name === name || w.id === name);
    if (wallet === undefined)
      throw new WalletError("unknown-wallet", `no wallet named ${name} on this device: see \`keyshard wallet list\``);
    return wallet;
  }

  /** Decoded shares by wallet id: a send needs the share for its address, its run and its result. */
  private readonly decoded = new Map<string, { hex: string; share: Share }>();

  /**
   * `wallet`'s share, decoded. Matched on the encoding too: another process on this home may have
   * swapped in a new share, and a run must use the share whose record it claims in.
   */
  private share(wallet: StoredWallet): Share {
    let cached = this.decoded.get(wallet.id);
    if (cached?.hex !== wallet.share) {
      cached = { hex: wallet.share, share: scheme(wallet.scheme).decodeShare(hexToBytes(wallet.share)) };
      this.decoded.set(wallet.id, cached);
    }
    return cached.share;
  }

  /** The wallet's key at `path`, as requests need it. */
  private keyOf(wallet: StoredWallet, path: string | undefined): RequestKey {
    return requestKey(wallet.scheme, this.share(wallet), path);
  }

  /**
   * Makes a new key. Without `devices`, a hybrid 2-of-2 with the provider (scheme ecdsa2p unless
   * given); with them, a t-of-n wallet among this device and `devices` (scheme dkls23 unless given).
   * `providerParty` says whether the provider holds a share of it; left out, it follows from `n`
   * (one more than the devices: the provider is a party), and without `n` it is a party.
   */
  async createWallet(options: {
    name: string;
    scheme?: SchemeName;
    threshold?: number;
    n?: number;
    devices?: string[];
    providerParty?: boolean;
    policy?: unknown[];
  }): Promise<StoredWallet> {
    if (this.state.wallets.some((w) => w.name === options.name))
      throw new WalletError("usage", `this device has a wallet named ${options.name} already`);
    if (options.devices === undefined || options.devices.length === 0) {
      if ((options.n !== undefined && options.n !== 2) || options.providerParty === false)
        throw new WalletError(
          "usage",
          "a wallet without other devices is hybrid: this device and the provider, 2-of-2; a t-of-n wallet needs --with DEVICE for each other device",
        );
      return this.createHybrid(
        options.name,
        options.scheme ?? "ecdsa2p",
        options.policy && policyForProvider(options.policy),
      );
    }
    const schemeName = options.scheme ?? "dkls23";
    const devices = [this.deviceId, ...options.devices];
    const providerParty = options.providerParty ?? (options.n === undefined || options.n === devices.length + 1);
    const parties = devices.length + (providerParty ? 1 : 0);
    const n = options.n ?? parties;
    if (n !== parties)
      throw new WalletError(
        "usage",
        `--quorum T/${n} does not fit: N counts the parties, here ${devices.length} devices (this one and each --with)${providerParty ? " and the provider" : ""}, so ${parties}`,
      );
    const threshold = options.threshold ?? 2;
    const created = await this.client.call<{
      walletId: string;
      relayId: string;
      sid: string;
      threshold: number;
      members: Member[];
    }>("POST", "/v1/wallets", {
      name: options.name,
      scheme: schemeName,
      members: devices,
      threshold,
      provider: providerParty,
      ...(options.policy && { policy: policyForProvider(options.policy) }),
    });
    this.checkMembers(created.members, devices);
    return this.joinKeygen({ id: created.walletId, name: options.name, scheme: schemeName, threshold }, created);
  }

  private async createHybrid(name: string, schemeName: SchemeName, policy?: unknown[]): Promise<StoredWallet> {
    const created = await this.client.call<{
      walletId: string;
      session: RoundReply & { sid: string; publicKey?: string };
    }>("POST", "/v1/wallets", { name, scheme: schemeName, ...(policy && { policy }) });
    this.progress("making the key with the provider (distributed key generation)");
    const party = scheme(schemeName).keygen(hexToBytes(created.session.sid), WALLET_DEVICE);
    const sessionId = created.session.sessionId;
    const done = await driveSession(party, created.session, (round, messages) =>
      this.client.call<RoundReply & { sid: string; publicKey?: string }>("POST", `/v1/sessions/${sessionId}/round`, {
        round,
        messages,
      }),
    );
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
      sids: [sidHex(created.session.sid)],
    };
    await this.save((s) => void s.wallets.push(wallet));
    await this.sealForRecovery(wallet);
    return wallet;
  }

  /** The members the provider lists must be the devices asked for, with keys that hash to their ids. */
  private checkMembers(members: Member[], devices: string[]): void {
    for (const [i, id] of devices.entries()) {
      const m = members[i];
      if (m === undefined || m.deviceId !== id || m.provider || deviceId(hexToBytes(m.identityKey)) !== id)
        throw new WalletError("signing-failed", `the provider listed member ${i} wrongly; nothing was made`);
    }
  }

  private async joinKeygen(
    wallet: { id: string; name: string; scheme: SchemeName; threshold: number },
    relay: { relayId: string; sid: string; members: Member[] },
  ): Promise<StoredWallet> {
    const index = relay.members.findIndex((m) => m.deviceId === this.deviceId);
    if (index < 0) throw new WalletError("usage", `this device is not a member of wallet ${wallet.name}`);
    this.progress(`making the key of ${wallet.name} with ${relay.members.length - 1} other part(ies) over the relay`);
    const party = scheme(wallet.scheme).keygen(hexToBytes(relay.sid), index, {
      t: wallet.threshold,
      n: relay.members.length,
    });
    const channel = this.watchKeygen(await wsRelayChannel(this.client.url, this.identity, relay.relayId), wallet);
    let share: Share;
    try {
      share = await relayRun({ client: this.client, identity: this.identity }, relay, {
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
        `the key generation of wallet ${wallet.name} did not finish (${e.message}): run \`keyshard wallet join\` on the other devices while one of them runs it, or free the name with \`keyshard wallet delete --name ${wallet.name}\``,
        { walletId: wallet.id },
      );
    }
    const publicKey = bytesToHex(scheme(wallet.scheme).publicKey(share));
    const confirmed = await this.client.call<{ state: string }>("POST", `/v1/wallets/${wallet.id}/confirm`, {
      publicKey,
    });
    const stored: StoredWallet = {
      ...wallet,
      publicKey,
      share: bytesToHex(scheme(wallet.scheme).encodeShare(share)),
      index,
      members: relay.members,
      sids: [sidHex(relay.sid)],
    };
    await this.save((s) => void s.wallets.push(stored));
    this.progress(`wallet ${wallet.name} is ${confirmed.state}`);
    return stored;
  }

  /**
   * `channel`, stopping with a `keygen-ended` error soon after a device of the account deletes the
   * wallet (or its key generation fails): the others then stop waiting for parties that will
   * never come, instead of waiting out the whole run's timeout.
   */
  private watchKeygen(channel: RelayChannel, wallet: { id: string; name: string }): RelayChannel {
    let checkedAt = Date.now();
    return {
      send: (envelopes) => channel.send(envelopes),
      receive: async () => {
        if (Date.now() - checkedAt >= KEYGEN_CHECK_MS) {
          checkedAt = Date.now();
          const { state } = await this.client.call<{ state: string }>("GET", `/v1/wallets/${wallet.id}`);
          if (state === "abandoned" || state === "failed")
            throw new WalletError(
              "keygen-ended",
              state === "abandoned"
                ? `the key generation of wallet ${wallet.name} was deleted by a device of the account: nothing was made, and the name is free`
                : `the key generation of wallet ${wallet.name} failed: nothing was made; free the name with \`keyshard wallet delete --name ${wallet.name}\``,
              { walletId: wallet.id },
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
  async deleteWallet(name: string): Promise<{ walletId: string; name: string }> {
    const { wallets } = await this.client.call<{ wallets: { id: string; name: string }[] }>("GET", "/v1/wallets");
    const remote = wallets.find((w) => w.name === name || w.id === name);
    if (remote === undefined)
      throw new WalletError("unknown-wallet", `the account has no wallet named ${name}: see \`keyshard wallet list\``);
    return this.client.call("DELETE", `/v1/wallets/${remote.id}`);
  }

  /** Joins the key generation of every t-of-n wallet of the account that waits for this device. */
  async joinPendingWallets(): Promise<StoredWallet[]> {
    const sessions = await this.client.call<{
      sessions: { relayId: string; sid: string; purpose: string; createdBy: string }[];
    }>("GET", "/v1/relay");
    const { wallets } = await this.client.call<{ wallets: { id: string; name: string; state: string }[] }>(
      "GET",
      "/v1/wallets",
    );
    const joined: StoredWallet[] = [];
    for (const session of sessions.sessions) {
      const name = /^keygen of wallet (.+)$/.exec(session.purpose)?.[1];
      const remote = wallets.find((w) => w.name === name && w.state === "creating");
      if (remote === undefined || session.createdBy === this.deviceId) continue;
      if (this.state.wallets.some((w) => w.id === remote.id)) continue;
      const detail = await this.client.call<{ scheme: SchemeName; threshold: number; members: Member[] }>(
        "GET",
        `/v1/wallets/${remote.id}`,
      );
      for (const m of detail.members)
        if (!m.provider && deviceId(hexToBytes(m.identityKey)) !== m.deviceId)
          throw new WalletError("signing-failed", `the provider gave a wrong key for member ${m.deviceId}`);
      joined.push(
        await this.joinKeygen(
          { id: remote.id, name: remote.name, scheme: detail.scheme, threshold: detail.threshold },
          { relayId: session.relayId, sid: session.sid, members: detail.members },
        ),
      );
    }
    return joined;
  }

  /** The wallet's address on `chain` (at `path` when given). */
  address(name: string, chain: Chain, options: { path?: string; network?: BitcoinNetwork } = {}): string {
    const wallet = this.find(name);
    const key = this.keyOf(wallet, options.path);
    if (chain === "ethereum" && isEcdsa(wallet.scheme)) return ethereumAddress(key.publicKey);
    if (chain === "solana" && wallet.scheme === "frost-ed25519") return solanaAddress(key.publicKey);
    if (chain === "bitcoin" && (isEcdsa(wallet.scheme) || wallet.scheme === "frost-taproot"))
      return bitcoinOutput(key, options.network ?? "mainnet").address;
    throw new WalletError(
      "usage",
      `wallet ${wallet.name} is a ${wallet.scheme} key, which has no ${chain} address: make a ${schemeFor(chain)} wallet for ${chain}`,
    );
  }

  // ── signing ────────────────────────────────────────────────────────────────────────────────

  /** What a signing run of `wallet` needs (the cosigner runs them too). */
  runContext(wallet: StoredWallet): RunContext {
    return {
      client: this.client,
      identity: this.identity,
      wallet,
      share: this.share(wallet),
      progress: this.progress,
      claim: (sids) => this.claimSids(wallet, sids, "sign"),
    };
  }

  /**
   * Adds `sids` to the record of `wallet`'s share in the keystore on disk, under its lock, so that
   * another process on this home (a cosigner beside a command) sees it too; throws, recording
   * none, when one was used. The share must still be the keystore's: a share swapped out since
   * `wallet` was read has lost its record with it, so it takes part in nothing more.
   */
  private async claimSids(wallet: StoredWallet, sids: readonly (string | Uint8Array)[], kind: RunKind): Promise<void> {
    if (sids.length === 0) return;
    await this.save((s) => {
      const stored = s.wallets.find((w) => w.id === wallet.id);
      if (stored === undefined || stored.share !== wallet.share)
        throw new WalletError(
          "stale-share",
          `the share of wallet ${wallet.name} this run would use was replaced meanwhile: try again`,
        );
      claimIn(stored, sids, kind);
    });
  }

  /** Signs `body` with `wallet`'s quorum; returns the signatures or throws `held` / `denied`. */
  async sign(
    name: string,
    body: SignBody,
    /** `waitMs`: how long a run waits for the other devices (cosigners) to take part. */
    options: { totp?: string; rpc?: string; waitMs?: number; intent?: SendIntent } = {},
  ): Promise<{ requestId?: string; signatures: Uint8Array[] }> {
    const stored = this.find(name);
    if (stored.providerShare !== undefined)
      return {
        signatures: messagesToSign(body, this.keyOf(stored, body.path)).map((m) =>
          this.signAlone(stored, m, body.path),
        ),
      };
    const wallet = await this.current(name);
    const ctx = this.runContext(wallet);
    const messages = messagesToSign(body, this.keyOf(wallet, body.path));
    const withProvider = wallet.members === null || wallet.members.some((m) => m.provider);
    if (!withProvider) {
      // One proposal and run per signature: a PSBT needs one for each input the wallet spends.
      const signatures: Uint8Array[] = [];
      for (const [index, message] of messages.entries())
        signatures.push(await runAmongDevices(ctx, body, { index, message }, options.waitMs));
      return { signatures };
    }
    const signers =
      wallet.members === null
        ? undefined
        : [
            this.deviceId,
            ...wallet.members
              .filter((m) => !m.provider && m.index !== wallet.index)
              .slice(0, Math.max(0, wallet.threshold - 2))
              .map((m) => m.deviceId),
          ];
    const opened = wallet.members === null ? await openSessions(ctx, messages, body.path) : undefined;
    const reply = await this.client.call<{
      requestId: string;
      status: string;
      rule: string | null;
      ruleNumber: number | null;
      waitingFor?: Record<string, unknown>;
      sessions?: never[];
      relays?: never[];
    }>("POST", `/v1/wallets/${wallet.id}/sign-requests`, {
      ...body,
      ...(options.totp !== undefined && { totp: options.totp }),
      ...(signers !== undefined && { signers }),
      ...(opened !== undefined && { sessions: openingsOf(opened) }),
      epoch: wallet.epoch ?? 0,
    });
    if (reply.status === "denied")
      throw new WalletError(
        "denied",
        `the provider's policy denies this (${reply.rule === null ? "no rule matched" : ruleLabel(reply.ruleNumber, reply.rule)})`,
        { requestId: reply.requestId, rule: reply.rule, ruleNumber: reply.ruleNumber },
      );
    if (reply.status === "held") {
      const pending: PendingRequest = {
        requestId: reply.requestId,
        walletId: wallet.id,
        body,
        ...(options.rpc && { rpc: options.rpc }),
        ...(options.intent && { intent: options.intent }),
      };
      await this.save((s) => void s.pending.push(pending));
      throw new WalletError(
        "held",
        `held by the provider's policy (${ruleLabel(reply.ruleNumber, reply.rule)}); waiting for ${Object.keys(reply.waitingFor ?? {}).join(", ")}. Request ${reply.requestId}: approve it from another device or give the code, then run \`keyshard resume ${reply.requestId}\``,
        { requestId: reply.requestId, waitingFor: reply.waitingFor, rule: reply.rule, ruleNumber: reply.ruleNumber },
      );
    }
    return {
      requestId: reply.requestId,
      signatures: await runWithProvider(ctx, reply, messages, body.path, options.waitMs, opened),
    };
  }

  /**
   * Finishes a request a policy held, once it waits for nothing: the bytes this device built,
   * re-checked. `totp` gives the code a request held for one waits for.
   */
  async resume(requestId: string, options: { totp?: string } = {}): Promise<SignOutcome> {
    const pending = this.state.pending.find((p) => p.requestId === requestId);
    if (pending === undefined)
      throw new WalletError("usage", `this device made no held request ${requestId}: see \`keyshard requests\``);
    const wallet = await this.current(pending.walletId);
    if (options.totp !== undefined)
      await this.client.call("POST", `/v1/sign-requests/${requestId}/totp`, { code: options.totp });
    const stored = await this.client.call<{ payload: string; status: string }>("GET", `/v1/sign-requests/${requestId}`);
    if (pending.body.payload !== undefined && stored.payload !== pending.body.payload)
      throw new WalletError(
        "signing-failed",
        "the provider holds other bytes under this request than this device sent",
      );
    const started = await this.client.call<{ sessions?: never[]; relays?: never[] }>(
      "POST",
      `/v1/sign-requests/${requestId}/sign`,
    );
    const signatures = await runWithProvider(
      this.runContext(wallet),
      started,
      messagesToSign(pending.body, this.keyOf(wallet, pending.body.path)),
      pending.body.path,
    );
    await this.save((s) => void (s.pending = s.pending.filter((p) => p.requestId !== requestId)));
    return this.finish(wallet, pending.body, { requestId, signatures }, pending.rpc, pending.intent);
  }

  private async finish(
    wallet: StoredWallet,
    body: SignBody,
    signed: { requestId?: string; signatures: Uint8Array[] },
    rpc: string | undefined,
    intent?: SendIntent,
    receiptWaitMs?: number,
  ): Promise<SignOutcome> {
    const key = this.keyOf(wallet, body.path);
    const finished = await finishRequest(body, signed.signatures, key);
    const outcome: SignOutcome = { ...(signed.requestId && { requestId: signed.requestId }), ...finished };
    if ((body.kind ?? "transaction") !== "transaction") return outcome;
    if (rpc === undefined) return { ...outcome, broadcast: false };
    const sent = keptRecord({
      walletId: wallet.id,
      body,
      publicKey: key.publicKey,
      finished,
      signatures: signed.signatures,
      ...(signed.requestId && { requestId: signed.requestId }),
      rpc,
      // A held request from before sends were kept has no intent: it is broadcast, not kept.
      intent: intent ?? { to: "", amount: "" },
    });
    // Kept before the broadcast: whatever happens next, a retry finds this transaction.
    if (intent !== undefined) await this.save((s) => void (s.sent = [...(s.sent ?? []), sent].slice(-KEPT_SENDS)));
    return this.deliver(wallet, sent, outcome, rpc, receiptWaitMs ?? RECEIPT_WAIT_MS);
  }

  /**
   * Broadcasts a kept transaction through `rpc` (Ethereum: and waits for its receipt). A node that
   * cannot be reached, or a receipt that does not come, leaves it kept for a retry, and the error
   * says so; a node that refuses it settles it: it will not be mined, so a retry signs anew.
   */
  private async deliver(
    wallet: StoredWallet,
    sent: SentTransaction,
    outcome: SignOutcome,
    rpc: string,
    receiptWaitMs: number,
  ): Promise<SignOutcome> {
    const id = sent.transactionId;
    const follow = `follow it with \`keyshard tx status --wallet ${wallet.name} --chain ${sent.chain} ${id}\``;
    this.progress(`broadcasting ${id} to ${shownUrl(rpc)}`);
    try {
      await broadcastSent(sent, rpc);
    } catch (e) {
      if (!(e instanceof WalletError)) throw e;
      if (nodeRefusal(e) !== undefined) {
        await this.settle(sent);
        // A Bitcoin node without -txindex cannot say whether a transaction it refuses now was
        // mined before: the person must look before paying anew.
        const before = outcome.sentBefore ? ` If it was mined before, it has paid: ${follow}.` : "";
        throw new WalletError(
          "rpc-failed",
          `${e.message}. Transaction ${id} was not taken.${before} The same send again signs a new one`,
          { transactionId: id },
        );
      }
      throw new WalletError(
        e.code,
        `${e.message}. Transaction ${id} is signed and kept: the same send again broadcasts it, it does not pay twice`,
        { ...e.details, transactionId: id },
      );
    }
    const out = { ...outcome, transactionId: id, broadcast: true };
    if (sent.chain === "ethereum") {
      const receipt = await ethereumReceipt(rpc, id, receiptWaitMs);
      if (receipt === undefined)
        throw new WalletError(
          "unconfirmed",
          `transaction ${id} is out: the node took it, but it was not mined within ${receiptWaitMs / 1000} s. It can still be: ${follow}. The same send again broadcasts this transaction again, it does not pay twice`,
          { transactionId: id, ...(sent.requestId && { requestId: sent.requestId }) },
        );
      await this.settle(sent);
      return { ...out, receiptStatus: receipt.status };
    }
    await this.settle(sent);
    return out;
  }

  /** Marks a kept transaction's outcome as known: the same send from now on is a new payment. */
  private settle(sent: SentTransaction): Promise<void> {
    return this.save((s) => {
      for (const kept of s.sent ?? []) if (kept.transactionId === sent.transactionId) kept.settled = true;
    });
  }

  /**
   * A retry of a send whose transaction is kept and unsettled: that transaction's outcome if it
   * was mined, the same transaction broadcast again if it still can be, and undefined — sign
   * anew — only when it never can be (its nonce taken, its blockhash expired).
   */
  private async sendAgain(
    wallet: StoredWallet,
    chain: Chain,
    intent: SendIntent,
    rpc: string,
    receiptWaitMs: number,
  ): Promise<SignOutcome | undefined> {
    const kept = keptSend(this.state.sent ?? [], wallet.id, chain, intent);
    if (kept === undefined || !(await onChainOf(kept, rpc))) return undefined;
    const now = await sentState(kept, rpc);
    const outcome: SignOutcome = {
      ...(kept.requestId && { requestId: kept.requestId }),
      signed: kept.signed,
      sentBefore: true,
    };
    if (now.state === "confirmed" || now.state === "failed") {
      this.progress(`this send was made before: ${kept.transactionId} is mined; nothing new was signed`);
      await this.settle(kept);
      return {
        ...outcome,
        transactionId: kept.transactionId,
        broadcast: true,
        ...(chain === "ethereum" && { receiptStatus: now.state === "confirmed" ? 1 : 0 }),
      };
    }
    if (canStillBeMined(now)) {
      this.progress(`this send was signed before as ${kept.transactionId}, which can still be mined: sending it again`);
      return this.deliver(wallet, kept, outcome, rpc, receiptWaitMs);
    }
    this.progress(
      `${kept.transactionId}, signed before for this send, can never be mined (${now.state}): signing anew`,
    );
    await this.settle(kept);
    return undefined;
  }

  /** What became of a transaction this device sent from `wallet` on `chain`, by its id or its request's. */
  async transactionStatus(options: {
    wallet: string;
    chain: Chain;
    id: string;
    rpc?: string;
  }): Promise<TransactionStatus> {
    const wallet = this.find(options.wallet);
    const kept = [...(this.state.sent ?? [])]
      .reverse()
      .find(
        (s) =>
          s.walletId === wallet.id &&
          s.chain === options.chain &&
          (s.transactionId === options.id || s.requestId === options.id),
      );
    if (kept === undefined)
      throw new WalletError(
        "usage",
        `this device sent no ${options.chain} transaction or request ${options.id} from wallet ${wallet.name}`,
      );
    const now = await sentState(kept, options.rpc ?? kept.rpc);
    return {
      transactionId: kept.transactionId,
      ...(kept.requestId && { requestId: kept.requestId }),
      ...now,
    };
  }

  /** Describes, signs and (given an RPC) broadcasts a native transfer. */
  async send(options: {
    wallet: string;
    chain: Chain;
    to: string;
    amount: string;
    rpc?: string;
    totp?: string;
    path?: string;
    chainId?: number;
    nonce?: number;
    blockhash?: string;
    /** Bitcoin: the network, the fee rate (sat/vB) and the coins to spend (a coins file's JSON). */
    network?: BitcoinNetwork;
    feeRate?: number;
    coins?: unknown;
    waitMs?: number;
    /** Ethereum: how long to wait for the receipt (default 30 s). */
    receiptWaitMs?: number;
    /** Sees what the bytes do before anything is signed; returning false stops. */
    confirm?: (description: NonNullable<ReturnType<typeof describeRequest>>) => boolean | Promise<boolean>;
  }): Promise<SignOutcome> {
    const wallet = this.find(options.wallet);
    const network = options.network ?? "mainnet";
    const intent = sendIntent(options.chain, options);
    const receiptWaitMs = options.receiptWaitMs ?? RECEIPT_WAIT_MS;
    if (options.rpc !== undefined) {
      const again = await this.sendAgain(wallet, options.chain, intent, options.rpc, receiptWaitMs);
      if (again !== undefined) return again;
    }
    const from = this.address(wallet.name, options.chain, { ...(options.path && { path: options.path }), network });
    const key = this.keyOf(wallet, options.path);
    let body: SignBody;
    if (options.chain === "ethereum") {
      const { bytes, chainId } = await buildEthereumTransfer({
        from,
        to: options.to,
        amount: options.amount,
        ...(options.rpc && { rpc: options.rpc }),
        ...(options.chainId !== undefined && { chainId: options.chainId }),
        ...(options.nonce !== undefined && { nonce: options.nonce }),
      });
      body = { chain: "ethereum", payload: bytesToHex(bytes), chainId };
    } else if (options.chain === "solana") {
      const bytes = await buildSolanaTransfer({
        from,
        to: options.to,
        amount: options.amount,
        ...(options.rpc && { rpc: options.rpc }),
        ...(options.blockhash && { blockhash: options.blockhash }),
      });
      body = { chain: "solana", payload: bytesToHex(bytes) };
    } else {
      const { psbt } = await buildBitcoinTransfer({
        owner: bitcoinOutput(key, network),
        network,
        to: options.to,
        amount: options.amount,
        ...(options.feeRate !== undefined && { feeRate: options.feeRate }),
        ...(options.rpc && { rpc: options.rpc }),
        ...(options.coins !== undefined && { coins: options.coins }),
      });
      body = { chain: "bitcoin", payload: bytesToHex(psbt), network };
    }
    if (options.path !== undefined) body.path = options.path;
    const description = describeRequest(body, key);
    if (description && options.confirm && !(await options.confirm(description)))
      throw new WalletError("usage", "stopped before signing: nothing was sent");
    const signed = await this.sign(wallet.name, body, {
      ...(options.totp && { totp: options.totp }),
      ...(options.rpc && { rpc: options.rpc }),
      ...(options.waitMs !== undefined && { waitMs: options.waitMs }),
      intent,
    });
    return this.finish(wallet, body, signed, options.rpc, intent, receiptWaitMs);
  }

  /**
   * EIP-191 personal message or EIP-712 typed data (Ethereum, an ECDSA wallet), or a BIP322
   * simple signature of a message by the wallet's Bitcoin address (ECDSA: P2WPKH; FROST: P2TR).
   * `confirm` is shown what the message or typed data says, decoded here, and nothing is signed
   * unless it returns true: a signature on unseen bytes can be a token approval.
   */
  async signMessage(
    name: string,
    input: {
      chain?: "ethereum" | "bitcoin";
      network?: BitcoinNetwork;
      message?: Uint8Array;
      typedData?: Record<string, unknown>;
      path?: string;
      totp?: string;
      confirm: (description: MessageRequestDescription) => boolean | Promise<boolean>;
    },
  ): Promise<SignOutcome> {
    const wallet = this.find(name);
    const chain = input.chain ?? "ethereum";
    let body: SignBody;
    if (chain === "bitcoin") {
      if (!isEcdsa(wallet.scheme) && wallet.scheme !== "frost-taproot")
        throw new WalletError("usage", `wallet ${wallet.name} is ${wallet.scheme}, which has no Bitcoin address`);
      if (input.typedData !== undefined) throw new WalletError("usage", "typed data is Ethereum's (EIP-712)");
      body = {
        chain,
        kind: "message",
        payload: bytesToHex(input.message ?? new Uint8Array()),
        network: input.network ?? "mainnet",
      };
    } else {
      if (!isEcdsa(wallet.scheme))
        throw new WalletError("usage", "Ethereum messages (EIP-191, EIP-712) need an ECDSA wallet");
      body =
        input.typedData !== undefined
          ? { chain, kind: "typed-data", typedData: input.typedData }
          : { chain, kind: "message", payload: bytesToHex(input.message ?? new Uint8Array()) };
    }
    if (input.path !== undefined) body.path = input.path;
    if (!(await input.confirm(describeMessageRequest(body) as MessageRequestDescription)))
      throw new WalletError("usage", "stopped before signing: nothing was signed");
    const signed = await this.sign(wallet.name, body, input.totp ? { totp: input.totp } : {});
    return this.finish(wallet, body, signed, undefined);
  }

  /** Both shares of a self-custodied wallet, on this device: no provider, no policy. */
  private signAlone(wallet: StoredWallet, message: Uint8Array, path: string | undefined): Uint8Array {
    const engine = scheme(wallet.scheme);
    const providerShare = engine.decodeShare(hexToBytes(wallet.providerShare as string));
    const sid = crypto.getRandomValues(new Uint8Array(32));
    const options = { sid, message, ...(path !== undefined && { path }) };
    const [result] = runLocal([engine.sign(this.share(wallet), options), engine.sign(providerShare, options)]);
    return engine.signatureBytes(result);
  }

  // ── key changes ────────────────────────────────────────────────────────────────────────────

  private get link() {
    return {
      client: this.client,
      identity: this.identity,
      progress: this.progress,
      claim: (wallet: StoredWallet, sid: string) => this.claimSids(wallet, [sid], "key-change"),
    };
  }

  /** New shares of the same key, so the addresses stay; every member of a t-of-n wallet takes part. */
  refresh(name: string): Promise<StoredWallet> {
    return this.changeKey(name, {});
  }

  /** Moves a t-of-n wallet's key to other devices and/or another threshold; the addresses stay. */
  async reshare(
    name: string,
    change: { add?: string[]; remove?: string[]; threshold?: number; n?: number },
  ): Promise<StoredWallet> {
    const wallet = this.find(name);
    if (wallet.members === null)
      throw new WalletError(
        "usage",
        `wallet ${wallet.name} is hybrid (2-of-2 with the provider): \`keyshard refresh\` renews its shares; reshare is for t-of-n wallets`,
      );
    const current = wallet.members.filter((m) => !m.provider).map((m) => m.deviceId);
    for (const id of change.remove ?? [])
      if (!current.includes(id)) throw new WalletError("usage", `device ${id} is not a member of ${wallet.name}`);
    for (const id of change.add ?? []) {
      if (!/^[0-9a-f]{32}$/.test(id))
        throw new WalletError("usage", "a device id is 32 hex digits (see `keyshard devices`)");
      if (current.includes(id)) throw new WalletError("usage", `device ${id} is a member of ${wallet.name} already`);
    }
    const devices = [...current.filter((id) => !change.remove?.includes(id)), ...(change.add ?? [])];
    const withProvider = wallet.members.some((m) => m.provider) ? 1 : 0;
    if (change.n !== undefined && change.n !== devices.length + withProvider)
      throw new WalletError(
        "usage",
        `--quorum T/${change.n} does not fit: the wallet would have ${devices.length + withProvider} parties`,
      );
    return this.changeKey(name, { devices, ...(change.threshold !== undefined && { threshold: change.threshold }) });
  }

  private async changeKey(name: string, request: { devices?: string[]; threshold?: number }): Promise<StoredWallet> {
    if (this.find(name).providerShare !== undefined)
      throw new WalletError("usage", `wallet ${name} is self-custodied: there is no provider to change its key with`);
    const wallet = await this.current(name);
    const next = await startKeyChange(this.link, wallet, this.share(wallet), request);
    return this.keep(wallet, next, COMMIT_WAIT_MS);
  }

  /**
   * Stores `next` beside the current share (a newcomer's as its wallet), reports it, and swaps it
   * in once the provider commits the epoch, waiting up to `waitMs` for the other members.
   */
  private async keep(
    wallet: Pick<StoredWallet, "id" | "name" | "scheme" | "publicKey">,
    next: NextShare,
    waitMs: number,
  ): Promise<StoredWallet> {
    await this.save((s) => {
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
    let { committed } = await this.confirmNext(wallet.publicKey, wallet.id, next);
    while (!committed && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      committed = (await remoteWallet(this.client, wallet.id)).epoch === next.epoch;
    }
    if (committed) await this.swap(wallet.id, next);
    else this.progress(`the new shares of ${wallet.name} wait for the other members to report theirs`);
    return this.find(wallet.id);
  }

  private confirmNext(publicKey: string, walletId: string, next: NextShare): Promise<{ committed: boolean }> {
    return this.client.call("POST", `/v1/wallets/${walletId}/key-changes/${next.epoch}/confirm`, { publicKey });
  }

  private async swap(walletId: string, next: NextShare): Promise<void> {
    await this.save((s) => {
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
    this.decoded.delete(walletId);
    this.progress(`wallet ${this.find(walletId).name} now signs with its epoch ${next.epoch} shares`);
    await this.sealForRecovery(this.find(walletId));
  }

  /**
   * The wallet with its share at the provider's epoch: a committed new share is swapped in first,
   * one whose change failed is dropped. A share the wallet moved on from is refused here, before
   * any run, with what happened.
   */
  async current(name: string): Promise<StoredWallet> {
    let wallet = this.find(name);
    const remote = await remoteWallet(this.client, wallet.id);
    const next = wallet.next;
    if (next !== undefined) {
      if (remote.epoch === next.epoch) await this.swap(wallet.id, next);
      else if (remote.change?.epoch === next.epoch) {
        if ((await this.confirmNext(wallet.publicKey, wallet.id, next)).committed) await this.swap(wallet.id, next);
      } else
        await this.save((s) => {
          const stored = s.wallets.find((w) => w.id === wallet.id);
          if (stored?.next?.epoch === next.epoch) delete stored.next;
        });
      wallet = this.find(wallet.id);
    }
    const epoch = wallet.epoch ?? 0;
    if (remote.epoch === epoch) return wallet;
    if (remote.change?.epoch === epoch)
      throw new WalletError(
        "stale-share",
        `this device's share of ${wallet.name} is for epoch ${epoch}, which waits for the other members to report theirs: try again shortly`,
      );
    const member = remote.members === null || remote.members.some((m) => m.deviceId === this.deviceId);
    throw new WalletError(
      "stale-share",
      member
        ? `wallet ${wallet.name} moved on to epoch ${remote.epoch} without this device's share: have a member refresh it while this device runs \`keyshard cosigner run\``
        : `this device was removed from wallet ${wallet.name} (now at epoch ${remote.epoch}): its old share signs nothing`,
    );
  }

  /** Brings every wallet with a new share waiting up to date (a cosigner does this as it polls). */
  async settleAll(): Promise<void> {
    for (const w of this.state.wallets) if (w.next !== undefined) await this.current(w.id).catch(() => undefined);
  }

  /** Takes part in every refresh or reshare of the account's wallets that waits for this device. */
  async joinKeyChanges(): Promise<StoredWallet[]> {
    // A change builds on the epoch before it: shares of an earlier change this device took part
    // in are swapped in first, or their members would not match the new change's.
    await this.settleAll();
    const { sessions } = await this.relaySessions();
    const joined: StoredWallet[] = [];
    for (const session of sessions) {
      const name = /^(?:refresh|reshare) of wallet (.+)$/.exec(session.purpose)?.[1];
      if (name === undefined || session.createdBy === this.deviceId) continue;
      const { wallets } = await this.client.call<{ wallets: { id: string; name: string }[] }>("GET", "/v1/wallets");
      const listed = wallets.find((w) => w.name === name);
      if (listed === undefined) continue;
      const remote: RemoteWallet = await remoteWallet(this.client, listed.id);
      const change = remote.change;
      if (change?.relayId !== session.relayId || change.members === null || remote.members === null) continue;
      const stored = this.state.wallets.find((w) => w.id === remote.id);
      if (stored !== undefined && (stored.next?.epoch === change.epoch || stored.epoch === change.epoch)) continue;
      // A run this share took part in, listed again (after a restart, or by a relay replaying it).
      if (stored !== undefined && usedBy(stored, session.sid)) {
        this.progress(`not joining the ${change.kind} of ${stored.name} again: its session id was used before`);
        continue;
      }
      const next = await runKeyChange(
        this.link,
        { scheme: remote.scheme, publicKey: stored?.publicKey ?? remote.publicKey },
        stored ?? null,
        stored === undefined ? null : this.share(stored),
        {
          epoch: change.epoch,
          relayId: session.relayId,
          sid: session.sid,
          threshold: change.threshold,
          members: change.members,
          previous: remote.members,
        },
      );
      joined.push(await this.keep(stored ?? remote, next, 0));
    }
    return joined;
  }

  // ── backup by request ──────────────────────────────────────────────────────────────────────

  /**
   * Asks for the provider's share of a hybrid wallet, sealed to this device's recovery key (with
   * the account's TOTP code where it has one).
   */
  async backupRequest(name: string, totp?: string): Promise<Record<string, unknown>> {
    const wallet = this.find(name);
    if (wallet.members !== null)
      throw new WalletError("usage", "backup by request releases a hybrid wallet's provider share; this one is t-of-n");
    if (this.state.recovery === undefined) {
      const key = newRecoveryKey();
      await this.save((s) => {
        s.recovery ??= { secretKey: bytesToHex(key.secretKey), publicKey: bytesToHex(key.publicKey) };
      });
    }
    const recoveryKey = (this.state.recovery as { publicKey: string }).publicKey;
    return this.client.call("POST", `/v1/wallets/${wallet.id}/backup`, { recoveryKey, ...(totp && { totp }) });
  }

  backupStatus(name: string): Promise<Record<string, unknown>> {
    return this.client.call("GET", `/v1/wallets/${this.find(name).id}/backup`);
  }

  backupCancel(name: string): Promise<Record<string, unknown>> {
    return this.client.call("POST", `/v1/wallets/${this.find(name).id}/backup/cancel`);
  }

  /**
   * Once the delay has passed: opens the released share with the recovery key, checks that the
   * two shares sign under the wallet's key, and keeps it. The wallet then signs on this device alone.
   */
  async backupDownload(name: string): Promise<StoredWallet> {
    const wallet = this.find(name);
    const reply = await this.client.call<{ box: string }>("POST", `/v1/wallets/${wallet.id}/backup/download`);
    const recovery = this.state.recovery;
    if (recovery === undefined)
      throw new WalletError(
        "keystore",
        "this device holds no recovery key: download the backup on the device that asked for it",
      );
    const engine = scheme(wallet.scheme);
    let providerShare: Share;
    try {
      const bytes = openRecoveryBox(
        { secretKey: hexToBytes(recovery.secretKey), publicKey: hexToBytes(recovery.publicKey) },
        backupBoxContext(wallet.id),
        hexToBytes(reply.box),
      );
      providerShare = engine.decodeShare(bytes);
    } catch (e) {
      if (e instanceof RecoveryBoxError || e instanceof RangeError || (e as { name?: string }).name === "ProtocolAbort")
        throw new WalletError("signing-failed", `the released backup is not usable here: ${(e as Error).message}`);
      throw e;
    }
    if (bytesToHex(engine.publicKey(providerShare)) !== wallet.publicKey)
      throw new WalletError("signing-failed", "the released share belongs to another key");
    const stored = { ...wallet, providerShare: bytesToHex(engine.encodeShare(providerShare)) };
    // A signature made here proves the pair before the wallet relies on it.
    this.signAlone(stored, crypto.getRandomValues(new Uint8Array(32)), undefined);
    await this.save((s) => {
      const w = s.wallets.find((x) => x.id === wallet.id);
      if (w !== undefined) w.providerShare = stored.providerShare;
    });
    return this.find(wallet.id);
  }

  // ── face recovery and heirs ────────────────────────────────────────────────────────────────

  private get faceLink(): FaceLink & { deviceId: string } {
    const provider = this.state.provider;
    if (provider === null) throw new WalletError("not-registered", "register with a provider first");
    return {
      client: this.client,
      email: provider.email,
      wallets: () => this.state.wallets,
      progress: this.progress,
      deviceId: this.deviceId,
    };
  }

  /**
   * A hybrid wallet's share, sealed again to every face enrollment: after it is made and after
   * each refresh, or a recovery would bring back a share that no longer signs.
   */
  private async sealForRecovery(wallet: StoredWallet): Promise<void> {
    const sealed = await sealRecoveryBoxes(this.faceLink, wallet);
    if (sealed > 0) this.progress(`sealed ${wallet.name}'s share for face recovery (${sealed} enrollments)`);
  }

  /** Enrolls the owner's face (pictures or frames) for recovery of every hybrid wallet. */
  enrollFace(
    paths: readonly string[],
    totp?: string,
  ): Promise<{ enrollmentId: string; wallets: number; effectiveAt: string }> {
    return enrollFaceAt(this.faceLink, paths, undefined, totp);
  }

  /** Enrolls an heir's face: they may recover after the owner's inactivity (default 365 days). */
  addHeir(email: string, paths: readonly string[], inactivityDays?: number, totp?: string) {
    return enrollFaceAt(this.faceLink, paths, { email, ...(inactivityDays !== undefined && { inactivityDays }) }, totp);
  }

  async heirs(): Promise<Record<string, unknown>[]> {
    const { enrollments } = await this.client.call<{ enrollments: Record<string, unknown>[] }>(
      "GET",
      "/v1/recovery/keys",
    );
    return enrollments.filter((e) => e.kind === "heir");
  }

  vetoHeir(id: string): Promise<Record<string, unknown>> {
    return this.client.call("POST", `/v1/recovery/enrollments/${uuidArgument(id, "heir", "keyshard heir list")}/veto`);
  }

  recoveries(): Promise<{ recoveries: Record<string, unknown>[] }> {
    return this.client.call("GET", "/v1/recovery/recoveries");
  }

  decideRecovery(id: string, verb: "confirm" | "reject"): Promise<Record<string, unknown>> {
    return this.client.call(
      "POST",
      `/v1/recovery/recoveries/${uuidArgument(id, "recovery", "keyshard recovery list")}/${verb}`,
    );
  }

  /**
   * On a new device (registered and verified under the email): recovers the hybrid wallets with
   * the face, keeps them, and refreshes each one so that the lost device's share signs nothing.
   */
  async recover(paths: readonly string[], ready: (challenge: Challenge) => Promise<void>): Promise<Recovered> {
    const recovered = await recoverWithFace(this.faceLink, paths, ready);
    await this.save((s) => {
      for (const w of recovered.wallets) {
        if (s.wallets.some((x) => x.id === w.id)) continue;
        const name = s.wallets.some((x) => x.name === w.name) ? `${w.name}-${w.id.slice(0, 8)}` : w.name;
        s.wallets.push({ ...w, name });
      }
    });
    const refreshed: StoredWallet[] = [];
    for (const w of recovered.wallets) {
      this.progress(`refreshing ${w.name}: the lost device's share stops signing`);
      refreshed.push(await this.refresh(w.id));
    }
    return { ...recovered, wallets: refreshed };
  }

  // ── held requests, approvals, policy ───────────────────────────────────────────────────────

  requests(status?: string): Promise<{ requests: Record<string, unknown>[] }> {
    return this.client.call("GET", `/v1/sign-requests${status ? `?status=${encodeURIComponent(status)}` : ""}`);
  }

  /** Reads a held request's bytes, describes them here, and approves exactly those bytes. */
  async approve(
    requestId: string,
    confirm?: (detail: Record<string, unknown>) => boolean | Promise<boolean>,
  ): Promise<Record<string, unknown>> {
    const detail = await this.requestDetail(requestId);
    const { body, key } = this.requestOf(detail);
    const description = describeRequest(body, key) ?? describeMessageRequest(body);
    // Only this device's own reading is shown: the provider's description of the request is not.
    if (confirm && !(await confirm({ ...detail, description }))) throw new WalletError("usage", "not approved");
    const signature = signApproval(this.identity, requestId, hexToBytes(detail.payload));
    return this.client.call("POST", `/v1/sign-requests/${requestId}/approve`, { signature: bytesToHex(signature) });
  }

  requestDetail(requestId: string): Promise<RequestDetail> {
    return this.client.call("GET", `/v1/sign-requests/${uuidArgument(requestId, "request", "keyshard requests")}`);
  }

  /**
   * Another device's request as this device reads it: the bytes, and the wallet's key when this
   * device holds a share of it (without it, a PSBT's change shows as a payment). Only the Bitcoin
   * network, which changes how addresses are written and nothing that is signed, comes from the
   * provider's reading.
   */
  requestOf(detail: RequestDetail): { body: SignBody; key?: RequestKey } {
    const body: SignBody = { chain: detail.chain, kind: detail.kind, payload: detail.payload };
    if (detail.path !== null && detail.path !== undefined) body.path = detail.path;
    if (detail.chain === "bitcoin") {
      const network = /^bitcoin:(mainnet|testnet|regtest)$/.exec(String(detail.description?.network ?? ""))?.[1];
      body.network = (network ?? "mainnet") as BitcoinNetwork;
    }
    const held = this.state.wallets.find((w) => w.id === detail.walletId);
    return { body, ...(held && { key: this.keyOf(held, body.path) }) };
  }

  /** Cancels a held request (the requester's), or denies another device's. */
  cancel(requestId: string): Promise<Record<string, unknown>> {
    return this.client.call(
      "POST",
      `/v1/sign-requests/${uuidArgument(requestId, "request", "keyshard requests")}/cancel`,
    );
  }

  /** The wallet's policy and pending changes, amounts in coins where their asset is known (as `setPolicy` takes them). */
  async policy(name: string): Promise<Record<string, unknown>> {
    const reply = await this.client.call<{ policy: unknown; pending: { policy: unknown }[] }>(
      "GET",
      `/v1/wallets/${this.find(name).id}/policy`,
    );
    return {
      ...reply,
      policy: policyForPeople(reply.policy),
      pending: reply.pending.map((p) => ({ ...p, policy: policyForPeople(p.policy) })),
    };
  }

  setPolicy(name: string, rules: unknown[], totp: string): Promise<Record<string, unknown>> {
    return this.client.call("POST", `/v1/wallets/${this.find(name).id}/policy`, {
      policy: policyForProvider(rules),
      totp,
    });
  }

  /** Cancels a policy change still waiting out its delay (any device of the account may). */
  cancelPolicyChange(changeId: string): Promise<{ cancelled: boolean }> {
    return this.client.call(
      "POST",
      `/v1/policy-changes/${uuidArgument(changeId, "policy change", "keyshard policy show")}/cancel`,
    );
  }

  /** The wallet's allow-list, each entry with when it counts for each rule that asks for one. */
  async allowList(name: string): Promise<AllowListEntry[]> {
    const policy = await this.policy(name);
    return (policy.allowList as { chain: string; address: string; label: string; addedMs: number }[]).map((e) =>
      withCoolingOff(e, policy.policy as PolicyRule[]),
    );
  }

  /**
   * Adds a destination to the wallet's allow-list. It counts for an `allowListed` rule only once
   * the rule's cooling-off has passed (the account is mailed, and a device can remove it until then).
   */
  async allowListAdd(name: string, entry: { chain: Chain; address: string; label?: string }): Promise<AllowListEntry> {
    const id = this.find(name).id;
    const added = await this.client.call<{ address: string; addedMs: number }>(
      "POST",
      `/v1/wallets/${id}/allow-list`,
      entry,
    );
    const policy = await this.client.call<{ policy: PolicyRule[] }>("GET", `/v1/wallets/${id}/policy`);
    return withCoolingOff({ ...entry, label: entry.label ?? "", ...added }, policy.policy);
  }

  /** Takes a destination off the wallet's allow-list, at once. */
  allowListRemove(name: string, entry: { chain: Chain; address: string }): Promise<{ removed: boolean }> {
    return this.client.call("POST", `/v1/wallets/${this.find(name).id}/allow-list/remove`, entry);
  }

  /** Starts a new TOTP; replacing the one in force needs its `current` code. */
  totpEnroll(current?: string): Promise<{ secret: string; uri: string }> {
    return this.client.call("POST", "/v1/totp", current === undefined ? {} : { code: current });
  }

  totpConfirm(code: string): Promise<Record<string, unknown>> {
    return this.client.call("POST", "/v1/totp/confirm", { code });
  }

  auditVerify(): Promise<Record<string, unknown>> {
    return this.client.call("GET", "/v1/audit/verify");
  }
}

/**
 * Cancels a waiting security change of the account with the one-time token the provider mailed
 * for it: no device is needed (the owner may have none left that they trust).
 */
export async function cancelAccountChangeWithToken(
  providerUrl: string,
  token: string,
): Promise<Record<string, unknown>> {
  let response: Response;
  try {
    response = await fetch(`${providerUrl.replace(/\/+$/, "")}/v1/account-changes/cancel`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token }),
    });
  } catch (e) {
    throw new WalletError("provider-down", `cannot reach the provider at ${providerUrl} (${(e as Error).message})`);
  }
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok)
    throw new WalletError("provider-refused", `the provider refused: ${String(body.message ?? response.status)}`, {
      status: response.status,
      providerError: String(body.error ?? ""),
    });
  return body;
}

/**
 * An id of the provider's (a request, a change) as a person typed it, checked here: a mistyped
 * one is caught before it is sent, and named in the terms of the command that lists such ids.
 */
function uuidArgument(id: string, what: string, listedBy: string): string {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id))
    throw new WalletError(
      "usage",
      `"${id}" is not a ${what} id: those look like 3f0c2a1e-9b4d-4c6e-8a2f-0123456789ab (see \`${listedBy}\`)`,
    );
  return id;
}

/** A policy rule as far as the allow-list needs it. */
interface PolicyRule {
  name: string;
  when?: { allowListed?: { coolingOffSeconds: number } };
}

export interface AllowListEntry {
  chain: string;
  address: string;
  label: string;
  addedMs: number;
  /** Per rule that matches allow-listed destinations: from when this entry counts for it. */
  countsFrom: { rule: string; atMs: number }[];
}

function withCoolingOff(
  entry: { chain: string; address: string; label: string; addedMs: number },
  rules: readonly PolicyRule[],
): AllowListEntry {
  const countsFrom = rules.flatMap((rule) =>
    rule.when?.allowListed === undefined
      ? []
      : [{ rule: rule.name, atMs: entry.addedMs + rule.when.allowListed.coolingOffSeconds * 1000 }],
  );
  return { ...entry, countsFrom };
}

function deviceIdArgument(id: string): string {
  if (!/^[0-9a-f]{32}$/.test(id))
    throw new WalletError("usage", "a device id is 32 hex digits (see `keyshard devices`)");
  return id;
}
