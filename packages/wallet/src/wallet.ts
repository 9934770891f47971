/**
 * `Wallet`: the user's side of keyshard on one device, for embedding (the `keyshard` command line
 * is one user of it). A thin typed façade: each method hands the device (its keystore, identity
 * and provider link, internal to the package) to one of the flows in `flows/`, so nothing secret
 * — the identity key, a decoded share — is reachable through it.
 *
 *     const wallet = await Wallet.init(home, passphrase);
 *     await wallet.register("https://provider.example", "me@example.com");
 *     await wallet.verify(codeFromMail);
 *     await wallet.createWallet({ name: "main" });
 *     const { transactionId } = await wallet.send({ wallet: "main", chain: "ethereum", to, amount: "0.1 ETH", rpc });
 */

import type { AuditLog } from "@keyshard/api";
import type { Challenge } from "@keyshard/biometric";
import type { BitcoinNetwork, ChainName, SigningRequest, TransactionDescription } from "@keyshard/chains";
import type { RelayWatch } from "@keyshard/transport";
import type { EIP1193Provider, LocalAccount } from "viem";
import * as dapp from "./dapp/ethereum.js";
import { attachDevice, Device, type DeviceOptions } from "./device/device.js";
import type { FaceFrames } from "./face-recovery.js";
import * as approvals from "./flows/approvals.js";
import * as auditChain from "./flows/audit-chain.js";
import * as backup from "./flows/backup.js";
import * as cosigning from "./flows/cosign.js";
import * as delivery from "./flows/delivery.js";
import * as keyChange from "./flows/key-change.js";
import * as keygen from "./flows/keygen.js";
import * as policies from "./flows/policies.js";
import * as psbt from "./flows/psbt.js";
import * as recovery from "./flows/recovery.js";
import * as account from "./flows/register.js";
import * as signing from "./flows/sign.js";
import * as wallets from "./flows/wallets.js";
import * as xpubs from "./flows/xpub.js";
import { Keystore, type KeystoreLocation, type KeystoreUnlock, type UnlockMethod } from "./keystore.js";

import type {
  Account,
  AccountChange,
  AllowListEntry,
  ApprovedDevice,
  AuditVerdict,
  BackupStatus,
  DeviceStanding,
  EnrolledFace,
  Enrollment,
  PendingChange,
  RecoveredWallets,
  RecoveryView,
  RelaySession,
  RequestDetail,
  RequestSummary,
  RevokedDevice,
  SignOutcome,
  TotpConfirmation,
  TransactionStatus,
  WalletInfo,
  WalletPolicy,
  WalletSummary,
} from "./types.js";

export type WalletOptions = DeviceOptions;

export class Wallet {
  readonly #device: Device;

  private constructor(device: Device) {
    this.#device = device;
    attachDevice(this, device);
  }

  /**
   * A new device: its identity key and an empty encrypted keystore at `location` (a home folder
   * in Node, or a storage such as `indexedDbKeystore()`), locked by a passphrase or a passkey.
   * @example const wallet = await Wallet.init("/home/me/.keyshard", passphrase, { name: "laptop" });
   * @example const wallet = await Wallet.init(indexedDbKeystore(), { passkey: { credentialId, salt, output } });
   */
  static async init(
    location: KeystoreLocation,
    unlock: KeystoreUnlock,
    options: WalletOptions & { name?: string } = {},
  ): Promise<Wallet> {
    return new Wallet(await Device.create(location, unlock, options));
  }

  /**
   * This device, its keystore at `location` unlocked with `unlock` (as `unlockMethod` says).
   * @example const wallet = await Wallet.open(home, passphrase, { progress: console.error });
   */
  static async open(location: KeystoreLocation, unlock: KeystoreUnlock, options: WalletOptions = {}): Promise<Wallet> {
    return new Wallet(await Device.open(location, unlock, options));
  }

  /**
   * How the keystore at `location` unlocks, from its header alone: with a passphrase, or with
   * which passkey and PRF salt; undefined when there is no keystore (make one with `init`).
   * @example const how = await Wallet.unlockMethod(indexedDbKeystore()); if (how === undefined) showOnboarding();
   */
  static unlockMethod(location: KeystoreLocation): Promise<UnlockMethod | undefined> {
    return Keystore.unlockMethod(location);
  }

