/**
 * What the wallet engine does: it holds this browser's one `Wallet` (its keystore in IndexedDB)
 * and runs each call of the allow-list on it (`protocol.ts`). Loaded by the engine's worker
 * (`worker.ts`), never by the page.
 */
import { adapterOf, CHAIN_NAMES, nativeCoin, type TransactionDescription } from "@keyshard/chains";
import { scheme } from "@keyshard/mpc";
import {
  formatAmount,
  indexedDbKeystore,
  KeystoreError,
  shownUrl,
  Wallet,
  WalletError,
} from "@keyshard/wallet/browser";
import { createPublicClient, http } from "viem";
import { describeNextStep } from "./next-steps.js";
import {
  type Args,
  type Call,
  type EngineFailure,
  MESSAGE_MAX,
  type Method,
  NEXT_STEP_MAX,
  ProtocolError,
  REVIEW_ITEMS_MAX,
  type Result,
  type Review,
  type SendOutcome,
  type Session,
  SHORT_TEXT_MAX,
  showable,
  type WalletEntry,
} from "./protocol.js";

/** A call the engine refuses in its own right (not the SDK's): the device is locked, or set up already. */
class EngineRefusal extends Error {
  override readonly name = "EngineRefusal";
  constructor(
    readonly code: "locked" | "unlocked",
    message: string,
  ) {
    super(message);
  }
}

const storage = indexedDbKeystore();
let wallet: Wallet | undefined;
/** Where the SDK's progress texts go: the running call's progress, or nowhere between calls. */
let progressOfCall: ((text: string) => void) | undefined;
const walletOptions = { progress: (text: string) => progressOfCall?.(text) };

function unlocked(): Wallet {
  if (wallet === undefined) throw new EngineRefusal("locked", "this device is locked: unlock it first");
  return wallet;
}

/** A short text from the provider or the SDK (a state, a progress step) as the protocol carries it. */
export const shortText = (text: string) => showable(text, SHORT_TEXT_MAX) || "unknown";

/** A message of the SDK's (an error, a warning) as the protocol carries it. */
const message = (text: string) => showable(text, MESSAGE_MAX) || "the wallet engine failed";

const sessionOf = (opened: Wallet, state: string | null, offline = false): Session => ({
  providerUrl: opened.providerUrl ?? null,
  state: state === null ? null : shortText(state),
  offline,
});

const isProviderDown = (e: unknown) => e instanceof WalletError && e.code === "provider-down";
const isRevoked = (e: unknown) => e instanceof WalletError && e.details.providerError === "device-revoked";

/**
 * The device as it stands at the provider; when the provider cannot be reached, the session
 * without a state (the keystore is open: the page can show what it holds and say it is offline).
 */
async function standingOf(opened: Wallet): Promise<Session> {
  if (opened.providerUrl === undefined) return sessionOf(opened, null);
  try {
    return sessionOf(opened, (await opened.deviceState()).state);
  } catch (e) {
    if (isProviderDown(e)) return sessionOf(opened, null, true);
    if (isRevoked(e)) return sessionOf(opened, "revoked");
    throw e;
  }
}

const entryOf = (w: { name: string; state: string; members: unknown[] | null }): WalletEntry => ({
  name: w.name,
  state: shortText(w.state),
  hybrid: w.members === null,
});

/** Asks the page to confirm what a transaction does; true once the person confirmed it. */
export type Confirm = (review: Review) => Promise<boolean>;

/** `values` when a review can carry them all; more would leave some unseen, so nothing is signed. */
function all<T>(values: readonly T[]): readonly T[] {
  if (values.length > REVIEW_ITEMS_MAX)
    throw new ProtocolError("the transaction does more than this app can show for review: nothing was signed");
  return values;
}

/**
 * The SDK's description of the bytes it is about to sign, as plain data for the page: the page
 * shows this, never what the person typed, so what is confirmed is what the bytes do.
 */
