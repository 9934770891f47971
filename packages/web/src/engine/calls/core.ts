/**
 * The calls of setting this device up, unlocking it, its wallets, their addresses and balances,
 * and sending: each method's arguments and result, with their strict readers, and the input
 * bounds the page's fields stop at. Page-safe: the shapes and their readers only.
 */
import { CHAIN_NAMES, type ChainName } from "@keyshard/chains/names";
import type { KeystoreUnlock, UnlockMethod as KeystoreUnlockMethod } from "@keyshard/wallet/browser";
import {
  boolean,
  bytes,
  count,
  deviceId,
  isRecord,
  list,
  literal,
  type MethodReaders,
  name,
  none,
  orNull,
  ProtocolError,
  type Reader,
  record,
  shortText,
  text,
  uuid,
} from "../readers.js";
import { type WaitingFor, waitingFor } from "../review.js";

/** How the keystore is unlocked: a passphrase, or a passkey's PRF output for the keystore's salt. */
export type Unlock = KeystoreUnlock;

/** What unlocks this browser's keystore; null when there is none yet. */
export type UnlockMethod = KeystoreUnlockMethod | null;

/** This device as the page needs to know it. */
export interface Session {
  /** The provider it registered with; null before registering. */
  providerUrl: string | null;
  /**
   * Its state at the provider ("unverified" until the mailed code is entered, "active", …); null
   * before registering, or when the provider could not be reached to ask.
   */
  state: string | null;
  /** The keystore opened but the provider could not be reached: `state` is unknown. */
  offline: boolean;
  /**
   * This device's id, as the account's other devices list it: shown while it waits for approval,
   * so that the person can check that the device they approve is this one. Null before registering.
   */
  deviceId: string | null;
}

export interface WalletEntry {
  name: string;
  /** Its state at the provider, as far as this device is concerned. */
  state: string;
  /** Hybrid: this device and the provider, 2-of-2. */
  hybrid: boolean;
}

export interface ChainAddress {
  chain: ChainName;
  address: string;
}

/** A transaction broadcast and mined. */
export interface Sent {
  kind: "sent";
  transactionId: string;
  /** The receipt's status: mined and executed, or mined and reverted. */
  receipt: "confirmed" | "failed";
  /** The block it was mined in, when the node said. */
  block: number | null;
  /** A retry found this transaction from an earlier try: nothing new was signed. */
  sentBefore: boolean;
}

/** A send the wallet's policy holds: its request, the rule, and what it still waits for. */
export interface Held {
  kind: "held";
  requestId: string;
  rule: string;
  waitingFor: WaitingFor;
}

/** How a send ended: broadcast and mined, stopped by the person, or held by the wallet's policy. */
export type SendOutcome = Sent | { kind: "cancelled" } | Held;

/** The calls of onboarding, unlocking, wallets, addresses and sending: each method's arguments and result. */
export interface CoreMethods {
  unlockMethod: { args: Record<string, never>; result: UnlockMethod };
  init: { args: { unlock: Unlock; name: string }; result: Session };
  open: { args: { unlock: Unlock }; result: Session };
  register: { args: { url: string; email: string }; result: Session };
  verify: { args: { code: string }; result: Session };
  resendCode: { args: Record<string, never>; result: Session };
  wallets: { args: Record<string, never>; result: WalletEntry[] };
  /** `policyTemplate`: one of the provider's (`policyTemplates`); null for its default. */
  createWallet: { args: { name: string; policyTemplate: string | null }; result: WalletEntry };
  addresses: { args: { name: string }; result: ChainAddress[] };
  /** The wallet's balance of the chain's coin, with its symbol ("1.5 ETH"), read through the node `rpc`. */
  balance: { args: { name: string; chain: "ethereum"; rpc: string }; result: string };
  /** ETH, or an ERC-20 token with `token`, to `to`; the engine asks the page to confirm before signing. */
  send: {
    args: { name: string; to: string; amount: string; token: string | null; rpc: string };
    result: SendOutcome;
  };
}

/** A policy template's id as the provider takes it (`@keyshard/api`'s `POLICY_TEMPLATE_ID`). */
export const POLICY_TEMPLATE_ID = /^[a-z0-9-]{1,40}$/;
export const policyTemplateId = text({ min: 1, max: 40, pattern: POLICY_TEMPLATE_ID });

/** Base64url without padding: how passkey ids travel and are stored. */
export const BASE64URL = /^[A-Za-z0-9_-]+$/;
const credentialId = text({ min: 16, max: 1365, pattern: BASE64URL });

// ── input bounds: the engine refuses beyond them, the page's fields stop at them ──────────────

