/**
 * ERC-20 tokens whose symbol and decimals keyshard trusts. A token is known only from a list:
 * a contract's own `symbol()` is whatever its deployer wrote, so it is never read from the chain.
 */
import type { Address } from "viem";
import type { Asset } from "../describe.js";

export interface TokenInfo {
  chainId: number;
  address: Address;
  symbol: string;
  decimals: number;
}

/** Widely used tokens on Ethereum mainnet; a wallet or provider adds its own with `tokens`. */
export const MAINNET_TOKENS: readonly TokenInfo[] = [
  { chainId: 1, address: "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", symbol: "USDC", decimals: 6 },
  { chainId: 1, address: "0xdAC17F958D2ee523a2206206994597C13D831ec7", symbol: "USDT", decimals: 6 },
  { chainId: 1, address: "0x6B175474E89094C44Da98b954EedeAC495271d0F", symbol: "DAI", decimals: 18 },
  { chainId: 1, address: "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2", symbol: "WETH", decimals: 18 },
  { chainId: 1, address: "0x2260FAC5E5542a773Aa44fBCfeDf7C193bc2C599", symbol: "WBTC", decimals: 8 },
];

export function tokenAsset(chainId: number, contract: Address, tokens: readonly TokenInfo[]): Asset {
  const lower = contract.toLowerCase();
  const token = tokens.find((t) => t.chainId === chainId && t.address.toLowerCase() === lower);
  if (token === undefined) return { symbol: "?", decimals: null, contract, known: false };
  return { symbol: token.symbol, decimals: token.decimals, contract, known: true };
}