  /**
   * Cancels a waiting security change of the account with the one-time token the provider mailed
   * for it: no device is needed (the owner may have none left that they trust).
   * @example await Wallet.cancelAccountChangeWithToken("https://provider.example", tokenFromMail);
   */
  static cancelAccountChangeWithToken(providerUrl: string, token: string): Promise<AccountChange> {
    return account.cancelAccountChangeWithToken(providerUrl, token);
  }

  /**
   * This device's id: the hash of its identity public key, as the provider and the other devices name it.
   * @example console.log(`give this id to the wallet's owner: ${wallet.deviceId}`);
   */
  get deviceId(): string {
    return this.#device.deviceId;
  }

  /**
   * The provider this device registered with, if any.
   * @example if (wallet.providerUrl === undefined) await wallet.register(url, email);
   */
  get providerUrl(): string | undefined {
    return this.#device.state.provider?.url;
  }

  // ── account ────────────────────────────────────────────────────────────────────────────────

  /**
   * Registers this device with the provider at `url` under the account's `email`; a code is mailed.
   * @example await wallet.register("https://provider.example", "me@example.com");
   */
  register(url: string, email: string): Promise<DeviceStanding> {
    return account.register(this.#device, url, email);
  }

  /**
   * Asks the provider to mail a new code for this registered, not yet verified device. The provider
   * mails an address at most one code per 10 minutes until one is used: sooner, this fails with
   * `code-recently-sent`.
   * @example await wallet.resendCode();
   */
  resendCode(): Promise<DeviceStanding> {
    return account.resendCode(this.#device);
  }

  /**
   * Proves the account's email with the mailed code; the first device is active at once.
   * @example const { state } = await wallet.verify("123456");
   */
  verify(code: string): Promise<DeviceStanding> {
    return account.verify(this.#device, code);
  }

  /**
   * Where this device stands at the provider: "unverified" until its code is entered, then on.
   * @example const { state } = await wallet.deviceState();
   */
  deviceState(): Promise<DeviceStanding> {
    return account.deviceState(this.#device);
  }

  /**
   * The account, with its devices and their states.
   * @example const { devices } = await wallet.account();
   */
  account(): Promise<Account> {
    return account.account(this.#device);
  }

  /**
   * Lets another device of the account in (it registered with the same email and verified), with
   * the account's TOTP code where it has one; the device is active from `effectiveAt` on.
   * @example const { effectiveAt } = await wallet.approveDevice(otherDeviceId, totpCode);
   */
  approveDevice(id: string, totp?: string): Promise<ApprovedDevice> {
    return account.approveDevice(this.#device, id, totp);
  }

  /**
   * The account's security changes still waiting out their delay (new TOTP, face, heir, backup, device).
   * @example const { changes } = await wallet.accountChanges();
   */
  accountChanges(): Promise<{ changes: AccountChange[] }> {
    return account.accountChanges(this.#device);
  }

  /**
   * Cancels a security change of the account still waiting out its delay.
   * @example await wallet.cancelAccountChange(changes[0].id);
   */
  cancelAccountChange(id: string): Promise<AccountChange> {
    return account.cancelAccountChange(this.#device, id);
  }

  /**
   * Shuts a device of the account out at the provider (this one included, unless it is the last
   * active one). The reply lists the t-of-n wallets it was a member of and how many members can
   * still sign each; the provider refuses to leave one below its threshold unless `strandWallets`.
   * @example const { wallets } = await wallet.revokeDevice(lostDeviceId);
   */
  revokeDevice(id: string, options: { strandWallets?: boolean } = {}): Promise<RevokedDevice> {
    return account.revokeDevice(this.#device, id, options);
  }

  // ── wallets ────────────────────────────────────────────────────────────────────────────────

  /**
   * This device's wallets (from the keystore) with their state at the provider, as far as this
   * device is concerned: "removed" once a reshare left it out, "revoked device" once the device
   * was shut out — its shares are still here, and sign nothing.
   * @example for (const w of await wallet.wallets()) console.log(w.name, w.state);
   */
  wallets(): Promise<WalletSummary[]> {
    return wallets.wallets(this.#device);
  }

  /**
   * Tells `onNotice` of every relay session this device is invited to from now on.
   * @example const watch = await wallet.watchRelay((relayId) => console.log(relayId)); watch.close();
   */
  watchRelay(onNotice: (relayId: string) => void): Promise<RelayWatch> {
    return wallets.watchRelaySessions(this.#device, onNotice);
  }

  /**
   * The provider's open relay sessions this device takes part in.
   * @example const { sessions } = await wallet.relaySessions();
   */
  relaySessions(): Promise<{ sessions: RelaySession[] }> {
    return wallets.relaySessions(this.#device);
  }

  /**
   * The wallet of this device named `name` (or with that id), without its shares.
   * @example const { publicKey, threshold } = wallet.find("main");
   */
  find(name: string): WalletInfo {
    return wallets.walletInfo(this.#device.find(name));
  }

  /**
   * Makes a new key. Without `devices`, a hybrid 2-of-2 with the provider (scheme ecdsa2p unless
   * given); with them, a t-of-n wallet among this device and `devices` (scheme dkls23 unless given).
   * `providerParty` says whether the provider holds a share of it; left out, it follows from `n`
   * (one more than the devices: the provider is a party), and without `n` it is a party. Its policy
   * is `policy`, or a copy of the provider's template `policyTemplate` (`policyTemplates`), or the
   * provider's default.
   * @example await wallet.createWallet({ name: "team", devices: [phoneId], threshold: 2 });
   */
  createWallet(options: keygen.NewWallet): Promise<WalletInfo> {
    return keygen.createWallet(this.#device, options).then(wallets.walletInfo);
  }

  /**
   * Deletes a wallet whose key generation never finished (interrupted, timed out or failed), at the
   * provider: its name is free again, and devices still waiting in its key generation stop. The
   * provider refuses a wallet whose key was made.
   * @example await wallet.deleteWallet("team");
   */
  deleteWallet(name: string): Promise<{ walletId: string; name: string }> {
    return keygen.deleteWallet(this.#device, name);
  }

  /**
   * The key generations of the account's t-of-n wallets that wait for this device, with their
   * members (each device's key checked against its id) and threshold: what joining one makes.
   * @example for (const w of await wallet.waitingWallets()) console.log(w.name, `${w.threshold} of ${w.members.length}`);
   */
  waitingWallets(): Promise<keygen.WaitingWallet[]> {
    return keygen.waitingWallets(this.#device);
  }

  /**
   * Joins the key generation of every t-of-n wallet of the account that waits for this device.
   * @example const joined = await wallet.joinPendingWallets();
   */
  joinPendingWallets(): Promise<WalletInfo[]> {
    return keygen.joinPendingWallets(this.#device).then((joined) => joined.map(wallets.walletInfo));
  }

  /**
   * Joins the key generation of the waiting wallet `walletId` (a `waitingWallets()` entry's) if the
   * provider still lists it with the parties and threshold `shown` — what the person agreed to:
   * the member devices in party order, and whether the provider is a party.
   * @example const [w] = await wallet.waitingWallets(); await wallet.joinWallet(w.walletId, { threshold: w.threshold, devices: w.members.filter((m) => !m.provider).map((m) => m.deviceId), provider: w.members.some((m) => m.provider) });
   */
  joinWallet(walletId: string, shown: keygen.WalletParties): Promise<WalletInfo> {
    return keygen.joinWaitingWallet(this.#device, walletId, shown).then(wallets.walletInfo);
  }

  /**
   * What the account's other devices ask this one to co-sign now in t-of-n wallets it holds: a
   * proposal of a wallet among devices, or a request the provider co-signs with several devices.
   * @example const [first] = await wallet.cosignInvitations();
   */
  cosignInvitations(): Promise<cosigning.CosignInvitation[]> {
    return cosigning.cosignInvitations(this.#device);
  }

  /**
   * Opens the co-signing `id` (a `cosignInvitations()` entry's): asks `ask` with this device's own
   * description of the bytes, answers the device that asked, and signs if `ask` said yes (and,
   * for a proposal, this device was among the first to agree).
   * @example const { decision } = await wallet.cosign(first.id, async (description) => confirm(description));
   */
  cosign(
    id: string,
    ask: (description: TransactionDescription, body: SigningRequest) => Promise<boolean>,
  ): Promise<cosigning.CosignOutcome> {
    return cosigning.cosign(this.#device, id, ask);
  }

  /**
   * The wallet's address on `chain` (at `path` when given).
   * @example const to = wallet.address("main", "bitcoin", { network: "regtest" });
   */
  address(name: string, chain: ChainName, options: { path?: string; network?: BitcoinNetwork } = {}): string {
    return wallets.address(this.#device, name, chain, options);
  }

  /**
   * The wallet's BIP32 extended public key (xpub; tpub for testnet and regtest) at its root or a
   * non-hardened `path`, for a watch-only service, with what it has addresses on: `algorithm`
   * (ecdsa or bip340), the `chains` the wallet signs for (bitcoin and ethereum for ecdsa, bitcoin
   * only for bip340) and the `bitcoinType` it spends from (p2wpkh or p2tr). `watchOnly(xpub)` from
   * @keyshard/chains, given that `algorithm`, derives the same addresses as `address`. Ed25519
   * (Solana) wallets and hardened paths have none.
   * @example const { xpub, algorithm } = wallet.xpub("main", { path: "m/0" }); // watchOnly(xpub).address("ethereum", "5", { algorithm }) is address("main", "ethereum", { path: "m/0/5" })
   */
  xpub(name: string, options: xpubs.XpubOptions = {}): xpubs.ExtendedKeyExport {
    return xpubs.xpub(this.#device, name, options);
  }

  // ── signing ────────────────────────────────────────────────────────────────────────────────

  /**
   * Signs `body` with `wallet`'s quorum; returns the signatures or throws `held` / `denied`.
   * @example const { signatures } = await wallet.sign("main", { chain: "ethereum", payload: unsignedHex });
   */
  sign(
    name: string,
    body: SigningRequest,
    options: signing.SignOptions = {},
  ): Promise<{ requestId?: string; signatures: Uint8Array[] }> {
    return signing.sign(this.#device, name, body, options);
  }

  /**
   * Finishes a request a policy held, once it waits for nothing: the bytes this device built,
   * re-checked. `totp` gives the code a request held for one waits for.
   * @example const { transactionId } = await wallet.resume(requestId, { totp: "123456" });
   */
  resume(requestId: string, options: { totp?: string } = {}): Promise<SignOutcome> {
    return signing.resume(this.#device, requestId, options);
  }

  /**
   * What became of a transaction this device sent from `wallet` on `chain`, by its id or its request's.
   * @example const { state, block } = await wallet.transactionStatus({ wallet: "main", chain: "ethereum", id });
   */
  transactionStatus(query: delivery.TransactionQuery): Promise<TransactionStatus> {
    return delivery.transactionStatus(this.#device, query);
  }

  /**
   * Describes, signs and (given an RPC) broadcasts a transfer of the chain's coin, or with `token`
   * of an ERC-20 token (amount in its units, its decimals read from the contract through `rpc`).
   * A retry of a send whose transaction was kept broadcasts that transaction again instead of paying twice.
   * @example await wallet.send({ wallet: "main", chain: "ethereum", to, amount: "0.1 ETH", rpc, confirm: (d) => ask(d) });
   * @example await wallet.send({ wallet: "main", chain: "ethereum", token: usdc, to, amount: "12.5", rpc });
   */
  send(options: signing.SendOptions): Promise<SignOutcome> {
    return signing.send(this.#device, options);
  }

  /**
   * Signs the inputs of a PSBT made elsewhere that `name` owns, after `confirm` has seen what it
   * does; other wallets' inputs and unknown or proprietary fields stay as they are. Finalized with
   * its transaction (not broadcast) by default; `finalize: false` returns it with only this
   * wallet's signatures added, for the other signers to finish.
   * @example const { psbt } = await wallet.signPsbt("main", { psbt: base64, network: "testnet", finalize: false });
   */
  signPsbt(name: string, input: psbt.PsbtSignInput): Promise<psbt.PsbtOutcome> {
    return psbt.signPsbt(this.#device, name, input);
  }

  /**
   * EIP-191 personal message or EIP-712 typed data (Ethereum, an ECDSA wallet), or a BIP322
   * simple signature of a message by the wallet's Bitcoin address (ECDSA: P2WPKH; FROST: P2TR).
   * `confirm` is shown what the message or typed data says, decoded here, and nothing is signed
   * unless it returns true: a signature on unseen bytes can be a token approval.
   * @example const { signed } = await wallet.signMessage("main", { message: bytes, confirm: (d) => ask(d) });
   */
  signMessage(name: string, input: signing.MessageInput): Promise<SignOutcome> {
    return signing.signMessage(this.#device, name, input);
  }

  /**
   * The wallet as a viem account (at `options.path` when given): EIP-191 messages, EIP-712 typed
   * data and transactions, each a sign request under the wallet's policy. A held request is waited
   * for (`onHeld`, `totp`, `heldWaitMs`, `signal`); a denied one throws `denied`, naming the rule.
   * @example const client = createWalletClient({ account: wallet.viemAccount("main"), chain: mainnet, transport: http(rpc) });
   */
  viemAccount(name: string, options: dapp.DappAccountOptions = {}): LocalAccount {
    return dapp.viemAccount(this.#device, name, options);
  }

  /**
   * The wallet as an EIP-1193 provider on chain `chainId`, reading from `rpc`: for ethers'
   * BrowserProvider or wagmi's `injected` connector. Refusals reach the dApp as "user rejected" (4001).
   * @example const signer = await new BrowserProvider(wallet.eip1193("main", { rpc, chainId: 1 })).getSigner();
   */
  eip1193(name: string, options: dapp.Eip1193Options): EIP1193Provider {
    return dapp.eip1193(this.#device, name, options);
  }

  // ── key changes ────────────────────────────────────────────────────────────────────────────

  /**
   * New shares of the same key, so the addresses stay; every member of a t-of-n wallet takes part.
   * @example const { epoch } = await wallet.refresh("main");
   */
  refresh(name: string): Promise<WalletInfo> {
    return keyChange.refresh(this.#device, name).then(wallets.walletInfo);
  }

  /**
   * Moves a t-of-n wallet's key to other devices and/or another threshold; the addresses stay.
   * @example await wallet.reshare("team", { add: [newPhoneId], remove: [lostPhoneId] });
   */
  reshare(name: string, change: keyChange.MemberChange): Promise<WalletInfo> {
    return keyChange.reshare(this.#device, name, change).then(wallets.walletInfo);
  }

  /**
   * The wallet with its share at the provider's epoch: a committed new share is swapped in first,
   * one whose change failed is dropped. A share the wallet moved on from is refused, with what happened.
   * @example const { epoch } = await wallet.current("team");
   */
  current(name: string): Promise<WalletInfo> {
    return keyChange.current(this.#device, name).then(wallets.walletInfo);
  }

  /**
   * Brings every wallet with a new share waiting up to date (a cosigner does this as it polls).
   * @example await wallet.settleAll();
   */
  settleAll(): Promise<void> {
    return keyChange.settleAll(this.#device);
  }

  /**
   * Takes part in every refresh or reshare of the account's wallets that waits for this device.
   * @example const changed = await wallet.joinKeyChanges();
   */
  joinKeyChanges(): Promise<WalletInfo[]> {
    return keyChange.joinKeyChanges(this.#device).then((joined) => joined.map(wallets.walletInfo));
  }

  // ── backup by request ──────────────────────────────────────────────────────────────────────

  /**
   * Asks for the provider's share of a hybrid wallet, sealed to this device's recovery key (with
   * the account's TOTP code where it has one).
   * @example const { readyAt } = await wallet.backupRequest("main", totpCode);
   */
  backupRequest(name: string, totp?: string): Promise<BackupStatus> {
    return backup.backupRequest(this.#device, name, totp);
  }

  /**
   * Where the wallet's backup request stands.
   * @example const { status, readyAt } = await wallet.backupStatus("main");
   */
  backupStatus(name: string): Promise<BackupStatus> {
    return backup.backupStatus(this.#device, name);
  }

  /**
   * Cancels the wallet's backup request (any device of the account may).
   * @example await wallet.backupCancel("main");
   */
  backupCancel(name: string): Promise<BackupStatus> {
    return backup.backupCancel(this.#device, name);
  }

  /**
   * Once the delay has passed: opens the released share with the recovery key, checks that the
   * two shares sign under the wallet's key, and keeps it. The wallet then signs on this device alone.
   * @example await wallet.backupDownload("main");
   */
  backupDownload(name: string): Promise<WalletInfo> {
    return backup.backupDownload(this.#device, name).then(wallets.walletInfo);
  }

  // ── face recovery and heirs ────────────────────────────────────────────────────────────────

  /**
   * Enrolls the owner's face for recovery of every hybrid wallet, from picture files (in Node) or
   * pictures in memory (a browser's camera frames, `rgbFromRgba` of a canvas's pixels). Its OPRF
   * key is dealt among the provider's recovery operators, which this device pins the first time;
   * `operators` (`url#key,…`) accepts a list the provider names later instead.
   * @example const { effectiveAt } = await wallet.enrollFace(["me-1.jpg", "me-2.jpg"], totpCode);
   */
  enrollFace(frames: FaceFrames, totp?: string, operators?: string): Promise<EnrolledFace> {
    return recovery.enrollFace(this.#device, frames, totp, operators);
  }

  /**
   * Enrolls an heir's face: they may recover after the owner's inactivity (default 365 days).
   * `operators` as for `enrollFace`.
   * @example await wallet.addHeir("heir@example.com", ["heir.jpg"], 180);
   */
  addHeir(
    email: string,
    frames: FaceFrames,
    inactivityDays?: number,
    totp?: string,
    operators?: string,
  ): Promise<EnrolledFace> {
    return recovery.addHeir(
      this.#device,
      { email, ...(inactivityDays !== undefined && { inactivityDays }) },
      frames,
      totp,
      operators,
    );
  }

  /**
   * The account's heirs' enrollments.
   * @example for (const heir of await wallet.heirs()) console.log(heir.heirEmail, heir.inactivityDays);
   */
  heirs(): Promise<Enrollment[]> {
    return recovery.heirs(this.#device);
  }

  /**
   * Vetoes an heir: the enrollment and its boxes are gone for good.
   * @example await wallet.vetoHeir(heirs[0].id);
   */
  vetoHeir(id: string): Promise<Enrollment> {
    return recovery.vetoHeir(this.#device, id);
  }

  /**
   * The account's recent face recoveries.
   * @example const { recoveries } = await wallet.recoveries();
   */
  recoveries(): Promise<{ recoveries: RecoveryView[] }> {
    return recovery.recoveries(this.#device);
  }

  /**
   * Confirms a recovery (its hold ends) or rejects it (the recovered device is revoked).
   * @example await wallet.decideRecovery(recoveryId, "reject");
   */
  decideRecovery(id: string, verb: "confirm" | "reject"): Promise<RecoveryView> {
    return recovery.decideRecovery(this.#device, id, verb);
  }

  /**
   * On a new device (registered and verified under the email): recovers the hybrid wallets with
   * the face, keeps them, and refreshes each one so that the lost device's share signs nothing.
   * `frames` as for `enrollFace`, or a camera's frames as they come (an async iterable), read until
   * they answer the liveness challenge or the camera stops. `operators` (`url#key,…`) accepts
   * recovery operators other than the ones this device pinned.
   * @example const { wallets } = await wallet.recover(["frame-1.jpg", "frame-2.jpg"], async (c) => show(c));
   */
  recover(
    frames: FaceFrames,
    ready: (challenge: Challenge) => Promise<void>,
    operators?: string,
  ): Promise<RecoveredWallets> {
    return recovery
      .recover(this.#device, frames, ready, operators)
      .then((recovered) => ({ ...recovered, wallets: recovered.wallets.map(wallets.walletInfo) }));
  }

  // ── held requests, approvals, policy ───────────────────────────────────────────────────────

  /**
   * The account's sign requests, all or those with `status`.
   * @example const { requests } = await wallet.requests("held");
   */
  requests(status?: string): Promise<{ requests: RequestSummary[] }> {
    return approvals.requests(this.#device, status);
  }

  /**
   * Reads a held request's bytes, describes them here, and approves exactly those bytes.
   * @example await wallet.approve(requestId, (request) => ask(request.description));
   */
  approve(
    requestId: string,
    confirm?: (request: approvals.RequestToApprove) => boolean | Promise<boolean>,
  ): Promise<RequestSummary> {
    return approvals.approve(this.#device, requestId, confirm);
  }

  /**
   * A sign request with its bytes, approvals and signatures.
   * @example const { payload, status } = await wallet.requestDetail(requestId);
   */
  requestDetail(requestId: string): Promise<RequestDetail> {
    return approvals.requestDetail(this.#device, requestId);
  }

  /**
   * Cancels a held request (the requester's), or denies another device's.
   * @example await wallet.cancel(requestId);
   */
  cancel(requestId: string): Promise<RequestSummary> {
    return approvals.cancel(this.#device, requestId);
  }

  /**
   * The policies the provider offers a new wallet, its default first: `createWallet` takes one's
   * id as `policyTemplate`. Names and descriptions are the provider operator's text.
   * @example const [standard] = await wallet.policyTemplates(); await wallet.createWallet({ name: "main", policyTemplate: standard.id });
   */
  policyTemplates(): Promise<policies.PolicyTemplate[]> {
    return policies.policyTemplates(this.#device);
  }

  /**
   * The account's wallets whose policies this device may read and change: its own, and those of
   * its other devices (a hybrid wallet of another device included), with the ids `policy` and
   * `setPolicy` take: two devices' wallets may share a name, an id names one.
   * @example for (const w of await wallet.policyWallets()) console.log(w.name, w.state);
   */
  policyWallets(): Promise<policies.AccountWallet[]> {
    return policies.policyWallets(this.#device);
  }

  /**
   * The wallet's policy and pending changes, amounts in coins where their asset is known (as `setPolicy` takes them).
   * `wallet`: its id (`policyWallets`), or a name: this device's wallet of that name, else the
   * account's only one.
   * @example const { policy, pending } = await wallet.policy("main");
   */
  policy(wallet: string): Promise<WalletPolicy> {
    return policies.policy(this.#device, wallet);
  }

  /**
   * Asks for a new policy, with the account's TOTP code; it takes effect after the policy delay.
   * `wallet` as `policy` takes it.
   * @example const { changeId, effectiveMs } = await wallet.setPolicy("main", rules, totpCode);
   */
  setPolicy(wallet: string, rules: unknown[], totp: string): Promise<PendingChange> {
    return policies.setPolicy(this.#device, wallet, rules, totp);
  }

  /**
   * Cancels a policy change still waiting out its delay (any device of the account may).
   * @example await wallet.cancelPolicyChange(pending[0].changeId);
   */
  cancelPolicyChange(changeId: string): Promise<{ cancelled: boolean }> {
    return policies.cancelPolicyChange(this.#device, changeId);
  }

  /**
   * The wallet's allow-list, each entry with when it counts for each rule that asks for one.
   * @example for (const e of await wallet.allowList("main")) console.log(e.address, e.countsFrom);
   */
  allowList(name: string): Promise<AllowListEntry[]> {
    return policies.allowList(this.#device, name);
  }

  /**
   * Adds a destination to the wallet's allow-list. It counts for an `allowListed` rule only once
   * the rule's cooling-off has passed (the account is mailed, and a device can remove it until then).
   * @example await wallet.allowListAdd("main", { chain: "ethereum", address: exchange, label: "exchange" });
   */
  allowListAdd(name: string, entry: policies.AllowListAddition): Promise<AllowListEntry> {
    return policies.allowListAdd(this.#device, name, entry);
  }

  /**
   * Takes a destination off the wallet's allow-list, at once.
   * @example await wallet.allowListRemove("main", { chain: "ethereum", address: exchange });
   */
  allowListRemove(name: string, entry: { chain: ChainName; address: string }): Promise<{ removed: boolean }> {
    return policies.allowListRemove(this.#device, name, entry);
  }

  /**
   * Starts a new TOTP; replacing the one in force needs its `current` code.
   * @example const { uri } = await wallet.totpEnroll();
   */
  totpEnroll(current?: string): Promise<{ secret: string; uri: string }> {
    return policies.totpEnroll(this.#device, current);
  }

  /**
   * Confirms the new TOTP with a code from it; it takes effect after the delay.
   * @example const { effectiveMs } = await wallet.totpConfirm("123456");
   */
  totpConfirm(code: string): Promise<TotpConfirmation> {
    return policies.totpConfirm(this.#device, code);
  }

  /**
   * The provider's check of the account's audit chain.
   * @example const { ok, firstBroken } = await wallet.auditVerify();
   */
  auditVerify(): Promise<AuditVerdict> {
    return policies.auditVerify(this.#device);
  }

  /**
   * The account's audit chain checked by this device itself, not on the provider's word: every
   * link recomputed from the first, and the chain held against the last head this device found
   * holding (kept in its keystore, moved on each time the chain holds), so history rewritten or cut
   * before it shows even with every link recomputed. A bad chain is a verdict, not an error.
   * @example const check = await wallet.auditCheck(); if (check.status !== "intact") console.log(`audit chain ${check.status} at entry ${check.at}`);
   */
  auditCheck(): Promise<auditChain.AuditChainCheck> {
    return auditChain.auditCheck(this.#device);
  }

  /**
   * The account's audit entries as the provider gives them, oldest first: who did what, when.
   * @example for (const e of (await wallet.audit()).entries) console.log(e.seq, e.action);
   */
  audit(): Promise<AuditLog> {
    return policies.audit(this.#device);
  }
}
