/**
 * The units people count assets in: each chain's coin with its decimals and the name of its base
 * unit, and the assets a policy may name by symbol. This is the one place that knows them, so a
 * wallet converting "0.5" ETH and a provider describing a transfer can never disagree.
 */

import { NATIVE_COINS } from "./ethereum/native.js";
import { MAINNET_TOKENS, type TokenInfo } from "./ethereum/tokens.js";
import type { ChainName } from "./names.js";

export interface CoinUnit {
  /** What people write after an amount in coins: "ETH", "BTC", "USDC". */
  symbol: string;
  decimals: number;
  /** What people write after an amount in base units: "wei", "sat", "lamports", or "base units". */
  baseUnit: string;
}

/** The base-unit word of a token: tokens have no name of their own for it. */
export const TOKEN_BASE_UNIT = "base units";

/** Each chain's own coin (an EVM chain's is ETH here; its other native coins share 18 decimals and wei). */
export const CHAIN_COINS: Readonly<Record<ChainName, CoinUnit>> = {
  ethereum: { symbol: "ETH", decimals: 18, baseUnit: "wei" },
  bitcoin: { symbol: "BTC", decimals: 8, baseUnit: "sat" },
  solana: { symbol: "SOL", decimals: 9, baseUnit: "lamports" },
};

/**
 * The unit of an asset as a policy names it, by symbol: a chain's coin, an EVM native coin, or a
 * listed token. Undefined when keyshard does not know the symbol, or knows it with more than one
 * number of decimals (then only base units say what is meant).
 */
export function unitOfSymbol(symbol: string, tokens: readonly TokenInfo[] = MAINNET_TOKENS): CoinUnit | undefined {
  const found: CoinUnit[] = Object.values(CHAIN_COINS).filter((c) => c.symbol === symbol);
  if ([...NATIVE_COINS.values()].includes(symbol)) found.push(CHAIN_COINS.ethereum);
  for (const t of tokens)
    if (t.symbol === symbol) found.push({ symbol, decimals: t.decimals, baseUnit: TOKEN_BASE_UNIT });
  const decimals = new Set(found.map((u) => u.decimals));
  if (decimals.size !== 1) return undefined;
  const [first] = found as [CoinUnit];
  return { symbol, decimals: first.decimals, baseUnit: first.baseUnit };
}

/**
 * The native coin a network's fee is paid in, as a policy's `network` condition names it
 * ("eip155:<chain id>", "solana"): its symbol when keyshard lists the chain id, else "" with the
 * 18 decimals every EVM chain's wei has.
 */
export function unitOfNetwork(network: string): CoinUnit | undefined {
  if (network === "solana") return CHAIN_COINS.solana;
  const chainId = /^eip155:([0-9]+)$/.exec(network)?.[1];
  if (chainId === undefined) return undefined;
  return { ...CHAIN_COINS.ethereum, symbol: NATIVE_COINS.get(Number(chainId)) ?? "" };
}
