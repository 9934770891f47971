/**
 * ERC-20 transfers for `keyshard send --token`: what the token is, read from its contract through
 * the node (code at the address, `decimals()`, and `symbol()` for the screen), the amount in its
 * units, the sender's token balance, and the `transfer` call, built by `buildEthereumCall` as every
 * Ethereum send with a node is: the node's estimate plus the margin, a revert foreseen refused
 * as `would-fail`, and ETH enough for the most the fee can be.
 */
import {
  CHAIN_COINS,
  type ChainName,
  type CoinUnit,
  describeEthereum,
  erc20TransferData,
  MAINNET_TOKENS,
  nativeCoin,
  TOKEN_BASE_UNIT,
  type TransactionDescription,
} from "@keyshard/chains";
import { hexToBytes } from "@noble/hashes/utils.js";
import { parseAmount, showAmount } from "../amount.js";
import { WalletError } from "../errors.js";
import { buildEthereumCall, checkedAddress, type EthereumTransferInput, ethereumChainId } from "./ethereum.js";
import { nodeRefusal, rpcCall, shownUrl } from "./rpc.js";

/** A token as this device will show and count it. */
export interface Token {
  chainId: number;
  address: `0x${string}`;
  /** From the contract's `decimals()`, and the same as the token list's where the token is listed. */
  decimals: number;
  /**
   * The token list's symbol; else the contract's own, when it is one a screen can show and not
   * the chain's coin's or a listed token's; else "?".
   */
  symbol: string;
  /** On a token list keyshard trusts (`MAINNET_TOKENS`): its symbol is not only the contract's say. */
  listed: boolean;
  /** The node all this was read from; the transfer is built with the same one. */
  rpc: string;
}

/** The selectors of the ERC-20 views read here. */
const DECIMALS = "0x313ce567";
const SYMBOL = "0x95d89b41";
const BALANCE_OF = "0x70a08231";

/** A symbol a screen can show as it is: a contract's text could carry escapes, or look like another. */
const SHOWABLE_SYMBOL = /^[A-Za-z0-9.$_+-]{1,16}$/;

/** The refusal of a `token` that is no ERC-20 contract the node can read. */
const notAToken = (address: string, why: string) =>
  new WalletError(
    "invalid-token",
    `${address} is not an ERC-20 token contract: ${why}. Check \`token\`, and that \`rpc\` is a node of the token's chain`,
    { parameter: "token" },
  );

/** One 32-byte word of an `eth_call` answer, as a number; undefined when the answer is not one word. */
function word(answer: unknown): bigint | undefined {
  return typeof answer === "string" && /^0x[0-9a-fA-F]{64}$/.test(answer) ? BigInt(answer) : undefined;
}

/** A view of `token` as the node runs it now, or why it could not be read. */
async function view(rpc: string, token: string, data: string): Promise<{ answer: unknown } | { refusal: string }> {
  try {
    return { answer: await rpcCall<unknown>(rpc, "eth_call", [{ to: token, data }, "latest"]) };
  } catch (e) {
    const refusal = nodeRefusal(e);
    if (refusal === undefined) throw e;
    return { refusal };
  }
}

/** A `symbol()` answer as text: an ABI-encoded string a screen can show as it is, else undefined. */
function symbolText(answer: unknown): string | undefined {
  // Offset, length and at least one word of text.
  if (typeof answer !== "string" || !/^0x([0-9a-fA-F]{64}){3,}$/.test(answer)) return undefined;
  const length = Math.min(Number(BigInt(`0x${answer.slice(66, 130)}`)), 64);
  // A leading byte order mark is kept, so that the showable check refuses it rather than hides it.
  const symbol = new TextDecoder("utf-8", { ignoreBOM: true }).decode(hexToBytes(answer.slice(130, 130 + length * 2)));
  return SHOWABLE_SYMBOL.test(symbol) ? symbol : undefined;
}

/**
 * An unlisted token's own symbol, unless it is the chain's coin's or a listed token's on the chain:
 * a contract calling itself USDC must not have the screen say "send 12.5 USDC".
 */
function unlistedSymbol(symbol: string | undefined, chainId: number): string | undefined {
  const taken = [
    CHAIN_COINS.ethereum.symbol,
    nativeCoin(chainId).symbol,
    ...MAINNET_TOKENS.filter((t) => t.chainId === chainId).map((t) => t.symbol),
  ];
  return symbol !== undefined && taken.some((t) => t.toLowerCase() === symbol.toLowerCase()) ? undefined : symbol;
}

/**
 * The token of a send: `token` on Ethereum only, read through `rpc`. An address without code, or
 * one whose `decimals()` does not answer a uint8, is no token; a listed token whose contract
 * answers other decimals than the list is refused, since the amount would mean something else.
 */
