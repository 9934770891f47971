/**
 * The messages between the page and the wallet engine (a dedicated worker): a call names one
 * method of an explicit allow-list with its arguments; the engine answers with progress texts
 * and then exactly one result or error. Both sides read every message they receive through the
 * readers here, so a malformed message is refused where it arrives instead of being trusted.
 *
 * A send asks the page mid-call: the engine replies `confirm` with what the transaction's bytes do
 * (the SDK's description of them), and the page answers that call's id with `confirm-answer`;
 * nothing is signed before a `confirmed: true` comes back.
 *
 * Nothing secret travels but the unlock value (a passphrase, or a passkey's PRF output), posted
 * once by `init` or `open`; replies carry public data only (ids, names, addresses, states).
 */
import { CHAIN_NAMES, type ChainName } from "@keyshard/chains/names";
import type { KeystoreUnlock, UnlockMethod as KeystoreUnlockMethod } from "@keyshard/wallet/browser";

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

/** One movement of value out of the wallet, as the SDK read it from the bytes to be signed. */
export interface ReviewTransfer {
  to: string;
  /** In the asset's units with its symbol ("0.25 ETH"), or base units of a token it cannot name. */
  amount: string;
  /** Set when the value is taken from another account (an allowance's `transferFrom`). */
  from: string | null;
}

export interface ReviewApproval {
  spender: string;
  amount: string;
  unlimited: boolean;
}

export interface ReviewCall {
  contract: string;
  /** The 4-byte selector. */
  selector: string;
  /** The decoded function, e.g. "transfer(address,uint256)", when it is a standard one. */
  name: string | null;
}

/** What a transaction does, described by the SDK from its bytes, for the person to confirm. */
export interface Review {
  /** "eip155:<chain id>". */
  network: string;
  action: string;
  transfers: ReviewTransfer[];
  approvals: ReviewApproval[];
  calls: ReviewCall[];
  /** The most the fee can be, with its unit. */
  fee: string;
  /** What a person should read before confirming: unknown tokens, unusual encodings. */
  warnings: string[];
}

/** What a send held by the wallet's policy waits for before it can be signed. */
export interface WaitingFor {
  totp: boolean;
  approvals: { needed: number; have: number } | null;
  /** When its time lock ends, in ms since the epoch. */
  releaseMs: number | null;
}

/** How a send ended: broadcast and mined, stopped by the person, or held by the wallet's policy. */
export type SendOutcome =
  | {
      kind: "sent";
      transactionId: string;
      /** The receipt's status: mined and executed, or mined and reverted. */
      receipt: "confirmed" | "failed";
      /** The block it was mined in, when the node said. */
      block: number | null;
      /** A retry found this transaction from an earlier try: nothing new was signed. */
      sentBefore: boolean;
    }
  | { kind: "cancelled" }
  | { kind: "held"; requestId: string; rule: string; waitingFor: WaitingFor };

/** The allow-list: each method's arguments and result. */
export interface Methods {
  unlockMethod: { args: Record<string, never>; result: UnlockMethod };
  init: { args: { unlock: Unlock; name: string }; result: Session };
  open: { args: { unlock: Unlock }; result: Session };
  register: { args: { url: string; email: string }; result: Session };
  verify: { args: { code: string }; result: Session };
  resendCode: { args: Record<string, never>; result: Session };
  wallets: { args: Record<string, never>; result: WalletEntry[] };
  createWallet: { args: { name: string }; result: WalletEntry };
  addresses: { args: { name: string }; result: ChainAddress[] };
  /** The wallet's balance of the chain's coin, with its symbol ("1.5 ETH"), read through the node `rpc`. */
  balance: { args: { name: string; chain: "ethereum"; rpc: string }; result: string };
  /** ETH, or an ERC-20 token with `token`, to `to`; the engine asks the page to confirm before signing. */
  send: {
    args: { name: string; to: string; amount: string; token: string | null; rpc: string };
    result: SendOutcome;
  };
}

