/**
 * Ethereum transfers for `keyshard send`: the unsigned EIP-1559 transaction built from the node's
 * chain id, nonce, fees and gas estimate and checked against the balance before anything is
 * signed (or, with no node, from the chain id and nonce the user gave, for signing offline); the
 * broadcast, the receipt, and what became of a transaction broadcast before. Token transfers
 * (`erc20.ts`) are built by the same `buildEthereumCall`, so they get the same estimate and checks.
 */
import { buildEthereumTransaction, CHAIN_COINS, parseEthereumAddress } from "@keyshard/chains";
import { parseAmount, showAmount } from "../amount.js";
import { WalletError } from "../errors.js";
import { nodeRefusal, rpcCall, shownUrl } from "./rpc.js";

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
  /**
   * The gas limit. With `rpc` it must cover the node's estimate, which is used (plus a margin)
   * when absent; without `rpc` it is 21 000 when absent, which pays for a transfer to an
   * address without code only.
   */
  gas?: number;
}

const GWEI = 10n ** 9n;

/** `text` as an address; `parameter` names the input it came from when that is not the recipient. */
export function checkedAddress(text: string, parameter?: string): `0x${string}` {
  try {
    return parseEthereumAddress(text) as `0x${string}`;
  } catch (e) {
    throw new WalletError(
      "invalid-address",
      `${text} is not an Ethereum address (0x and 40 hex digits, checksum if mixed case)`,
      parameter === undefined ? {} : { parameter },
      { cause: e },
    );
  }
}

/** What a transfer to an address without code costs: a transaction's intrinsic gas, nothing run. */
const TRANSFER_GAS = 21_000n;

/** Headroom over the node's estimate, in percent: the recipient's code may cost more once mined. */
const GAS_MARGIN_PERCENT = 20n;

/**
 * The gas limit for a transfer the node estimates at `estimate`. Exactly 21 000 means that no
 * code ran at the recipient, and then none can cost more when the transaction is mined (unless
 * code is put at the address in between): that is kept as it is, since a margin there would only
 * hold back funds, e.g. in a send of all but the fee.
 */
function withMargin(estimate: bigint): bigint {
  if (estimate === TRANSFER_GAS) return estimate;
  return (estimate * (100n + GAS_MARGIN_PERCENT) + 99n) / 100n;
}

/**
 * The most gas one transaction may use (EIP-7825's per-transaction cap, 2^24): a limit above it
 * is never mined, so such a transaction would only be broadcast again and again.
 */
const MAX_TRANSACTION_GAS = 16_777_216n;

/** JSON-RPC's error code for execution reverted (EIP-1474). */
const EXECUTION_REVERTED = 3;

/** A node's refusal that means the transfer itself would fail on chain, not that the node could not tell. */
const FAILS_ON_CHAIN = /revert|out of gas/i;

/**
 * What a transaction sends and how its failure is told: a native transfer (no data) or a call
 * such as an ERC-20 `transfer`, with the words for it in errors.
 */
export interface EthereumCall {
  to: `0x${string}`;
  /** In wei: a token transfer sends none. */
  value: bigint;
  data?: `0x${string}`;
  /** The transfer as errors name it, e.g. "a transfer to 0x…". */
  what: string;
  /** What a failure the node foresees most likely means, for the person to act on. */
  likelyCause: string;
}

/**
 * The node's estimate of the gas the call needs, run as it will be (its data too). A call the node
 * says would fail — a contract that refuses ETH, a token that refuses the transfer, out of gas —
 * is refused here, before anything is signed: on chain it would fail and burn its fee.
 * The node is trusted with none of it: an estimate below a transfer's least, or above what a
 * transaction may use, is refused too.
 */
