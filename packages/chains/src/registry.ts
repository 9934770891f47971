/**
 * The chains keyshard signs for, one adapter each: the one place a request is dispatched on its
 * chain, by the device and by the provider alike.
 */

import { hex } from "@scure/base";
import { type ChainAdapter, refusedRequest } from "./adapter.js";
import { bitcoin } from "./bitcoin/adapter.js";
import { anyNetworkAddressScript } from "./bitcoin/address.js";
import { ethereum } from "./ethereum/adapter.js";
import type { ChainName } from "./names.js";
import { solana } from "./solana/adapter.js";

const ADAPTERS: Readonly<Record<ChainName, ChainAdapter>> = { ethereum, bitcoin, solana };

export function adapterOf(chain: ChainName): ChainAdapter {
  const adapter = Object.hasOwn(ADAPTERS, chain) ? ADAPTERS[chain] : undefined;
  if (adapter === undefined) throw refusedRequest(`unknown chain ${JSON.stringify(chain)}`);
  return adapter;
}

/**
 * A destination as policies compare it: the address as its chain compares addresses (case folded
 * where it ignores case), except a Bitcoin address, which is its output script. A PSBT does not
 * commit to its network; the network a request names is the client's word and only picks how its
 * description spells each script (bc1…, tb1…, bcrt1…). Compared as spelled, a mainnet payment
 * declared as regtest would slip past a rule naming its recipient.
 */
export function destinationKey(chain: ChainName, address: string): string {
  const script = chain === "bitcoin" ? anyNetworkAddressScript(address) : null;
  return script === null ? adapterOf(chain).normalizeAddress(address) : `script:${hex.encode(script)}`;
}
