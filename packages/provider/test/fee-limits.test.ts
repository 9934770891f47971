/**
 * Policies count everything that leaves the wallet, through the real HTTP API on PGlite and
 * PostgreSQL: network fees drain nothing past an amount cap on Ethereum, Bitcoin or Solana;
 * another EVM chain's coin is not Ether; outputs add up over the request; fee caps hold; windows
 * count past fees; and a held request is checked again when it is released.
 */
import {
  buildEthereumTransaction,
  buildPsbt,
  buildSolTransfer,
  erc20TransferData,
  p2trOutput,
  solanaAddress,
} from "@keyshard/chains";
import { type FrostShare, frost } from "@keyshard/mpc";
import { ed25519 } from "@noble/curves/ed25519.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { hexToBytes } from "@noble/hashes/utils.js";
import { Transaction } from "@scure/btc-signer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  activeDevice,
  createWallet,
  type DatabaseKind,
  startTestProvider,
  type TestDevice,
  type TestProvider,
  type TestWallet,
} from "./harness.js";

const HOUR = 3600_000;
const GWEI = 10n ** 9n;
const BOB = "0x00000000000000000000000000000000000b0b00";
const USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48";
const solanaKey = () => solanaAddress(ed25519.getPublicKey(ed25519.utils.randomSecretKey()));
const SOL_BOB = solanaKey();
const payee = () => p2trOutput(secp256k1.getPublicKey(secp256k1.utils.randomSecretKey()).slice(1), "regtest").address;

/** Unsigned EIP-1559 bytes: `gas` units at `feePerGas`, so the fee is their product. */
const ethereum = (chainId: number, value: bigint, feePerGas: bigint, fields: Record<string, unknown> = {}) =>
  buildEthereumTransaction({
    chainId,
    nonce: 0,
    to: BOB,
    value,
    gas: 21_000n,
    maxFeePerGas: feePerGas,
    maxPriorityFeePerGas: 1n,
    ...fields,
  } as never);

