/**
 * @keyshard/api — the provider's API contract as TypeBox schemas, one module per resource: the
 * server validates and documents its routes with them, and a client types its calls from them.
 */

export * from "./account.js";
export * from "./account-changes.js";
export * from "./backups.js";
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