function reviewOf(d: TransactionDescription): Review {
  return {
    network: d.network,
    action: shortText(d.action),
    transfers: all(d.transfers).map((t) => ({
      to: shortText(t.to),
      amount: shortText(t.text),
      from: t.from === undefined ? null : shortText(t.from),
    })),
    approvals: all(d.approvals).map((a) => ({
      spender: shortText(a.spender),
      amount: shortText(a.text),
      unlimited: a.unlimited,
    })),
    calls: all(d.calls).map((c) => ({
      contract: shortText(c.contract),
      selector: c.selector,
      name: c.name === undefined ? null : shortText(c.name),
    })),
    fee: shortText(d.fee.text),
    warnings: all(d.warnings).map(message),
  };
}

/** A send the wallet's policy holds, as the page shows it: what it waits for, and its request's id. */
function heldOf(e: WalletError): SendOutcome {
  const details = e.details as {
    requestId?: unknown;
    rule?: unknown;
    ruleNumber?: unknown;
    waitingFor?: { totp?: boolean; approvals?: { needed: number; have: number }; releaseMs?: number };
  };
  const ruleName = typeof details.rule === "string" && details.rule !== "" ? ` ("${details.rule}")` : "";
  return {
    kind: "held",
    requestId: shortText(String(details.requestId)),
    rule: shortText(typeof details.ruleNumber === "number" ? `rule ${details.ruleNumber}${ruleName}` : "a rule"),
    waitingFor: {
      totp: details.waitingFor?.totp === true,
      approvals: details.waitingFor?.approvals ?? null,
      releaseMs: details.waitingFor?.releaseMs ?? null,
    },
  };
}

const handlers: {
  [M in Method]: (args: Args<M>, progress: (text: string) => void, confirm: Confirm) => Promise<Result<M>>;
} = {
  unlockMethod: async () => (await Wallet.unlockMethod(storage)) ?? null,

  // The engine counts as unlocked only once the whole call has succeeded.
  init: async ({ unlock, name }) => {
    if (wallet !== undefined) throw new EngineRefusal("unlocked", "this device is set up already");
    const made = await Wallet.init(storage, unlock, { ...walletOptions, name });
    const session = sessionOf(made, null);
    wallet = made;
    return session;
  },

  open: async ({ unlock }) => {
    const opened = await Wallet.open(storage, unlock, walletOptions);
    const session = await standingOf(opened);
    wallet = opened;
    return session;
  },

  register: async ({ url, email }) => {
    const opened = unlocked();
    return sessionOf(opened, (await opened.register(url, email)).state);
  },

  verify: async ({ code }) => {
    const opened = unlocked();
    return sessionOf(opened, (await opened.verify(code)).state);
  },

  resendCode: async () => {
    const opened = unlocked();
    return sessionOf(opened, (await opened.resendCode()).state);
  },

  wallets: async () => (await unlocked().wallets()).map(entryOf),

  // A hybrid wallet whose key generation finished is active at the provider.
  createWallet: async ({ name }, progress) => {
    progress("asking the provider for a new wallet");
    return entryOf({ ...(await unlocked().createWallet({ name })), state: "active" });
  },

  // A wallet has an address on each chain whose transactions are signed with its scheme's algorithm.
  addresses: async ({ name }) => {
    const opened = unlocked();
    const { algorithm } = scheme(opened.find(name).scheme);
    return CHAIN_NAMES.filter((chain) => adapterOf(chain).kinds.transaction?.includes(algorithm)).map((chain) => ({
      chain,
      address: opened.address(name, chain),
    }));
  },

  balance: async ({ name, chain, rpc }) => {
    const address = unlocked().address(name, chain) as `0x${string}`;
    const node = createPublicClient({ transport: http(rpc, { retryCount: 0 }) });
    let chainId: number;
    let wei: bigint;
    try {
      [chainId, wei] = await Promise.all([node.getChainId(), node.getBalance({ address })]);
    } catch (e) {
      // Not the client's own message: it quotes the whole URL.
      throw new WalletError("rpc-failed", `the node at ${shownUrl(rpc)} did not tell the balance`, {}, { cause: e });
    }
    const coin = nativeCoin(chainId);
    return shortText(`${formatAmount(wei, coin.decimals ?? 18)} ${coin.symbol}`);
  },

  send: async ({ name, to, amount, token, rpc }, _progress, confirm) => {
    const opened = unlocked();
    let declined = false;
    try {
      const outcome = await opened.send({
        wallet: name,
        chain: "ethereum",
        to,
        amount,
        rpc,
        ...(token !== null && { token }),
        confirm: async (description) => {
          declined = !(await confirm(reviewOf(description)));
          return !declined;
        },
      });
      if (outcome.transactionId === undefined || outcome.receiptStatus === undefined)
        throw new WalletError("signing-failed", "the transaction was signed but not sent: nothing was broadcast");
      const { block } = await opened
        .transactionStatus({ wallet: name, chain: "ethereum", id: outcome.transactionId, rpc })
        .catch(() => ({ block: undefined }));
      return {
        kind: "sent",
        transactionId: outcome.transactionId,
        receipt: outcome.receiptStatus === 1 ? "confirmed" : "failed",
        block: block ?? null,
        sentBefore: outcome.sentBefore === true,
      };
    } catch (e) {
      if (declined && e instanceof WalletError && e.code === "usage") return { kind: "cancelled" };
      if (e instanceof WalletError && e.code === "held") return heldOf(e);
      throw e;
    }
  },
};

