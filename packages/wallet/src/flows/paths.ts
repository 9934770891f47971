/**
 * A derivation path the caller gave: one the derivation refuses (a hardened step a shared key
 * cannot take, a malformed step, too deep) is the caller's mistake, a `usage` error naming the
 * `path` parameter, not a failure of the wallet.
 */
import { DerivationError } from "@keyshard/mpc";
import { WalletError } from "../errors.js";

/** `derive()`, which derives at a path the caller gave, with that path's refusal in the SDK's words. */
export function atPath<T>(derive: () => T): T {
  try {
    return derive();
  } catch (e) {
    if (e instanceof DerivationError)
      throw new WalletError("usage", `\`path\`: ${e.message}`, { parameter: "path" }, { cause: e });
    throw e;
  }
}
