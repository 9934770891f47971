/**
 * The data the `Wallet` SDK hands back: what a send or a signature came to, and the provider's
 * replies as the device reads them (the shapes of the API contract, `@keyshard/api`), so that a
 * program using the SDK gets named fields instead of loose records.
 */
import type * as Api from "@keyshard/api";
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
  /**
   * A held PSBT signed with `finalize: false`, once resumed: `signed` is the PSBT in base64 with
   * the wallet's signatures only, for the other signers to finish.
   */
  finalized?: false;
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
export type DeviceStanding = Api.Device;

export type Account = Api.Account & { email: string };

/** A device let in: it is active from `effectiveAt` on. */
export type ApprovedDevice = Api.ApprovedDevice;

/** A t-of-n wallet a revoked device was a member of; `signersLeft`: its members that can still sign. */
export type RevokedMemberWallet = Api.WalletWithoutDevice;

export type RevokedDevice = Api.RevokedDevice;

/** A security change of the account waiting out its delay (new TOTP, face, heir, backup, device). */
export type AccountChange = Api.AccountChange;

/** An open relay session this device takes part in. */
export type RelaySession = Api.RelaySession;

/** A request for a hybrid wallet's provider share, released after the backup delay. */
export type BackupStatus = Api.Backup;

/** A face enrolled for recovery: the owner's, or an heir's after the owner's inactivity. */
export type Enrollment = Api.Enrollment;

/** A face enrolled, once its delay has passed. */
export interface EnrolledFace {
  enrollmentId: string;
  wallets: number;
  effectiveAt: string;
}

/** A recovery of the account's wallets on a new device, held until confirmed or its hold ends. */
export type RecoveryView = Api.Recovery;

/** What a held request waits for: the account's TOTP code, approvals, a delay's end. */
export type WaitingFor = Api.WaitingFor;

/** A sign request as the provider lists it to the account's devices. */
export type RequestSummary = Api.SignRequest;

/** A sign request read alone: with its bytes, approvals and signatures. */
export type RequestDetail = Api.SignRequest & { payload: string };

/** A policy change, or a TOTP enrollment, waiting out its delay. */
export type PendingChange = Api.PolicyChangeAccepted;

export type TotpConfirmation = Api.TotpConfirmed;

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
export type AuditVerdict = Api.AuditVerification;