export async function sendToken(options: {
  chain: ChainName;
  token: string;
  rpc?: string;
  chainId?: number;
}): Promise<Token> {
  if (options.chain !== "ethereum")
    throw new WalletError(
      "usage",
      `\`token\` sends an ERC-20 token, which lives on Ethereum chains; for ${options.chain}, send its coin without \`token\``,
      { parameter: "token" },
    );
  const { rpc } = options;
  if (rpc === undefined)
    throw new WalletError(
      "usage",
      "a token send needs `rpc`, the node's URL: the token's decimals and the balances are read from the chain, never assumed",
      { parameter: "rpc" },
    );
  const address = checkedAddress(options.token, "token");
  const chainId = await ethereumChainId(rpc, options.chainId);
  const code = await rpcCall<unknown>(rpc, "eth_getCode", [address, "latest"]);
  if (typeof code !== "string" || !/^0x[0-9a-fA-F]+$/.test(code))
    throw notAToken(address, `no contract is at this address on chain ${chainId}`);
  const decimalsView = await view(rpc, address, DECIMALS);
  if ("refusal" in decimalsView) throw notAToken(address, `its decimals() fails (${decimalsView.refusal})`);
  const decimals = word(decimalsView.answer);
  if (decimals === undefined || decimals > 255n) throw notAToken(address, "its decimals() does not answer a uint8");
  const listed = MAINNET_TOKENS.find((t) => t.chainId === chainId && t.address.toLowerCase() === address.toLowerCase());
  if (listed !== undefined && BigInt(listed.decimals) !== decimals)
    throw notAToken(
      address,
      `${listed.symbol} on chain ${chainId} has ${listed.decimals} decimals, and this contract answers ${decimals}`,
    );
  const symbolView = listed === undefined ? await view(rpc, address, SYMBOL) : undefined;
  const symbol =
    listed?.symbol ??
    (symbolView !== undefined && "answer" in symbolView
      ? unlistedSymbol(symbolText(symbolView.answer), chainId)
      : undefined);
  return { chainId, address, decimals: Number(decimals), symbol: symbol ?? "?", listed: listed !== undefined, rpc };
}

/** How amounts of `token` are written: its decimals, its symbol, and "base units". */
export const tokenUnit = (token: Token): CoinUnit => ({
  symbol: token.symbol === "?" ? "" : token.symbol,
  decimals: token.decimals,
  baseUnit: TOKEN_BASE_UNIT,
});

/**
 * The unsigned `transfer` of `input.amount` of `token` (in its units) to `input.to`, refused
 * before anything is signed when the sender's token balance is short, when its ETH cannot pay
 * the fee, or when the node foresees the token refusing it.
 */
export async function buildTokenTransfer(
  token: Token,
  input: Omit<EthereumTransferInput, "rpc">,
): Promise<{ bytes: Uint8Array; chainId: number }> {
  const { rpc } = token;
  const to = checkedAddress(input.to);
  const unit = tokenUnit(token);
  const amount = parseAmount(input.amount, unit);
  const balanceView = await view(
    rpc,
    token.address,
    `${BALANCE_OF}${input.from.slice(2).toLowerCase().padStart(64, "0")}`,
  );
  const balance = "answer" in balanceView ? word(balanceView.answer) : undefined;
  if (balance === undefined)
    throw notAToken(
      token.address,
      `its balanceOf() ${"refusal" in balanceView ? `fails (${balanceView.refusal})` : "does not answer a uint256"}`,
    );
  const shown = (value: bigint) => `${showAmount(value, unit)}${unit.symbol ? "" : ` of token ${token.address}`}`;
  if (amount > balance)
    throw new WalletError(
      "insufficient-funds",
      `${input.from} holds ${shown(balance)}, less than the ${shown(amount)} to send`,
      { balance: balance.toString(), needed: amount.toString(), token: token.address },
    );
  // Built for the chain the token was read on: a node that answers another chain now is refused.
  return buildEthereumCall(
    { ...input, rpc, chainId: token.chainId },
    {
      to: token.address,
      value: 0n,
      data: erc20TransferData(to, amount),
      what: `a transfer of ${shown(amount)} to ${to}`,
      likelyCause: `the token contract ${token.address} refuses it (it may be paused, or the sender or the recipient blocked)`,
    },
  );
}

/**
 * What the token transfer's bytes do, read from the bytes with the token's decimals and symbol.
 * A token on no list keyshard trusts keeps `known: false`, and a warning says that its symbol
 * and decimals are only what the node reports.
 */
export function describeTokenTransfer(bytes: Uint8Array, token: Token): TransactionDescription {
  const description = describeEthereum(bytes, {
    chainId: token.chainId,
    tokens: [{ chainId: token.chainId, address: token.address, symbol: token.symbol, decimals: token.decimals }],
  });
  if (token.listed) return description;
  for (const transfer of description.transfers)
    if (transfer.asset.contract?.toLowerCase() === token.address.toLowerCase())
      transfer.asset = { ...transfer.asset, known: false };
  // The node's origin alone: its URL may carry an API key.
  const symbol =
    token.symbol === "?"
      ? "its symbol (not shown: none, no plain text, or another asset's)"
      : `its symbol ${token.symbol}`;
  description.warnings.push(
    `token ${token.address} is on no list keyshard trusts: ${symbol} and its ${token.decimals} decimals are as the node at ${shownUrl(token.rpc)} reports them; check the address`,
  );
  return description;
}
