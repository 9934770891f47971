/**
 * What the wallet engine does: it holds this browser's one `Wallet` (its keystore in IndexedDB)
 * and runs each call of the allow-list on it (`protocol.ts`). Loaded by the engine's worker
 * (`worker.ts`), never by the page.
 */
import { adapterOf, CHAIN_NAMES } from "@keyshard/chains";
import { scheme } from "@keyshard/mpc";
import { indexedDbKeystore, KeystoreError, Wallet, WalletError } from "@keyshard/wallet/browser";
import { describeNextStep } from "./next-steps.js";
import {
  type Args,
  type Call,
  type EngineFailure,
  MESSAGE_MAX,
  type Method,
  NEXT_STEP_MAX,
  ProtocolError,
  type Result,
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

const handlers: { [M in Method]: (args: Args<M>, progress: (text: string) => void) => Promise<Result<M>> } = {
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
};

const message = (text: string) => showable(text, MESSAGE_MAX) || "the wallet engine failed";

/** How much of a reason the provider gave is shown: enough for any it words itself. */
const PROVIDER_REASON_MAX = 300;

/** The SDK's message, with a reason the provider gave marked as the provider's words. */
function walletMessage(e: WalletError): string {
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

/** Runs one call; `progress` gets the SDK's step texts while it runs. */
export async function handle({ method, args }: Call, progress: (text: string) => void): Promise<unknown> {
  progressOfCall = progress;
  try {
    const handler = handlers[method] as (args: Args<Method>, progress: (text: string) => void) => Promise<unknown>;
    return await handler(args, progress);
  } finally {
    progressOfCall = undefined;
  }
}
