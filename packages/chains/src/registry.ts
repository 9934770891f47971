/**
 * The chains keyshard signs for, one adapter each: the one place a request is dispatched on its
 * chain, by the device and by the provider alike.
 */
import { type ChainAdapter, refusedRequest } from "./adapter.js";
import { bitcoin } from "./bitcoin/adapter.js";
import { ethereum } from "./ethereum/adapter.js";
import type { ChainName } from "./names.js";
import { solana } from "./solana/adapter.js";

const ADAPTERS: Readonly<Record<ChainName, ChainAdapter>> = { ethereum, bitcoin, solana };

export function adapterOf(chain: ChainName): ChainAdapter {
  const adapter = Object.hasOwn(ADAPTERS, chain) ? ADAPTERS[chain] : undefined;
  if (adapter === undefined) throw refusedRequest(`unknown chain ${JSON.stringify(chain)}`);
  return adapter;
}
