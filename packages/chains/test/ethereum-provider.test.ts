/**
 * keyshardProvider as a dApp's library meets it: the EIP-1193 events wagmi's injected connector
 * listens to, and refusals that keep their EIP-1193 code and their reason through viem's own
 * error wrapping (a wallet client on `custom(provider)`, anvil as the node).
 */
import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import {
  BaseError,
  concatHex,
  createPublicClient,
  createWalletClient,
  custom,
  defineChain,
  type EIP1193Events,
  getAddress,
  http,
  parseEther,
  parseGwei,
  parseTransaction,
  serializeTransaction,
  toHex,
  UserRejectedRequestError,
} from "viem";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  ChainError,
  type EcdsaSigner,
  Eip1193Error,
  ethereumAddress,
  keyshardAccount,
  keyshardProvider,
} from "../src/index.js";
import { type Anvil, ANVIL_CHAIN_ID as CHAIN_ID, ANVIL_CHAIN as chain, startAnvil } from "./anvil.js";

const RECIPIENT = getAddress("0x00000000000000000000000000000000000b0b00");

function keySigner(): EcdsaSigner {
  const secret = secp256k1.utils.randomSecretKey();
  return {
    publicKey: secp256k1.getPublicKey(secret, true),
    async signDigest(digest) {
      const bytes = secp256k1.sign(digest, secret, { prehash: false, format: "recovered" });
      const signature = secp256k1.Signature.fromBytes(bytes, "recovered");
      return { r: signature.r, s: signature.s, recovery: signature.recovery as number };
    },
  };
}

/** A signer whose person says no. */
const decliningSigner: EcdsaSigner = {
  publicKey: keySigner().publicKey,
  signDigest: () => Promise.reject(new Eip1193Error(4001, "declined at the confirming device")),
};

/** The error a promise rejects with, as viem's error type. */
async function failure(promise: Promise<unknown>): Promise<BaseError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BaseError);
  return error as BaseError;
}

/** The code a dApp reads first (viem's wrapper) must be ours, and our error must still be in the chain. */
function expectRefusal(error: BaseError, code: number, reason: string) {
  const firstCoded = error.walk((e) => typeof (e as { code?: unknown }).code === "number");
  expect(firstCoded).toHaveProperty("code", code);
  expect(error.walk((e) => e instanceof Eip1193Error)).toMatchObject({ code, message: reason });
  expect(error.message).toContain(reason);
}

let anvil: Anvil;

beforeAll(async () => {
  anvil = await startAnvil();
});

afterAll(async () => {
  await anvil?.stop();
});

async function funded(signer: EcdsaSigner) {
  const provider = keyshardProvider({ signer, chainId: CHAIN_ID, rpcUrl: anvil.url });
  const address = ethereumAddress(signer.publicKey);
  await anvil.rpc("anvil_setBalance", [address, toHex(parseEther("1"))]);
  const dapp = createWalletClient({ account: address, chain, transport: custom(provider) });
  return { provider, address, dapp };
}

describe("EIP-1193 events", () => {
  it("emits connect with the hex chain id once, right after creation, to the listeners still registered", async () => {
    const provider = keyshardProvider({ signer: keySigner(), chainId: CHAIN_ID });
    const heard = vi.fn();
    const once = vi.fn();
    const removed = vi.fn();
    const alsoRemoved = vi.fn();
    expect(provider.on("connect", heard).once("connect", once).on("connect", removed)).toBe(provider);
    provider.on("connect", alsoRemoved).removeListener("connect", removed).off("connect", alsoRemoved);
    await Promise.resolve();
    expect(heard).toHaveBeenCalledExactlyOnceWith({ chainId: toHex(CHAIN_ID) });
    expect(once).toHaveBeenCalledExactlyOnceWith({ chainId: toHex(CHAIN_ID) });
    expect(removed).not.toHaveBeenCalled();
    expect(alsoRemoved).not.toHaveBeenCalled();
  });

  it("calls every listener even when one throws, and lets nothing escape", async () => {
    const provider = keyshardProvider({ signer: keySigner(), chainId: CHAIN_ID });
    const throwing = vi.fn(() => {
      throw new Error("a dApp's faulty listener");
    });
    const heard = vi.fn();
    provider.on("connect", throwing).on("connect", heard);
    await Promise.resolve();
    expect(throwing).toHaveBeenCalledOnce();
    expect(heard).toHaveBeenCalledExactlyOnceWith({ chainId: toHex(CHAIN_ID) });
  });

  it("takes the listeners of wagmi's injected connector and never changes chain or account", async () => {
    const provider = keyshardProvider({ signer: keySigner(), chainId: CHAIN_ID });
    // What viem and wagmi type an injected provider's events as.
    const events: EIP1193Events = provider;
    const chainChanged = vi.fn();
    const accountsChanged = vi.fn();
    const disconnect = vi.fn();
    const connect = vi.fn();
    events.on("accountsChanged", accountsChanged);
    events.on("chainChanged", chainChanged);
    events.on("disconnect", disconnect);
    events.on("connect", connect);
    events.removeListener("connect", connect);

    await provider.request({ method: "eth_requestAccounts" });
    expect(
      await provider.request({ method: "wallet_switchEthereumChain", params: [{ chainId: toHex(CHAIN_ID) }] }),
    ).toBe(null);
    await expect(
      provider.request({ method: "wallet_switchEthereumChain", params: [{ chainId: "0x1" }] }),
    ).rejects.toMatchObject({ code: 4902, message: `this provider serves chain ${CHAIN_ID} only` });
    expect(connect).not.toHaveBeenCalled();
    expect(chainChanged).not.toHaveBeenCalled();
    expect(accountsChanged).not.toHaveBeenCalled();
    expect(disconnect).not.toHaveBeenCalled();
  });
});

