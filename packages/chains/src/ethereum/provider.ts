/**
 * An EIP-1193 provider backed by a keyshard signer: what a dApp or a library such as viem, ethers
 * or wagmi talks to as "the wallet". Account and signing methods are answered here; reads are
 * forwarded to the JSON-RPC node given by `rpcUrl`, which also fills in nonces, gas and fees and
 * receives the signed transactions. Every refusal is an EIP-1193 error with a standard code and a
 * message saying why, so that it survives the wrapping of the dApp's own library.
 */
import {
  type Address,
  createWalletClient,
  defineChain,
  type Hex,
  HttpRequestError,
  http,
  isHex,
  RpcRequestError,
  TimeoutError,
  type TypedDataDefinition,
  toHex,
} from "viem";
import { ChainError } from "../errors.js";
import type { EcdsaSigner } from "../signer.js";
import { keyshardAccount } from "./account.js";

export interface KeyshardProviderOptions {
  /**
   * The key. A signer whose person or policy declines throws an error with `code: 4001`
   * (`Eip1193Error`, or viem's `UserRejectedRequestError`); the dApp then sees "user rejected".
   */
  signer: EcdsaSigner;
  chainId: number;
  /** A JSON-RPC endpoint of the chain; without it only account and signing methods work. */
  rpcUrl?: string;
}

/** The standard codes of EIP-1193 and JSON-RPC that this provider answers with. */
export const EIP1193_ERROR_CODES = {
  userRejected: 4001,
  unauthorized: 4100,
  unsupportedMethod: 4200,
  disconnected: 4900,
  chainDisconnected: 4901,
  unrecognizedChain: 4902,
  invalidParams: -32602,
  internal: -32603,
} as const;

/** EIP-1193's `ProviderRpcError`. */
export interface ProviderRpcError extends Error {
  code: number;
  data?: unknown;
}

/** A `ProviderRpcError` whose message is the reason alone, for the dApp's library to wrap. */
export class Eip1193Error extends Error implements ProviderRpcError {
  override readonly name = "Eip1193Error";
  readonly data?: unknown;
  constructor(
    readonly code: number,
    message: string,
    options?: ErrorOptions & { data?: unknown },
  ) {
    super(message, options);
    if (options?.data !== undefined) this.data = options.data;
  }
}

export interface Eip1193EventMap {
  connect(info: { chainId: Hex }): void;
  disconnect(error: ProviderRpcError): void;
  chainChanged(chainId: Hex): void;
  accountsChanged(accounts: Address[]): void;
  message(message: { type: string; data: unknown }): void;
}

export type Eip1193EventName = keyof Eip1193EventMap;

export interface Eip1193Provider {
  request(args: { method: string; params?: unknown }): Promise<unknown>;
  on<E extends Eip1193EventName>(event: E, listener: Eip1193EventMap[E]): this;
  once<E extends Eip1193EventName>(event: E, listener: Eip1193EventMap[E]): this;
  removeListener<E extends Eip1193EventName>(event: E, listener: Eip1193EventMap[E]): this;
  off<E extends Eip1193EventName>(event: E, listener: Eip1193EventMap[E]): this;
}

const {
  userRejected,
  unauthorized,
  unsupportedMethod,
  disconnected,
  chainDisconnected,
  unrecognizedChain,
  invalidParams,
  internal,
} = EIP1193_ERROR_CODES;

/** Raw-digest signing (`eth_sign`) is blind signing: nobody can show what is being approved. */
const REFUSED_METHODS = new Set(["eth_sign", "eth_signTypedData", "eth_signTypedData_v1", "eth_signTypedData_v3"]);

/**
 * The provider serves one account on one chain for its whole life, so `chainChanged` and
 * `accountsChanged` are never emitted and `disconnect` has no cause; `connect` is emitted once,
 * on the microtask after creation, so listeners added right after `keyshardProvider()` hear it.
 * A listener that throws is ignored, as browsers' wallet providers do: the other listeners are
 * still called and nothing escapes as an uncaught exception.
 */
