/**
 * A cosigner rule's amount bounds everything a request takes out of the wallet in the chain's own
 * coin: the transfers and the network fee the bytes allow, and nothing in another coin. The
 * descriptions come from real unsigned bytes (`@keyshard/chains`), as the cosigner reads them.
 */
import {
  buildEthereumTransaction,
  buildPsbt,
  buildSolTransfer,
  describeBitcoin,
  describeEthereum,
  describeSolana,
  type EthereumTransaction,
  ownedOutputs,
} from "@keyshard/chains";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { Transaction } from "@scure/btc-signer";
import { getAddress } from "viem";
import { describe, expect, it } from "vitest";
import { decide, parseRules } from "../src/cosigner.js";

const BOB = getAddress("0x00000000000000000000000000000000000b0b00");
const GWEI = 10n ** 9n;
const ETHER = 10n ** 18n;

/** A plain transfer to Bob on `chainId` with a gas limit of 21 000 at `maxFeePerGas`. */
const ethTransfer = (chainId: number, value: bigint, maxFeePerGas = 30n * GWEI) =>
  describeEthereum(
    buildEthereumTransaction({
      chainId,
      nonce: 0,
      to: BOB,
      value,
      gas: 21_000n,
      maxFeePerGas,
      maxPriorityFeePerGas: 1n,
    } as EthereumTransaction),
    { chainId },
  );

const SOL_FROM = "So11111111111111111111111111111111111111112";
const SOL_TO = "Vote111111111111111111111111111111111111111";
const solTransfer = (lamports: bigint, computeUnitPrice?: bigint) =>
  describeSolana(
    buildSolTransfer({
      from: SOL_FROM,
      to: SOL_TO,
      lamports,
      recentBlockhash: "11111111111111111111111111111111",
      ...(computeUnitPrice !== undefined && { computeUnitPrice }),
    }),
    { signer: SOL_FROM },
  );

const rules = parseRules({
  rules: [
    { chain: "ethereum", maxAmount: "0.05", to: [BOB] },
    { chain: "solana", maxAmount: "1" },
  ],
});

describe("cosigner rules count the whole request in the chain's coin", () => {
  it("accepts an honest Ether transfer with a normal fee", () => {
    const d = ethTransfer(1, 4n * 10n ** 16n);
    expect(d.fee.value).toBe(21_000n * 30n * GWEI);
    expect(decide(rules, d)).toEqual({ accept: true, reason: "rule 1" });
  });

  it("refuses a transfer of nothing whose fee drains 21 ETH", () => {
    const d = ethTransfer(1, 0n, ETHER / 1000n);
    expect(d.transfers.map((t) => t.value)).toEqual([0n]);
    expect(d.fee.value).toBe(21n * ETHER);
    expect(decide(rules, d)).toEqual({ accept: false, reason: "rule 1: over 0.05 ETH with the fee" });
  });

  it("refuses a transfer within the amount once its fee takes it over", () => {
    const d = ethTransfer(1, 5n * 10n ** 16n);
    expect(decide(rules, d)).toMatchObject({ accept: false, reason: expect.stringContaining("over 0.05 ETH") });
  });

  it("refuses RBTC on Rootstock, though its bytes and amount would pass as ETH", () => {
    const d = ethTransfer(30, 4n * 10n ** 16n);
    expect(decide(rules, d)).toEqual({
      accept: false,
      reason: "pays in RBTC on eip155:30, and this device's rules are in ETH",
    });
  });

  it("refuses the unknown coin of an unlisted EVM chain", () => {
    expect(decide(rules, ethTransfer(999_999, 1n))).toMatchObject({
      accept: false,
      reason: expect.stringContaining("this device's rules are in ETH"),
    });
  });

  it("counts a Solana priority fee against the SOL amount", () => {
    expect(decide(rules, solTransfer(5n * 10n ** 8n)).accept).toBe(true);
    const drain = solTransfer(5n * 10n ** 8n, 10n ** 13n);
    expect(drain.fee.value).toBeGreaterThan(5n * 10n ** 8n);
    expect(decide(rules, drain)).toEqual({ accept: false, reason: "rule 2: over 1 SOL with the fee" });
  });
});

describe("cosigner rules compare Bitcoin recipients by the script they pay", () => {
  // One mainnet payment; the network a request names is only the proposer's word, and picks how
  // the recipient is spelled (bc1… or bcrt1…), never whom it pays.
  const key = secp256k1.getPublicKey(secp256k1.utils.randomSecretKey());
  const recipientKey = secp256k1.getPublicKey(secp256k1.utils.randomSecretKey());
  const [own] = ownedOutputs({ ecdsa: [key] }, "mainnet");
  const [recipient] = ownedOutputs({ ecdsa: [recipientKey] }, "mainnet");
  const previous = new Transaction({ version: 2 });
  previous.addInput({ txid: new Uint8Array(32).fill(1), index: 0, finalScriptSig: new Uint8Array() });
  previous.addOutput({ script: own?.script as Uint8Array, amount: 100_000n });
  const psbt = buildPsbt({
    network: "mainnet",
    inputs: [
      {
        txid: previous.id,
        vout: 0,
        amount: 100_000n,
        script: own?.script as Uint8Array,
        previousTransaction: previous.toBytes(true, false),
      },
    ],
    outputs: [{ address: recipient?.address as string, amount: 50_000n }],
  });
  const bitcoinRules = parseRules({ rules: [{ chain: "bitcoin", maxAmount: "0.01", to: [recipient?.address] }] });

  it("a payment to the listed bc1 address is accepted however the request spells it", () => {
    for (const network of ["mainnet", "regtest"] as const) {
      const d = describeBitcoin(psbt, { network, keys: { ecdsa: [key] } });
      expect(d.transfers[0]?.to.startsWith(network === "mainnet" ? "bc1" : "bcrt1")).toBe(true);
      expect(decide(bitcoinRules, d)).toEqual({ accept: true, reason: "rule 1" });
    }
  });

  it("a payment to another script is refused on every network", () => {
    const stranger = ownedOutputs({ ecdsa: [key] }, "mainnet")[0]?.address as string;
    const others = parseRules({ rules: [{ chain: "bitcoin", maxAmount: "0.01", to: [stranger] }] });
    const d = describeBitcoin(psbt, { network: "regtest", keys: { ecdsa: [key] } });
    expect(decide(others, d)).toMatchObject({ accept: false, reason: expect.stringContaining("is not in its list") });
  });
});
