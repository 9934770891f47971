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
  type RoundReply,
  type SchemeName,
  type Share,
  scheme,
  signApproval,
  WALLET_DEVICE,
} from "@keyshard/transport";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { broadcastBitcoin, buildBitcoinTransfer } from "./chains/bitcoin.js";
import { broadcastEthereum, buildEthereumTransfer, ethereumReceipt } from "./chains/ethereum.js";
import { broadcastSolana, buildSolanaTransfer } from "./chains/solana.js";
import { ProviderClient } from "./client.js";
import { WalletError } from "./errors.js";
import { enrollFaceAt, type FaceLink, type Recovered, recoverWithFace, sealRecoveryBoxes } from "./face-recovery.js";
import { type RemoteWallet, remoteWallet, runKeyChange, startKeyChange } from "./key-changes.js";
import { Keystore } from "./keystore.js";
import {
  bitcoinOutput,
  describeRequest,
  finishRequest,
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
import type { DeviceState, Member, NextShare, PendingRequest, SignBody, StoredWallet } from "./state.js";

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
}

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
}

const schemeFor = (chain: Chain) => (chain === "solana" ? "frost-ed25519" : "ecdsa2p");

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
  }

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
    return new ProviderClient(this.state.provider.url, this.identity);
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
    const client = new ProviderClient(base, this.identity);
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
    return this.client.call("POST", `/v1/account-changes/${changeIdArgument(id)}/cancel`);
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

  /** This device's wallets (from the keystore) with their state at the provider. */
  async wallets(): Promise<(Omit<StoredWallet, "share" | "next" | "providerShare"> & { state: string })[]> {
    const remote = await this.client.call<{ wallets: { id: string; state: string }[] }>("GET", "/v1/wallets");
    return this.state.wallets.map(({ share: _share, next: _next, providerShare: _provider, ...w }) => ({
      ...w,
      state: remote.wallets.find((r) => r.id === w.id)?.state ?? "unknown",
    }));
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
   * Makes a new key. Without `devices`, a hybrid 2-of-2 with the provider; with them, a t-of-n
   * wallet among this device and `devices`, plus the provider as a party when `n` counts it.
   */
  async createWallet(options: {
    name: string;
    scheme?: SchemeName;
    threshold?: number;
    n?: number;
    devices?: string[];
    policy?: unknown[];
  }): Promise<StoredWallet> {
    const schemeName = options.scheme ?? "ecdsa2p";
    if (this.state.wallets.some((w) => w.name === options.name))
      throw new WalletError("usage", `this device has a wallet named ${options.name} already`);
    if (options.devices === undefined || options.devices.length === 0) {
      if (options.n !== undefined && options.n !== 2)
        throw new WalletError("usage", "a quorum over more than two parties needs --with DEVICE for each other device");
      return this.createHybrid(options.name, schemeName, options.policy);
    }
    const devices = [this.deviceId, ...options.devices];
    const n = options.n ?? devices.length + 1;
    if (n !== devices.length && n !== devices.length + 1)
      throw new WalletError(
        "usage",
        `--quorum T/${n} does not fit ${devices.length} devices: N is the number of devices, or one more when the provider is a party`,
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
      provider: n === devices.length + 1,
      ...(options.policy && { policy: options.policy }),
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
    const share: Share = await relayRun({ client: this.client, identity: this.identity }, relay, {
      party,
      index,
      peers: relay.members.filter((m) => m.index !== index).map(toPeer),
      timeoutMs: 120_000,
    });
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
    options: { totp?: string; rpc?: string; waitMs?: number } = {},
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
      throw new WalletError("denied", `the provider's policy denies this (rule: ${reply.rule ?? "no rule matched"})`, {
        requestId: reply.requestId,
        rule: reply.rule,
      });
    if (reply.status === "held") {
      const pending: PendingRequest = {
        requestId: reply.requestId,
        walletId: wallet.id,
        body,
        ...(options.rpc && { rpc: options.rpc }),
      };
      await this.save((s) => void s.pending.push(pending));
      throw new WalletError(
        "held",
        `held by the provider's policy (rule: ${reply.rule}); waiting for ${Object.keys(reply.waitingFor ?? {}).join(", ")}. Request ${reply.requestId}: approve it from another device or give the code, then run \`keyshard resume ${reply.requestId}\``,
        { requestId: reply.requestId, waitingFor: reply.waitingFor, rule: reply.rule },
      );
    }
    return {
      requestId: reply.requestId,
      signatures: await runWithProvider(ctx, reply, messages, body.path, options.waitMs, opened),
    };
  }

  /** Finishes a request a policy held, once it waits for nothing: the bytes this device built, re-checked. */
  async resume(requestId: string): Promise<SignOutcome> {
    const pending = this.state.pending.find((p) => p.requestId === requestId);
    if (pending === undefined)
      throw new WalletError("usage", `this device made no held request ${requestId}: see \`keyshard requests\``);
    const wallet = await this.current(pending.walletId);
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
    return this.finish(wallet, pending.body, { requestId, signatures }, pending.rpc);
  }

  private async finish(
    wallet: StoredWallet,
    body: SignBody,
    signed: { requestId?: string; signatures: Uint8Array[] },
    rpc: string | undefined,
  ): Promise<SignOutcome> {
    const finished = await finishRequest(body, signed.signatures, this.keyOf(wallet, body.path));
    const outcome: SignOutcome = { ...(signed.requestId && { requestId: signed.requestId }), ...finished };
    if (rpc === undefined || (body.kind ?? "transaction") !== "transaction") return outcome;
    this.progress(`broadcasting to ${rpc}`);
    if (body.chain === "ethereum") {
      const transactionId = await broadcastEthereum(rpc, finished.signed);
      const receipt = await ethereumReceipt(rpc, transactionId);
      return { ...outcome, transactionId, receiptStatus: receipt.status };
    }
    if (body.chain === "bitcoin") {
      const transactionId = await broadcastBitcoin(rpc, finished.signed);
      if (transactionId !== finished.transactionId)
        throw new WalletError(
          "rpc-failed",
          `the node took the transaction as ${transactionId}, not ${finished.transactionId}`,
        );
      return outcome;
    }
    return { ...outcome, transactionId: await broadcastSolana(rpc, finished.signed) };
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
    /** Sees what the bytes do before anything is signed; returning false stops. */
    confirm?: (description: NonNullable<ReturnType<typeof describeRequest>>) => boolean | Promise<boolean>;
  }): Promise<SignOutcome> {
    const wallet = this.find(options.wallet);
    const network = options.network ?? "mainnet";
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
    });
    return this.finish(wallet, body, signed, options.rpc);
  }

  /**
   * EIP-191 personal message or EIP-712 typed data (Ethereum, an ECDSA wallet), or a BIP322
   * simple signature of a message by the wallet's Bitcoin address (ECDSA: P2WPKH; FROST: P2TR).
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
    return this.client.call("POST", `/v1/recovery/enrollments/${id}/veto`);
  }

  recoveries(): Promise<{ recoveries: Record<string, unknown>[] }> {
    return this.client.call("GET", "/v1/recovery/recoveries");
  }

  decideRecovery(id: string, verb: "confirm" | "reject"): Promise<Record<string, unknown>> {
    return this.client.call("POST", `/v1/recovery/recoveries/${id}/${verb}`);
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
    const description = describeRequest(body, key);
    if (confirm && !(await confirm({ ...detail, ...(description && { description }) })))
      throw new WalletError("usage", "not approved");
    const signature = signApproval(this.identity, requestId, hexToBytes(detail.payload));
    return this.client.call("POST", `/v1/sign-requests/${requestId}/approve`, { signature: bytesToHex(signature) });
  }

  requestDetail(requestId: string): Promise<RequestDetail> {
    return this.client.call("GET", `/v1/sign-requests/${requestId}`);
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
    return this.client.call("POST", `/v1/sign-requests/${requestId}/cancel`);
  }

  policy(name: string): Promise<Record<string, unknown>> {
    return this.client.call("GET", `/v1/wallets/${this.find(name).id}/policy`);
  }

  setPolicy(name: string, rules: unknown[], totp: string): Promise<Record<string, unknown>> {
    return this.client.call("POST", `/v1/wallets/${this.find(name).id}/policy`, { policy: rules, totp });
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

function changeIdArgument(id: string): string {
  if (!/^[0-9a-f-]{36}$/.test(id)) throw new WalletError("usage", "a change id is a UUID (see `keyshard changes`)");
  return id;
}

function deviceIdArgument(id: string): string {
  if (!/^[0-9a-f]{32}$/.test(id))
    throw new WalletError("usage", "a device id is 32 hex digits (see `keyshard devices`)");
  return id;
}
