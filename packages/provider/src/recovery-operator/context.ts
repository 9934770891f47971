/**
 * What a recovery operator's services share: its database, master key and mail outbox, its
 * X25519 key (the one enrolling devices seal shares to), the provider's ticket key it trusts,
 * its limit, the reshare its administrator allows, and its clock (injectable for tests).
 */
import type { RecoveryKeyPair } from "@keyshard/recovery";
import { x25519 } from "@noble/curves/ed25519.js";
import { utf8ToBytes } from "@noble/hashes/utils.js";
import type { Notifier } from "../notify/notifier.js";
import type { MasterKey } from "../store/master-key.js";
import type { Database } from "../store/queryable.js";

export interface OperatorContext {
  /** How the operator names itself to devices and in its mail. */
  name: string;
  db: Database;
  masterKey: MasterKey;
  notifier: Notifier;
  /** The operator's X25519 key pair: devices seal its shares to the public half. */
  keys: RecoveryKeyPair;
  /** The provider's Ed25519 ticket key: only tickets it signed are honoured. */
  ticketKey: Uint8Array;
  /** Evaluations (face guesses) per enrollment in any 24 hours. */
  attemptsPerDay: number;
  /** The web wallets' origins whose pages may call the device routes (CORS); none: no page may. */
  walletOrigins: readonly string[];
  /** The bearer token of the reshare routes; without it, they are not served. */
  adminToken?: string;
  /**
   * The new set of operators this operator's administrator allows a reshare to
   * (KEYSHARD_OPERATOR_RESHARE_TO): the only recipients it deals to, and the set it checks its own
   * place in before accepting or retiring. Without it, no reshare route is served.
   */
  reshareTo?: ReshareTarget[];
  /** Milliseconds since the epoch. */
  now: () => number;
}

/** One operator of a reshare's new set: its index there, its url and its X25519 key. */
export interface ReshareTarget {
  index: number;
  url: string;
  key: Uint8Array;
}

/**
 * Whether `key` is an X25519 public key a box can be sealed to: 32 bytes, and not of small order
 * (all zeros and the other low-order points give an all-zero shared secret, which noble refuses).
 */
export function usableX25519Key(key: Uint8Array): boolean {
  if (!(key instanceof Uint8Array) || key.length !== 32) return false;
  try {
    x25519.getSharedSecret(x25519.utils.randomSecretKey(), key);
    return true;
  } catch {
    return false;
  }
}

/** The operator's X25519 key, derived from its master key: the same on every start, and on every replica. */
export function operatorKeys(masterKey: MasterKey): RecoveryKeyPair {
  const secretKey = masterKey.mac("recovery-operator-key", utf8ToBytes("v1"));
  return { secretKey, publicKey: x25519.getPublicKey(secretKey) };
}
