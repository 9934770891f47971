/**
 * SOL transfers for `keyshard send`: the message built against a recent blockhash and, given a
 * node, checked against the balance (fee included) before anything is signed; the broadcast, and
 * what became of a transaction broadcast before.
 */
import { buildSolTransfer, CHAIN_COINS, parseSolanaAddress } from "@keyshard/chains";
import { base64 } from "@scure/base";
import { parseAmount, showAmount } from "../amount.js";
import { WalletError } from "../errors.js";
import { rpcCall } from "./rpc.js";

export interface SolanaTransferInput {
  from: string;
  to: string;
  /** Decimal SOL. */
  amount: string;
  rpc?: string;
  /** Base58; read from the node when absent. */
  blockhash?: string;
}

export async function buildSolanaTransfer(input: SolanaTransferInput): Promise<Uint8Array> {
  try {
    parseSolanaAddress(input.to);
  } catch (e) {
    throw new WalletError(
      "invalid-address",
      `${input.to} is not a Solana address (base58 of 32 bytes)`,
      {},
      { cause: e },
    );
  }
  const lamports = parseAmount(input.amount, CHAIN_COINS.solana);
  if (lamports > MAX_LAMPORTS)
    throw new WalletError("invalid-amount", `"${input.amount}" is more than any Solana account can hold`);
  const { rpc } = input;
  let blockhash = input.blockhash;
  if (blockhash === undefined) {
    if (rpc === undefined)
      throw new WalletError("usage", "a Solana transfer needs a recent blockhash: give `rpc` or `blockhash`", {
        parameter: "blockhash",
      });
    blockhash = (await rpcCall<{ value: { blockhash: string } }>(rpc, "getLatestBlockhash", [])).value.blockhash;
  }
  const message = buildSolTransfer({ from: input.from, to: input.to, lamports, recentBlockhash: blockhash });
  if (rpc !== undefined) await checkBalance(rpc, input.from, lamports, message);
  return message;
}

const MAX_LAMPORTS = (1n << 64n) - 1n;
/** What the cluster charges per signature when it cannot price the message itself. */
const FEE_PER_SIGNATURE = 5_000n;

/** Refuses, before anything is signed, a transfer the account cannot pay with its fee. */
async function checkBalance(rpc: string, from: string, lamports: bigint, message: Uint8Array): Promise<void> {
  const [balance, fee] = await Promise.all([
    rpcCall<{ value: number }>(rpc, "getBalance", [from]),
    rpcCall<{ value: number | null }>(rpc, "getFeeForMessage", [base64.encode(message)]),
  ]);
  const most = lamports + (fee.value === null ? FEE_PER_SIGNATURE : BigInt(fee.value));
  const held = BigInt(balance.value);
  if (most > held)
    throw new WalletError(
      "insufficient-funds",
      `${from} holds ${showAmount(held, CHAIN_COINS.solana)}, less than ${showAmount(lamports, CHAIN_COINS.solana)} and a fee of ${showAmount(most - lamports, CHAIN_COINS.solana)}`,
      { balance: held.toString(), needed: most.toString() },
    );
}

/** Sends a signed wire transaction (base64); returns its signature, Solana's transaction id. */
export const broadcastSolana = (rpc: string, wire: string) =>
  rpcCall<string>(rpc, "sendTransaction", [wire, { encoding: "base64" }]);

/**
 * What became of a transaction (by its signature) whose message expires with `blockhash`: landed
 * (or failed), still able to land, or expired (its blockhash is too old, so it never will).
 */
export async function solanaTransactionState(
  rpc: string,
  sent: { transactionId: string; blockhash: string },
): Promise<{ state: "confirmed" | "failed"; block: number } | { state: "pending" | "expired" }> {
  const statuses = await rpcCall<{ value: ({ slot: number; err: unknown } | null)[] }>(rpc, "getSignatureStatuses", [
    [sent.transactionId],
    { searchTransactionHistory: true },
  ]);
  const [status] = statuses.value;
  if (status) return { state: status.err === null ? "confirmed" : "failed", block: status.slot };
  const valid = await rpcCall<{ value: boolean }>(rpc, "isBlockhashValid", [
    sent.blockhash,
    { commitment: "processed" },
  ]);
  return { state: valid.value ? "pending" : "expired" };
}
