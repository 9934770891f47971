/**
 * The device's calls to its provider: every one signed by the device's identity key
 * (`@keyshard/transport`'s signedFetch), failures turned into `WalletError`s that say what to do.
 */
import type { BodyOf, Endpoint, ParamsOf, QueryOf, ReplyOf } from "@keyshard/api";
import { type DeviceIdentity, ProviderError, signedFetch } from "@keyshard/transport";
import { WalletError } from "./errors.js";

/**
 * What a request to `E` carries: its path parameters, its query and its body, each where the
 * endpoint has one. A body that the contract lets be null may be left out.
 */
export type RequestInput<E extends Endpoint> = (ParamsOf<E> extends undefined
  ? { params?: never }
  : { params: ParamsOf<E> }) &
  (QueryOf<E> extends undefined ? { query?: never } : { query?: QueryOf<E> }) &
  (BodyOf<E> extends undefined
    ? { body?: never }
    : null extends BodyOf<E>
      ? { body?: BodyOf<E> }
      : { body: BodyOf<E> });

/**
 * `path` with each `:name` replaced by its parameter, URI-encoded. An empty, "." or ".." value is
 * refused: URL resolution would drop or climb that segment, so the request would reach another
 * path than the one it signed.
 */
function fillPath(path: string, params: Record<string, string> | undefined): string {
  return path.replace(/:(\w+)/g, (_, name: string) => {
    const value = params?.[name];
    if (value === undefined) throw new TypeError(`no value for the path parameter ${name} of ${path}`);
    if (value === "" || value === "." || value === "..")
      throw new WalletError("usage", `the ${name} in ${path} cannot be ${JSON.stringify(value)}`);
    return encodeURIComponent(value);
  });
}

/** `?name=value&…` of the query's fields that are set, URI-encoded; empty when none is. */
function queryString(query: Record<string, string | undefined> | undefined): string {
  const fields = Object.entries(query ?? {}).filter((field): field is [string, string] => field[1] !== undefined);
  return fields.length === 0
    ? ""
    : `?${fields.map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`).join("&")}`;
}

export class ProviderClient {
  constructor(
    readonly url: string,
    private readonly identity: DeviceIdentity,
    /** Sees every reply's headers. */
    private readonly onHeaders?: (headers: Record<string, string | string[] | undefined>) => void,
  ) {}

  /** Calls `endpoint` of the provider's contract (`endpoints` of `@keyshard/api`). */
  async request<E extends Endpoint>(
    endpoint: E,
    ...[input]: Record<never, never> extends RequestInput<E> ? [RequestInput<E>?] : [RequestInput<E>]
  ): Promise<ReplyOf<E>> {
    const { params, query, body } = (input ?? {}) as {
      params?: Record<string, string>;
      query?: Record<string, string>;
      body?: unknown;
    };
    const path = fillPath(endpoint.path, params) + queryString(query);
    return (await this.send(endpoint.method, path, body)) as ReplyOf<E>;
  }

  private async send(method: string, path: string, body: unknown): Promise<unknown> {
    try {
      return await signedFetch(this.url, this.identity, method, path, body, this.onHeaders);
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