export function keyshardProvider(options: KeyshardProviderOptions): Eip1193Provider {
  const { chainId, rpcUrl } = options;
  const account = keyshardAccount(options.signer);
  const chain = defineChain({
    id: chainId,
    name: `eip155:${chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: rpcUrl === undefined ? [] : [rpcUrl] } },
  });
  const node = rpcUrl === undefined ? undefined : createWalletClient({ account, chain, transport: http(rpcUrl) });
  const events = new Listeners();

  function upstream(method: string) {
    if (node === undefined) throw new Eip1193Error(unsupportedMethod, `${method} needs a JSON-RPC node (rpcUrl)`);
    return node;
  }

  const checkOwnAddress = (address: unknown) => checkAddress(address, account.address);

  async function answer(method: string, params: unknown): Promise<unknown> {
    const list = params === undefined ? [] : Array.isArray(params) ? params : invalid("params must be an array");
    switch (method) {
      case "eth_accounts":
      case "eth_requestAccounts":
        return [account.address];
      case "eth_chainId":
        return toHex(chainId);
      case "personal_sign": {
        const [data, address] = list;
        checkOwnAddress(address);
        if (typeof data !== "string" || !isHex(data)) invalid("personal_sign expects hex-encoded message bytes");
        return account.signMessage({ message: { raw: data as Hex } });
      }
      case "eth_signTypedData_v4": {
        const [address, typedData] = list;
        checkOwnAddress(address);
        const parsed = parseTypedData(typedData);
        // As wallets do: a signature for another chain's contract (a Permit there) is not asked for here.
        const domainChain = (parsed.domain as { chainId?: unknown } | undefined)?.chainId;
        if (domainChain !== undefined && !sameChain(domainChain, chainId))
          invalid(`typed data is for chain ${String(domainChain)}, this provider serves chain ${chainId}`);
        return account.signTypedData(parsed);
      }
      case "eth_signTransaction": {
        const request = await upstream(method).prepareTransactionRequest(
          transactionRequest(list[0], account.address, chainId),
        );
        return account.signTransaction(request as never);
      }
      case "eth_sendTransaction":
        return upstream(method).sendTransaction(transactionRequest(list[0], account.address, chainId));
      case "wallet_switchEthereumChain": {
        const target = (list[0] as { chainId?: unknown } | undefined)?.chainId;
        if (typeof target !== "string" || !CHAIN_ID_QUANTITY.test(target))
          invalid("wallet_switchEthereumChain expects { chainId } as a hex quantity");
        if (BigInt(target) !== BigInt(chainId))
          throw new Eip1193Error(unrecognizedChain, `this provider serves chain ${chainId} only`);
        return null;
      }
      default:
        if (REFUSED_METHODS.has(method))
          throw new Eip1193Error(unsupportedMethod, `${method} signs blindly and is refused`);
        return upstream(method).request({ method, params: list } as never);
    }
  }

  const provider: Eip1193Provider = {
    async request({ method, params }) {
      try {
        return await answer(method, params);
      } catch (error) {
        throw providerError(error, rpcUrl);
      }
    },
    on(event, listener) {
      events.add(event, listener as Listener, false);
      return provider;
    },
    once(event, listener) {
      events.add(event, listener as Listener, true);
      return provider;
    },
    removeListener(event, listener) {
      events.remove(event, listener as Listener);
      return provider;
    },
    off(event, listener) {
      return provider.removeListener(event, listener);
    },
  };
  queueMicrotask(() => events.emit("connect", { chainId: toHex(chainId) }));
  return provider;
}

type Listener = (payload: never) => void;

/** Node's EventEmitter semantics (duplicates allowed, the latest one removed first), without Node. */
class Listeners {
  readonly #byEvent = new Map<Eip1193EventName, { listener: Listener; once: boolean }[]>();

  add(event: Eip1193EventName, listener: Listener, once: boolean): void {
    this.#byEvent.set(event, [...(this.#byEvent.get(event) ?? []), { listener, once }]);
  }

  remove(event: Eip1193EventName, listener: Listener): void {
    const entries = this.#byEvent.get(event) ?? [];
    const index = entries.map((entry) => entry.listener).lastIndexOf(listener);
    if (index >= 0) this.#byEvent.set(event, [...entries.slice(0, index), ...entries.slice(index + 1)]);
  }

  emit<E extends Eip1193EventName>(event: E, payload: Parameters<Eip1193EventMap[E]>[0]): void {
    const entries = this.#byEvent.get(event) ?? [];
    this.#byEvent.set(
      event,
      entries.filter((entry) => !entry.once),
    );
    for (const { listener } of entries) {
      try {
        (listener as (payload: unknown) => void)(payload);
      } catch {
        // A dApp's faulty listener must neither silence the others nor crash the dApp's page.
      }
    }
  }
}

/** The codes a signer or this provider uses for its own refusals, wherever they sit in a chain of causes. */
const PROVIDER_CODES = new Set<number>([
  userRejected,
  unauthorized,
  unsupportedMethod,
  disconnected,
  chainDisconnected,
]);

/**
 * What the caller receives: whatever came from the node as an `Eip1193Error` rebuilt from the
 * node's own code, message and data; an error that already carries a numeric code (ours) as it
 * is; otherwise the reason found among its causes (a signer's refusal, keyshard's `ChainError`)
 * as an `Eip1193Error` with the original as its cause.
 */
function providerError(error: unknown, rpcUrl: string | undefined): unknown {
  const fromNode = nodeError(error, rpcUrl);
  if (fromNode !== undefined) return fromNode;
  if (typeof (error as { code?: unknown } | null)?.code === "number") return error;
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === "number" && PROVIDER_CODES.has(code))
      return new Eip1193Error(code, cause.message, { cause: error });
    if (cause instanceof ChainError)
      return new Eip1193Error(cause.code === "bad-signature" ? internal : invalidParams, cause.message, {
        cause: error,
      });
  }
  return error;
}

/**
 * viem's errors for a node's answer carry the node's URL (in `url` and in their messages), and an
 * RPC URL often holds an API key in its path or query: the dApp gets none of them, no viem error
 * as a cause, only the node's code, its message with the URL's parts blanked, and its `data`.
 */
function nodeError(error: unknown, rpcUrl: string | undefined): Eip1193Error | undefined {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof RpcRequestError) {
      const message = withoutUrl(cause.details, rpcUrl);
      return new Eip1193Error(cause.code, message, cause.data === undefined ? {} : { data: cause.data });
    }
    if ((cause instanceof HttpRequestError && cause.status === undefined) || cause instanceof TimeoutError)
      return new Eip1193Error(chainDisconnected, "the chain's JSON-RPC node (rpcUrl) did not answer");
    if (cause instanceof HttpRequestError)
      return new Eip1193Error(internal, `the chain's JSON-RPC node (rpcUrl) answered HTTP ${cause.status}`);
  }
  return undefined;
}

/** Parts of a URL shorter than this are words such as `v3` or `rpc`, not keys. */
const MIN_SECRET_LENGTH = 6;

/** `text` with the URL, its path and query, and each of their longer parts replaced. */
function withoutUrl(text: string, rpcUrl: string | undefined): string {
  if (rpcUrl === undefined) return text;
  const parts = [rpcUrl];
  try {
    const url = new URL(rpcUrl);
    parts.push(url.href, `${url.pathname}${url.search}`, url.username, url.password);
    parts.push(...url.pathname.split("/"), ...[...url.searchParams].flat());
  } catch {
    // A URL that does not parse is blanked whole only.
  }
  return parts
    .filter((part) => part.length >= MIN_SECRET_LENGTH)
    .sort((a, b) => b.length - a.length)
    .reduce((redacted, part) => redacted.split(part).join("[rpcUrl]"), text);
}

function checkAddress(address: unknown, own: Address): void {
  if (typeof address !== "string" || address.toLowerCase() !== own.toLowerCase())
    throw new Eip1193Error(unauthorized, `this provider signs only for ${own}`);
}

function invalid(message: string): never {
  throw new Eip1193Error(invalidParams, message);
}

function parseTypedData(value: unknown): TypedDataDefinition {
  let parsed: unknown = value;
  if (typeof value === "string") {
    try {
      parsed = JSON.parse(value);
    } catch {
      invalid("typed data is not JSON");
    }
  }
  if (typeof parsed !== "object" || parsed === null) invalid("typed data must be an object");
  const { domain, types, primaryType, message } = parsed as Record<string, unknown>;
  if (typeof types !== "object" || types === null || typeof primaryType !== "string" || typeof message !== "object")
    invalid("typed data needs types, primaryType and message");
  return { domain: (domain ?? {}) as never, types: types as never, primaryType, message: message as never };
}

function sameChain(value: unknown, chainId: number): boolean {
  if (typeof value !== "number" && typeof value !== "string" && typeof value !== "bigint") return false;
  try {
    return BigInt(value) === BigInt(chainId);
  } catch {
    return false;
  }
}

const QUANTITY = /^0x(0|[1-9a-f][0-9a-f]*)$/i;
/** What wallets accept as `wallet_switchEthereumChain`'s chain id: leading zeros and any case, bounded. */
const CHAIN_ID_QUANTITY = /^0x[0-9a-f]{1,64}$/i;

function quantity(value: unknown, field: string): bigint | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string" || !QUANTITY.test(value)) invalid(`${field} must be a hex quantity`);
  return BigInt(value);
}