export type Method = keyof Methods;
export type Args<M extends Method> = Methods[M]["args"];
export type Result<M extends Method> = Methods[M]["result"];

export interface Call<M extends Method = Method> {
  id: number;
  method: M;
  args: Args<M>;
}

/** An error as the page shows it: the SDK's code kept, and what to do next when the SDK says. */
export interface EngineFailure {
  code: string;
  message: string;
  next: string | null;
}

export type Reply =
  | { id: number; kind: "progress"; text: string }
  | { id: number; kind: "confirm"; review: Review }
  | { id: number; kind: "ok"; value: unknown }
  | { id: number; kind: "error"; error: EngineFailure };

/** The page's answer to the `confirm` reply of call `id`. */
export interface ConfirmAnswer {
  id: number;
  kind: "confirm-answer";
  confirmed: boolean;
}

/** A message that does not have the shape this protocol gives it. */
export class ProtocolError extends Error {
  override readonly name = "ProtocolError";
}

// ── readers ──────────────────────────────────────────────────────────────────────────────────

type Reader<T> = (value: unknown, what: string) => T;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);

/** A plain object with exactly `keys`, read by their readers. */
function record<T extends object>(readers: { [K in keyof T]-?: Reader<T[K]> }): Reader<T> {
  return (value, what) => {
    if (!isRecord(value)) throw new ProtocolError(`${what} is not an object`);
    const keys = Object.keys(readers) as (keyof T & string)[];
    const extra = Object.keys(value).find((k) => !keys.includes(k as keyof T & string));
    if (extra !== undefined) throw new ProtocolError(`${what} has an unexpected field ${JSON.stringify(extra)}`);
    const out = {} as T;
    for (const key of keys) out[key] = readers[key](value[key], `${what}.${key}`);
    return out;
  };
}

function text(options: { min?: number; max?: number; pattern?: RegExp } = {}): Reader<string> {
  const { min = 0, max = 10_000, pattern } = options;
  return (value, what) => {
    if (typeof value !== "string") throw new ProtocolError(`${what} is not a string`);
    if (value.length < min || value.length > max)
      // Without the length found: the text may be a passphrase, whose length is a secret's too.
      throw new ProtocolError(`${what} is not ${min} to ${max} characters long`);
    if (pattern !== undefined && !pattern.test(value)) throw new ProtocolError(`${what} is not in the expected form`);
    return value;
  };
}

const orNull =
  <T>(read: Reader<T>): Reader<T | null> =>
  (value, what) =>
    value === null ? null : read(value, what);

const list =
  <T>(read: Reader<T>, max = 1000): Reader<T[]> =>
  (value, what) => {
    if (!Array.isArray(value)) throw new ProtocolError(`${what} is not a list`);
    if (value.length > max) throw new ProtocolError(`${what} has more than ${max} items`);
    return value.map((item, i) => read(item, `${what}[${i}]`));
  };

const bytes =
  (length: number): Reader<Uint8Array> =>
  (value, what) => {
    if (!(value instanceof Uint8Array) || value.length !== length)
      throw new ProtocolError(`${what} is not ${length} bytes`);
    return value;
  };

const boolean: Reader<boolean> = (value, what) => {
  if (typeof value !== "boolean") throw new ProtocolError(`${what} is not true or false`);
  return value;
};

const literal =
  <T extends string>(expected: T): Reader<T> =>
  (value, what) => {
    if (value !== expected) throw new ProtocolError(`${what} is not ${JSON.stringify(expected)}`);
    return expected;
  };

const none = record<Record<string, never>>({});
/** Base64url without padding: how passkey ids travel and are stored. */
export const BASE64URL = /^[A-Za-z0-9_-]+$/;
const credentialId = text({ min: 16, max: 1365, pattern: BASE64URL });

// ── input bounds: the engine refuses beyond them, the page's fields stop at them ──────────────

