/**
 * The registry of chain adapters: one adapter per chain name, each covering every kind it claims
 * with every algorithm it claims (digests signed by a single key, then attached and verified),
 * refusing the rest with a typed error, and typed data bound to another chain than the request's
 * refused before anything is signed.
 */
import { readFileSync } from "node:fs";
import { ed25519 } from "@noble/curves/ed25519.js";
import { schnorr, secp256k1 } from "@noble/curves/secp256k1.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { Transaction } from "@scure/btc-signer";
import { taprootTweakPrivKey } from "@scure/btc-signer/utils.js";
import { describe, expect, it } from "vitest";
import {
  adapterOf,
  BITCOIN_NETWORKS,
  buildEthereumTransaction,
  buildPsbt,
  buildSolTransfer,
  CHAIN_NAMES,
  type ChainError,
  type ChainName,
  ownedOutputs,
  REQUEST_KINDS,
  type RequestKind,
  type SignatureAlgorithm,
  type SigningKey,
  type SigningRequest,
  solanaAddress,
} from "../src/index.js";

const typedData = JSON.parse(readFileSync(new URL("fixtures/uniswap-permit2-single.json", import.meta.url), "utf8"));

/** A single key of `algorithm` as the adapters see it, and how it signs a digest or message. */
interface TestKey extends SigningKey {
  sign(message: Uint8Array): Uint8Array;
}

function testKey(algorithm: SignatureAlgorithm): TestKey {
  if (algorithm === "ecdsa") {
    const secret = secp256k1.utils.randomSecretKey();
    const publicKey = secp256k1.getPublicKey(secret, true);
    return {
      algorithm,
      publicKey,
      bitcoin: { ecdsa: [publicKey] },
      sign(digest) {
        const recovered = secp256k1.sign(digest, secret, { prehash: false, format: "recovered" });
        const signature = secp256k1.Signature.fromBytes(recovered, "recovered");
        return Uint8Array.of(...signature.toBytes("compact"), signature.recovery as number);
      },
    };
  }
  if (algorithm === "bip340") {
    const secret = secp256k1.utils.randomSecretKey();
    const internalKey = schnorr.getPublicKey(secret);
    const [output] = ownedOutputs({ taproot: [internalKey] }, "mainnet");
    return {
      algorithm,
      publicKey: (output as { key: Uint8Array }).key,
      bitcoin: { taproot: [internalKey] },
      sign: (digest) => schnorr.sign(digest, taprootTweakPrivKey(secret)),
    };
  }
  const secret = ed25519.utils.randomSecretKey();
  return {
    algorithm,
    publicKey: ed25519.getPublicKey(secret),
    bitcoin: {},
    sign: (message) => ed25519.sign(message, secret),
  };
}

function bitcoinPayment(key: SigningKey): string {
  const network = "regtest";
  const [own] = ownedOutputs(key.bitcoin, network);
  if (own === undefined) throw new Error("no Bitcoin output");
  const previous = new Transaction({ version: 2 });
  previous.addInput({ txid: new Uint8Array(32).fill(1), index: 0, finalScriptSig: new Uint8Array() });
  previous.addOutput({ script: own.script, amount: 50_000n });
  const payee = ownedOutputs({ ecdsa: [secp256k1.getPublicKey(secp256k1.utils.randomSecretKey())] }, network)[0];
  return bytesToHex(
    buildPsbt({
      network,
      inputs: [
        {
          txid: previous.id,
          vout: 0,
          amount: 50_000n,
          script: own.script,
          previousTransaction: previous.toBytes(true, false),
          ...(own.type === "p2tr" && { internalKey: key.bitcoin.taproot?.[0] as Uint8Array }),
        },
      ],
      outputs: [{ address: payee?.address as string, amount: 40_000n }],
    }),
  );
}

const text = (s: string) => bytesToHex(new TextEncoder().encode(s));

