/**
 * @keyshard/api — the provider's API contract as TypeBox schemas, one module per resource: the
 * server validates and documents its routes with them, and a client types its calls from them.
 * Beside them, what both sides compute alike: canonical JSON and the audit chain's links.
 */

export * from "./account.js";
export * from "./account-changes.js";
export * from "./audit-chain.js";
export * from "./backups.js";
export * from "./canonical-json.js";
export * from "./common.js";
export * from "./devices.js";
export * from "./endpoints.js";
export * from "./key-changes.js";
export * from "./policies.js";
export * from "./policy.js";
export * from "./recovery.js";
export * from "./relay.js";
export * from "./sign-requests.js";
export * from "./wallets.js";
