/**
 * Sends kept for a retry. The transaction a send signed is stored before it is broadcast, so
 * that running the same send again — after a receipt that did not come in time, or a node that
 * could not be reached — finds it and broadcasts it again instead of signing a second payment.
 * What the chain says about it decides: only a transaction that can no longer be mined (its
 * nonce taken by another, its blockhash expired) gives way to a new one.
 */
import type { SigningRequest } from "@keyshard/chains";
import { CHAIN_COINS, ethereumAddress, parseEthereumTransaction, parseSolanaMessage } from "@keyshard/chains";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { base58 } from "@scure/base";
import { parseAmount } from "../amount.js";
import { WalletError } from "../errors.js";
import type { SendIntent, SentTransaction } from "../state.js";
import { bitcoinTransactionState, broadcastBitcoin } from "./bitcoin.js";
import { type Token, tokenUnit } from "./erc20.js";
import { broadcastEthereum, ethereumChainId, ethereumTransactionState } from "./ethereum.js";
import { nodeRefusal } from "./rpc.js";
import { broadcastSolana, solanaTransactionState } from "./solana.js";

/** How many sent transactions a device keeps: enough to follow the recent ones, bounded. */
export const KEPT_SENDS = 100;

export type SentState =
  | { state: "confirmed" | "failed"; block?: number }
  /** pending: known to the node and waiting; unknown: not known to it, but still valid. */
  | { state: "pending" | "unknown" }
  /** Can never be mined: its nonce was used by another transaction, or its blockhash expired. */
  | { state: "replaced" | "expired" };

/** What a send asks for, in the form its kept transaction is found by; `token` for a token's send. */
export function sendIntent(
  chain: SigningRequest["chain"],
  options: { to: string; amount: string; path?: string; network?: string },
  token?: Token,
): SendIntent {
  const to = options.to.trim();
  return {
    // Ethereum addresses are the same in any case; the others are compared as typed.
    to: chain === "ethereum" ? to.toLowerCase() : to,
    amount: parseAmount(options.amount, token === undefined ? CHAIN_COINS[chain] : tokenUnit(token)).toString(),
    ...(token !== undefined && { token: token.address.toLowerCase() }),
    ...(options.path !== undefined && { path: options.path }),
    ...(chain === "bitcoin" && { network: options.network ?? "mainnet" }),
  };
}

/** The latest kept transaction of this same send whose outcome is not known yet. */
export function keptSend(
  sent: readonly SentTransaction[],
  walletId: string,
  chain: SigningRequest["chain"],
  intent: SendIntent,
): SentTransaction | undefined {
  return [...sent]
    .reverse()
    .find(
      (s) =>
        s.settled !== true &&
        s.walletId === walletId &&
        s.chain === chain &&
        s.to === intent.to &&
        s.amount === intent.amount &&
        s.token === intent.token &&
        s.path === intent.path &&
        s.network === intent.network,
    );
}

/** Whether the node at `rpc` is on the chain `sent` was signed for (an Ethereum chain id is in the signature). */
export async function onChainOf(sent: SentTransaction, rpc: string): Promise<boolean> {
  if (sent.chain !== "ethereum") return true;
  return (await ethereumChainId(rpc)) === sent.chainId;
}

/** What is kept of a send's signed transaction, before it is broadcast. */
export function keptRecord(input: {
  walletId: string;
  body: SigningRequest;
  /** The wallet's key at the body's path. */
  publicKey: Uint8Array;
  finished: { signed: string; transactionId?: string };
  signatures: readonly Uint8Array[];
  requestId?: string;
  rpc: string;
  intent: SendIntent;
}): SentTransaction {
  const { body } = input;
  const payload = hexToBytes(body.payload as string);
  const record: SentTransaction = {
    ...input.intent,
    walletId: input.walletId,
    chain: body.chain,
    ...(input.requestId !== undefined && { requestId: input.requestId }),
    signed: input.finished.signed,
    transactionId: transactionIdOf(body.chain, input.finished, input.signatures),
    rpc: input.rpc,
    at: Date.now(),
  };
  if (body.chain === "ethereum") {
    const tx = parseEthereumTransaction(payload);
    Object.assign(record, { from: ethereumAddress(input.publicKey), chainId: tx.chainId, nonce: tx.nonce ?? 0 });
  }
  // A legacy message's lifetime is its recent blockhash (the decoder's type leaves the field out).
  if (body.chain === "solana")
    record.blockhash = (parseSolanaMessage(payload) as unknown as { lifetimeToken: string }).lifetimeToken;
  return record;
}

/** The id a chain will know the signed transaction by, before any node has seen it. */
function transactionIdOf(
  chain: SigningRequest["chain"],
  finished: { signed: string; transactionId?: string },
  signatures: readonly Uint8Array[],
): string {
  if (chain === "ethereum") return `0x${bytesToHex(keccak_256(hexToBytes(finished.signed.slice(2))))}`;
  // A Solana transaction is known by its fee payer's signature, the first.
  if (chain === "solana") return base58.encode(signatures[0] as Uint8Array);
  return finished.transactionId as string;
}

export function sentState(sent: SentTransaction, rpc: string): Promise<SentState> {
  if (sent.chain === "ethereum")
    return ethereumTransactionState(rpc, {
      transactionId: sent.transactionId,
      from: sent.from as string,
      nonce: sent.nonce as number,
    });
  if (sent.chain === "solana")
    return solanaTransactionState(rpc, { transactionId: sent.transactionId, blockhash: sent.blockhash as string });
  return bitcoinTransactionState(rpc, sent.transactionId);
}

export const canStillBeMined = (s: SentState) => s.state === "pending" || s.state === "unknown";

/** A node's ways of saying it has this transaction already: sending it again is then no failure. */
const ALREADY_THERE =
  /already known|already imported|already in (the )?mempool|txn-already|already in block ?chain|already in utxo set|already been processed|AlreadyProcessed/i;

/** Broadcasts `sent` (again) through `rpc`; a node that has it already is no failure. */
export async function broadcastSent(sent: SentTransaction, rpc: string): Promise<void> {
  try {
    const id =
      sent.chain === "ethereum"
        ? await broadcastEthereum(rpc, sent.signed)
        : sent.chain === "solana"
          ? await broadcastSolana(rpc, sent.signed)
          : await broadcastBitcoin(rpc, sent.signed);
    if (id !== sent.transactionId)
      throw new WalletError("rpc-failed", `the node took the transaction as ${id}, not ${sent.transactionId}`);
  } catch (e) {
    if (ALREADY_THERE.test(nodeRefusal(e) ?? "")) return;
    throw e;
  }
}