/** A new passphrase's shortest length (the page's rule): the keystore is only as strong as what unlocks it. */
export const PASSPHRASE_MIN = 8;
/** The longest passphrase: bounded so that a huge one cannot stall the key derivation. */
export const PASSPHRASE_MAX = 1024;
export const URL_MAX = 2048;
/** An email address's longest form (RFC 5321's path limit). */
export const EMAIL_MAX = 254;
/** The mailed code: this many digits. */
export const CODE_DIGITS = 6;
/** The longest amount a person may type ("0.25", "12.5 USDC", "21000 wei"). */
export const AMOUNT_MAX = 100;
/** The longest recipient address a person may type: any chain's fits. */
export const RECIPIENT_MAX = 100;
/** An ERC-20 contract's address as the SDK takes it. */
export const TOKEN_ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/**
 * Why `url` cannot be a chain node's address, or undefined when it can: http(s) only, and no
 * credentials in it, since the page keeps it in localStorage and the SDK names its origin.
 */
export function rpcUrlProblem(url: string): string | undefined {
  if (url.length === 0 || url.length > URL_MAX) return `Give the node's address, up to ${URL_MAX} characters.`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "This is not a URL: give the node's address, e.g. https://eth.example.com.";
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return "Give an http or https address.";
  if (parsed.username !== "" || parsed.password !== "")
    return "Give the address without a user name or password in it.";
  return undefined;
}

const passphrase = text({ min: 1, max: PASSPHRASE_MAX });

const unlock: Reader<Unlock> = (value, what) =>
  typeof value === "string"
    ? passphrase(value, what)
    : record<{ passkey: { credentialId: string; salt: Uint8Array; output: Uint8Array } }>({
        passkey: record({ credentialId, salt: bytes(32), output: bytes(32) }),
      })(value, what);

const unlockMethod: Reader<UnlockMethod> = (value, what) => {
  if (value === null) return null;
  if (isRecord(value) && "passphrase" in value)
    return record<{ passphrase: true }>({
      passphrase: (v, w) => {
        if (v !== true) throw new ProtocolError(`${w} is not true`);
        return true;
      },
    })(value, what);
  return record<{ passkey: { credentialId: string; salt: Uint8Array } }>({
    passkey: record({ credentialId, salt: bytes(32) }),
  })(value, what);
};

/** One of the chains keyshard signs for. */
export const chain: Reader<ChainName> = (value, what) => {
  const found = CHAIN_NAMES.find((name) => name === value);
  if (found === undefined) throw new ProtocolError(`${what} is not a chain`);
  return found;
};

const session = record<Session>({
  providerUrl: orNull(text({ min: 1, max: URL_MAX })),
  state: orNull(shortText),
  offline: boolean,
  deviceId: orNull(deviceId),
});
export const walletEntry = record<WalletEntry>({ name, state: shortText, hybrid: boolean });

const rpcUrl: Reader<string> = (value, what) => {
  const url = text({ min: 1, max: URL_MAX })(value, what);
  // Not the URL itself in the error: it may carry an API key.
  if (rpcUrlProblem(url) !== undefined) throw new ProtocolError(`${what} is not a node's http(s) address`);
  return url;
};

/** A send broadcast and mined, as the page reads it: a direct send's, or a held one finished. */
export const sent = record<Sent>({
  kind: literal("sent"),
  transactionId: text({ min: 66, max: 66, pattern: /^0x[0-9a-f]{64}$/ }),
  receipt: (v, w) => {
    if (v !== "confirmed" && v !== "failed") throw new ProtocolError(`${w} is not a receipt's status`);
    return v;
  },
  block: orNull(count),
  sentBefore: boolean,
});

export const sendOutcome: Reader<SendOutcome> = (value, what) => {
  const kind = isRecord(value) ? value.kind : undefined;
  switch (kind) {
    case "sent":
      return sent(value, what);
    case "cancelled":
      return record<Extract<SendOutcome, { kind: "cancelled" }>>({ kind: literal("cancelled") })(value, what);
    case "held":
      return record<Held>({ kind: literal("held"), requestId: uuid, rule: shortText, waitingFor })(value, what);
    default:
      throw new ProtocolError(`${what} is no known outcome of a send`);
  }
};

export const CORE_METHODS: MethodReaders<CoreMethods> = {
  unlockMethod: { args: none, result: unlockMethod },
  init: { args: record({ unlock, name }), result: session },
  open: { args: record({ unlock }), result: session },
  register: {
    args: record({ url: text({ min: 1, max: URL_MAX }), email: text({ min: 3, max: EMAIL_MAX }) }),
    result: session,
  },
  verify: {
    args: record({ code: text({ min: CODE_DIGITS, max: CODE_DIGITS, pattern: /^[0-9]+$/ }) }),
    result: session,
  },
  resendCode: { args: none, result: session },
  wallets: { args: none, result: list(walletEntry) },
  createWallet: { args: record({ name, policyTemplate: orNull(policyTemplateId) }), result: walletEntry },
  addresses: {
    args: record({ name }),
    result: list(record<ChainAddress>({ chain, address: shortText })),
  },
  balance: {
    args: record({ name, chain: literal("ethereum"), rpc: rpcUrl }),
    result: shortText,
  },
  send: {
    args: record({
      name,
      to: text({ min: 1, max: RECIPIENT_MAX }),
      amount: text({ min: 1, max: AMOUNT_MAX }),
      token: orNull(text({ min: 42, max: 42, pattern: TOKEN_ADDRESS })),
      rpc: rpcUrl,
    }),
    result: sendOutcome,
  },
};
