/**
 * Bitcoin spends for `keyshard send`: the wallet's coins — listed in a file the user gives, or
 * found by a Bitcoin Core node — each proven by its whole previous transaction (a P2WPKH
 * signature commits to its own amount only, so the amounts must be proven to bound the fee);
 * largest first until they pay the amount and the fee at the chosen rate, the rest back to the
 * wallet's own address; then the broadcast.
 */
import {
  type BitcoinNetwork,
  bitcoinAddressScript,
  buildPsbt,
  CHAIN_COINS,
  ChainError,
  type OwnedOutput,
  previousOutput,
  type SpendableOutput,
} from "@keyshard/chains";
import { equalBytes } from "@noble/curves/utils.js";
import { hexToBytes } from "@noble/hashes/utils.js";
import { parseAmount } from "../amount.js";
import { WalletError } from "../errors.js";
import { nodeRefusal, rpcCall } from "./rpc.js";

/** One coin as a coins file lists it: the outpoint and the raw transaction that made it. */
export interface CoinReference {
  txid: string;
  vout: number;
  /** The previous transaction, hex. */
  hex: string;
}

export interface BitcoinTransferInput {
  /** The wallet's output: the coins it spends and where the change goes. */
  owner: OwnedOutput;
  network: BitcoinNetwork;
  to: string;
  /** Decimal BTC. */
  amount: string;
  /** Satoshis per virtual byte; from the node's estimate (or 2) when absent. */
  feeRate?: number;
  /** A Bitcoin Core JSON-RPC URL (credentials in the URL are sent as basic auth). */
  rpc?: string;
  /** The coins to spend, as a coins file lists them; found through `rpc` when absent. */
  coins?: unknown;
}

const DEFAULT_FEE_RATE = 2;
/** Bitcoin Core's dust limit for the outputs keyshard makes: smaller ones are not relayed. */
const DUST = 546n;
/** Virtual sizes (BIP141 weight / 4, rounded up) of a transaction's parts. */
const VSIZE = { base: 11, p2wpkh: 68, p2tr: 58 } as const;
const MAX_COINS = 200;

/** Reads a coins file's JSON: a list of `{ txid, vout, hex }`, every coin proven and the wallet's. */
export function parseCoins(value: unknown, owner: OwnedOutput): SpendableOutput[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_COINS)
    throw new WalletError("usage", `a coins file is a JSON list of 1 to ${MAX_COINS} { "txid", "vout", "hex" }`);
  return value.map((entry, i) => {
    const c = entry as Partial<CoinReference>;
    if (
      typeof c !== "object" ||
      c === null ||
      typeof c.txid !== "string" ||
      !/^[0-9a-f]{64}$/i.test(c.txid) ||
      !Number.isInteger(c.vout) ||
      (c.vout as number) < 0 ||
      typeof c.hex !== "string" ||
      !/^([0-9a-f]{2})+$/i.test(c.hex)
    )
      throw new WalletError(
        "usage",
        `coin ${i + 1}: needs txid (64 hex digits), vout (an index) and hex (the transaction)`,
      );
    return coinFrom(c as CoinReference, owner);
  });
}

function coinFrom(coin: CoinReference, owner: OwnedOutput): SpendableOutput {
  let output: ReturnType<typeof previousOutput>;
  try {
    output = previousOutput(hexToBytes(coin.hex), coin.vout);
  } catch (e) {
    throw new WalletError("usage", `the transaction given for ${coin.txid}: ${(e as Error).message}`, {}, { cause: e });
  }
  if (output.txid !== coin.txid.toLowerCase())
    throw new WalletError("usage", `the transaction given for ${coin.txid} is ${output.txid}`);
  if (!equalBytes(output.script, owner.script))
    throw new WalletError("usage", `output ${coin.vout} of ${coin.txid} does not pay this wallet (${owner.address})`);
  return {
    ...output,
    previousTransaction: hexToBytes(coin.hex),
    ...(owner.type === "p2tr" && { internalKey: owner.key }),
  };
}

/** The wallet's confirmed coins, as a Bitcoin Core node sees the UTXO set. */
async function nodeCoins(rpc: string, owner: OwnedOutput): Promise<SpendableOutput[]> {
  const scan = await rpcCall<{ unspents?: { txid: string; vout: number; height: number }[] }>(rpc, "scantxoutset", [
    "start",
    [`addr(${owner.address})`],
  ]);
  const coins: SpendableOutput[] = [];
  for (const unspent of (scan.unspents ?? []).slice(0, MAX_COINS)) {
    const block = await rpcCall<string>(rpc, "getblockhash", [unspent.height]);
    const hex = await rpcCall<string>(rpc, "getrawtransaction", [unspent.txid, false, block]);
    coins.push(coinFrom({ txid: unspent.txid, vout: unspent.vout, hex }, owner));
  }
  return coins;
}

