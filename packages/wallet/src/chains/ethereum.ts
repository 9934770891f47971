/**
 * Ethereum transfers for `keyshard send`: the unsigned EIP-1559 transaction built from the node's
 * chain id, nonce and fees and checked against the balance before anything is signed (or, with
 * no node, from the chain id and nonce the user gave, for signing offline); the broadcast, the
 * receipt, and what became of a transaction broadcast before.
 */
import { buildEthereumTransaction, CHAIN_COINS, parseEthereumAddress } from "@keyshard/chains";
import { parseAmount, showAmount } from "../amount.js";
import { WalletError } from "../errors.js";
import { rpcCall, shownUrl } from "./rpc.js";

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
  } catch (e) {
    throw new WalletError(
      "invalid-address",
      `${text} is not an Ethereum address (0x and 40 hex digits, checksum if mixed case)`,
      {},
      { cause: e },
    );
  }
}

/** What a native transfer costs in gas. */
const TRANSFER_GAS = 21_000n;

export async function buildEthereumTransfer(
  input: EthereumTransferInput,
): Promise<{ bytes: Uint8Array; chainId: number }> {
  const to = checkedAddress(input.to);
  const value = parseAmount(input.amount, CHAIN_COINS.ethereum);
  const { rpc } = input;
  if (rpc === undefined) {
    // Without a node, a default would sign for a chain and nonce nobody chose: such a transaction
    // counts against the policy's window and may be valid where it was never meant to be.
    if (input.chainId === undefined || input.nonce === undefined)
      throw new WalletError(
        "usage",
        "an Ethereum send needs `rpc`, the node's URL: the node gives the chain id, the nonce and the balance. To sign without broadcasting, give both `chainId` and `nonce`",
        { parameter: "rpc" },
      );
    return {
      bytes: transfer(
        input.chainId,
        input.nonce,
        to,
        value,
        input.maxFeePerGas ?? 30n * GWEI,
        input.maxPriorityFeePerGas ?? GWEI,
      ),
      chainId: input.chainId,
    };
  }
  if (input.nonce !== undefined)
    throw new WalletError("usage", "`nonce` is for signing without `rpc`; with `rpc` the node gives the nonce", {
      parameter: "nonce",
    });
  const chainId = Number(BigInt(await rpcCall<string>(rpc, "eth_chainId")));
  if (input.chainId !== undefined && input.chainId !== chainId)
    throw new WalletError(
      "usage",
      `\`chainId\` is ${input.chainId}, but the node at ${shownUrl(rpc)} is on chain ${chainId}`,
      { parameter: "chainId" },
    );
  const nonce = Number(BigInt(await rpcCall<string>(rpc, "eth_getTransactionCount", [input.from, "pending"])));
  let priority = input.maxPriorityFeePerGas;
  let maxFee = input.maxFeePerGas;
  if (priority === undefined || maxFee === undefined) {
    const block = await rpcCall<{ baseFeePerGas?: string }>(rpc, "eth_getBlockByNumber", ["latest", false]);
    priority ??= BigInt(await rpcCall<string>(rpc, "eth_maxPriorityFeePerGas").catch(() => "0x3b9aca00"));
    maxFee ??= BigInt(block.baseFeePerGas ?? "0x0") * 2n + priority;
  }
  // The most this can take from the account, fee included: a transfer the balance cannot pay is
  // refused here, before the provider is asked, so it never counts against the policy's window.
  const most = value + TRANSFER_GAS * maxFee;
  const balance = BigInt(await rpcCall<string>(rpc, "eth_getBalance", [input.from, "pending"]));
  if (most > balance)
    throw new WalletError(
      "insufficient-funds",
      `${input.from} holds ${showAmount(balance, CHAIN_COINS.ethereum)}, less than ${showAmount(value, CHAIN_COINS.ethereum)} and a fee of up to ${showAmount(most - value, CHAIN_COINS.ethereum)}`,
      { balance: balance.toString(), needed: most.toString() },
    );
  return { bytes: transfer(chainId, nonce, to, value, maxFee, priority), chainId };
}

function transfer(
  chainId: number,
  nonce: number,
  to: `0x${string}`,
  value: bigint,
  maxFeePerGas: bigint,
  maxPriorityFeePerGas: bigint,
): Uint8Array {
  return buildEthereumTransaction({ chainId, nonce, to, value, gas: TRANSFER_GAS, maxFeePerGas, maxPriorityFeePerGas });
}

/** Sends a signed transaction; returns its hash. */
export const broadcastEthereum = (rpc: string, signed: string) =>
  rpcCall<string>(rpc, "eth_sendRawTransaction", [signed]);

/** Waits up to `timeoutMs` for the receipt of `hash` (status 1 is success); undefined if none came. */
export async function ethereumReceipt(
  rpc: string,
  hash: string,
  timeoutMs: number,
): Promise<{ status: number; blockNumber: number } | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const receipt = await rpcCall<{ status: string; blockNumber: string } | null>(rpc, "eth_getTransactionReceipt", [
      hash,
    ]);
    if (receipt) return { status: Number(BigInt(receipt.status)), blockNumber: Number(BigInt(receipt.blockNumber)) };
    if (Date.now() >= deadline) return undefined;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * What became of a transaction sent from `from` with `nonce`: mined (with its receipt), still able
 * to be mined (its nonce is unused: waiting in the node's pool, or lost by it and worth sending
 * again), or replaced (another transaction took its nonce, so it never will be).
 */
export async function ethereumTransactionState(
  rpc: string,
  sent: { transactionId: string; from: string; nonce: number },
): Promise<{ state: "confirmed" | "failed"; block: number } | { state: "pending" | "unknown" | "replaced" }> {
  // The count before the receipt: a transaction mined between the two calls shows as mined.
  const used = BigInt(await rpcCall<string>(rpc, "eth_getTransactionCount", [sent.from, "latest"]));
  const receipt = await ethereumReceipt(rpc, sent.transactionId, 0);
  if (receipt) return { state: receipt.status === 1 ? "confirmed" : "failed", block: receipt.blockNumber };
  const known = await rpcCall<{ blockNumber: string | null } | null>(rpc, "eth_getTransactionByHash", [
    sent.transactionId,
  ]);
  // Mined, by the transaction's own record, while the receipt is not served yet (a node behind a
  // load balancer whose backends lag one another): its nonce is used by this very transaction,
  // so taking it for replaced would pay a second time.
  if (known !== null && known.blockNumber !== null)
    throw new WalletError(
      "rpc-failed",
      `the node has ${sent.transactionId} in block ${Number(BigInt(known.blockNumber))} but no receipt for it yet: ask again shortly`,
    );
  if (used > BigInt(sent.nonce)) return { state: "replaced" };
  return { state: known === null ? "unknown" : "pending" };
}
