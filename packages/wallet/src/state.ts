/**
 * What a device keeps in its keystore: its identity, the provider it registered with, its key
 * shares with what it knows about each wallet's parties (and a new share waiting for its epoch to
 * be committed) and the session ids each share has taken part in, the sign requests it made that
 * a policy holds (so that resuming one signs exactly the bytes this device built), and the
 * recovery key backups are sealed to.
 */
import type { SchemeName } from "@keyshard/transport";

export interface Member {
  index: number;
  deviceId: string;
  /** Hex; its SHA-256 names the device, so the relay cannot swap it. */
  identityKey: string;
  provider: boolean;
}

export interface StoredWallet {
  id: string;
  name: string;
  scheme: SchemeName;
  /** The group public key, hex. */
  publicKey: string;
  /** This device's share, encoded by its scheme, hex. Only ever in the encrypted keystore. */
  share: string;
  /** This device's party index. */
  index: number;
  threshold: number;
  /** Parties of a t-of-n wallet in index order; null for a hybrid wallet (device 0, provider 1). */
  members: Member[] | null;
  /** The key epoch `share` belongs to (absent: 0, from keygen). */
  epoch?: number;
  /**
   * The sids (hex) of the runs `share` has taken part in, each added before its party was made;
   * see `session-ids.ts` for why it is kept per share and bounded by count. Absent: none known.
   */
  sids?: string[];
  /** A refresh's or reshare's new share, kept beside `share` until the provider commits its epoch. */
  next?: NextShare;
  /**
   * Set once the provider's share was released by backup (hex): the wallet is self-custodied and
   * this device signs alone with both shares.
   */
  providerShare?: string;
}

export interface NextShare {
  epoch: number;
  /** The new share, hex. */
  share: string;
  index: number;
  threshold: number;
  members: Member[] | null;
  /** The record `share` starts with once swapped in: the sid of the run that made it. */
  sids?: string[];
}

/** What the device asked the provider to co-sign: enough to check and finish it later. */
export interface SignBody {
  chain: "ethereum" | "solana" | "bitcoin";
  kind?: "transaction" | "message" | "typed-data" | "raw-hash";
  payload?: string;
  typedData?: Record<string, unknown>;
  chainId?: number;
  network?: "mainnet" | "testnet" | "regtest";
  path?: string;
}

export interface PendingRequest {
  requestId: string;
  walletId: string;
  body: SignBody;
  /** Where to broadcast once signed, if the command was given one. */
  rpc?: string;
}

export interface DeviceState {
  version: 1;
  name: string;
  identity: { secretKey: string; publicKey: string };
  provider: { url: string; email: string } | null;
  wallets: StoredWallet[];
  pending: PendingRequest[];
  /**
   * The X25519 recovery key backups are sealed to (hex), made at the first backup request. It
   * lives in this keystore for now; face recovery will regenerate it instead of storing it.
   */
  recovery?: { secretKey: string; publicKey: string };
}
