/**
 * EIP-2930 (type 1) transactions: an access list and gasPrice, signed like EIP-1559 ones. The
 * unsigned bytes are viem's own serialization, the signed ones recover to the key's address under
 * viem, and anvil mines them from keyshardAccount and from keyshardProvider.
 */
import {
  bytesToHex,
  createPublicClient,
  createWalletClient,
  getAddress,
  type Hex,
  hexToBytes,
  http,
  parseEther,
  parseGwei,
  parseTransaction,
  recoverTransactionAddress,
  serializeTransaction,
  toHex,
} from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildEthereumTransaction,
  ChainError,
  describeEthereum,
  ethereumAddress,
  keyshardAccount,
  keyshardProvider,
  signEthereumTransaction,
} from "../src/index.js";
import { ANVIL_CHAIN_ID, type Anvil, ANVIL_CHAIN as chain, startAnvil } from "./anvil.js";
import { ecdsa2pKey, ecdsa2pSigner } from "./engines.js";

const RECIPIENT = getAddress("0x00000000000000000000000000000000000b0b00");
const ACCESS_LIST = [
  { address: "0x00000000000000000000000000000000000c0ffe", storageKeys: [`0x${"01".repeat(32)}`] },
  { address: RECIPIENT.toLowerCase(), storageKeys: [] },
] as { address: Hex; storageKeys: Hex[] }[];
const TRANSACTION = {
  type: "eip2930",
  chainId: 1,
  nonce: 3,
  gasPrice: parseGwei("12"),
  gas: 30_000n,
  to: RECIPIENT,
  value: parseEther("0.5"),
  accessList: ACCESS_LIST,
} as const;

const signer = ecdsa2pSigner(ecdsa2pKey());

describe("EIP-2930 transactions", () => {
  it("are viem's serialization, signed so that viem recovers the key's address", async () => {
    const bytes = buildEthereumTransaction(TRANSACTION);
    expect(bytesToHex(bytes)).toBe(serializeTransaction(TRANSACTION));
    const signed = bytesToHex(await signEthereumTransaction(bytes, signer));
    expect(signed.slice(0, 4)).toBe("0x01");
    expect(parseTransaction(signed)).toMatchObject({
      ...TRANSACTION,
      to: RECIPIENT.toLowerCase(),
      yParity: expect.any(Number),
    });
    expect(await recoverTransactionAddress({ serializedTransaction: signed as never })).toBe(
      ethereumAddress(signer.publicKey),
    );
  });

  it("are described with gasPrice × gas as their fee", () => {
    const description = describeEthereum(buildEthereumTransaction(TRANSACTION), { chainId: 1 });
    expect(description.fee.value).toBe(TRANSACTION.gasPrice * TRANSACTION.gas);
    expect(description.transfers).toMatchObject([{ to: RECIPIENT, value: TRANSACTION.value }]);
  });

  it("keep the rules of canonical, unsigned bytes", async () => {
    const canonical = hexToBytes(serializeTransaction(TRANSACTION));
    await expect(signEthereumTransaction(new Uint8Array([...canonical, 0]), signer)).rejects.toThrow(ChainError);
    const signed = serializeTransaction(TRANSACTION, {
      r: toHex(1n, { size: 32 }),
      s: toHex(2n, { size: 32 }),
      yParity: 0,
    });
    expect(() => buildEthereumTransaction(parseTransaction(signed) as never)).toThrow("transaction is already signed");
  });
});

describe("EIP-2930 transactions on anvil", () => {
  let anvil: Anvil;
  beforeAll(async () => {
    anvil = await startAnvil();
    await anvil.rpc("anvil_setBalance", [ethereumAddress(signer.publicKey), toHex(parseEther("10"))]);
  });
  afterAll(async () => {
    await anvil?.stop();
  });
  const mined = async (hash: Hex) => {
    const client = createPublicClient({ chain, transport: http(anvil.url) });
    expect(await client.waitForTransactionReceipt({ hash })).toMatchObject({ status: "success", type: "eip2930" });
    return client.getTransaction({ hash });
  };

  it("are sent by viem's wallet client with keyshardAccount", async () => {
    const wallet = createWalletClient({ account: keyshardAccount(signer), chain, transport: http(anvil.url) });
    const hash = await wallet.sendTransaction({
      to: RECIPIENT,
      value: 1n,
      gasPrice: parseGwei("2"),
      accessList: ACCESS_LIST,
    });
    expect(await mined(hash)).toMatchObject({ accessList: ACCESS_LIST });
  });

  it("are signed and sent by keyshardProvider as 0x1, declared or implied; maxFeePerGas is refused", async () => {
    const provider = keyshardProvider({ signer, chainId: ANVIL_CHAIN_ID, rpcUrl: anvil.url });
    const from = ethereumAddress(signer.publicKey);
    const gasPrice = toHex(parseGwei("2"));
    for (const fields of [{ type: "0x1", gasPrice }, { gasPrice, accessList: ACCESS_LIST }, { type: "0x1" }]) {
      const hash = await provider.request({
        method: "eth_sendTransaction",
        params: [{ from, to: RECIPIENT, value: "0x1", accessList: ACCESS_LIST, ...fields }],
      });
      expect(await mined(hash as Hex)).toMatchObject({ type: "eip2930", accessList: ACCESS_LIST });
    }
    await expect(
      provider.request({
        method: "eth_signTransaction",
        params: [{ from, to: RECIPIENT, type: "0x1", maxFeePerGas: gasPrice, accessList: ACCESS_LIST }],
      }),
    ).rejects.toMatchObject({ code: -32602, message: "an EIP-2930 (0x1) transaction pays gasPrice, not maxFeePerGas" });
  });
});