describe("refusals keep their code and reason through viem", () => {
  it("a blind-signing method: 4200 and why", async () => {
    const { address, dapp } = await funded(keySigner());
    const error = await failure(dapp.request({ method: "eth_sign", params: [address, `0x${"11".repeat(32)}`] }));
    expectRefusal(error, 4200, "eth_sign signs blindly and is refused");
  });

  it("another account's signature: 4100 and why", async () => {
    const { address, dapp } = await funded(keySigner());
    const error = await failure(dapp.signMessage({ account: RECIPIENT, message: "hello" }));
    expectRefusal(error, 4100, `this provider signs only for ${address}`);
  });

  it("a read without a node: 4200 and why", async () => {
    const provider = keyshardProvider({ signer: keySigner(), chainId: CHAIN_ID });
    const error = await failure(createPublicClient({ chain, transport: custom(provider) }).getBlockNumber());
    expectRefusal(error, 4200, "eth_blockNumber needs a JSON-RPC node (rpcUrl)");
  });

  it("a node that does not answer: 4901", async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const provider = keyshardProvider({ signer: keySigner(), chainId: CHAIN_ID, rpcUrl: `http://127.0.0.1:${port}` });
    const error = await failure(createPublicClient({ chain, transport: custom(provider) }).getBlockNumber());
    expectRefusal(error, 4901, "the chain's JSON-RPC node (rpcUrl) did not answer");
  });

  it("a signer that declines: 4001, viem's UserRejectedRequestError, for messages and transactions", async () => {
    const { dapp } = await funded(decliningSigner);
    const message = await failure(dapp.signMessage({ message: "hello" }));
    expect(message.walk((e) => e instanceof UserRejectedRequestError)).not.toBeNull();
    expect(message.message).toContain("declined at the confirming device");

    // Inside the provider viem wraps the signer's refusal in a TransactionExecutionError; the dApp
    // still gets the code at the first level.
    const transaction = await failure(dapp.sendTransaction({ to: RECIPIENT, value: 1n }));
    expect(transaction.cause).toBeInstanceOf(UserRejectedRequestError);
    expect((transaction.cause as UserRejectedRequestError).code).toBe(4001);
    expect(transaction.message).toContain("declined at the confirming device");
  });
});

describe("a signer's bad signature", () => {
  it("is an internal error, -32603, with keyshard's reason", async () => {
    const lying: EcdsaSigner = { publicKey: keySigner().publicKey, signDigest: keySigner().signDigest };
    const { dapp } = await funded(lying);
    const error = await failure(dapp.sendTransaction({ to: RECIPIENT, value: 1n }));
    expectRefusal(error, -32603, "signature does not recover to the signer's key");
  });
});