describe.each<DatabaseKind>(["pglite", "postgres"])("fee limits on %s", (kind) => {
  let provider: TestProvider;
  let owner: TestDevice;
  beforeAll(async () => {
    provider = await startTestProvider(kind);
    owner = await activeDevice(provider, "fees@example.com");
  });
  afterAll(async () => {
    await provider?.stop();
  });

  /** The provider's answer to a sign request; only its decision matters here, so nothing is signed. */
  async function ask(wallet: TestWallet, body: Record<string, unknown>) {
    const asked = await owner.request("POST", `/v1/wallets/${wallet.walletId}/sign-requests`, body);
    expect(asked.status, JSON.stringify(asked.body)).toBe(201);
    return asked.body;
  }
  const askEthereum = (wallet: TestWallet, chainId: number, bytes: Uint8Array) =>
    ask(wallet, { chain: "ethereum", chainId, payload: Buffer.from(bytes).toString("hex") });

  const solana = (wallet: TestWallet, lamports: bigint, computeUnitPrice?: bigint) =>
    ask(wallet, {
      chain: "solana",
      payload: Buffer.from(
        buildSolTransfer({
          from: solanaAddress(hexToBytes(wallet.publicKey)),
          to: SOL_BOB,
          lamports,
          recentBlockhash: solanaKey(),
          ...(computeUnitPrice !== undefined && { computeUnitPrice }),
        }),
      ).toString("hex"),
    });

  /** A PSBT spending one `input`-satoshi output of the wallet's taproot key to `outputs`. */
  function bitcoin(wallet: TestWallet, input: bigint, outputs: { address: string; amount: bigint }[]) {
    const internalKey = frost.secp256k1tr.internalKey(wallet.share as FrostShare);
    const own = p2trOutput(internalKey, "regtest");
    const previous = new Transaction({ allowUnknownInputs: true });
    previous.addInput({ txid: crypto.getRandomValues(new Uint8Array(32)), index: 0 });
    previous.addOutput({ script: own.script, amount: input });
    const psbt = buildPsbt({
      network: "regtest",
      inputs: [{ txid: previous.id, vout: 0, amount: input, script: own.script, internalKey }],
      outputs: outputs.map((o) => ({ ...o, address: o.address === "change" ? own.address : o.address })),
    });
    return ask(wallet, { chain: "bitcoin", network: "regtest", payload: Buffer.from(psbt).toString("hex") });
  }

  it("an Ethereum fee drain is denied, an honest transfer allowed, and the window counts its fee", async () => {
    const wallet = await createWallet(owner, "eth-caps", "ecdsa2p", [
      {
        name: "small",
        // At most 0.001 ETH a request and 0.002 ETH a day.
        when: {
          asset: ["ETH"],
          maxAmount: "1000000000000000",
          window: { seconds: 86_400, maxTotal: "2000000000000000" },
        },
        decision: "allow",
      },
    ]);
    // Nothing sent, 21 ETH of fee.
    expect(await askEthereum(wallet, 1, ethereum(1, 0n, 10n ** 15n))).toMatchObject({ status: "denied", rule: null });
    // 0.0005 ETH and 0.00042 ETH of fee, twice: 0.00184 ETH spent of the day's 0.002.
    const honest = ethereum(1, 5n * 10n ** 14n, 20n * GWEI);
    expect(await askEthereum(wallet, 1, honest)).toMatchObject({ status: "signing", rule: "small" });
    expect(await askEthereum(wallet, 1, honest)).toMatchObject({ status: "signing", rule: "small" });
    // 0.0001 ETH and 0.00021 ETH of fee fit in what the values alone left, not in what the fees did.
    expect(await askEthereum(wallet, 1, ethereum(1, 10n ** 14n, 10n * GWEI))).toMatchObject({ status: "denied" });
    expect(await askEthereum(wallet, 1, ethereum(1, 10n ** 13n, GWEI))).toMatchObject({ status: "signing" });
  });

  it("fee caps bound the fee of a token rule and the fee's share of the Ether sent; RBTC is not Ether", async () => {
    const wallet = await createWallet(owner, "eth-fees", "ecdsa2p", [
      {
        name: "usdc",
        when: { asset: ["USDC"], maxAmount: "100000000", maxFee: "10000000000000000" },
        decision: "allow",
      },
      { name: "optimism", when: { network: ["eip155:10"], asset: ["ETH"], maxFeeBasisPoints: 100 }, decision: "allow" },
      { name: "eth", when: { asset: ["ETH"], maxAmount: "10000000000000000" }, decision: "allow" },
    ]);
    const usdc = (feePerGas: bigint) =>
      ethereum(1, 0n, feePerGas, { to: USDC, gas: 60_000n, data: erc20TransferData(BOB, 50_000_000n) });
    // 0.006 ETH of fee is within the 0.01 cap; 0.012 is not, and no rule allows the Ether.
    expect(await askEthereum(wallet, 1, usdc(100n * GWEI))).toMatchObject({ status: "signing", rule: "usdc" });
    expect(await askEthereum(wallet, 1, usdc(200n * GWEI))).toMatchObject({ status: "denied", rule: null });
    // On Optimism the fee may be 1 % of the 0.01 ETH sent: 0.000021 ETH is, 0.0021 ETH is not.
    const op = (feePerGas: bigint) => ethereum(10, 10n ** 16n, feePerGas);
    expect(await askEthereum(wallet, 10, op(GWEI))).toMatchObject({ status: "signing", rule: "optimism" });
    expect(await askEthereum(wallet, 10, op(100n * GWEI))).toMatchObject({ status: "denied", rule: null });
    // 0.005 of the coin with a tiny fee: Ether on chain 1, Rootstock's RBTC on chain 30.
    const half = (chainId: number) => ethereum(chainId, 5n * 10n ** 15n, 100n);
    expect(await askEthereum(wallet, 1, half(1))).toMatchObject({ status: "signing", rule: "eth" });
    expect(await askEthereum(wallet, 30, half(30))).toMatchObject({
      status: "denied",
      rule: null,
      description: {
        network: "eip155:30",
        transfers: [{ asset: { symbol: "RBTC" } }],
        fee: { asset: { symbol: "RBTC" } },
      },
    });
  });

  it("a Bitcoin spend whose fee is the whole input is denied; an honest one with change is allowed", async () => {
    const wallet = await createWallet(owner, "btc-caps", "frost-taproot", [
      {
        name: "small",
        when: { asset: ["BTC"], maxAmount: "10000", window: { seconds: 86_400, maxTotal: "10000" } },
        decision: "allow",
      },
    ]);
    const drain = await bitcoin(wallet, 100_000_000n, [{ address: payee(), amount: 1000n }]);
    expect(drain).toMatchObject({ status: "denied", rule: null, description: { fee: { value: "99999000" } } });
    const honest = await bitcoin(wallet, 100_000_000n, [
      { address: payee(), amount: 5000n },
      { address: "change", amount: 99_994_000n },
    ]);
    expect(honest).toMatchObject({ status: "signing", rule: "small", description: { fee: { value: "1000" } } });
  });

  it("outputs add up over the request: 100 × 9 000 sat is over a 10 000-sat cap", async () => {
    const wallet = await createWallet(owner, "btc-outputs", "frost-taproot", [
      { name: "small", when: { asset: ["BTC"], maxAmount: "10000" }, decision: "allow" },
    ]);
    const many = Array.from({ length: 100 }, () => ({ address: payee(), amount: 9000n }));
    const spread = await bitcoin(wallet, 1_000_000n, [...many, { address: "change", amount: 99_000n }]);
    expect(spread).toMatchObject({ status: "denied", rule: null });
    const one = await bitcoin(wallet, 1_000_000n, [many[0] as never, { address: "change", amount: 990_000n }]);
    expect(one).toMatchObject({ status: "signing", rule: "small" });
  });

  it("a 60 SOL priority fee is denied under a 0.001 SOL cap; a normal fee is allowed", async () => {
    const wallet = await createWallet(owner, "sol-caps", "frost-ed25519", [
      { name: "small", when: { asset: ["SOL"], maxAmount: "1000000" }, decision: "allow" },
    ]);
    // Two builtin instructions get 6 000 compute units: 10^13 micro-lamports each is 60 SOL.
    const drain = await solana(wallet, 1n, 10n ** 13n);
    expect(drain).toMatchObject({ status: "denied", rule: null, description: { fee: { value: "60000005000" } } });
    expect(await solana(wallet, 500_000n, 1000n)).toMatchObject({ status: "signing", rule: "small" });
  });

  it("a window counts the fees of what the wallet already signed", async () => {
    const wallet = await createWallet(owner, "sol-window", "frost-ed25519", [
      { name: "daily", when: { asset: ["SOL"], window: { seconds: 86_400, maxTotal: "1000000" } }, decision: "allow" },
    ]);
    // 500 000 lamports sent and 299 000 of fee (5 000 base, 294 000 priority on 6 000 units).
    const first = await solana(wallet, 500_000n, 49_000_000n);
    expect(first).toMatchObject({ status: "signing", description: { fee: { value: "299000" } } });
    // 255 000 more (fee included) fits beside the 500 000 sent, not beside the 799 000 spent.
    expect(await solana(wallet, 250_000n)).toMatchObject({ status: "denied" });
    expect(await solana(wallet, 195_000n)).toMatchObject({ status: "signing" });
  });

  it("two held requests that each fit the window: the second is denied as it is released", async () => {
    const wallet = await createWallet(owner, "sol-held", "frost-ed25519", [
      {
        name: "daily",
        when: { asset: ["SOL"], window: { seconds: 86_400, maxTotal: "1000000" } },
        decision: "delay",
        delaySeconds: 3600,
      },
    ]);
    const first = await solana(wallet, 600_000n);
    const second = await solana(wallet, 400_000n);
    expect([first.status, second.status]).toEqual(["held", "held"]);
    provider.advance(HOUR + 1000);
    const release = (id: unknown) => owner.request("POST", `/v1/sign-requests/${id}/sign`);
    expect((await release(first.requestId)).body).toMatchObject({ status: "signing" });
    const refused = await release(second.requestId);
    expect(refused).toMatchObject({ status: 409, body: { error: "denied" } });
    expect(refused.body.message).toMatch(/no rule of the wallet.s policy matches the request any more/);
    expect((await owner.request("GET", `/v1/sign-requests/${second.requestId}`)).body).toMatchObject({
      status: "denied",
      rule: "daily",
    });
    expect(await release(second.requestId)).toMatchObject({ status: 409 });
    const audit = await owner.request("GET", "/v1/audit");
    const denied = (audit.body.entries as { action: string; details: Record<string, unknown> }[]).find(
      (e) => e.action === "request.denied" && e.details.request === second.requestId,
    );
    expect(denied?.details.reason).toMatch(/matches the request any more/);
  });
});
