/**
 * The summary a device shows before it co-signs and a policy engine evaluates. Each chain's
 * `describe` computes it from the bytes that will be signed and from nothing a client claims.
 */
import { formatUnits } from "viem";
import type { ChainName } from "./names.js";

export interface Asset {
  /** "ETH", "BTC", "SOL", a token's symbol, or "?" for a token keyshard does not know. */
  symbol: string;
  /** Decimals of the human unit; null when unknown (then only base units are shown). */
  decimals: number | null;
  /** The token contract or mint; absent for the chain's native coin. */
  contract?: string;
  /** False for a token that is in no list the caller trusts: its symbol and decimals are not known. */
  known: boolean;
}

export interface Amount {
  asset: Asset;
  /** In base units (wei, satoshi, lamport, token base units). */
  value: bigint;
  /** Human units with the symbol, e.g. "1.5 ETH", or "1500000 base units of unknown token 0x…". */
  text: string;
}

export interface Movement extends Amount {
  /** Destination address as the chain writes it. */
  to: string;
  /** Set when value is taken from an account other than the signer's (ERC-20 `transferFrom`). */
  from?: string;
}

export interface TokenApproval extends Amount {
  spender: string;
  /** The allowance is the maximum value the token accepts: the spender may take everything. */
  unlimited: boolean;
}

export interface ContractCall {
  contract: string;
  /** Ethereum: the 4-byte selector; Solana: the program id. */
  selector: string;
  /** The decoded function or instruction name, when the call is a standard one. */
  name?: string;
  /** Length in bytes of the call data. */
  dataLength: number;
}

export type Action = "transfer" | "token-transfer" | "token-approval" | "contract-call" | "contract-deployment";

export interface TransactionDescription {
  chain: ChainName;
  /** "eip155:<chain id>", "bitcoin:mainnet|testnet|regtest", "solana". */
  network: string;
  /** What the transaction mainly does; "contract-call" whenever anything is not a standard movement. */
  action: Action;
  /** Every movement of value to someone else. */
  transfers: Movement[];
  /** Value that returns to the signing wallet itself (Bitcoin change). */
  change: Movement[];
  approvals: TokenApproval[];
  calls: ContractCall[];
  /** The most the fee can be (Ethereum: gas limit × max fee per gas). */
  fee: Amount;
  /** Things a person should read before approving: unknown tokens, unusual encodings. */
  warnings: string[];
}

export function amount(asset: Asset, value: bigint): Amount {
  const text =
    asset.decimals === null
      ? `${value} base units of unknown token ${asset.contract ?? "?"}`
      : `${formatUnits(value, asset.decimals)} ${asset.symbol}`;
  return { asset, value, text };
}

/** A description with nothing in it yet; each chain fills in what its bytes do. */
export function newDescription(chain: ChainName, network: string, fee: Amount): TransactionDescription {
  return { chain, network, action: "transfer", transfers: [], change: [], approvals: [], calls: [], fee, warnings: [] };
}

/** One asset leaving the wallet in one request. */
export interface Outflow {
  asset: Asset;
  /** Transfers and approvals of the asset, plus the fee when `withFee` and it is the native coin. */
  value: bigint;
}

/**
 * What a request takes out of the wallet, one entry per asset (tokens told apart by contract):
 * transfers to others and approvals, and — unless `withFee` is false — the fee, as an outflow of
 * the native coin even when no value of that coin moves. Limits on amounts read these totals, so
 * a fee cannot carry value out that the transfers alone would not show.
 */
export function outflows(d: TransactionDescription, withFee = true): Outflow[] {
  const byAsset = new Map<string, Outflow>();
  const add = (asset: Asset, value: bigint) => {
    const key = asset.contract ?? asset.symbol;
    const seen = byAsset.get(key);
    if (seen === undefined) byAsset.set(key, { asset, value });
    else seen.value += value;
  };
  for (const t of [...d.transfers, ...d.approvals]) add(t.asset, t.value);
  if (withFee) add(d.fee.asset, d.fee.value);
  return [...byAsset.values()];
}
