/**
 * describe() on hostile inputs: what the bytes really do, or a typed refusal — never the
 * client's story, never an untyped exception. Ends with a mutation fuzz over all three chains.
 */
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { Transaction } from "@scure/btc-signer";
import {
  concatHex,
  encodeFunctionData,
  erc20Abi,
  getAddress,
  type Hex,
  hexToBytes,
  maxUint256,
  serializeTransaction,
  toHex,
  toRlp,
} from "viem";
import { describe, expect, it } from "vitest";
import {
  buildEthereumTransaction,
  buildPsbt,
  buildSolTransfer,
  ChainError,
  describeBitcoin,
  describeEthereum,
  describeSolana,
  type EthereumTransaction,
  erc20ApproveData,
  erc20TransferData,
  p2wpkhOutput,
  parseEthereumAddress,
} from "../src/index.js";

const USDC = getAddress("0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48");
const ALICE = getAddress("0x00000000000000000000000000000000000a11ce");
const MALLORY = getAddress("0x000000000000000000000000000000000000bad0");

function tx(fields: Partial<EthereumTransaction> = {}): Uint8Array {
  return buildEthereumTransaction({
    chainId: 1,
    nonce: 7,
    to: ALICE,
    value: 10n ** 18n,
    gas: 21_000n,
    maxFeePerGas: 30_000_000_000n,
    maxPriorityFeePerGas: 1_000_000_000n,
    ...fields,
  } as EthereumTransaction);
}

const refusedWith = (code: string) => expect.objectContaining({ name: "ChainError", code });

