/**
 * The engine's handlers for setting the device up, unlocking it, its wallets, their addresses and
 * balances, and sending.
 */
import { adapterOf, CHAIN_NAMES, nativeCoin } from "@keyshard/chains";
import { scheme } from "@keyshard/mpc";
import { formatAmount, shownUrl, Wallet, WalletError } from "@keyshard/wallet/browser";
import { createPublicClient, http } from "viem";
import type { CoreMethods, Session, WalletEntry } from "../calls/core.js";
import {
  EngineRefusal,
  fitShort,
  type Handlers,
  isUnlocked,
  keepWallet,
  storage,
  unlocked,
  walletOptions,
} from "./engine-state.js";
import { heldOf, reviewOf, sentOf } from "./review.js";

const sessionOf = (opened: Wallet, state: string | null, offline = false): Session => ({
  providerUrl: opened.providerUrl ?? null,
  state: state === null ? null : fitShort(state),
  offline,
  deviceId: opened.providerUrl === undefined ? null : opened.deviceId,
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

export const entryOf = (w: { name: string; state: string; members: unknown[] | null }): WalletEntry => ({
  name: w.name,
  state: fitShort(w.state),
  hybrid: w.members === null,
});

/**
 * How long a send of a wallet shared with other devices waits for them to co-sign: a person has
 * to open the app there and read the transaction, which a program's minute does not allow.
 */
const COSIGNERS_WAIT_MS = 5 * 60_000;

export const coreHandlers: Handlers<CoreMethods> = {
  unlockMethod: async () => (await Wallet.unlockMethod(storage)) ?? null,

  // The engine counts as unlocked only once the whole call has succeeded.
  init: async ({ unlock, name }) => {
    if (isUnlocked()) throw new EngineRefusal("unlocked", "this device is set up already");
    const made = await Wallet.init(storage, unlock, { ...walletOptions, name });
    const session = sessionOf(made, null);
    keepWallet(made);
    return session;
  },

  open: async ({ unlock }) => {
    const opened = await Wallet.open(storage, unlock, walletOptions);
    const session = await standingOf(opened);
    keepWallet(opened);
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
  createWallet: async ({ name, policyTemplate }, progress) => {
    progress("asking the provider for a new wallet");
    const made = await unlocked().createWallet({ name, ...(policyTemplate !== null && { policyTemplate }) });
    return entryOf({ ...made, state: "active" });
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
    return fitShort(`${formatAmount(wei, coin.decimals ?? 18)} ${coin.symbol}`);
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
        waitMs: COSIGNERS_WAIT_MS,
        confirm: async (description) => {
          declined = !(await confirm(reviewOf(description)));
          return !declined;
        },
      });
      return await sentOf(opened, name, outcome, rpc);
    } catch (e) {
      if (declined && e instanceof WalletError && e.code === "usage") return { kind: "cancelled" };
      if (e instanceof WalletError && e.code === "held") return heldOf(e);
      throw e;
    }
  },
};