/** The names the provider accepts for a device and a wallet. */
export const NAME_MAX = 64;
/** A new passphrase's shortest length (the page's rule): the keystore is only as strong as what unlocks it. */
export const PASSPHRASE_MIN = 8;
/** The longest passphrase: bounded so that a huge one cannot stall the key derivation. */
export const PASSPHRASE_MAX = 1024;
export const URL_MAX = 2048;
/** An email address's longest form (RFC 5321's path limit). */
export const EMAIL_MAX = 254;
/** The mailed code: this many digits. */
export const CODE_DIGITS = 6;
/** The longest progress text or device state the engine passes on; longer ones are cut. */
export const SHORT_TEXT_MAX = 200;
/** The longest error message the engine passes on; longer ones are cut. */
export const MESSAGE_MAX = 2000;
export const NEXT_STEP_MAX = 500;
/** The longest amount a person may type ("0.25", "12.5 USDC", "21000 wei"). */
export const AMOUNT_MAX = 100;
/** The longest recipient address a person may type: any chain's fits. */
export const RECIPIENT_MAX = 100;
/** The most transfers, calls or warnings one review carries: a send has one or two of each. */
export const REVIEW_ITEMS_MAX = 20;

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

const chain: Reader<ChainName> = (value, what) => {
  const found = CHAIN_NAMES.find((name) => name === value);
  if (found === undefined) throw new ProtocolError(`${what} is not a chain`);
  return found;
};

const name = text({ min: 1, max: NAME_MAX });
const shortText = text({ min: 1, max: SHORT_TEXT_MAX });

const session = record<Session>({
  providerUrl: orNull(text({ min: 1, max: URL_MAX })),
  state: orNull(shortText),
  offline: boolean,
});
const walletEntry = record<WalletEntry>({ name, state: shortText, hybrid: boolean });

const rpcUrl: Reader<string> = (value, what) => {
  const url = text({ min: 1, max: URL_MAX })(value, what);
  // Not the URL itself in the error: it may carry an API key.
  if (rpcUrlProblem(url) !== undefined) throw new ProtocolError(`${what} is not a node's http(s) address`);
  return url;
};

const count: Reader<number> = (value, what) => {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0)
    throw new ProtocolError(`${what} is not a count`);
  return value;
};

const items = <T>(read: Reader<T>) => list(read, REVIEW_ITEMS_MAX);
const messageText = text({ min: 1, max: MESSAGE_MAX });

const review = record<Review>({
  network: text({ min: 1, max: SHORT_TEXT_MAX, pattern: /^eip155:[0-9]+$/ }),
  action: shortText,
  transfers: items(record<ReviewTransfer>({ to: shortText, amount: shortText, from: orNull(shortText) })),
  approvals: items(record<ReviewApproval>({ spender: shortText, amount: shortText, unlimited: boolean })),
  calls: items(
    record<ReviewCall>({
      contract: shortText,
      selector: text({ min: 0, max: 10, pattern: /^(0x[0-9a-fA-F]{8})?$/ }),
      name: orNull(shortText),
    }),
  ),
  fee: shortText,
  warnings: items(messageText),
});

const sendOutcome: Reader<SendOutcome> = (value, what) => {
  const kind = isRecord(value) ? value.kind : undefined;
  switch (kind) {
    case "sent":
      return record<Extract<SendOutcome, { kind: "sent" }>>({
        kind: literal("sent"),
        transactionId: text({ min: 66, max: 66, pattern: /^0x[0-9a-f]{64}$/ }),
        receipt: (v, w) => {
          if (v !== "confirmed" && v !== "failed") throw new ProtocolError(`${w} is not a receipt's status`);
          return v;
        },
        block: orNull(count),
        sentBefore: boolean,
      })(value, what);
    case "cancelled":
      return record<Extract<SendOutcome, { kind: "cancelled" }>>({ kind: literal("cancelled") })(value, what);
    case "held":
      return record<Extract<SendOutcome, { kind: "held" }>>({
        kind: literal("held"),
        requestId: shortText,
        rule: shortText,
        waitingFor: record<WaitingFor>({
          totp: boolean,
          approvals: orNull(record({ needed: count, have: count })),
          releaseMs: orNull(count),
        }),
      })(value, what);
    default:
      throw new ProtocolError(`${what} is no known outcome of a send`);
  }
};

