/**
 * The engine's calls of t-of-n wallets, whose key is shared among devices of the account (and the
 * provider, when it is a party): making one with chosen devices, the key generations that wait
 * for this device and joining one, and co-signing what another device asks of this one — asked
 * with this device's own reading of the bytes, as a send is. Page-safe: the shapes and their
 * readers only.
 */
import {
  boolean,
  count,
  deviceId,
  list,
  type MethodReaders,
  name,
  none,
  orNull,
  ProtocolError,
  type Reader,
  record,
  shortText,
  uuid,
} from "../readers.js";
import { type DeviceRef, deviceRef } from "../review.js";
import { policyTemplateId, type WalletEntry, walletEntry } from "./core.js";

/** The most devices a shared wallet has: the provider's bound on a wallet's members. */
export const SHARED_DEVICES_MAX = 15;
/** The most waiting key generations or co-signings one answer lists. */
export const INVITATIONS_MAX = 50;

/** A shared wallet's key generation that waits for this device to join. */
export interface WaitingWallet {
  walletId: string;
  name: string;
  /** How many of its parties must sign together. */
  threshold: number;
  /** Its devices, in party order, this one among them. */
  devices: DeviceRef[];
  /** Whether the provider holds a share too (and signs as one of the parties, under the wallet's policy). */
  provider: boolean;
  /** The device that asked for the wallet. */
  requestedBy: DeviceRef;
}

/** A co-signing another device asks of this one. */
export interface CosignInvitation {
  /** What opens it (`cosign`). */
  id: string;
  /** The wallet, by the name this device knows it by. */
  wallet: string;
  requestedBy: DeviceRef;
  /** The sign request it is a signature of, when the provider co-signs with several devices. */
  requestId: string | null;
}

/** How a co-signing ended: this device signed, said no (with why), or agreed too late to be needed. */
export interface CosignOutcome {
  decision: "signed" | "refused" | "not-chosen";
  reason: string;
}

export interface SharedWalletMethods {
  /**
   * A wallet shared with `devices` (ids of the account's other active devices) and the provider
   * when `provider`, `threshold` of them signing together. The engine waits, with progress, until
   * every device has joined its key generation.
   */
  createSharedWallet: {
    /** `policyTemplate`: one of the provider's (`policyTemplates`); null for its default. */
    args: { name: string; devices: string[]; threshold: number; provider: boolean; policyTemplate: string | null };
    result: WalletEntry;
  };
  /** The key generations that wait for this device. */
  waitingWallets: { args: Record<string, never>; result: { wallets: WaitingWallet[] } };
  /**
   * Joins the key generation of `walletId` if the provider still lists it with the parties shown
   * (`devices` in party order, `provider`) and `threshold`; the wallet is this device's once every
   * party took part.
   */
  joinWallet: {
    args: { walletId: string; devices: string[]; provider: boolean; threshold: number };
    result: WalletEntry;
  };
  /** What other devices ask this one to co-sign now. */
  cosignInvitations: { args: Record<string, never>; result: { invitations: CosignInvitation[] } };
  /** Opens a co-signing: the engine asks the page to confirm what the bytes do, then answers, and signs if confirmed. */
  cosign: { args: { id: string }; result: CosignOutcome };
}

const threshold: Reader<number> = (value, what) => {
  const read = count(value, what);
  if (read < 1 || read > SHARED_DEVICES_MAX + 1) throw new ProtocolError(`${what} is not a wallet's threshold`);
  return read;
};

const waitingWallet = record<WaitingWallet>({
  walletId: uuid,
  name,
  threshold,
  devices: list(deviceRef, SHARED_DEVICES_MAX),
  provider: boolean,
  requestedBy: deviceRef,
});

const invitation = record<CosignInvitation>({
  id: uuid,
  wallet: shortText,
  requestedBy: deviceRef,
  requestId: orNull(uuid),
});

const decision: Reader<CosignOutcome["decision"]> = (value, what) => {
  if (value !== "signed" && value !== "refused" && value !== "not-chosen")
    throw new ProtocolError(`${what} is no decision of a co-signing`);
  return value;
};

export const SHARED_WALLET_METHODS: MethodReaders<SharedWalletMethods> = {
  createSharedWallet: {
    args: record({
      name,
      devices: list(deviceId, SHARED_DEVICES_MAX - 1),
      threshold,
      provider: boolean,
      policyTemplate: orNull(policyTemplateId),
    }),
    result: walletEntry,
  },
  waitingWallets: { args: none, result: record({ wallets: list(waitingWallet, INVITATIONS_MAX) }) },
  joinWallet: {
    args: record({ walletId: uuid, devices: list(deviceId, SHARED_DEVICES_MAX), provider: boolean, threshold }),
    result: walletEntry,
  },
  cosignInvitations: { args: none, result: record({ invitations: list(invitation, INVITATIONS_MAX) }) },
  cosign: {
    args: record({ id: uuid }),
    result: record<CosignOutcome>({ decision, reason: shortText }),
  },
};
