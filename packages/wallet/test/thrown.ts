/**
 * What a step of the SDK failed with, for tests that look at the error itself: the test fails when
 * the step succeeds or fails with another kind of error.
 */
import { expect } from "vitest";
import { WalletError } from "../src/errors.js";
import { KeystoreError } from "../src/keystore.js";

/** The WalletError `work` throws. */
export function refusal(work: () => unknown): WalletError {
  try {
    work();
  } catch (e) {
    expect(e).toBeInstanceOf(WalletError);
    return e as WalletError;
  }
  throw new Error("expected a WalletError");
}

/** The WalletError the promise `work` rejects with. */
export async function walletFailure(work: Promise<unknown>): Promise<WalletError> {
  try {
    await work;
  } catch (e) {
    expect(e).toBeInstanceOf(WalletError);
    return e as WalletError;
  }
  throw new Error("expected a WalletError");
}

/** The KeystoreError `work` fails with. */
export async function keystoreFailure(work: Promise<unknown>): Promise<KeystoreError> {
  try {
    await work;
  } catch (e) {
    expect(e).toBeInstanceOf(KeystoreError);
    return e as KeystoreError;
  }
  throw new Error("expected a KeystoreError");
}
