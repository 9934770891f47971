/**
 * @keyshard/wallet — the user's devices: the `Wallet` SDK (keystore, registration, wallets,
 * addresses, signing with the provider or among devices, held requests and approvals), the
 * confirmation device (`Cosigner`) and the `keyshard` command line built on them.
 */
export { formatAmount, parseAmount } from "./amount.js";
export {
  Cosigner,
  type CosignerLogEntry,
  type CosignerOptions,
  type CosignerRule,
  decide,
  parseRules,
} from "./cosigner.js";
export type { DappAccountOptions, Eip1193Options } from "./dapp/ethereum.js";
export type { HeldOptions, HeldRequest } from "./dapp/held.js";
export { type NextStep, WalletError, type WalletErrorCode } from "./errors.js";
export type { RequestToApprove } from "./flows/approvals.js";
export type { TransactionQuery } from "./flows/delivery.js";
export type { MemberChange } from "./flows/key-change.js";
export type { NewWallet } from "./flows/keygen.js";
export type { AllowListAddition } from "./flows/policies.js";
export type { PsbtOutcome, PsbtSignInput } from "./flows/psbt.js";
export type { MessageInput, SendOptions, SignOptions } from "./flows/sign.js";
export type { ExtendedKeyExport, XpubOptions } from "./flows/xpub.js";
export { Keystore, KeystoreError, writeFileAtomic } from "./keystore.js";
export type { Member, SendIntent } from "./state.js";
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