/** An RPC transaction object (hex quantities) as viem's request, with `from` and chain checked. */
function transactionRequest(value: unknown, own: Address, chainId: number) {
  if (typeof value !== "object" || value === null) invalid("expected a transaction object");
  const tx = value as Record<string, unknown>;
  if (tx.from !== undefined) checkAddress(tx.from, own);
  const data = tx.data ?? tx.input;
  if (data !== undefined && (typeof data !== "string" || !isHex(data))) invalid("data must be hex");
  if (tx.to !== undefined && tx.to !== null && (typeof tx.to !== "string" || !ADDRESS.test(tx.to)))
    invalid("to must be an address");
  const nonce = quantity(tx.nonce, "nonce");
  if (nonce !== undefined && nonce > BigInt(Number.MAX_SAFE_INTEGER)) invalid("nonce is too large");
  const chain = quantity(tx.chainId, "chainId");
  if (chain !== undefined && chain !== BigInt(chainId)) invalid("chainId differs from the provider's chain");
  const maxFeePerGas = quantity(tx.maxFeePerGas, "maxFeePerGas");
  const maxPriorityFeePerGas = quantity(tx.maxPriorityFeePerGas, "maxPriorityFeePerGas");
  const gasPrice = quantity(tx.gasPrice, "gasPrice");
  // Which fee the dApp means cannot be guessed, and signing either drops what it said of the other.
  if (gasPrice !== undefined && (maxFeePerGas !== undefined || maxPriorityFeePerGas !== undefined))
    invalid("gasPrice cannot be given with maxFeePerGas or maxPriorityFeePerGas");
  const type = transactionType(tx);
  const accessList = tx.accessList === undefined ? undefined : parseAccessList(tx.accessList);
  if (type === "legacy" && accessList !== undefined && accessList.length > 0)
    invalid("accessList is not part of a legacy (0x0) transaction");
  if ((type === "legacy" || type === "eip2930") && (maxFeePerGas !== undefined || maxPriorityFeePerGas !== undefined))
    invalid(
      `${type === "legacy" ? "a legacy (0x0)" : "an EIP-2930 (0x1)"} transaction pays gasPrice, not maxFeePerGas`,
    );
  if (type === "eip1559" && gasPrice !== undefined)
    invalid("an EIP-1559 (0x2) transaction pays maxFeePerGas, not gasPrice");
  const common = {
    to: (tx.to ?? undefined) as Address | undefined,
    data: data as Hex | undefined,
    value: quantity(tx.value, "value"),
    gas: quantity(tx.gas, "gas"),
    nonce: nonce === undefined ? undefined : Number(nonce),
  };
  // Without a declared type the fee fields say which one, and viem picks for the chain when neither
  // does; an access list with gasPrice is EIP-2930 (`transactionType`), without it EIP-1559.
  if (type === "eip2930") return { ...common, type: "eip2930" as const, gasPrice, accessList: accessList ?? [] };
  if (type === "legacy" || (type === undefined && gasPrice !== undefined))
    return { ...common, type: "legacy" as const, gasPrice };
  if (accessList !== undefined)
    return { ...common, type: "eip1559" as const, maxFeePerGas, maxPriorityFeePerGas, accessList };
  return { ...common, ...(type === undefined ? {} : { type }), maxFeePerGas, maxPriorityFeePerGas };
}

