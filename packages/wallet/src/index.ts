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
export { WalletError, type WalletErrorCode } from "./errors.js";
export { Keystore, KeystoreError, writeFileAtomic } from "./keystore.js";
export type {
  DeviceState,
  Member,
  PendingRequest,
  SendIntent,
  SentTransaction,
  SignBody,
  StoredWallet,
} from "./state.js";
export {
  type AllowListEntry,
  type Chain,
  type SignOutcome,
  type TransactionStatus,
  Wallet,
  type WalletOptions,
} from "./wallet.js";