describe("transaction types keyshard does not sign", () => {
  const HASH = `0x01${"ab".repeat(31)}` as const;

  it("are refused by the provider with -32602 naming the type, through viem", async () => {
    const { dapp } = await funded(keySigner());
    const error = await failure(
      dapp.sendTransaction({ to: RECIPIENT, blobVersionedHashes: [HASH], maxFeePerBlobGas: 1n } as never),
    );
    const reason =
      "transaction type 0x3 (EIP-4844 blob) is not signed by keyshard, only EIP-1559 (0x2), EIP-2930 (0x1) and legacy EIP-155 (0x0) transactions";
    expectRefusal(error, -32602, reason);
  });

  it("are refused however they are declared, and a declared type is kept", async () => {
    const { provider, address, dapp } = await funded(keySigner());
    const send = (tx: Record<string, unknown>) =>
      provider.request({ method: "eth_sendTransaction", params: [{ from: address, to: RECIPIENT, ...tx }] });
    await expect(send({ type: "0x4", authorizationList: [] })).rejects.toMatchObject({
      code: -32602,
      message: expect.stringContaining("transaction type 0x4 (EIP-7702 authorization)"),
    });
    await expect(send({ type: "0x2", maxFeePerBlobGas: "0x1" })).rejects.toMatchObject({
      message: expect.stringContaining("transaction type 0x3"),
    });
    await expect(send({ type: "0x7e" })).rejects.toMatchObject({
      message: expect.stringContaining("transaction type 0x7e is not signed"),
    });
    await expect(send({ type: "0x2", gasPrice: "0x1" })).rejects.toMatchObject({ code: -32602 });
    await expect(send({ type: "0x0", maxFeePerGas: "0x1" })).rejects.toMatchObject({ code: -32602 });

    const hash = await dapp.sendTransaction({ type: "legacy", to: RECIPIENT, value: 1n });
    const client = createPublicClient({ chain, transport: http(anvil.url) });
    expect(await client.waitForTransactionReceipt({ hash })).toMatchObject({ status: "success", type: "legacy" });
  });

  it("are refused by keyshardAccount under viem's own wallet client, the reason kept", async () => {
    const account = keyshardAccount(keySigner());
    await anvil.rpc("anvil_setBalance", [account.address, toHex(parseEther("1"))]);
    // A chain whose own serializer makes a type of its own (as OP Stack chains' 0x7e deposits).
    const ownType = defineChain({
      ...chain,
      serializers: { transaction: (tx) => concatHex(["0x7e", `0x${serializeTransaction(tx).slice(4)}`]) },
    });
    const wallet = createWalletClient({ account, chain: ownType, transport: http(anvil.url) });
    const error = await failure(wallet.sendTransaction({ to: RECIPIENT, value: 1n }));
    const reason = error.walk((e) => e instanceof ChainError);
    expect(reason?.message).toBe("transaction type 0x7e is not signed by keyshard");
    expect(error.message).toContain("transaction type 0x7e is not signed by keyshard");

    // Without a chain id a legacy transaction is valid on every chain.
    await expect(
      account.signTransaction({ type: "legacy", to: RECIPIENT, nonce: 0, gas: 21_000n, gasPrice: 1n }),
    ).rejects.toThrow("legacy transaction without EIP-155 chain id can be replayed on any chain");
  });
});

describe("wallet_switchEthereumChain", () => {
  it("compares the chain id as a number and refuses a malformed one", async () => {
    const provider = keyshardProvider({ signer: keySigner(), chainId: 10 });
    const switchTo = (chainId: unknown) =>
      provider.request({ method: "wallet_switchEthereumChain", params: [{ chainId }] });
    for (const own of ["0xa", "0xA", "0x0a", "0x000A"]) expect(await switchTo(own)).toBe(null);
    await expect(switchTo("0x01")).rejects.toMatchObject({ code: 4902 });
    for (const malformed of ["10", "0x", "0xg", 10, undefined, `0x${"1".repeat(65)}`])
      await expect(switchTo(malformed)).rejects.toMatchObject({
        code: -32602,
        message: "wallet_switchEthereumChain expects { chainId } as a hex quantity",
      });
  });
});

describe("fee fields", () => {
  it("refuses gasPrice with maxFeePerGas or maxPriorityFeePerGas, whatever the type", async () => {
    const { provider, address } = await funded(keySigner());
    for (const fees of [
      { gasPrice: "0x1", maxFeePerGas: "0x2" },
      { gasPrice: "0x1", maxPriorityFeePerGas: "0x1" },
      { type: "0x2", gasPrice: "0x1", maxFeePerGas: "0x2" },
      { type: "0x0", gasPrice: "0x1", maxFeePerGas: "0x2" },
    ])
      await expect(
        provider.request({ method: "eth_signTransaction", params: [{ from: address, to: RECIPIENT, ...fees }] }),
      ).rejects.toMatchObject({
        code: -32602,
        message: "gasPrice cannot be given with maxFeePerGas or maxPriorityFeePerGas",
      });
  });
});

