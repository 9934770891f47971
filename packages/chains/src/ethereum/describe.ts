/**
 * What unsigned Ethereum transaction bytes do, decoded from the bytes alone: native value and
 * fee in the coin of the chain id the bytes commit to (`native.ts`; never assumed to be Ether),
 * ERC-20 `transfer` / `transferFrom` / `approve` when the call data is exactly their canonical
 * ABI encoding, anything else reported as a contract call with its selector.
 */
import { type Address, decodeFunctionData, encodeFunctionData, erc20Abi, getAddress, type Hex, maxUint256 } from "viem";
import { amount, newDescription, type TransactionDescription } from "../describe.js";
import { ChainError } from "../errors.js";
import { nativeCoin } from "./native.js";
import { MAINNET_TOKENS, type TokenInfo, tokenAsset } from "./tokens.js";
import { parseEthereumTransaction } from "./transaction.js";

export interface EthereumDescribeOptions {
  /** The chain the caller means to sign for; bytes for any other chain are refused. */
  chainId: number;
  /** Tokens the caller trusts in addition to `MAINNET_TOKENS`. */
  tokens?: readonly TokenInfo[];
}

const ERC20_FUNCTIONS = {
  transfer: "transfer(address,uint256)",
  transferFrom: "transferFrom(address,address,uint256)",
  approve: "approve(address,uint256)",
} as const;

export function describeEthereum(bytes: Uint8Array, options: EthereumDescribeOptions): TransactionDescription {
  if (!Number.isSafeInteger(options.chainId) || options.chainId <= 0)
    throw new ChainError("invalid", "chainId must be a positive integer");
  const tx = parseEthereumTransaction(bytes);
  if (tx.chainId !== options.chainId)
    throw new ChainError("wrong-network", `transaction is for chain ${tx.chainId}, not chain ${options.chainId}`);
  const native = nativeCoin(tx.chainId);
  const tokens = [...MAINNET_TOKENS, ...(options.tokens ?? [])];
  const gasPrice = tx.type === "eip1559" ? (tx.maxFeePerGas ?? 0n) : (tx.gasPrice ?? 0n);
  const value = tx.value ?? 0n;
  const data = tx.data ?? "0x";
  const description = newDescription("ethereum", `eip155:${tx.chainId}`, amount(native, (tx.gas ?? 0n) * gasPrice));
  if (!native.known)
    description.warnings.push(
      `chain ${tx.chainId}'s native coin is not one keyshard knows: value and fee are in its wei`,
    );
  if (tx.to === undefined || tx.to === null) {
    description.action = "contract-deployment";
    description.calls.push({ contract: "(new contract)", selector: "", dataLength: (data.length - 2) / 2 });
    if (value > 0n) description.transfers.push({ ...amount(native, value), to: "(new contract)" });
    description.warnings.push("deploys a new contract");
    return description;
  }
  const to = getAddress(tx.to);
  if (value > 0n || data === "0x") description.transfers.push({ ...amount(native, value), to });
  if (data === "0x") return description;

  const selector = data.slice(0, 10);
  const dataLength = (data.length - 2) / 2;
  const erc20 = decodeErc20(data);
  if (erc20 === null) {
    description.action = "contract-call";
    description.calls.push({ contract: to, selector, dataLength });
    description.warnings.push(`calls contract ${to} with data keyshard cannot decode (selector ${selector})`);
    return description;
  }
  const token = tokenAsset(tx.chainId, to, tokens);
  const name = ERC20_FUNCTIONS[erc20.functionName];
  if (!token.known && erc20.functionName !== "transfer") {
    // ERC-721 shares these two selectors: on an unlisted contract the "amount" may be an NFT id.
    description.action = "contract-call";
    description.calls.push({ contract: to, selector, name, dataLength });
    description.warnings.push(`${name} on unlisted contract ${to}: an ERC-20 amount or an ERC-721 token id`);
    return description;
  }
  if (!token.known) description.warnings.push(`unknown token contract ${to}: amount shown in base units`);
  description.calls.push({ contract: to, selector, name, dataLength });
  if (value > 0n) description.warnings.push(`sends ${amount(native, value).text} along with a token call`);
  switch (erc20.functionName) {
    case "transfer":
      description.action = "token-transfer";
      description.transfers.push({ ...amount(token, erc20.args[1]), to: erc20.args[0] });
      break;
    case "transferFrom":
      description.action = "token-transfer";
      description.transfers.push({ ...amount(token, erc20.args[2]), to: erc20.args[1], from: erc20.args[0] });
      description.warnings.push(`moves tokens out of ${erc20.args[0]} under an allowance`);
      break;
    case "approve": {
      const unlimited = erc20.args[1] === maxUint256;
      description.action = "token-approval";
      description.approvals.push({ ...amount(token, erc20.args[1]), spender: erc20.args[0], unlimited });
      if (unlimited) description.warnings.push(`lets ${erc20.args[0]} take every ${token.symbol} token of the wallet`);
      break;
    }
  }
  return description;
}

type Erc20Call =
  | { functionName: "transfer"; args: readonly [Address, bigint] }
  | { functionName: "transferFrom"; args: readonly [Address, Address, bigint] }
  | { functionName: "approve"; args: readonly [Address, bigint] };

/**
 * The ERC-20 call this data is, or null. Only the exact canonical encoding counts: dirty address
 * words or trailing bytes would be read differently by different contracts, so such data is
 * reported as an undecodable call rather than as the transfer it resembles.
 */
function decodeErc20(data: Hex): Erc20Call | null {
  let call: ReturnType<typeof decodeFunctionData<typeof erc20Abi>>;
  try {
    call = decodeFunctionData({ abi: erc20Abi, data });
  } catch {
    return null;
  }
  if (!(call.functionName in ERC20_FUNCTIONS)) return null;
  const canonical = encodeFunctionData({ abi: erc20Abi, functionName: call.functionName, args: call.args } as never);
  if (canonical.toLowerCase() !== data.toLowerCase()) return null;
  return call as Erc20Call;
}
