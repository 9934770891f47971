/**
 * The native coin of EVM chains: what an Ethereum-format transaction's `value` and fee are paid
 * in. The same bytes mean Ether on one chain id and RBTC or BNB on another, so the coin is looked
 * up from the chain id the bytes commit to and never assumed. Symbols and decimals are copied
 * from viem's chain definitions (`viem/chains`, viem 2.57: mainnet, optimism, base, arbitrum,
 * sepolia, holesky, anvil/hardhat, rootstock, rootstockTestnet, bsc, polygon, avalanche, gnosis).
 */
import type { Asset } from "../describe.js";

/** Chain id → symbol of its native coin, for the chains keyshard knows; all use 18 decimals. */
export const NATIVE_COINS: ReadonlyMap<number, string> = new Map([
  [1, "ETH"], // Ethereum
  [10, "ETH"], // OP Mainnet
  [8453, "ETH"], // Base
  [42161, "ETH"], // Arbitrum One
  [11155111, "ETH"], // Sepolia
  [17000, "ETH"], // Holesky
  [31337, "ETH"], // anvil and Hardhat local chains
  [30, "RBTC"], // Rootstock
  [31, "tRBTC"], // Rootstock testnet
  [56, "BNB"], // BNB Smart Chain
  [100, "XDAI"], // Gnosis
  [137, "POL"], // Polygon PoS
  [43114, "AVAX"], // Avalanche C-Chain
]);

/**
 * The native coin of `chainId`. An unlisted chain's coin is `known: false` with a symbol of its
 * own, so it is never taken for Ether and never matches a policy's asset list; its amounts are
 * shown with the 18 decimals every EVM chain's wei uses by convention.
 */
export function nativeCoin(chainId: number): Asset {
  const symbol = NATIVE_COINS.get(chainId);
  if (symbol === undefined) return { symbol: `(coin of chain ${chainId})`, decimals: 18, known: false };
  return { symbol, decimals: 18, known: true };
}
