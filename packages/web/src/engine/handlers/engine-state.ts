/**
 * What every area's handlers share inside the wallet engine: this browser's keystore, the one
 * `Wallet` once unlocked, where the SDK's progress texts go, and how the SDK's texts are cut to
 * what the protocol carries.
 */
import { indexedDbKeystore, type Wallet } from "@keyshard/wallet/browser";
import type { MethodShape } from "../readers.js";
import type { Review } from "../review.js";

/** A call the engine refuses in its own right (not the SDK's): the device is locked, or set up already. */
export class EngineRefusal extends Error {
  override readonly name = "EngineRefusal";
  constructor(
    readonly code: "locked" | "unlocked",
    message: string,
  ) {
    super(message);
  }
}

export const storage = indexedDbKeystore();
let wallet: Wallet | undefined;
/** Where the SDK's progress texts go: the running call's progress, or nowhere between calls. */
let progressOfCall: ((text: string) => void) | undefined;
export const walletOptions = { progress: (text: string) => progressOfCall?.(text) };

export function unlocked(): Wallet {
  if (wallet === undefined) throw new EngineRefusal("locked", "this device is locked: unlock it first");
  return wallet;
}

// Defined beside the policy's words, which the console shows without the SDK.
export { fitShort, message } from "../rule-words.js";

/** Keeps `opened` as this engine's wallet: the engine counts as unlocked from now on. */
export function keepWallet(opened: Wallet): void {
  wallet = opened;
}

/** Whether a wallet is open in this engine. */
export const isUnlocked = () => wallet !== undefined;

/** Sends the SDK's progress texts to `to` while a call runs (undefined between calls). */
export function reportProgressTo(to: ((text: string) => void) | undefined): void {
  progressOfCall = to;
}

/** Asks the page to confirm what a transaction does; true once the person confirmed it. */
export type Confirm = (review: Review) => Promise<boolean>;

/** One area's handlers: each method of its calls, run on its arguments. */
export type Handlers<T extends { [M in keyof T]: MethodShape }> = {
  [M in keyof T]: (args: T[M]["args"], progress: (text: string) => void, confirm: Confirm) => Promise<T[M]["result"]>;
};
