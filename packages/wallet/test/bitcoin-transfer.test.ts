/**
 * Building a Bitcoin payment on the device: coins from a coins file or a node, each proven by
 * its transaction; largest first; change back to the wallet unless it would be dust; and every
 * mistake (a coin of another wallet, a wrong transaction, too little money, a bad address or
 * fee rate) a typed error before anything is signed.
 */
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeBitcoin, p2trOutput, p2wpkhOutput } from "../../chains/src/index.js";
import { type BitcoinNode, startBitcoinNode } from "../../chains/test/bitcoin-node.js";
import { buildBitcoinTransfer } from "../src/chains/bitcoin.js";
import { WalletError } from "../src/errors.js";

const key = () => secp256k1.getPublicKey(secp256k1.utils.randomSecretKey());
const owner = p2wpkhOutput(key(), "regtest");
const BOB = p2wpkhOutput(key(), "regtest").address;

async function failure(promise: Promise<unknown>): Promise<WalletError> {
  const e = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(e).toBeInstanceOf(WalletError);
  return e as WalletError;
}

describe("a Bitcoin payment built on the device", () => {
  let node: BitcoinNode;
  beforeAll(async () => {
    node = await startBitcoinNode();
  });
  afterAll(() => node?.close());

  const coin = (amount: bigint, to = owner.address) => {
    const { txid, hex } = node.fund(to, amount);
    return { txid, vout: 0, hex };
  };
  const describe_ = (psbt: Uint8Array) => describeBitcoin(psbt, { network: "regtest", keys: { ecdsa: [owner.key] } });

  it("picks the largest coins first and sends the change back", async () => {
    const coins = [coin(10_000n), coin(500_000n), coin(300_000n)];
    const { psbt, fee } = await buildBitcoinTransfer({
      owner,
      network: "regtest",
      to: BOB,
      amount: "0.006",
      feeRate: 2,
      coins,
    });
    const d = describe_(psbt);
    expect(d.transfers).toEqual([expect.objectContaining({ to: BOB, value: 600_000n })]);
    // Two inputs (68 vB each), two P2WPKH outputs (31 vB each), 11 vB of the rest, at 2 sat/vB.
    expect(fee).toBe(BigInt((11 + 2 * 68 + 2 * 31) * 2));
    expect(d.fee.value).toBe(fee);
    expect(d.change).toEqual([expect.objectContaining({ to: owner.address, value: 800_000n - 600_000n - fee })]);
  });

  it("leaves no dust: change under 546 sat goes to the fee", async () => {
    const coins = [coin(100_500n)];
    const { psbt, fee } = await buildBitcoinTransfer({
      owner,
      network: "regtest",
      to: BOB,
      amount: "0.001",
      feeRate: 1,
      coins,
    });
    expect(describe_(psbt).change).toEqual([]);
    expect(fee).toBe(500n);
  });

  it("finds the wallet's coins through the node, with basic auth from the URL", async () => {
    const p2tr = p2trOutput(key().subarray(1), "regtest");
    node.fund(p2tr.address, 70_000n);
    node.fund(p2tr.address, 80_000n);
    const { psbt } = await buildBitcoinTransfer({
      owner: p2tr,
      network: "regtest",
      to: BOB,
      amount: "0.0012",
      rpc: node.url,
    });
    const d = describeBitcoin(psbt, { network: "regtest", keys: { taproot: [p2tr.key] } });
    expect(d.transfers[0]?.value).toBe(120_000n);
    expect(d.warnings).toEqual([]);
    const noAuth = node.url.replace(/\/\/[^@]+@/, "//");
    const refused = await failure(
      buildBitcoinTransfer({ owner: p2tr, network: "regtest", to: BOB, amount: "0.0012", rpc: noAuth }),
    );
    expect(refused.code).toBe("rpc-failed");
    expect(refused.message).toMatch(/refused the credentials/);
  });

  it("refuses coins that are not the wallet's, or not what they claim", async () => {
    const other = coin(50_000n, BOB);
    const base = { owner, network: "regtest", to: BOB, amount: "0.0001" } as const;
    expect((await failure(buildBitcoinTransfer({ ...base, coins: [other] }))).message).toMatch(
      /does not pay this wallet/,
    );
    const mine = coin(50_000n);
    const lie = { ...mine, txid: other.txid };
    expect((await failure(buildBitcoinTransfer({ ...base, coins: [lie] }))).message).toMatch(/is [0-9a-f]{64}/);
    expect((await failure(buildBitcoinTransfer({ ...base, coins: [{ ...mine, vout: 3 }] }))).message).toMatch(
      /no output 3/,
    );
    expect((await failure(buildBitcoinTransfer({ ...base, coins: [{ ...mine, hex: "00" }] }))).code).toBe("usage");
    for (const bad of [[], {}, "x", [{ txid: "zz", vout: 0, hex: "00" }], [{ ...mine, vout: -1 }]])
      expect((await failure(buildBitcoinTransfer({ ...base, coins: bad }))).code).toBe("usage");
  });

  it("says what is missing: money, coins, a valid address, amount or fee rate", async () => {
    const coins = [coin(20_000n)];
    const base = { owner, network: "regtest", to: BOB, coins } as const;
    expect((await failure(buildBitcoinTransfer({ ...base, amount: "0.0002" }))).code).toBe("insufficient-funds");
    expect((await failure(buildBitcoinTransfer({ ...base, amount: "0.00000100" }))).code).toBe("invalid-amount");
    expect((await failure(buildBitcoinTransfer({ ...base, amount: "0.000000001" }))).code).toBe("invalid-amount");
    expect(
      (
        await failure(
          buildBitcoinTransfer({ ...base, amount: "0.0001", to: "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4" }),
        )
      ).code,
    ).toBe("invalid-address");
    expect((await failure(buildBitcoinTransfer({ ...base, amount: "0.0001", feeRate: 0 }))).code).toBe("usage");
    const { coins: _, ...noCoins } = base;
    expect((await failure(buildBitcoinTransfer({ ...noCoins, amount: "0.0001" }))).code).toBe("usage");
  });
});
