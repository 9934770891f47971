/**
 * What a PSBT does, from its bytes and the wallet's own keys: payments to others, change back to
 * the wallet, and the fee, all from the amounts the signatures will commit to.
 */
import { hex } from "@scure/base";
import { type Asset, amount, newDescription, type TransactionDescription } from "../describe.js";
import type { BitcoinNetwork } from "../names.js";
import { CHAIN_COINS } from "../units.js";
import { type BitcoinKeys, ownedOutputs, readPsbt } from "./psbt.js";

const BTC: Asset = { symbol: CHAIN_COINS.bitcoin.symbol, decimals: CHAIN_COINS.bitcoin.decimals, known: true };

export interface BitcoinDescribeOptions {
  network: BitcoinNetwork;
  /** The wallet's keys: they decide which inputs it spends and which outputs are change. */
  keys: BitcoinKeys;
}

export function describeBitcoin(psbt: Uint8Array, options: BitcoinDescribeOptions): TransactionDescription {
  const view = readPsbt(psbt, options.network, ownedOutputs(options.keys, options.network));
  const description = newDescription("bitcoin", `bitcoin:${options.network}`, amount(BTC, view.fee));
  for (const output of view.outputs) {
    const movement = { ...amount(BTC, output.amount), to: output.address ?? `script:${hex.encode(output.script)}` };
    if (output.owner !== undefined) description.change.push(movement);
    else description.transfers.push(movement);
    if (output.address === null) description.warnings.push(`output pays a script with no address (${movement.to})`);
  }
  const foreign = view.inputs.filter((i) => i.owner === undefined).length;
  if (foreign > 0) description.warnings.push(`${foreign} input(s) belong to other wallets`);
  if (view.inputs.every((i) => i.owner === undefined))
    description.warnings.push("the wallet spends none of the inputs");
  if (!view.feeCommitted)
    description.warnings.push("the fee relies on input amounts claimed by the PSBT for other wallets' inputs");
  return description;
}
