/**
 * The device reads a sign request with the chain adapters the provider reads it with: typed data
 * bound to another chain than the request's is refused before anything is signed, a held
 * request's detail (typed data kept as its payload, no network) gives the same messages as the
 * request that was sent, and a request the key cannot sign is a usage mistake.
 */
import type { SigningKey, SigningRequest } from "@keyshard/chains";
import { adapterOf, ChainError } from "@keyshard/chains";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import { MAIL_TYPED_DATA } from "../../chains/test/fixtures/typed-data.js";
import { WalletError } from "../src/errors.js";
import { describeMessageRequest, messagesToSign } from "../src/requests.js";

const publicKey = secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), true);
const key: SigningKey = { algorithm: "ecdsa", publicKey, bitcoin: { ecdsa: [publicKey] } };

const hexOf = (s: string) => bytesToHex(new TextEncoder().encode(s));

describe("the device's reading of a request", () => {
  it("refuses typed data for another chain than the request's, as the provider does", () => {
    const body: SigningRequest = { kind: "typed-data", chain: "ethereum", typedData: MAIL_TYPED_DATA, chainId: 5 };
    expect(() => messagesToSign(body, key)).toThrow(ChainError);
    expect(() => messagesToSign(body, key)).toThrow(/typed data is for chain 1, not chain 5/);
    expect(() => describeMessageRequest(body)).toThrow(/typed data is for chain 1, not chain 5/);
    expect(messagesToSign({ ...body, chainId: 1 }, key)).toEqual(
      adapterOf("ethereum")
        .digests({ ...body, chainId: 1 }, key)
        .map((d) => d.message),
    );
  });

  it("signs a held request's detail as the request that was sent", () => {
    const sent: SigningRequest = { kind: "typed-data", chain: "ethereum", typedData: MAIL_TYPED_DATA };
    const held: SigningRequest = {
      kind: "typed-data",
      chain: "ethereum",
      payload: hexOf(JSON.stringify(MAIL_TYPED_DATA)),
    };
    expect(messagesToSign(held, key)).toEqual(messagesToSign(sent, key));
    const message: SigningRequest = { kind: "message", chain: "bitcoin", payload: hexOf("hi") };
    expect(messagesToSign(message, key)).toEqual(messagesToSign({ ...message, network: "mainnet" }, key));
  });

  it("takes a request the key cannot sign, or one missing what its kind needs, as a usage mistake", () => {
    for (const body of [
      { kind: "typed-data", chain: "ethereum", payload: hexOf("not json") },
      { kind: "message", chain: "ethereum" },
      { chain: "solana", payload: "00" },
      { kind: "message", chain: "solana", payload: "00" },
    ] as SigningRequest[]) {
      expect(() => messagesToSign(body, key)).toThrow(WalletError);
      expect(() => messagesToSign(body, key)).toThrow(expect.objectContaining({ code: "usage" }));
    }
  });
});