async function feeRateOf(input: BitcoinTransferInput): Promise<number> {
  if (input.feeRate !== undefined) {
    if (!Number.isInteger(input.feeRate) || input.feeRate < 1 || input.feeRate > 10_000)
      throw new WalletError("usage", "`feeRate` is a whole number of satoshis per vbyte, 1 to 10000", {
        parameter: "feeRate",
      });
    return input.feeRate;
  }
  if (input.rpc === undefined) return DEFAULT_FEE_RATE;
  const estimate = await rpcCall<{ feerate?: number }>(input.rpc, "estimatesmartfee", [6]).catch(
    (): { feerate?: number } => ({}),
  );
  // BTC per 1000 vbytes → satoshis per vbyte.
  return estimate.feerate === undefined ? DEFAULT_FEE_RATE : Math.max(1, Math.ceil(estimate.feerate * 100_000));
}

/** The unsigned PSBT of a payment of `amount` to `to`, and its fee. */
export async function buildBitcoinTransfer(input: BitcoinTransferInput): Promise<{ psbt: Uint8Array; fee: bigint }> {
  let destination: Uint8Array;
  try {
    destination = bitcoinAddressScript(input.to, input.network);
  } catch (e) {
    throw new WalletError(
      "invalid-address",
      e instanceof ChainError ? e.message : `${input.to} is not an address`,
      {},
      { cause: e },
    );
  }
  const value = parseAmount(input.amount, CHAIN_COINS.bitcoin);
  if (value < DUST) throw new WalletError("invalid-amount", `Bitcoin nodes do not relay payments under ${DUST} sat`);
  const feeRate = await feeRateOf(input);
  let coins: SpendableOutput[];
  if (input.coins !== undefined) coins = parseCoins(input.coins, input.owner);
  else if (input.rpc !== undefined) coins = await nodeCoins(input.rpc, input.owner);
  else
    throw new WalletError(
      "usage",
      "a Bitcoin payment needs the wallet's coins: give them in `coins`, or a Bitcoin Core node that finds them in `rpc`",
      { parameter: "coins" },
    );
  if (coins.length === 0) throw new WalletError("insufficient-funds", `${input.owner.address} has no coins`);

  const perInput = VSIZE[input.owner.type];
  const feeFor = (inputs: number, outputScripts: Uint8Array[]) =>
    BigInt(Math.ceil((VSIZE.base + inputs * perInput + outputScripts.reduce((s, o) => s + 9 + o.length, 0)) * feeRate));
  const chosen: SpendableOutput[] = [];
  let total = 0n;
  for (const coin of [...coins].sort((a, b) => (a.amount < b.amount ? 1 : a.amount > b.amount ? -1 : 0))) {
    chosen.push(coin);
    total += coin.amount;
    const withChange = feeFor(chosen.length, [destination, input.owner.script]);
    if (total - value - withChange >= DUST) {
      const outputs = [
        { address: input.to, amount: value },
        { address: input.owner.address, amount: total - value - withChange },
      ];
      return { psbt: buildPsbt({ network: input.network, inputs: chosen, outputs }), fee: withChange };
    }
    if (total >= value + feeFor(chosen.length, [destination]))
      return {
        psbt: buildPsbt({ network: input.network, inputs: chosen, outputs: [{ address: input.to, amount: value }] }),
        fee: total - value,
      };
  }
  throw new WalletError(
    "insufficient-funds",
    `${input.owner.address} holds ${total} sat, less than ${value} sat and the fee at ${feeRate} sat/vB`,
  );
}

/** Sends a signed transaction (hex) through a Bitcoin Core node; returns its txid. */
export const broadcastBitcoin = (rpc: string, transaction: string) =>
  rpcCall<string>(rpc, "sendrawtransaction", [transaction]);

/**
 * What became of a transaction as far as the node can tell: in a block, in its mempool, or
 * unknown to it (a node without `-txindex` knows a mined transaction only while it is in the mempool).
 */
export async function bitcoinTransactionState(
  rpc: string,
  txid: string,
): Promise<{ state: "confirmed" | "pending" | "unknown" }> {
  const found = await rpcCall<{ confirmations?: number }>(rpc, "getrawtransaction", [txid, true]).catch((e) => {
    if (nodeRefusal(e) === undefined) throw e;
    return undefined;
  });
  if (found === undefined) return { state: "unknown" };
  return { state: (found.confirmations ?? 0) > 0 ? "confirmed" : "pending" };
}
