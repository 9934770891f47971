/**
 * Solana end to end: SOL transfers signed by FROST Ed25519 (2-of-3) are processed by litesvm,
 * with signature verification on, and move exactly the described amounts and fee.
 */
import type { FrostShare } from "@keyshard/mpc";
import { base58 } from "@scure/base";
import {
  type Address,
  address,
  appendTransactionMessageInstructions,
  blockhash,
  compileTransaction,
  createNoopSigner,
  createTransactionMessage,
  getCompiledTransactionMessageDecoder,
  getCompiledTransactionMessageEncoder,
  getTransactionDecoder,
  lamports,
  pipe,
  setTransactionMessageFeePayer,
  setTransactionMessageLifetimeUsingBlockhash,
} from "@solana/kit";
import { getSetComputeUnitPriceInstruction } from "@solana-program/compute-budget";
import { getAssignInstruction, getTransferSolInstruction } from "@solana-program/system";
import { FailedTransactionMetadata, LiteSVM } from "litesvm";
import { beforeAll, describe, expect, it } from "vitest";
import {
  buildSolTransfer,
  describeSolana,
  type Ed25519Signer,
  signSolanaTransaction,
  solanaAddress,
} from "../src/index.js";
import { ed25519Signer, frostKey } from "./engines.js";

let shares: FrostShare[];
let wallet: Ed25519Signer;
let from: Address;
const TO = address("9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin");
const SOL = 1_000_000_000n;

beforeAll(() => {
  shares = frostKey("ed25519");
  wallet = ed25519Signer(shares, [0, 2]);
  from = solanaAddress(wallet.publicKey);
});

function message(
  instructions: Parameters<typeof appendTransactionMessageInstructions>[0],
  recentBlockhash = blockhash("11111111111111111111111111111111"),
) {
  return new Uint8Array(
    compileTransaction(
      pipe(
        createTransactionMessage({ version: "legacy" }),
        (m) => setTransactionMessageFeePayer(from, m),
        (m) => setTransactionMessageLifetimeUsingBlockhash({ blockhash: recentBlockhash, lastValidBlockHeight: 0n }, m),
        (m) => appendTransactionMessageInstructions(instructions, m),
      ),
    ).messageBytes,
  );
}

describe("SOL transfers processed by litesvm", () => {
  it("the address is the base58 of the FROST Ed25519 key", () => {
    expect(from).toBe(base58.encode(wallet.publicKey));
  });

  for (const [signers, computeUnitPrice] of [
    [[0, 2], undefined],
    [[1, 2], 5_000n],
  ] as const) {
    it(`devices ${signers.join(" and ")} sign a transfer${computeUnitPrice ? " with a priority fee" : ""}`, async () => {
      const signer = ed25519Signer(shares, [...signers]);
      const svm = new LiteSVM();
      svm.airdrop(from, lamports(2n * SOL));
      const amount = 700_000_000n;
      const bytes = buildSolTransfer({
        from,
        to: TO,
        lamports: amount,
        recentBlockhash: svm.latestBlockhash(),
        computeUnitPrice,
      });

      const description = describeSolana(bytes, { signer: from });
      expect(description.action).toBe("transfer");
      expect(description.transfers).toEqual([expect.objectContaining({ to: TO, value: amount, text: "0.7 SOL" })]);
      expect(description.transfers[0]?.from).toBeUndefined();
      expect(description.warnings).toEqual([]);

      const wire = await signSolanaTransaction(bytes, signer);
      const result = svm.sendTransaction(getTransactionDecoder().decode(wire));
      if (result instanceof FailedTransactionMetadata) throw new Error(`litesvm refused: ${result.toString()}`);
      expect(svm.getBalance(TO)).toBe(amount);
      // litesvm charges the same fee describe computed: base fee plus priority fee.
      expect(svm.getBalance(from)).toBe(2n * SOL - amount - description.fee.value);
      expect(description.fee.value).toBe(
        5000n + (computeUnitPrice ? (computeUnitPrice * 6_000n + 999_999n) / 1_000_000n : 0n),
      );
    });
  }

  it("litesvm verifies signatures: a flipped bit is refused and nothing moves", async () => {
    const svm = new LiteSVM();
    svm.airdrop(from, lamports(SOL));
    const wire = await signSolanaTransaction(
      buildSolTransfer({ from, to: TO, lamports: 1000n, recentBlockhash: svm.latestBlockhash() }),
      wallet,
    );
    wire[1] = (wire[1] as number) ^ 1;
    expect(() => {
      const result = svm.sendTransaction(getTransactionDecoder().decode(wire));
      if (result instanceof FailedTransactionMetadata) throw new Error(result.toString());
    }).toThrow();
    expect(svm.getBalance(TO)).toBeNull();
  });
});

