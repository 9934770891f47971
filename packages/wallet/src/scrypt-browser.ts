/**
 * The keystore's scrypt in browsers (the package's `#scrypt` under the "browser" condition):
 * @noble/hashes' JavaScript scrypt, yielding to the event loop as it goes. Node gets
 * `scrypt-node.ts`; both compute RFC 7914 scrypt.
 */
export { scryptAsync as scrypt } from "@noble/hashes/scrypt.js";