/** Each method's readers: the engine reads `args`, the page reads `result`. */
export const METHODS: { [M in Method]: { args: Reader<Args<M>>; result: Reader<Result<M>> } } = {
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
  createWallet: { args: record({ name }), result: walletEntry },
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

const isMethod = (value: unknown): value is Method => typeof value === "string" && Object.hasOwn(METHODS, value);

const callId: Reader<number> = (value, what) => {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1)
    throw new ProtocolError(`${what} is not a call id`);
  return value;
};

/** A call as the engine receives it: a method of the allow-list with arguments it accepts. */
export function readCall(message: unknown): Call {
  if (!isRecord(message)) throw new ProtocolError("the call is not an object");
  const { id, method, args, ...rest } = message;
  if (Object.keys(rest).length > 0) throw new ProtocolError("the call has unexpected fields");
  if (!isMethod(method)) throw new ProtocolError(`${JSON.stringify(method)} is not a method of the engine`);
  return { id: callId(id, "the call's id"), method, args: METHODS[method].args(args, `the arguments of ${method}`) };
}

const failure = record<EngineFailure>({
  code: shortText,
  message: messageText,
  next: orNull(text({ min: 1, max: NEXT_STEP_MAX })),
});

const anything: Reader<unknown> = (value) => value;

const REPLIES = {
  progress: record<Extract<Reply, { kind: "progress" }>>({ id: callId, kind: literal("progress"), text: shortText }),
  confirm: record<Extract<Reply, { kind: "confirm" }>>({ id: callId, kind: literal("confirm"), review }),
  ok: record<Extract<Reply, { kind: "ok" }>>({ id: callId, kind: literal("ok"), value: anything }),
  error: record<Extract<Reply, { kind: "error" }>>({ id: callId, kind: literal("error"), error: failure }),
};

/** Whether `message` is meant as a progress reply, readable or not: such a one is dropped, not fatal. */
export const isProgressReply = (message: unknown): boolean => isRecord(message) && message.kind === "progress";

/**
 * Characters that must not reach the screen from text the page did not write (the provider's
 * reasons, the SDK's messages): C0 and C1 controls, and the bidirectional overrides and isolates
 * that would make a text read differently from what it says.
 */
const UNSHOWABLE = /[\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]+/gu;

/** `text` made fit to show: unshowable characters become spaces, and more than `max` is cut. */
export function showable(text: string, max: number): string {
  const clean = text.replace(UNSHOWABLE, " ").replace(/ {2,}/g, " ").trim();
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

/** A reply as the page receives it; its value is read by its method's reader once the call is known. */
export function readReply(message: unknown): Reply {
  if (!isRecord(message)) throw new ProtocolError("the reply is not an object");
  const kind = message.kind;
  if (kind !== "progress" && kind !== "confirm" && kind !== "ok" && kind !== "error")
    throw new ProtocolError("the reply is of no known kind");
  return REPLIES[kind](message, `the ${kind} reply`);
}

/** Whether `message` is meant as an answer to a confirmation rather than as a call. */
export const isConfirmAnswer = (message: unknown): boolean => isRecord(message) && message.kind === "confirm-answer";

/** The page's answer to a confirmation, as the engine receives it. */
export const readConfirmAnswer = (message: unknown): ConfirmAnswer =>
  record<ConfirmAnswer>({ id: callId, kind: literal("confirm-answer"), confirmed: boolean })(
    message,
    "the answer to a confirmation",
  );