describe("Ethereum", () => {
  it("a plain transfer: destination, amount in wei and ETH, maximum fee", () => {
    const d = describeEthereum(tx(), { chainId: 1 });
    expect(d).toMatchObject({ chain: "ethereum", network: "eip155:1", action: "transfer", warnings: [] });
    expect(d.transfers).toEqual([expect.objectContaining({ to: ALICE, value: 10n ** 18n, text: "1 ETH" })]);
    expect(d.fee).toMatchObject({ value: 21_000n * 30_000_000_000n, text: "0.00063 ETH" });
  });

  it("refuses a transaction for another chain, and a legacy one without EIP-155", () => {
    expect(() => describeEthereum(tx({ chainId: 5 }), { chainId: 1 })).toThrow(refusedWith("wrong-network"));
    const unprotected = hexToBytes(
      serializeTransaction({ type: "legacy", nonce: 0, gasPrice: 1n, gas: 21_000n, to: ALICE, value: 1n }),
    );
    expect(() => describeEthereum(unprotected, { chainId: 1 })).toThrow(refusedWith("unsupported"));
  });

  it("refuses other transaction types, signed transactions and non-canonical encodings", () => {
    for (const type of [0x03, 0x04, 0x7f])
      expect(() => describeEthereum(Uint8Array.of(type, 0xc0), { chainId: 1 })).toThrow(refusedWith("unsupported"));
    const unsigned = tx();
    const signed = hexToBytes(
      serializeTransaction(
        { chainId: 1, nonce: 7, to: ALICE, value: 1n, gas: 21_000n, maxFeePerGas: 2n, maxPriorityFeePerGas: 1n },
        { r: toHex(1n, { size: 32 }), s: toHex(2n, { size: 32 }), yParity: 0 },
      ),
    );
    expect(() => describeEthereum(signed, { chainId: 1 })).toThrow(refusedWith("invalid"));
    // The nonce with a leading zero byte: decoders that accept it read 7, the network reads garbage.
    const fields: Hex[] = [
      "0x01",
      "0x0007",
      "0x3b9aca00",
      "0x06fc23ac00",
      "0x5208",
      ALICE,
      "0x0de0b6b3a7640000",
      "0x",
      [],
    ] as never;
    const nonCanonical = hexToBytes(concatHex(["0x02", toRlp(fields)]));
    expect(() => describeEthereum(nonCanonical, { chainId: 1 })).toThrow(ChainError);
    expect(() => describeEthereum(new Uint8Array([...unsigned, 0]), { chainId: 1 })).toThrow(ChainError);
  });

  it("ERC-20 transfer of a listed token, approve (unlimited) and transferFrom", () => {
    const transfer = describeEthereum(tx({ to: USDC, value: 0n, data: erc20TransferData(MALLORY, 2_500_000n) }), {
      chainId: 1,
    });
    expect(transfer.action).toBe("token-transfer");
    expect(transfer.transfers).toEqual([expect.objectContaining({ to: MALLORY, value: 2_500_000n, text: "2.5 USDC" })]);

    const approve = describeEthereum(tx({ to: USDC, value: 0n, data: erc20ApproveData(MALLORY, maxUint256) }), {
      chainId: 1,
    });
    expect(approve.action).toBe("token-approval");
    expect(approve.transfers).toEqual([]);
    expect(approve.approvals).toEqual([expect.objectContaining({ spender: MALLORY, unlimited: true })]);
    expect(approve.warnings.join()).toMatch(/every USDC/);

    const data = encodeFunctionData({ abi: erc20Abi, functionName: "transferFrom", args: [ALICE, MALLORY, 1n] });
    const from = describeEthereum(tx({ to: USDC, value: 0n, data }), { chainId: 1 });
    expect(from.transfers).toEqual([expect.objectContaining({ from: ALICE, to: MALLORY, value: 1n })]);
  });

  it("an unknown token is reported in base units with a warning; a listed token on another chain is unknown", () => {
    const unknownToken = getAddress("0x1111111111111111111111111111111111111111");
    const d = describeEthereum(tx({ to: unknownToken, value: 0n, data: erc20TransferData(MALLORY, 5n) }), {
      chainId: 1,
    });
    expect(d.transfers[0]).toMatchObject({ value: 5n, asset: { symbol: "?", decimals: null, known: false } });
    expect(d.transfers[0]?.text).toBe(`5 base units of unknown token ${unknownToken}`);
    expect(d.warnings.join()).toMatch(/unknown token/);
    const onOtherChain = describeEthereum(
      tx({ chainId: 10, to: USDC, value: 0n, data: erc20TransferData(MALLORY, 5n) }),
      {
        chainId: 10,
      },
    );
    expect(onOtherChain.transfers[0]?.asset.known).toBe(false);
  });

  it("a contract call disguised as a transfer is reported as a contract call", () => {
    // Value to an address plus call data: the client may call it a payment; it runs code.
    const call = describeEthereum(tx({ data: "0xdeadbeef00", gas: 90_000n }), { chainId: 1 });
    expect(call.action).toBe("contract-call");
    expect(call.transfers).toEqual([expect.objectContaining({ to: ALICE, value: 10n ** 18n })]);
    expect(call.calls).toEqual([{ contract: ALICE, selector: "0xdeadbeef", dataLength: 5 }]);

    const canonical = erc20TransferData(ALICE, 1n);
    // Trailing bytes after a well-formed transfer, and an address word with dirty high bits.
    const trailing = concatHex([canonical, "0x00000001"]);
    const dirty = `${canonical.slice(0, 10)}ff${canonical.slice(12)}` as Hex;
    const short = canonical.slice(0, 60) as Hex;
    for (const data of [trailing, dirty, short]) {
      const d = describeEthereum(tx({ to: USDC, value: 0n, data, gas: 90_000n }), { chainId: 1 });
      expect(d.action).toBe("contract-call");
      expect(d.transfers).toEqual([]);
      expect(d.warnings.join()).toMatch(/cannot decode/);
    }
  });

  it("transferFrom and approve on an unlisted contract may be ERC-721: reported as contract calls", () => {
    const nft = getAddress("0x2222222222222222222222222222222222222222");
    const data = encodeFunctionData({ abi: erc20Abi, functionName: "transferFrom", args: [ALICE, MALLORY, 1234n] });
    for (const call of [data, erc20ApproveData(MALLORY, 1234n)]) {
      const d = describeEthereum(tx({ to: nft, value: 0n, data: call, gas: 90_000n }), { chainId: 1 });
      expect(d.action).toBe("contract-call");
      expect(d.transfers).toEqual([]);
      expect(d.approvals).toEqual([]);
      expect(d.warnings.join()).toMatch(/ERC-721/);
    }
  });

  it("a legacy chain id beyond 2^53 is a typed refusal", () => {
    const bytes = hexToBytes("0xe68001825208941111111111111111111111111111111111111111018087200000000000008080");
    expect(() => describeEthereum(bytes, { chainId: 1 })).toThrow(ChainError);
  });

  it("a contract deployment is named as one", () => {
    const d = describeEthereum(tx({ to: undefined, data: "0x6000", value: 0n, gas: 100_000n }), { chainId: 1 });
    expect(d.action).toBe("contract-deployment");
  });

  it("addresses: checksums are enforced when present", () => {
    expect(parseEthereumAddress(ALICE.toLowerCase())).toBe(ALICE);
    expect(parseEthereumAddress(USDC)).toBe(USDC);
    const letter = USDC.slice(2).search(/[a-fA-F]/) + 2;
    const flipped =
      USDC[letter] === USDC[letter]?.toLowerCase() ? USDC[letter]?.toUpperCase() : USDC[letter]?.toLowerCase();
    const broken = `${USDC.slice(0, letter)}${flipped}${USDC.slice(letter + 1)}`;
    expect(() => parseEthereumAddress(broken)).toThrow(refusedWith("invalid"));
    expect(() => parseEthereumAddress("0x1234")).toThrow(refusedWith("invalid"));
  });
});