describe("access lists", () => {
  const ACCESS_LIST = [
    { address: "0x00000000000000000000000000000000000c0ffe", storageKeys: [`0x${"01".repeat(32)}`] },
    { address: RECIPIENT.toLowerCase(), storageKeys: [] },
  ];

  it("are signed into EIP-1559 transactions however the request says EIP-1559", async () => {
    const { provider, address } = await funded(keySigner());
    for (const fields of [
      { type: "0x2" },
      { maxFeePerGas: toHex(parseGwei("20")) },
      { maxPriorityFeePerGas: toHex(parseGwei("1")) },
      {},
    ]) {
      const signed = await provider.request({
        method: "eth_signTransaction",
        params: [{ from: address, to: RECIPIENT, value: "0x1", accessList: ACCESS_LIST, ...fields }],
      });
      expect(parseTransaction(signed as `0x${string}`)).toMatchObject({ type: "eip1559", accessList: ACCESS_LIST });
    }

    const hash = await provider.request({
      method: "eth_sendTransaction",
      params: [{ from: address, to: RECIPIENT, value: "0x1", accessList: ACCESS_LIST }],
    });
    const client = createPublicClient({ chain, transport: http(anvil.url) });
    await client.waitForTransactionReceipt({ hash: hash as `0x${string}` });
    expect(await client.getTransaction({ hash: hash as `0x${string}` })).toMatchObject({
      type: "eip1559",
      accessList: ACCESS_LIST,
    });
  });

  it("are refused on a legacy transaction, or malformed, with -32602 naming the field", async () => {
    const { provider, address } = await funded(keySigner());
    const sign = (tx: Record<string, unknown>) =>
      provider.request({ method: "eth_signTransaction", params: [{ from: address, to: RECIPIENT, ...tx }] });
    await expect(sign({ type: "0x0", accessList: ACCESS_LIST })).rejects.toMatchObject({
      code: -32602,
      message: "accessList is not part of a legacy (0x0) transaction",
    });
    await expect(sign({ type: "0x2", gasPrice: "0x1", accessList: ACCESS_LIST })).rejects.toMatchObject({
      code: -32602,
      message: "an EIP-1559 (0x2) transaction pays maxFeePerGas, not gasPrice",
    });
    for (const accessList of [
      "0x",
      [{ address: "0x1234", storageKeys: [] }],
      [{ address: RECIPIENT }],
      [{ address: RECIPIENT, storageKeys: ["0x01"] }],
      Array.from({ length: 1025 }, () => ({ address: RECIPIENT, storageKeys: [] })),
    ])
      await expect(sign({ type: "0x2", accessList })).rejects.toMatchObject({
        code: -32602,
        message: expect.stringContaining("accessList"),
      });
  });
});

describe("errors of the node", () => {
  const SECRET = "SECRETKEY123";

  /** Everything of an error a dApp could print or send on: messages, stacks, JSON, down its causes. */
  function everythingOf(error: unknown): string {
    const seen: string[] = [];
    for (let e: unknown = error; e instanceof Error; e = e.cause)
      seen.push(e.message, String(e.stack), JSON.stringify(e), String((e as { url?: unknown }).url));
    return seen.join("\n");
  }

  async function rejection(promise: Promise<unknown>): Promise<unknown> {
    return promise.then(
      () => expect.unreachable("the request should fail"),
      (e: unknown) => e,
    );
  }

  it("never carry the RPC URL of an unreachable node", async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const signer = keySigner();
    const provider = keyshardProvider({ signer, chainId: CHAIN_ID, rpcUrl: `http://127.0.0.1:${port}/v3/${SECRET}` });
    for (const request of [
      { method: "eth_blockNumber" },
      { method: "eth_sendTransaction", params: [{ to: RECIPIENT, value: "0x1" }] },
    ]) {
      const error = await rejection(provider.request(request));
      expect(error).toBeInstanceOf(Eip1193Error);
      expect(error).toMatchObject({ code: 4901 });
      expect((error as Error).cause).toBeUndefined();
      expect(everythingOf(error)).not.toContain(SECRET);
    }
  });

  it("keep the node's code, message and data, without the RPC URL", async () => {
    const server = createHttpServer((_request, response) => {
      response.setHeader("content-type", "application/json");
      response.end(
        JSON.stringify({
          jsonrpc: "2.0",
          id: 0,
          error: { code: -32000, message: `invalid project id ${SECRET}`, data: "0xdead" },
        }),
      );
    });
    const port = await new Promise<number>((resolve) =>
      server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)),
    );
    try {
      const provider = keyshardProvider({
        signer: keySigner(),
        chainId: CHAIN_ID,
        rpcUrl: `http://127.0.0.1:${port}/v3/${SECRET}?key=${SECRET}`,
      });
      for (const request of [
        { method: "eth_getBalance", params: [RECIPIENT, "latest"] },
        { method: "eth_sendTransaction", params: [{ to: RECIPIENT, value: "0x1" }] },
      ]) {
        const error = await rejection(provider.request(request));
        expect(error).toBeInstanceOf(Eip1193Error);
        expect(error).toMatchObject({
          code: -32000,
          message: "invalid project id [rpcUrl]",
          data: "0xdead",
        });
        expect((error as Error).cause).toBeUndefined();
        expect(everythingOf(error)).not.toContain(SECRET);
      }
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