async function estimatedGas(rpc: string, from: string, call: EthereumCall): Promise<bigint> {
  let answer: unknown;
  try {
    answer = await rpcCall<unknown>(rpc, "eth_estimateGas", [
      { from, to: call.to, value: `0x${call.value.toString(16)}`, ...(call.data !== undefined && { data: call.data }) },
    ]);
  } catch (e) {
    const reason = nodeRefusal(e);
    if (reason === undefined) throw e;
    const code = e instanceof WalletError ? e.details.nodeErrorCode : undefined;
    if (code !== EXECUTION_REVERTED && !FAILS_ON_CHAIN.test(reason))
      throw new WalletError(
        "rpc-failed",
        `the node at ${shownUrl(rpc)} could not estimate the gas of ${call.what} (${reason}), so nothing was signed`,
        { nodeError: reason },
        { cause: e },
      );
    throw new WalletError(
      "would-fail",
      `the node at ${shownUrl(rpc)} says ${call.what} would fail (${reason}), so nothing was signed: ${call.likelyCause}`,
      { nodeError: reason },
      { cause: e },
    );
  }
  if (typeof answer !== "string" || !/^0x[0-9a-f]{1,64}$/i.test(answer))
    throw new WalletError(
      "rpc-failed",
      `the node at ${shownUrl(rpc)} answered eth_estimateGas with something that is not a gas amount, so nothing was signed`,
    );
  const estimate = BigInt(answer);
  if (estimate < TRANSFER_GAS || estimate > MAX_TRANSACTION_GAS) throw untrustedEstimate(rpc, estimate);
  return estimate;
}

/** The refusal of an estimate no transfer can have: the node is wrong, or lying. */
const untrustedEstimate = (rpc: string, estimate: bigint) =>
  new WalletError(
    "rpc-failed",
    `the node at ${shownUrl(rpc)} estimates ${estimate} gas for this transfer, which no transfer can have (at least ${TRANSFER_GAS}, and with a ${GAS_MARGIN_PERCENT} % margin at most ${MAX_TRANSACTION_GAS}, the most a transaction may use), so nothing was signed: check \`rpc\``,
    { parameter: "rpc", estimate: estimate.toString() },
  );

function givenGas(gas: number | undefined): bigint | undefined {
  if (gas === undefined) return undefined;
  if (!Number.isSafeInteger(gas) || BigInt(gas) < TRANSFER_GAS)
    throw new WalletError("usage", `\`gas\` is a whole number of at least ${TRANSFER_GAS}, a transfer's least`, {
      parameter: "gas",
    });
  if (BigInt(gas) > MAX_TRANSACTION_GAS)
    throw new WalletError(
      "usage",
      `\`gas\` is ${gas}, more than the ${MAX_TRANSACTION_GAS} a transaction may use: it could never be mined`,
      { parameter: "gas" },
    );
  return BigInt(gas);
}

export async function buildEthereumTransfer(
  input: EthereumTransferInput,
): Promise<{ bytes: Uint8Array; chainId: number }> {
  const to = checkedAddress(input.to);
  const value = parseAmount(input.amount, CHAIN_COINS.ethereum);
  const { rpc } = input;
  if (rpc === undefined) {
    const gas = givenGas(input.gas);
    // Without a node, a default would sign for a chain and nonce nobody chose: such a transaction
    // counts against the policy's window and may be valid where it was never meant to be.
    if (input.chainId === undefined || input.nonce === undefined)
      throw new WalletError(
        "usage",
        "an Ethereum send needs `rpc`, the node's URL: the node gives the chain id, the nonce and the balance. To sign without broadcasting, give both `chainId` and `nonce`",
        { parameter: "rpc" },
      );
    return {
      bytes: buildEthereumTransaction({
        chainId: input.chainId,
        nonce: input.nonce,
        to,
        value,
        gas: gas ?? TRANSFER_GAS,
        maxFeePerGas: input.maxFeePerGas ?? 30n * GWEI,
        maxPriorityFeePerGas: input.maxPriorityFeePerGas ?? GWEI,
      }),
      chainId: input.chainId,
    };
  }
  return buildEthereumCall(
    { ...input, rpc },
    {
      to,
      value,
      what: `a transfer to ${to}`,
      likelyCause: "the recipient is likely a contract that does not accept this payment",
    },
  );
}

/** What every Ethereum transaction built with a node takes: the sender, the node, and what the user fixed. */
export type EthereumCallInput = Omit<EthereumTransferInput, "to" | "amount" | "rpc"> & { rpc: string };

/**
 * The unsigned transaction of `call`, from what the node says: chain id, nonce, fees, the gas
 * estimate plus a margin, and a balance that pays `call.value` and the most the fee can be. Every
 * Ethereum send with a node is built here, native or token, so all get the same checks.
 */
