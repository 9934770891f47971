/**
 * @keyshard/wallet — the user's devices: the `Wallet` SDK (keystore, registration, wallets,
 * addresses, signing with the provider or among devices, held requests and approvals), the
 * confirmation device (`Cosigner`) and the `keyshard` command line built on them.
 */
export * from "./browser.js";
export {
  Cosigner,
  type CosignerLogEntry,
  type CosignerOptions,
  type CosignerRule,
  decide,
  parseRules,
} from "./cosigner.js";
export { fileKeystore, writeFileAtomic } from "./keystore-file.js";
