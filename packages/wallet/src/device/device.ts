/**
 * One device as the flows see it: its keystore and the state read from it, its identity key, its
 * signed link to the provider, the cache of decoded shares, and where progress and warnings go.
 * Internal to the package: it holds the identity key and the shares, so nothing outside the
 * package reaches it; a `Wallet` (or the cosigner beside it) hands it to the flows.
 */
import type { SigningKey } from "@keyshard/chains";
import { type Share, scheme } from "@keyshard/mpc";
import { type DeviceIdentity, deviceId, newDeviceIdentity, TRIAL_HEADER } from "@keyshard/transport";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { ProviderClient } from "../client.js";
import { WalletError } from "../errors.js";
import { Keystore, type KeystoreLocation, type KeystoreUnlock } from "../keystore.js";
import { requestKey } from "../requests.js";
import type { RunContext } from "../runs/signing.js";
import { claimIn, type RunKind } from "../session-ids.js";
import type { DeviceState, StoredWallet } from "../state.js";

export interface DeviceOptions {
  /** Where long steps report progress (default: nowhere). */
  progress?: (text: string) => void;
  /** Where warnings about the provider go, each once (default: nowhere): a provider in trial mode. */
  warn?: (text: string) => void;
}

export class Device {
  readonly progress: (text: string) => void;
  readonly identity: DeviceIdentity;
  readonly deviceId: string;
  private readonly warn: (text: string) => void;
  private trialWarned = false;
  /** Decoded shares by wallet id: a send needs the share for its address, its run and its result. */
  private readonly decoded = new Map<string, { hex: string; share: Share }>();

  private constructor(
    private readonly store: Keystore<DeviceState>,
    private current: DeviceState,
    options: DeviceOptions,
  ) {
    this.progress = options.progress ?? (() => {});
    this.warn = options.warn ?? (() => {});
    this.identity = {
      secretKey: hexToBytes(current.identity.secretKey),
      publicKey: hexToBytes(current.identity.publicKey),
    };
    this.deviceId = deviceId(this.identity.publicKey);
  }

  /** A new device: its identity key and an empty encrypted keystore at `location`. */
  static async create(
    location: KeystoreLocation,
    unlock: KeystoreUnlock,
    options: DeviceOptions & { name?: string },
  ): Promise<Device> {
    const identity = newDeviceIdentity();
    const state: DeviceState = {
      version: 1,
      name: options.name ?? "device",
      identity: { secretKey: bytesToHex(identity.secretKey), publicKey: bytesToHex(identity.publicKey) },
      provider: null,
      wallets: [],
      pending: [],
    };
    return new Device(await Keystore.create(location, unlock, state), state, options);
  }

  static async open(location: KeystoreLocation, unlock: KeystoreUnlock, options: DeviceOptions): Promise<Device> {
    const { store, content } = await Keystore.open<DeviceState>(location, unlock);
    if (content?.version !== 1 || !Array.isArray(content.wallets))
      throw new WalletError("keystore", "the keystore holds something this version does not read");
    return new Device(store, content, options);
  }

  /** The keystore's content as last read or written by this process. */
  get state(): Readonly<DeviceState> {
    return this.current;
  }

  /** The provider link, every call signed by the identity key. */
  get client(): ProviderClient {
    if (this.current.provider === null)
      throw new WalletError("not-registered", "this device has no provider yet", {}, { next: { step: "register" } });
    return this.clientAt(this.current.provider.url);
  }

  /** A link to the provider at `url` (registration, before the keystore names one). */
  clientAt(url: string): ProviderClient {
    return new ProviderClient(url, this.identity, this.noticeTrial);
  }

  /** Warns once when the provider says it runs in trial mode: its delays protect nothing real. */
  private readonly noticeTrial = (headers: Record<string, string | string[] | undefined>): void => {
    const notice = headers[TRIAL_HEADER];
    if (notice === undefined || this.trialWarned) return;
    this.trialWarned = true;
    this.warn(`warning: the provider runs in trial mode (${String(notice)}): use it only to try keyshard out`);
  };

  /** Applies `change` to the keystore on disk (under its lock) and to this object. */
  async save(change: (state: DeviceState) => void): Promise<void> {
    this.current = await this.store.update((state) => {
      change(state);
      return state;
    });
  }

  find(name: string): StoredWallet {
    const wallet = this.current.wallets.find((w) => w.name === name || w.id === name);
    if (wallet === undefined)
      throw new WalletError(
        "unknown-wallet",
        `no wallet named ${name} on this device`,
        {},
        { next: { step: "list-wallets" } },
      );
    return wallet;
  }

  /**
   * `wallet`'s share, decoded. Matched on the encoding too: another process on this home may have
   * swapped in a new share, and a run must use the share whose record it claims in.
   */
  share(wallet: StoredWallet): Share {
    let cached = this.decoded.get(wallet.id);
    if (cached?.hex !== wallet.share) {
      cached = { hex: wallet.share, share: scheme(wallet.scheme).decodeShare(hexToBytes(wallet.share)) };
      this.decoded.set(wallet.id, cached);
    }
    return cached.share;
  }

  /** Drops a wallet's decoded share once a new one replaced it. */
  forgetShare(walletId: string): void {
    this.decoded.delete(walletId);
  }

  /** The wallet's key at `path`, as requests need it. */
  keyOf(wallet: StoredWallet, path: string | undefined): SigningKey {
    return requestKey(wallet.scheme, this.share(wallet), path);
  }

  /**
   * Adds `sids` to the record of `wallet`'s share in the keystore on disk, under its lock, so that
   * another process on this home (a cosigner beside a command) sees it too; throws, recording
   * none, when one was used. The share must still be the keystore's: a share swapped out since
   * `wallet` was read has lost its record with it, so it takes part in nothing more.
   */
  async claim(wallet: StoredWallet, sids: readonly (string | Uint8Array)[], kind: RunKind): Promise<void> {
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

  /** What a signing run of `wallet` needs (the cosigner runs them too). */
  runContext(wallet: StoredWallet): RunContext {
    return {
      client: this.client,
      identity: this.identity,
      wallet,
      share: this.share(wallet),
      progress: this.progress,
      claim: (sids) => this.claim(wallet, sids, "sign"),
    };
  }
}

const devices = new WeakMap<object, Device>();

/** Ties `device` to the object that fronts it (a `Wallet`), for the package's own modules. */
export function attachDevice(owner: object, device: Device): void {
  devices.set(owner, device);
}

/** The device behind `owner` (a `Wallet`): its identity and shares, for the package's own modules. */
export function deviceOf(owner: object): Device {
  const device = devices.get(owner);
  if (device === undefined) throw new WalletError("usage", "not a wallet of this package");
  return device;
}
