/**
 * Ethereum end to end on a real node: transactions signed jointly by ecdsa2p and by dkls23
 * (2-of-3) are mined by anvil; an ERC-20 token deployed on anvil moves; messages and typed data
 * verify with viem's verifiers; viem itself signs through keyshardAccount and keyshardProvider.
 */
import { readFileSync } from "node:fs";
import type { DklsShare, Ecdsa2pShare } from "@keyshard/mpc";
import {
  type Address,
  createPublicClient,
  createWalletClient,
  custom,
  erc20Abi,
  getAddress,
  type Hex,
  http,
  type PublicClient,
  parseEther,
  toHex,
  verifyMessage,
  verifyTypedData,
} from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildEthereumTransaction,
  ChainError,
  describeEthereum,
  type EcdsaSigner,
  erc20TransferData,
  ethereumAddress,
  keyshardAccount,
  keyshardProvider,
  signEthereumTransaction,
  signPersonalMessage,
  signTypedData,
} from "../src/index.js";
import { type Anvil, ANVIL_CHAIN_ID as CHAIN_ID, ANVIL_CHAIN as chain, startAnvil } from "./anvil.js";
import { dklsKey, dklsSigner, ecdsa2pKey, ecdsa2pSigner } from "./engines.js";

const RECIPIENT = getAddress("0x00000000000000000000000000000000000b0b00");

let anvil: Anvil;
let client: PublicClient;
let ecdsa2pShares: Ecdsa2pShare[];
let dklsShares: DklsShare[];

beforeAll(async () => {
  anvil = await startAnvil();
  client = createPublicClient({ chain, transport: http(anvil.url) });
  ecdsa2pShares = ecdsa2pKey();
  dklsShares = dklsKey();
});

afterAll(async () => {
  await anvil?.stop();
});

async function fund(address: Address, wei: bigint): Promise<void> {
  await anvil.rpc("anvil_setBalance", [address, toHex(wei)]);
}

async function send(signed: Uint8Array) {
  const hash = await client.sendRawTransaction({ serializedTransaction: toHex(signed) });
  return client.waitForTransactionReceipt({ hash });
}

async function fees() {
  const block = await client.getBlock();
  const maxPriorityFeePerGas = 1_000_000_000n;
  return { maxPriorityFeePerGas, maxFeePerGas: (block.baseFeePerGas ?? 0n) * 2n + maxPriorityFeePerGas };
}

async function transferEth(signer: EcdsaSigner, type: "eip1559" | "legacy") {
  const from = ethereumAddress(signer.publicKey);
  await fund(from, parseEther("10"));
  const nonce = await client.getTransactionCount({ address: from });
  const value = parseEther("1.25");
  const gasFields = type === "eip1559" ? await fees() : { gasPrice: await client.getGasPrice() };
  const unsigned = buildEthereumTransaction({
    chainId: CHAIN_ID,
    nonce,
    to: RECIPIENT,
    value,
    gas: 21_000n,
    ...gasFields,
  });

  const description = describeEthereum(unsigned, { chainId: CHAIN_ID });
  expect(description.action).toBe("transfer");
  expect(description.transfers).toEqual([expect.objectContaining({ to: RECIPIENT, value, text: "1.25 ETH" })]);

  const before = await client.getBalance({ address: RECIPIENT });
  const receipt = await send(await signEthereumTransaction(unsigned, signer));
  expect(receipt.status).toBe("success");
  expect(receipt.from.toLowerCase()).toBe(from.toLowerCase());
  expect(await client.getBalance({ address: RECIPIENT })).toBe(before + value);
  const spent = parseEther("10") - (await client.getBalance({ address: from }));
  expect(spent).toBe(value + receipt.gasUsed * receipt.effectiveGasPrice);
}

describe("Ethereum transfers signed by keyshard's engines, mined by anvil", () => {
  it("EIP-1559, ecdsa2p (hybrid 2-of-2) at m/0/0", async () => {
    await transferEth(ecdsa2pSigner(ecdsa2pShares, "m/0/0"), "eip1559");
  });

  it("EIP-1559, dkls23 2-of-3 (devices 0 and 2)", async () => {
    await transferEth(dklsSigner(dklsShares, [0, 2], "m/0/1"), "eip1559");
  });

  it("legacy EIP-155, dkls23 2-of-3 (devices 1 and 2)", async () => {
    await transferEth(dklsSigner(dklsShares, [1, 2], "m/0/2"), "legacy");
  });
});

