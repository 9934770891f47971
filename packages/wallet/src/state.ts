/**
 * What a device keeps in its keystore: its identity, the provider it registered with, its key
 * shares with what it knows about each wallet's parties (and a new share waiting for its epoch to
 * be committed) and the session ids each share has taken part in, the sign requests it made that
 * a policy holds (so that resuming one signs exactly the bytes this device built), the
 * transactions it sent (so that a retried send pays once), and the recovery key backups are
 * sealed to.
 */
import type { SigningRequest } from "@keyshard/chains";
import type { SchemeName } from "@keyshard/mpc";

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

export interface PendingRequest {
  requestId: string;
  walletId: string;
  body: SigningRequest;
  /** Where to broadcast once signed, if the command was given one. */
  rpc?: string;
  /** The send it came from, so that its broadcast is kept like any send's. */
  intent?: SendIntent;
  /** A PSBT signed with `finalize: false`: resumed, it is handed back with the wallet's signatures only. */
  partialPsbt?: true;
}

/** What a send asked for: a retry asks for the same, a new payment is a new send. */
export interface SendIntent {
  /** The recipient as typed (Ethereum: lower case). */
  to: string;
  /** In base units, decimal. */
  amount: string;
  /** An ERC-20 send's token contract (lower case); absent for the chain's coin. */
  token?: string;
  path?: string;
  /** Bitcoin: the network. */
  network?: string;
}

/**
 * A transaction this device signed for a send with a node to broadcast to, kept from before its
 * broadcast: a retry of the same send finds it and broadcasts it again instead of signing a new
 * one (which would pay twice), and `tx status` follows it.
 */
export interface SentTransaction extends SendIntent {
  walletId: string;
  chain: SigningRequest["chain"];
  requestId?: string;
  /** As broadcast: 0x-hex (Ethereum), hex (Bitcoin), base64 (Solana). */
  signed: string;
  transactionId: string;
  /** What it stays valid by: Ethereum's sender, chain id and nonce; Solana's blockhash. */
  from?: string;
  chainId?: number;
  nonce?: number;
  blockhash?: string;
  /** The node it went to; like everything here, only ever in the encrypted keystore. */
  rpc: string;
  /** When it was signed, ms since the epoch. */
  at: number;
  /**
   * Set once its outcome is known — reported out (Ethereum: with its receipt), seen mined, or
   * never to be mined: from then on the same send again is a new payment.
   */
  settled?: boolean;
}

/** A recovery operator: its index in the OPRF key's sharing, its address, its X25519 key (hex). */
export interface RecoveryOperator {
  index: number;
  url: string;
  key: string;
}

/** The recovery operators a face enrollment's OPRF key is shared among, `threshold` of them needed. */
export interface PinnedOperators {
  threshold: number;
  operators: RecoveryOperator[];
}

/** An entry of the account's audit chain: its number and its link (hex). */
export interface AuditHead {
  seq: number;
  hash: string;
}

export interface DeviceState {
  version: 1;
  name: string;
  identity: { secretKey: string; publicKey: string };
  provider: {
    url: string;
    email: string;
    /**
     * The recovery operators face enrollments are shared among, pinned the first time the
     * provider named them: a later different list is refused unless given explicitly.
     */
    recoveryOperators?: PinnedOperators;
    /**
     * The face enrollments whose recovery keys (hex, by enrollment id) this device seals its
     * shares to: those it enrolled, and on a recovered device the one it recovered with and those
     * its recovered boxes named. The provider listing another is refused, or it could open a box.
     */
    recoveryKeys?: Record<string, string>;
    /**
     * The last entry of the account's audit chain this device recomputed and found holding: a
     * later chain must still have it, so history rewritten or cut before it is seen. Absent: none yet.
     */
    auditHead?: AuditHead;
  } | null;
  wallets: StoredWallet[];
  pending: PendingRequest[];
  /** The latest transactions sent, oldest first (absent: none yet). */
  sent?: SentTransaction[];
  /**
   * The X25519 recovery key backups are sealed to (hex), made at the first backup request. It
   * lives in this keystore for now; face recovery will regenerate it instead of storing it.
   */
  recovery?: { secretKey: string; publicKey: string };
}
