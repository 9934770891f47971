/**
 * The device's calls to its provider: every one signed by the device's identity key
 * (`@keyshard/transport`'s signedFetch), failures turned into `WalletError`s that say what to do.
 */
import { type DeviceIdentity, ProviderError, signedFetch } from "@keyshard/transport";
import { WalletError } from "./errors.js";

export class ProviderClient {
  constructor(
    readonly url: string,
    private readonly identity: DeviceIdentity,
    /** Sees every reply's headers. */
    private readonly onHeaders?: (headers: Record<string, string | string[] | undefined>) => void,
  ) {}

  async call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
    try {
      return (await signedFetch(this.url, this.identity, method, path, body, this.onHeaders)) as T;
    } catch (e) {
      if (e instanceof ProviderError) {
        if (e.code === "outcome-unknown")
          throw new WalletError(
            "provider-down",
            "the connection to the provider dropped while it had the request, which it may have carried out: look at the wallet's requests before repeating it",
            {},
            { cause: e },
          );
        const reason = e.message.replace(/^\S+ \S+: \d+ /, "");
        if (e.status === 401)
          throw new WalletError(
            "not-registered",
            `the provider does not know this device yet (${reason})`,
            {},
            { cause: e, next: { step: "register-and-verify" } },
          );
        throw new WalletError(
          "provider-refused",
          `the provider refused: ${reason}`,
          { status: e.status, providerError: e.code },
          { cause: e },
        );
      }
      throw new WalletError(
        "provider-down",
        `cannot reach the provider at ${this.url} (${e instanceof Error ? e.message : String(e)}): is it running, and is the URL right?`,
        {},
        { cause: e },
      );
    }
  }
}