describe("ERC-20 on anvil", () => {
  it("deploys a token, describes a transfer from the bytes, and mines it", async () => {
    const signer = ecdsa2pSigner(ecdsa2pShares, "m/0/3");
    const holder = ethereumAddress(signer.publicKey);
    await fund(holder, parseEther("1"));
    const [deployer] = (await anvil.rpc("eth_accounts")) as Address[];
    const bytecode = readFileSync(new URL("fixtures/MinimalToken.bin", import.meta.url), "utf8").trim();
    const constructorArgs =
      holder.slice(2).toLowerCase().padStart(64, "0") + 10_000_000n.toString(16).padStart(64, "0");
    const deployHash = (await anvil.rpc("eth_sendTransaction", [
      { from: deployer, data: `0x${bytecode}${constructorArgs}`, gas: toHex(1_000_000) },
    ])) as Hex;
    const deployReceipt = await client.waitForTransactionReceipt({ hash: deployHash });
    const token = getAddress(deployReceipt.contractAddress as Address);
    expect(
      await client.readContract({ address: token, abi: erc20Abi, functionName: "balanceOf", args: [holder] }),
    ).toBe(10_000_000n);

    const unsigned = buildEthereumTransaction({
      chainId: CHAIN_ID,
      nonce: await client.getTransactionCount({ address: holder }),
      to: token,
      value: 0n,
      data: erc20TransferData(RECIPIENT, 1_500_000n),
      gas: 100_000n,
      ...(await fees()),
    });
    const known = describeEthereum(unsigned, {
      chainId: CHAIN_ID,
      tokens: [{ chainId: CHAIN_ID, address: token, symbol: "TST", decimals: 6 }],
    });
    expect(known.action).toBe("token-transfer");
    expect(known.transfers).toEqual([
      expect.objectContaining({
        to: RECIPIENT,
        value: 1_500_000n,
        text: "1.5 TST",
        asset: expect.objectContaining({ contract: token, known: true }),
      }),
    ]);
    expect(known.calls).toEqual([expect.objectContaining({ contract: token, name: "transfer(address,uint256)" })]);
    expect(known.warnings).toEqual([]);
    const unknown = describeEthereum(unsigned, { chainId: CHAIN_ID });
    expect(unknown.transfers[0]?.asset).toEqual({ symbol: "?", decimals: null, contract: token, known: false });
    expect(unknown.warnings.join()).toMatch(/unknown token/);

    const receipt = await send(await signEthereumTransaction(unsigned, signer));
    expect(receipt.status).toBe("success");
    const balance = (address: Address) =>
      client.readContract({ address: token, abi: erc20Abi, functionName: "balanceOf", args: [address] });
    expect(await balance(RECIPIENT)).toBe(1_500_000n);
    expect(await balance(holder)).toBe(8_500_000n);
  });
});

const typedData = {
  domain: { name: "keyshard test", version: "1", chainId: CHAIN_ID, verifyingContract: RECIPIENT },
  types: {
    Mail: [
      { name: "from", type: "address" },
      { name: "to", type: "address" },
      { name: "contents", type: "string" },
    ],
  },
  primaryType: "Mail",
  message: { from: RECIPIENT, to: RECIPIENT, contents: "no private key ever exists" },
} as const;