/** Bounds on an access list: far above what a block's gas can pay for, far below what strains a signer. */
const MAX_ACCESS_LIST_ENTRIES = 1024;
const MAX_ACCESS_LIST_STORAGE_KEYS = 16_384;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const STORAGE_KEY = /^0x[0-9a-fA-F]{64}$/;

/** An EIP-2930 access list, each address and storage key checked, so that it is signed as given. */
function parseAccessList(value: unknown): { address: Address; storageKeys: Hex[] }[] {
  if (!Array.isArray(value)) invalid("accessList must be an array");
  if (value.length > MAX_ACCESS_LIST_ENTRIES) invalid(`accessList has more than ${MAX_ACCESS_LIST_ENTRIES} entries`);
  let keyCount = 0;
  return value.map((entry: unknown) => {
    const { address, storageKeys } = (typeof entry === "object" && entry !== null ? entry : {}) as Record<
      string,
      unknown
    >;
    if (typeof address !== "string" || !ADDRESS.test(address))
      invalid("accessList entries need an address of 20 bytes in hex");
    if (!Array.isArray(storageKeys) || !storageKeys.every((key) => typeof key === "string" && STORAGE_KEY.test(key)))
      invalid("accessList storageKeys must be an array of 32-byte hex keys");
    keyCount += storageKeys.length;
    if (keyCount > MAX_ACCESS_LIST_STORAGE_KEYS)
      invalid(`accessList has more than ${MAX_ACCESS_LIST_STORAGE_KEYS} storage keys`);
    return { address: address as Address, storageKeys: storageKeys as Hex[] };
  });
}

