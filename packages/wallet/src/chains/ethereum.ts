/**
 * Ethereum transfers for `keyshard send`: the unsigned EIP-1559 transaction built from the node's
 * nonce and fees (or from what the user gave when there is no node), the broadcast, the receipt.
 */
import { buildEthereumTransaction, parseEthereumAddress } from "@keyshard/chains";
import { parseAmount } from "../amount.js";
import { WalletError } from "../errors.js";
import { rpcCall } from "./rpc.js";

export interface EthereumTransferInput {
  from: string;
  to: string;
  /** Decimal ETH, e.g. "0.05". */
  amount: string;
  rpc?: string;
  chainId?: number;
  nonce?: number;
  /** Both in wei; read from the node when absent. */
  maxFeePerGas?: bigint;
  maxPriorityFeePerGas?: bigint;
}

const GWEI = 10n ** 9n;

function checkedAddress(text: string): `0x${string}` {
  try {
    return parseEthereumAddress(text) as `0x${string}`;
  } catch {
    throw new WalletError(
      "invalid-address",
      `${text} is not an Ethereum address (0x and 40 hex digits, checksum if mixed case)`,
    );
  }
}

export async function buildEthereumTransfer(
  input: EthereumTransferInput,
): Promise<{ bytes: Uint8Array; chainId: number }> {
  const to = checkedAddress(input.to);
  const value = parseAmount(input.amount, 18, "ETH");
  const { rpc } = input;
  const chainId = input.chainId ?? (rpc ? Number(BigInt(await rpcCall<string>(rpc, "eth_chainId"))) : 1);
  const nonce =
    input.nonce ??
    (rpc ? Number(BigInt(await rpcCall<string>(rpc, "eth_getTransactionCount", [input.from, "pending"]))) : 0);
  let priority = input.maxPriorityFeePerGas;
  let maxFee = input.maxFeePerGas;
  if (rpc && (priority === undefined || maxFee === undefined)) {
    const block = await rpcCall<{ baseFeePerGas?: string }>(rpc, "eth_getBlockByNumber", ["latest", false]);
    priority ??= BigInt(await rpcCall<string>(rpc, "eth_maxPriorityFeePerGas").catch(() => "0x3b9aca00"));
    maxFee ??= BigInt(block.baseFeePerGas ?? "0x0") * 2n + priority;
  }
  priority ??= 1n * GWEI;
  maxFee ??= 30n * GWEI;
  const bytes = buildEthereumTransaction({
    chainId,
    nonce,
    to,
    value,
    gas: 21_000n,
    maxFeePerGas: maxFee,
    maxPriorityFeePerGas: priority,
  });
  return { bytes, chainId };
}

/** Sends a signed transaction; returns its hash. */
export const broadcastEthereum = (rpc: string, signed: string) =>
  rpcCall<string>(rpc, "eth_sendRawTransaction", [signed]);

/** Waits for the receipt of `hash`; its status is 1 for success. */
export async function ethereumReceipt(
  rpc: string,
  hash: string,
  timeoutMs = 30_000,
): Promise<{ status: number; blockNumber: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const receipt = await rpcCall<{ status: string; blockNumber: string } | null>(rpc, "eth_getTransactionReceipt", [
      hash,
    ]);
    if (receipt) return { status: Number(BigInt(receipt.status)), blockNumber: Number(BigInt(receipt.blockNumber)) };
    if (Date.now() > deadline)
      throw new WalletError("rpc-failed", `no receipt for ${hash} within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