export async function buildEthereumCall(
  input: EthereumCallInput,
  call: EthereumCall,
): Promise<{ bytes: Uint8Array; chainId: number }> {
  const gas = givenGas(input.gas);
  const { rpc } = input;
  if (input.nonce !== undefined)
    throw new WalletError("usage", "`nonce` is for signing without `rpc`; with `rpc` the node gives the nonce", {
      parameter: "nonce",
    });
  const chainId = await ethereumChainId(rpc, input.chainId);
  const nonce = Number(BigInt(await rpcCall<string>(rpc, "eth_getTransactionCount", [input.from, "pending"])));
  let priority = input.maxPriorityFeePerGas;
  let maxFee = input.maxFeePerGas;
  if (priority === undefined || maxFee === undefined) {
    const block = await rpcCall<{ baseFeePerGas?: string }>(rpc, "eth_getBlockByNumber", ["latest", false]);
    priority ??= BigInt(await rpcCall<string>(rpc, "eth_maxPriorityFeePerGas").catch(() => "0x3b9aca00"));
    maxFee ??= BigInt(block.baseFeePerGas ?? "0x0") * 2n + priority;
  }
  const { value } = call;
  // The most this can take from the account, fee included: a transfer the balance cannot pay is
  // refused here, before the provider is asked, so it never counts against the policy's window.
  const balance = BigInt(await rpcCall<string>(rpc, "eth_getBalance", [input.from, "pending"]));
  const payable = (limit: bigint) => {
    const most = value + limit * maxFee;
    if (most > balance)
      throw new WalletError(
        "insufficient-funds",
        `${input.from} holds ${showAmount(balance, CHAIN_COINS.ethereum)}, less than ${value === 0n ? "" : `${showAmount(value, CHAIN_COINS.ethereum)} and `}a fee of up to ${showAmount(most - value, CHAIN_COINS.ethereum)}`,
        { balance: balance.toString(), needed: most.toString() },
      );
  };
  // First at the least any transfer costs: the node's estimate of a transfer the balance cannot
  // carry fails too, and would say so less plainly.
  payable(TRANSFER_GAS);
  const needed = await estimatedGas(rpc, input.from, call);
  if (gas !== undefined && gas < needed)
    throw new WalletError(
      "would-fail",
      `\`gas\` is ${gas}, less than the ${needed} the node at ${shownUrl(rpc)} estimates this transfer needs: it would run out of gas and burn its fee`,
      { parameter: "gas", estimate: needed.toString() },
    );
  const limit = gas ?? withMargin(needed);
  if (limit > MAX_TRANSACTION_GAS) throw untrustedEstimate(rpc, needed);
  payable(limit);
  const costs = { gas: limit, maxFeePerGas: maxFee, maxPriorityFeePerGas: priority };
  const { to, data } = call;
  return { bytes: buildEthereumTransaction({ chainId, nonce, to, value, ...(data && { data }), ...costs }), chainId };
}

/**
 * The chain id of the node at `rpc`, refused as `rpc-failed` unless it is a hex quantity a chain
 * id can be; with `expected` (the user's `chainId`, or the chain a token was read on), a node on
 * another chain is refused: the transaction would be signed for a chain nobody chose.
 */
export async function ethereumChainId(rpc: string, expected?: number): Promise<number> {
  const answer = await rpcCall<unknown>(rpc, "eth_chainId");
  const chainId = typeof answer === "string" && /^0x[0-9a-f]{1,14}$/i.test(answer) ? Number(answer) : 0;
  if (!Number.isSafeInteger(chainId) || chainId <= 0)
    throw new WalletError(
      "rpc-failed",
      `the node at ${shownUrl(rpc)} answered eth_chainId with something that is not a chain id, so nothing was signed: check \`rpc\``,
      { parameter: "rpc" },
    );
  if (expected !== undefined && expected !== chainId)
    throw new WalletError(
      "usage",
      `\`chainId\` is ${expected}, but the node at ${shownUrl(rpc)} is on chain ${chainId}`,
      { parameter: "chainId" },
    );
  return chainId;
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