/** A request of `kind` on `chain` the key can sign. */
function sample(chain: ChainName, kind: RequestKind, key: SigningKey): SigningRequest {
  if (kind === "raw-hash") return { chain, kind, payload: "ab".repeat(32) };
  if (kind === "message") return { chain, kind, payload: text("hello keyshard") };
  if (kind === "typed-data") return { chain, kind, typedData, chainId: 1 };
  if (chain === "ethereum") {
    const transaction = buildEthereumTransaction({
      chainId: 1,
      nonce: 0,
      to: "0x00000000000000000000000000000000000000a1",
      value: 1n,
      gas: 21_000n,
      maxFeePerGas: 2n,
      maxPriorityFeePerGas: 1n,
    });
    return { chain, payload: bytesToHex(transaction), chainId: 1 };
  }
  if (chain === "bitcoin") return { chain, kind, payload: bitcoinPayment(key), network: "regtest" };
  const from = solanaAddress(key.publicKey);
  const to = solanaAddress(ed25519.getPublicKey(ed25519.utils.randomSecretKey()));
  return { chain, kind, payload: bytesToHex(buildSolTransfer({ from, to, lamports: 5n, recentBlockhash: to })) };
}

const ALGORITHMS: readonly SignatureAlgorithm[] = ["ecdsa", "bip340", "ed25519"];

const refusedAs = (code: ChainError["code"]) => expect.objectContaining({ name: "ChainError", code });