/** Deterministic mutations of valid bytes: flips, truncations, extensions, overwrites. */
function* mutations(bytes: Uint8Array, count: number): Generator<Uint8Array> {
  let seed = 0x2545f491;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  for (let i = 0; i < count; i++) {
    const copy = new Uint8Array(bytes);
    switch (next() % 4) {
      case 0: {
        const at = next() % copy.length;
        copy[at] = (copy[at] as number) ^ (1 << (next() % 8));
        yield copy;
        break;
      }
      case 1:
        yield copy.subarray(0, next() % copy.length);
        break;
      case 2:
        yield Uint8Array.of(...copy, next() % 256);
        break;
      default:
        copy[next() % copy.length] = next() % 256;
        yield copy;
    }
  }
}

/** Many mutations must be refused (the decoders are strict), and every refusal must be typed. */
function expectOnlyChainErrors(valid: Uint8Array, describeBytes: (b: Uint8Array) => unknown): void {
  let refused = 0;
  for (const bytes of mutations(valid, 400)) {
    try {
      describeBytes(bytes);
    } catch (e) {
      if (!(e instanceof ChainError)) throw new Error(`untyped failure on ${toHex(bytes)}: ${e}`);
      refused++;
    }
  }
  expect(refused).toBeGreaterThan(100);
}

describe("fuzz: mutated bytes give a description or a ChainError", () => {
  it("Ethereum", () => {
    const valid = tx({ to: USDC, value: 0n, data: erc20TransferData(MALLORY, 5n), gas: 90_000n });
    expectOnlyChainErrors(valid, (b) => describeEthereum(b, { chainId: 1 }));
  });

  it("Bitcoin PSBT", () => {
    const key = secp256k1.getPublicKey(secp256k1.utils.randomSecretKey());
    const own = p2wpkhOutput(key, "testnet");
    const prev = new Transaction({ allowUnknownInputs: true });
    prev.addInput({ txid: new Uint8Array(32).fill(1), index: 0 });
    prev.addOutput({ script: own.script, amount: 10_000n });
    const psbt = buildPsbt({
      network: "testnet",
      inputs: [{ txid: prev.id, vout: 0, amount: 10_000n, script: own.script, previousTransaction: prev.unsignedTx }],
      outputs: [{ address: own.address, amount: 9_000n }],
    });
    expectOnlyChainErrors(psbt, (b) => describeBitcoin(b, { network: "testnet", keys: { ecdsa: [key] } }));
  });

  it("Solana message", () => {
    const valid = buildSolTransfer({
      from: "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin",
      to: "Vote111111111111111111111111111111111111111",
      lamports: 5n,
      recentBlockhash: "11111111111111111111111111111111",
      computeUnitPrice: 10n,
    });
    expectOnlyChainErrors(valid, (b) => describeSolana(b));
  });
});
