/** SOL transfers for `keyshard send`: the message built against a recent blockhash, the broadcast. */
import { buildSolTransfer, parseSolanaAddress } from "@keyshard/chains";
import { parseAmount } from "../amount.js";
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
  } catch {
    throw new WalletError("invalid-address", `${input.to} is not a Solana address (base58 of 32 bytes)`);
  }
  const lamports = parseAmount(input.amount, 9, "SOL");
  let blockhash = input.blockhash;
  if (blockhash === undefined) {
    if (input.rpc === undefined)
      throw new WalletError("usage", "a Solana transfer needs a recent blockhash: give --rpc or --blockhash");
    blockhash = (await rpcCall<{ value: { blockhash: string } }>(input.rpc, "getLatestBlockhash", [])).value.blockhash;
  }
  return buildSolTransfer({ from: input.from, to: input.to, lamports, recentBlockhash: blockhash });
}

/** Sends a signed wire transaction (base64); returns its signature, Solana's transaction id. */
export const broadcastSolana = (rpc: string, wire: string) =>
  rpcCall<string>(rpc, "sendTransaction", [wire, { encoding: "base64" }]);
