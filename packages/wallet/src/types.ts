/**
 * The data the `Wallet` SDK hands back: what a send or a signature came to, and the provider's
 * replies as the device reads them (the shapes its routes answer with), so that a program using
 * the SDK gets named fields instead of loose records.
 */
import type { SigningRequest } from "@keyshard/chains";
import type { SentState } from "./chains/sent.js";
import type { StoredWallet } from "./state.js";

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

/**
 * A wallet of this device as the SDK hands it out: its key, parties and records, never its
 * shares; `pendingEpoch` while new shares from a key change wait for the epoch to be committed.
 */
export type WalletInfo = Omit<StoredWallet, "share" | "next" | "providerShare"> & { pendingEpoch?: number };

/** A wallet of this device with its state at the provider, as far as this device is concerned. */
export type WalletSummary = Omit<StoredWallet, "share" | "next" | "providerShare"> & { state: string };

/** What a face recovery brought back: the wallets, recovered and refreshed. */
export interface RecoveredWallets {
  kind: "owner" | "heir";
  wallets: WalletInfo[];
  /** The recovery the account's earlier devices can confirm or reject, while its hold lasts. */
  recoveryId: string | null;
  holdUntil: string | null;
}

/** This device as the provider sees it: "unverified" until its code is entered, then on. */
export interface DeviceStanding {
  deviceId: string;
  state: string;
}

export interface Account {
  id: string;
  email: string;
  devices: { id: string; name: string; state: string }[];
}

/** A device let in: it is active from `effectiveAt` on. */
export interface ApprovedDevice extends DeviceStanding {
  changeId: string;
  effectiveAt: string;
}

/** A t-of-n wallet a revoked device was a member of, as the provider reports it. */
export interface RevokedMemberWallet {
  walletId: string;
  name: string;
  threshold: number;
  /** Members that can still sign: the account's active devices, and the provider when a member. */
  signersLeft: number;
}

export interface RevokedDevice extends DeviceStanding {
  wallets: RevokedMemberWallet[];
}

/** A security change of the account waiting out its delay (new TOTP, face, heir, backup, device). */
export interface AccountChange {
  id: string;
  kind: string;
  subject: string;
  summary: string;
  requestedBy: string;
  requestedAt: string;
  effectiveAt: string;
  status: string;
}

/** An open relay session this device takes part in. */
export interface RelaySession {
  relayId: string;
  sid: string;
  purpose: string;
  createdBy: string;
  participants: string[];
}

/** A request for a hybrid wallet's provider share, released after the backup delay. */
export interface BackupStatus {
  id: string;
  walletId: string;
  status: string;
  requestedBy: string;
  requestedAt: string;
  readyAt: string;
}

/** A face enrolled for recovery: the owner's, or an heir's after the owner's inactivity. */
export interface Enrollment {
  id: string;
  kind: string;
  status: string;
  heirEmail?: string;
  inactivityDays?: number;
  recoveryKey?: string;
  createdAt: string;
}

/** A face enrolled, once its delay has passed. */
export interface EnrolledFace {
  enrollmentId: string;
  wallets: number;
  effectiveAt: string;
}

/** A recovery of the account's wallets on a new device, held until confirmed or its hold ends. */
export interface RecoveryView {
  id: string;
  device: string;
  at: string;
  holdUntil: string;
  status: string;
}

/** What a held request waits for: the account's TOTP code, approvals, a delay's end. */
export interface WaitingFor {
  totp?: true;
  approvals?: { needed: number; have: number };
  releaseMs?: number;
}

/** A sign request as the provider lists it to the account's devices. */
export interface RequestSummary {
  requestId: string;
  walletId: string;
  deviceId: string;
  kind: SigningRequest["kind"];
  chain: SigningRequest["chain"];
  status: string;
  rule: string | null;
  ruleNumber: number | null;
  /** The provider's reading of the bytes: shown for orientation, never trusted. */
  description: Record<string, unknown>;
  createdMs: number;
  /** What a held request waits for. */
  waitingFor?: WaitingFor;
}

/** A sign request with its bytes, approvals and signatures. */
export interface RequestDetail extends Omit<RequestSummary, "description"> {
  payload: string;
  path?: string | null;
  description?: { network?: string } & Record<string, unknown>;
  approvals?: { deviceId: string; atMs: number; revoked?: true }[];
  signatures?: { index: number; input?: number; signature: string | null }[];
}

/** A policy change, or a TOTP enrollment, waiting out its delay. */
export interface PendingChange {
  changeId: string;
  effectiveMs: number;
}

export interface TotpConfirmation extends PendingChange {
  enrolled: boolean;
}

/** A wallet's policy in force (amounts in coins where their asset is known), pending changes and allow-list. */
export interface WalletPolicy {
  policy: unknown[];
  pending: (PendingChange & { policy: unknown[]; requestedBy: string })[];
  allowList: { chain: string; address: string; label: string; addedMs: number }[];
  totpEnrolled: boolean;
}

export interface AllowListEntry {
  chain: string;
  address: string;
  label: string;
  addedMs: number;
  /** Per rule that matches allow-listed destinations: from when this entry counts for it. */
  countsFrom: { rule: string; atMs: number }[];
}

/** The provider's check of the account's audit chain. */
export interface AuditVerdict {
  ok: boolean;
  length: number;
  /** The first entry whose link does not hold, or one past the end when entries were cut from it. */
  firstBroken?: number;
  head?: string;
}
