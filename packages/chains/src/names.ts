/**
 * The names a request is made of: chains, Bitcoin networks, request kinds. Kept apart from
 * everything that reads bytes and free of dependencies, so that a command line can check its
 * options against them (`@keyshard/chains/names`) without loading any chain's code.
 */

/** The chains keyshard signs for; each has one adapter in the registry (`registry.ts`). */
export const CHAIN_NAMES = ["ethereum", "bitcoin", "solana"] as const;
export type ChainName = (typeof CHAIN_NAMES)[number];

/** The networks a Bitcoin request names; a PSBT itself does not say which it is for. */
export const BITCOIN_NETWORKS = ["mainnet", "testnet", "regtest"] as const;
export type BitcoinNetwork = (typeof BITCOIN_NETWORKS)[number];

/** What a request signs: a transaction of its chain, an off-chain message, EIP-712 data, or a bare hash. */
export const REQUEST_KINDS = ["transaction", "message", "typed-data", "raw-hash"] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];
