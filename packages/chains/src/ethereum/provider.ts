/**
 * An EIP-1193 `request()` provider backed by a keyshard signer: what a dApp or a library such as
 * viem or ethers talks to as "the wallet". Account and signing methods are answered here; reads
 * are forwarded to the JSON-RPC node given by `rpcUrl`, which also fills in nonces, gas and fees
 * and receives the signed transactions.
 */
import {
  type Address,
  createWalletClient,
  defineChain,
  type Hex,
  http,
  InvalidParamsRpcError,
  isHex,
  SwitchChainError,
  type TypedDataDefinition,
  toHex,
  UnauthorizedProviderError,
  UnsupportedProviderMethodError,
} from "viem";
import type { EcdsaSigner } from "../signer.js";
import { keyshardAccount } from "./account.js";

export interface KeyshardProviderOptions {
  signer: EcdsaSigner;
  chainId: number;
  /** A JSON-RPC endpoint of the chain; without it only account and signing methods work. */
  rpcUrl?: string;
}

export interface Eip1193Provider {
  request(args: { method: string; params?: unknown }): Promise<unknown>;
}

/** Raw-digest signing (`eth_sign`) is blind signing: nobody can show what is being approved. */
const REFUSED_METHODS = new Set(["eth_sign", "eth_signTypedData", "eth_signTypedData_v1", "eth_signTypedData_v3"]);

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

  function upstream(method: string) {
    if (node === undefined)
      throw new UnsupportedProviderMethodError(new Error(`${method} needs a JSON-RPC node (rpcUrl)`));
    return node;
  }

  const checkOwnAddress = (address: unknown) => checkAddress(address, account.address);

  return {
    async request({ method, params }) {
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
          if (target !== toHex(chainId)) throw new SwitchChainError(new Error(`this provider serves chain ${chainId}`));
          return null;
        }
        default:
          if (REFUSED_METHODS.has(method))
            throw new UnsupportedProviderMethodError(new Error(`${method} signs blindly and is refused`));
          return upstream(method).request({ method, params: list } as never);
      }
    },
  };
}

function checkAddress(address: unknown, own: Address): void {
  if (typeof address !== "string" || address.toLowerCase() !== own.toLowerCase())
    throw new UnauthorizedProviderError(new Error(`this provider signs only for ${own}`));
}

function invalid(message: string): never {
  throw new InvalidParamsRpcError(new Error(message));
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
  if (tx.to !== undefined && tx.to !== null && (typeof tx.to !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(tx.to)))
    invalid("to must be an address");
  const nonce = quantity(tx.nonce, "nonce");
  if (nonce !== undefined && nonce > BigInt(Number.MAX_SAFE_INTEGER)) invalid("nonce is too large");
  const chain = quantity(tx.chainId, "chainId");
  if (chain !== undefined && chain !== BigInt(chainId)) invalid("chainId differs from the provider's chain");
  const maxFeePerGas = quantity(tx.maxFeePerGas, "maxFeePerGas");
  const maxPriorityFeePerGas = quantity(tx.maxPriorityFeePerGas, "maxPriorityFeePerGas");
  const gasPrice = quantity(tx.gasPrice, "gasPrice");
  return {
    to: (tx.to ?? undefined) as Address | undefined,
    data: data as Hex | undefined,
    value: quantity(tx.value, "value"),
    gas: quantity(tx.gas, "gas"),
    nonce: nonce === undefined ? undefined : Number(nonce),
    ...(gasPrice !== undefined ? { gasPrice } : { maxFeePerGas, maxPriorityFeePerGas }),
  };
}