describe("the registry", () => {
  it("has one adapter for each chain name, and the lists it is named by", () => {
    expect(CHAIN_NAMES).toEqual(["ethereum", "bitcoin", "solana"]);
    expect(REQUEST_KINDS).toEqual(["transaction", "message", "typed-data", "raw-hash"]);
    expect(BITCOIN_NETWORKS).toEqual(["mainnet", "testnet", "regtest"]);
    for (const chain of CHAIN_NAMES) expect(adapterOf(chain).name).toBe(chain);
    expect(adapterOf("bitcoin").networks.requestNames).toEqual(BITCOIN_NETWORKS);
    expect(adapterOf("ethereum").networks.pattern.test("eip155:137")).toBe(true);
    expect(adapterOf("ethereum").networks.pattern.test("eip155:0137")).toBe(false);
    expect(adapterOf("solana").networks.pattern.test("solana")).toBe(true);
    for (const chain of ["dogecoin", "__proto__", "toString"])
      expect(() => adapterOf(chain as ChainName)).toThrow(refusedAs("invalid-request"));
  });

  for (const chain of CHAIN_NAMES)
    for (const kind of REQUEST_KINDS)
      for (const algorithm of ALGORITHMS) {
        const claimed = adapterOf(chain).kinds[kind]?.includes(algorithm) ?? false;
        it(`${chain} ${claimed ? "signs" : "refuses"} ${kind} requests with ${algorithm} keys`, async () => {
          const adapter = adapterOf(chain);
          const key = testKey(algorithm);
          if (!claimed) {
            const request = { chain, kind, payload: "ab".repeat(32) };
            expect(() => adapter.digests(request, key)).toThrow(refusedAs("invalid-request"));
            return;
          }
          const request = sample(chain, kind, key);
          expect(adapter.describe(request, key).kind).toBe(kind);
          const digests = adapter.digests(request, key);
          expect(digests.length).toBeGreaterThan(0);
          const result = await adapter.attach(
            request,
            digests.map((d) => key.sign(d.message)),
            key,
          );
          expect(result.signed.length).toBeGreaterThan(0);
          const forged = testKey(algorithm);
          await expect(
            adapter.attach(
              request,
              digests.map((d) => forged.sign(d.message)),
              key,
            ),
          ).rejects.toThrow(refusedAs("bad-signature"));
        });
      }

  it("numbers a Bitcoin transaction's digests by input and keeps to a co-signer's input limit", () => {
    const key = testKey("ecdsa");
    const request = sample("bitcoin", "transaction", key);
    expect(
      adapterOf("bitcoin")
        .digests(request, key)
        .map((d) => d.input),
    ).toEqual([0]);
    expect(() => adapterOf("bitcoin").digests(request, key, { maxInputs: 0 })).toThrow(refusedAs("too-large"));
    expect(() => adapterOf("bitcoin").digests(request, testKey("bip340"))).toThrow(refusedAs("unsupported"));
    const { network: _, ...unnamed } = request;
    expect(() => adapterOf("bitcoin").digests(unnamed, key)).toThrow(refusedAs("invalid-request"));
  });

  it("reads typed data for another chain than the request's as no one's to sign", () => {
    const key = testKey("ecdsa");
    const request: SigningRequest = { chain: "ethereum", kind: "typed-data", typedData, chainId: 5 };
    expect(() => adapterOf("ethereum").describe(request, key)).toThrow(refusedAs("wrong-network"));
    expect(() => adapterOf("ethereum").digests(request, key)).toThrow(refusedAs("wrong-network"));
    const { chainId: _, ...unbound } = request;
    expect(adapterOf("ethereum").digests(unbound, key)).toHaveLength(1);
  });

  it("asks for the fields a kind needs", () => {
    const key = testKey("ecdsa");
    expect(() => adapterOf("ethereum").digests({ chain: "ethereum", kind: "typed-data" }, key)).toThrow(
      refusedAs("invalid-request"),
    );
    expect(() => adapterOf("ethereum").digests({ chain: "ethereum", kind: "message" }, key)).toThrow(
      refusedAs("invalid-request"),
    );
    const transaction = sample("ethereum", "transaction", key);
    const { chainId: _, ...unbound } = transaction;
    expect(() => adapterOf("ethereum").describe(unbound, key)).toThrow(refusedAs("invalid-request"));
    const short = { chain: "ethereum" as const, kind: "raw-hash" as const, payload: "ab" };
    expect(() => adapterOf("ethereum").digests(short, key)).toThrow(refusedAs("invalid-request"));
    expect(adapterOf("ethereum").digests(short, testKey("ed25519"))).toHaveLength(1);
  });

  it("compares addresses as each chain writes them", () => {
    expect(adapterOf("ethereum").normalizeAddress("0xAbC")).toBe("0xabc");
    expect(adapterOf("bitcoin").normalizeAddress("BC1QXYZ")).toBe("bc1qxyz");
    expect(adapterOf("bitcoin").normalizeAddress("1BoatSLRHtKNngkdXEeobR76b53LETtpyT")).toBe(
      "1BoatSLRHtKNngkdXEeobR76b53LETtpyT",
    );
    expect(adapterOf("solana").normalizeAddress("Vote111111111111111111111111111111111111111")).toBe(
      "Vote111111111111111111111111111111111111111",
    );
    const key = testKey("bip340");
    expect(adapterOf("bitcoin").address(key, "regtest")).toMatch(/^bcrt1p/);
    expect(adapterOf("bitcoin").address(key)).toMatch(/^bc1p/);
  });

  it("knows its own addresses from every other string", () => {
    const ecdsa = testKey("ecdsa");
    const own = {
      ethereum: [adapterOf("ethereum").address(ecdsa)],
      bitcoin: [adapterOf("bitcoin").address(ecdsa), adapterOf("bitcoin").address(testKey("bip340"), "regtest")],
      solana: [adapterOf("solana").address(testKey("ed25519"))],
    };
    for (const chain of CHAIN_NAMES) {
      const adapter = adapterOf(chain);
      for (const [other, addresses] of Object.entries(own))
        for (const address of addresses) expect(adapter.isAddress(address)).toBe(other === chain);
      for (const junk of ["", "0x12", "bc1qqqqq", "not an address"]) expect(adapter.isAddress(junk)).toBe(false);
    }
  });
});
