/**
 * An EVM transaction's value and fee are in the coin of the chain id its bytes commit to: Ether
 * only where the chain's coin is Ether, another listed coin elsewhere, and an unknown coin (never
 * "ETH") with a warning on a chain keyshard does not list.
 */
import { getAddress } from "viem";
import { describe, expect, it } from "vitest";
import { buildEthereumTransaction, describeEthereum, type EthereumTransaction, nativeCoin } from "../src/index.js";

const ALICE = getAddress("0x00000000000000000000000000000000000a11ce");

const transfer = (chainId: number) =>
  describeEthereum(
    buildEthereumTransaction({
      chainId,
      nonce: 0,
      to: ALICE,
      value: 10n ** 16n,
      gas: 21_000n,
      maxFeePerGas: 10n ** 9n,
      maxPriorityFeePerGas: 1n,
    } as EthereumTransaction),
    { chainId },
  );

describe("native coins of EVM chains", () => {
  it("Ether on Ethereum, its rollups, testnets and local chains", () => {
    for (const chainId of [1, 10, 8453, 42161, 11155111, 17000, 31337])
      expect(nativeCoin(chainId)).toEqual({ symbol: "ETH", decimals: 18, known: true });
    const d = transfer(31337);
    expect(d.transfers[0]).toMatchObject({ asset: { symbol: "ETH", known: true }, text: "0.01 ETH" });
    expect(d.warnings).toEqual([]);
  });

  it("each other listed chain's own coin, for the value and the fee", () => {
    const d = transfer(30);
    expect(d.transfers[0]).toMatchObject({ asset: { symbol: "RBTC", known: true }, text: "0.01 RBTC" });
    expect(d.fee.asset).toEqual({ symbol: "RBTC", decimals: 18, known: true });
    expect([31, 56, 100, 137, 43114].map((id) => nativeCoin(id).symbol)).toEqual([
      "tRBTC",
      "BNB",
      "XDAI",
      "POL",
      "AVAX",
    ]);
  });

  it("an unlisted chain's coin is unknown, named after the chain, and warned about", () => {
    const d = transfer(999_999);
    expect(d.transfers[0]?.asset).toEqual({ symbol: "(coin of chain 999999)", decimals: 18, known: false });
    expect(d.fee.asset.known).toBe(false);
    expect(d.fee.asset.symbol).not.toBe("ETH");
    expect(d.warnings).toEqual([expect.stringContaining("chain 999999's native coin is not one keyshard knows")]);
  });
});