describe("messages verify with viem", () => {
  for (const [name, makeSigner] of [
    ["ecdsa2p", () => ecdsa2pSigner(ecdsa2pShares, "m/1/0")],
    ["dkls23", () => dklsSigner(dklsShares, [0, 1], "m/1/0")],
  ] as const) {
    it(`EIP-191 personal_sign and EIP-712 typed data, ${name}`, async () => {
      const signer = makeSigner();
      const address = ethereumAddress(signer.publicKey);
      const message = "keyshard: sign in";
      const signature = await signPersonalMessage(message, signer);
      expect(await verifyMessage({ address, message, signature })).toBe(true);
      expect(await verifyMessage({ address, message: "another message", signature })).toBe(false);
      const raw = await signPersonalMessage({ raw: new Uint8Array([0, 1, 2, 255]) }, signer);
      expect(await verifyMessage({ address, message: { raw: new Uint8Array([0, 1, 2, 255]) }, signature: raw })).toBe(
        true,
      );
      const typed = await signTypedData(typedData, signer);
      expect(await verifyTypedData({ address, ...typedData, signature: typed })).toBe(true);
    });
  }

  it("refuses a signer whose signature is for another key", async () => {
    const honest = ecdsa2pSigner(ecdsa2pShares, "m/1/1");
    const lying: EcdsaSigner = {
      publicKey: ecdsa2pSigner(ecdsa2pShares, "m/1/2").publicKey,
      signDigest: honest.signDigest,
    };
    await expect(signPersonalMessage("x", lying)).rejects.toThrow(ChainError);
    await expect(signPersonalMessage("x", lying)).rejects.toMatchObject({ code: "bad-signature" });
  });
});

describe("viem tooling unchanged", () => {
  it("a viem wallet client with keyshardAccount fills, signs and sends a transaction", async () => {
    const account = keyshardAccount(dklsSigner(dklsShares, [1, 2], "m/2/0"));
    await fund(account.address, parseEther("2"));
    const wallet = createWalletClient({ account, chain, transport: http(anvil.url) });
    const hash = await wallet.sendTransaction({ to: RECIPIENT, value: 12345n });
    expect((await client.waitForTransactionReceipt({ hash })).status).toBe("success");
    const signature = await wallet.signMessage({ message: "hello" });
    expect(await verifyMessage({ address: account.address, message: "hello", signature })).toBe(true);
  });

  it("a dApp talking EIP-1193 to keyshardProvider", async () => {
    const signer = ecdsa2pSigner(ecdsa2pShares, "m/2/1");
    const provider = keyshardProvider({ signer, chainId: CHAIN_ID, rpcUrl: anvil.url });
    const [address] = (await provider.request({ method: "eth_requestAccounts" })) as [Address];
    expect(address).toBe(ethereumAddress(signer.publicKey));
    expect(await provider.request({ method: "eth_chainId" })).toBe(toHex(CHAIN_ID));
    await fund(address, parseEther("2"));

    // The dApp's own viem client, with a JSON-RPC account: every call goes through request().
    const dapp = createWalletClient({ account: address, chain, transport: custom(provider) });
    const hash = await dapp.sendTransaction({ to: RECIPIENT, value: 777n });
    expect((await client.waitForTransactionReceipt({ hash })).status).toBe("success");
    expect(await createPublicClient({ chain, transport: custom(provider) }).getBalance({ address })).toBeLessThan(
      parseEther("2"),
    );

    const signature = await dapp.signMessage({ message: "log in to the dApp" });
    expect(await verifyMessage({ address, message: "log in to the dApp", signature })).toBe(true);
    const typed = await dapp.signTypedData(typedData);
    expect(await verifyTypedData({ address, ...typedData, signature: typed })).toBe(true);

    await expect(
      provider.request({ method: "eth_sign", params: [address, `0x${"11".repeat(32)}`] }),
    ).rejects.toMatchObject({
      code: 4200,
    });
    await expect(provider.request({ method: "personal_sign", params: ["0x00", RECIPIENT] })).rejects.toMatchObject({
      code: 4100,
    });
    await expect(
      provider.request({ method: "eth_sendTransaction", params: [{ from: address, to: RECIPIENT, value: "12" }] }),
    ).rejects.toMatchObject({ code: -32602 });
    const permitOnAnotherChain = { ...typedData, domain: { ...typedData.domain, chainId: 137 } };
    await expect(
      provider.request({ method: "eth_signTypedData_v4", params: [address, JSON.stringify(permitOnAnotherChain)] }),
    ).rejects.toMatchObject({ code: -32602 });
    await expect(
      provider.request({ method: "wallet_switchEthereumChain", params: [{ chainId: "0x1" }] }),
    ).rejects.toMatchObject({ code: 4902 });
  });
});