const SIGNED_TYPES = new Map<bigint, "legacy" | "eip2930" | "eip1559">([
  [0n, "legacy"],
  [1n, "eip2930"],
  [2n, "eip1559"],
]);
const REFUSED_TYPE_NAMES = new Map([
  [3n, "EIP-4844 blob"],
  [4n, "EIP-7702 authorization"],
]);

/**
 * The EIP-2718 type asked for, refused unless keyshard signs it. A field only another type has
 * decides over the declared `type`: dropping it would sign a transaction the dApp did not ask for.
 * An access list with gasPrice, neither of them only EIP-2930's, says type 1 only when no type is
 * declared; with one, `transactionRequest` refuses the field the declared type lacks.
 */
function transactionType(tx: Record<string, unknown>): "legacy" | "eip2930" | "eip1559" | undefined {
  const implied =
    tx.authorizationList !== undefined
      ? 4n
      : tx.blobVersionedHashes !== undefined || tx.maxFeePerBlobGas !== undefined || tx.blobs !== undefined
        ? 3n
        : undefined;
  const declared = quantity(tx.type, "type");
  const type =
    implied ??
    declared ??
    (tx.accessList !== undefined && tx.gasPrice !== undefined && tx.gasPrice !== null ? 1n : undefined);
  if (type === undefined) return undefined;
  const signed = SIGNED_TYPES.get(type);
  if (signed !== undefined) return signed;
  const name = REFUSED_TYPE_NAMES.get(type);
  return invalid(
    `transaction type 0x${type.toString(16)}${name === undefined ? "" : ` (${name})`} is not signed by keyshard, ` +
      "only EIP-1559 (0x2), EIP-2930 (0x1) and legacy EIP-155 (0x0) transactions",
  );
}