/** How much of a reason the provider gave is shown: enough for any it words itself. */
const PROVIDER_REASON_MAX = 300;

/** The SDK's message, with a reason the provider gave marked as the provider's words. */
function walletMessage(e: WalletError): string {
  if (e.code === "denied") {
    const rule = e.details.rule;
    const reason = typeof rule === "string" && rule !== "" ? showable(rule, PROVIDER_REASON_MAX) : "no rule allows it";
    return message(`the wallet's policy denies this: nothing was signed. The provider says: "${reason}"`);
  }
  const PROVIDER_REFUSED = "the provider refused: ";
  if (e.code !== "provider-refused" || !e.message.startsWith(PROVIDER_REFUSED)) return message(e.message);
  const reason = showable(e.message.slice(PROVIDER_REFUSED.length), PROVIDER_REASON_MAX);
  return message(`the provider refused the request. The provider says: "${reason}"`);
}

/** An error as the page is told it: the SDK's code and advice kept, nothing but the message otherwise. */
export function engineFailureOf(e: unknown): EngineFailure {
  if (e instanceof WalletError || e instanceof KeystoreError) {
    const next = describeNextStep(e.next);
    return {
      code: e.code,
      message: e instanceof WalletError ? walletMessage(e) : message(e.message),
      next: next === null ? null : showable(next, NEXT_STEP_MAX),
    };
  }
  if (e instanceof EngineRefusal) return { code: e.code, message: e.message, next: null };
  if (e instanceof ProtocolError) return { code: "protocol", message: message(e.message), next: null };
  return {
    code: "internal",
    message: message(`the wallet engine failed: ${e instanceof Error ? e.message : String(e)}`),
    next: "Reload the page and try again.",
  };
}

/** Runs one call; `progress` gets the SDK's step texts while it runs, `confirm` asks the page. */
export async function handle(
  { method, args }: Call,
  progress: (text: string) => void,
  confirm: Confirm,
): Promise<unknown> {
  progressOfCall = progress;
  try {
    const handler = handlers[method] as (
      args: Args<Method>,
      progress: (text: string) => void,
      confirm: Confirm,
    ) => Promise<unknown>;
    return await handler(args, progress, confirm);
  } finally {
    progressOfCall = undefined;
  }
}
