/**
 * @keyshard/wallet/browser — the `Wallet` SDK for a browser page or worker: the same `Wallet` as
 * in Node, its keystore in this browser's IndexedDB (`indexedDbKeystore`) unlocked by a passkey's
 * PRF output or a passphrase, and calls to the provider through `fetch`; face enrollment and
 * recovery read frames from a canvas (`rgbFromRgba`) with the face models the app serves
 * (`setFaceModelLocation`), whose code loads only when a face is first read. Nothing here reaches a
 * Node module; the confirmation device (`Cosigner`) and the keystore in a folder are Node's only
 * (`@keyshard/wallet`).
 */
export {
  type Challenge,
  describeChallenge,
  type ModelLocation,
  type RgbImage,
  rgbFromRgba,
  setFaceModelLocation,
} from "@keyshard/biometric";
export { formatAmount, parseAmount } from "./amount.js";
export { shownUrl } from "./chains/rpc.js";
export type { DappAccountOptions, Eip1193Options } from "./dapp/ethereum.js";
export type { HeldOptions, HeldRequest } from "./dapp/held.js";
export { type NextStep, WalletError, type WalletErrorCode } from "./errors.js";
export type { FaceFrames } from "./face-recovery.js";
export type { RequestToApprove } from "./flows/approvals.js";
export type { AuditChainCheck } from "./flows/audit-chain.js";
export type { CosignInvitation, CosignOutcome } from "./flows/cosign.js";
export type { TransactionQuery } from "./flows/delivery.js";
export type { MemberChange } from "./flows/key-change.js";
export type { NewWallet, WaitingWallet, WalletParties } from "./flows/keygen.js";
export type { AccountWallet, AllowListAddition } from "./flows/policies.js";
export type { PsbtOutcome, PsbtSignInput } from "./flows/psbt.js";
export type { MessageInput, SendOptions, SignOptions } from "./flows/sign.js";
export type { ExtendedKeyExport, XpubOptions } from "./flows/xpub.js";
export {
  Keystore,
  KeystoreError,
  type KeystoreErrorCode,
  type KeystoreLocation,
  type KeystoreStorage,
  type KeystoreUnlock,
  type PasskeyUnlock,
  type UnlockMethod,
} from "./keystore.js";
export { indexedDbKeystore } from "./keystore-indexeddb.js";
export type { AuditHead, Member, SendIntent } from "./state.js";
export type {
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
  RevokedMemberWallet,
  SignOutcome,
  TotpConfirmation,
  TransactionStatus,
  WaitingFor,
  WalletInfo,
  WalletPolicy,
  WalletSummary,
} from "./types.js";
export { Wallet, type WalletOptions } from "./wallet.js";