describe("describe on hostile Solana messages", () => {
  it("a signature-verification precompile's signatures are in the fee, as litesvm charges them", async () => {
    const svm = new LiteSVM();
    svm.airdrop(from, lamports(SOL));
    const precompile = address("Ed25519SigVerify111111111111111111111111111");
    const bytes = message([{ programAddress: precompile, data: new Uint8Array([255, 0]) }], svm.latestBlockhash());
    const description = describeSolana(bytes, { signer: from });
    expect(description.fee.value).toBe(5000n * 256n);
    expect(description.action).toBe("contract-call");
    // The precompile fails on these bytes, but the fee is charged all the same.
    svm.sendTransaction(getTransactionDecoder().decode(await signSolanaTransaction(bytes, wallet)));
    expect(svm.getBalance(from)).toBe(SOL - description.fee.value);
  });

  it("refuses transfers and compute-budget instructions in non-standard forms, and repeated budgets", () => {
    const transfer = getTransferSolInstruction({ source: createNoopSigner(from), destination: TO, amount: 1n });
    const price = getSetComputeUnitPriceInstruction({ microLamports: 1_000_000_000n });
    const padded = (i: { data: ArrayLike<number> }) => ({ ...i, data: Uint8Array.of(...Array.from(i.data), 0) });
    for (const instructions of [
      [padded(price), transfer],
      [price, price, transfer],
      [padded(transfer)],
      [{ ...transfer, accounts: [...transfer.accounts, { address: TO, role: 0 }] }],
    ])
      expect(() => describeSolana(message(instructions as never))).toThrow(
        expect.objectContaining({ code: "unsupported" }),
      );
  });

  it("an Assign of the wallet's account to another program is a program call, not a transfer", () => {
    const owner = address("BPFLoaderUpgradeab1e11111111111111111111111");
    const bytes = message([
      getTransferSolInstruction({ source: createNoopSigner(from), destination: TO, amount: 1n }),
      getAssignInstruction({ account: createNoopSigner(from), programAddress: owner }),
    ]);
    const description = describeSolana(bytes, { signer: from });
    expect(description.action).toBe("contract-call");
    expect(description.calls).toEqual([expect.objectContaining({ name: "system: Assign" })]);
    expect(description.transfers).toHaveLength(1);
  });

  it("an unknown program is reported as a call with a warning", () => {
    const program = address("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
    const bytes = message([{ programAddress: program, accounts: [], data: new Uint8Array([3, 1, 2]) }]);
    const description = describeSolana(bytes);
    expect(description.action).toBe("contract-call");
    expect(description.calls).toEqual([{ contract: program, selector: program, dataLength: 3 }]);
    expect(description.warnings.join()).toMatch(/does not decode/);
  });

  it("a transfer out of another signer's account names that account", () => {
    const other = address("Vote111111111111111111111111111111111111111");
    const bytes = message([
      getTransferSolInstruction({ source: createNoopSigner(other), destination: TO, amount: 5n }),
    ]);
    const description = describeSolana(bytes, { signer: from });
    expect(description.transfers[0]).toMatchObject({ from: other, to: TO, value: 5n });
    expect(description.fee.value).toBe(10_000n);
  });

  it("refuses lookup tables, trailing bytes, a message that does not need the wallet, and garbage", () => {
    const bytes = buildSolTransfer({ from, to: TO, lamports: 1n, recentBlockhash: "11111111111111111111111111111111" });
    const compiled = getCompiledTransactionMessageDecoder().decode(bytes);
    const withLookup = getCompiledTransactionMessageEncoder().encode({
      ...compiled,
      version: 0,
      addressTableLookups: [{ lookupTableAddress: TO, writableIndexes: [0], readonlyIndexes: [] }],
    } as never);
    expect(() => describeSolana(new Uint8Array(withLookup))).toThrow(expect.objectContaining({ code: "unsupported" }));
    expect(() => describeSolana(new Uint8Array([...bytes, 0]))).toThrow(expect.objectContaining({ code: "malformed" }));
    expect(() => describeSolana(bytes, { signer: TO })).toThrow(expect.objectContaining({ code: "inconsistent" }));
    expect(() => describeSolana(bytes.subarray(0, 40))).toThrow(expect.objectContaining({ code: "malformed" }));
  });

  it("refuses a signature that does not verify", async () => {
    const bytes = buildSolTransfer({ from, to: TO, lamports: 1n, recentBlockhash: "11111111111111111111111111111111" });
    const liar: Ed25519Signer = {
      publicKey: wallet.publicKey,
      signEd25519: async (m, request) => wallet.signEd25519(m.slice(1), request),
    };
    await expect(signSolanaTransaction(bytes, liar)).rejects.toMatchObject({ code: "bad-signature" });
  });
});
