/**
 * BIP322 simple messages: the message hash and virtual transactions against the BIP's vectors,
 * the BIP's own signatures verify, and signatures made jointly by ecdsa2p and FROST (Taproot)
 * verify — and nothing else does.
 */

import { hex } from "@scure/base";
import { describe, expect, it } from "vitest";
import { bitcoinAddressScript } from "../src/bitcoin/address.js";
import { bip322Transactions } from "../src/bitcoin/message.js";
import {
  bip322Digest,
  bip322MessageHash,
  bip322TaprootSignature,
  ChainError,
  p2wpkhOutput,
  signBitcoinMessage,
  verifyBitcoinMessage,
} from "../src/index.js";
import { ecdsa2pKey, ecdsa2pSigner, frostKey, taprootSigner } from "./engines.js";

const text = (s: string) => new TextEncoder().encode(s);
// The BIP's vectors: key L3VFeEujGtevx9w18HD1fhRbCH67Az2dpCymeRE1SoPK6XQtaN2k.
const P2WPKH = "bc1q9vza2e8x573nczrlzms0wvx3gsqjx7vavgkx0l";
const P2TR = "bc1ppv609nr0vr25u07u95waq5lucwfm6tde4nydujnu8npg4q75mr5sxq8lt3";

describe("BIP322 vectors", () => {
  it("message hashes", () => {
    expect(hex.encode(bip322MessageHash(text("")))).toBe(
      "c90c269c4f8fcbe6880f72a721ddfbf1914268a794cbb21cfafee13770ae19f1",
    );
    expect(hex.encode(bip322MessageHash(text("Hello World")))).toBe(
      "f0eb03b1a75ac6d9847f55c624a99169b5dccba2a31f5b23bea77ba270de0a7a",
    );
  });

  it("to_spend and to_sign transaction ids", () => {
    const script = bitcoinAddressScript(P2WPKH, "mainnet");
    const empty = bip322Transactions(text(""), script);
    expect(empty.toSpend.id).toBe("c5680aa69bb8d860bf82d4e9cd3504b55dde018de765a91bb566283c545a99a7");
    expect(empty.toSign.id).toBe("1e9654e951a5ba44c8604c4de6c67fd78a27e81dcadcfe1edf638ba3aaebaed6");
    const hello = bip322Transactions(text("Hello World"), script);
    expect(hello.toSpend.id).toBe("b79d196740ad5217771c1098fc4a4b51e0535c32236c71f1ea4d61a2d603352b");
    expect(hello.toSign.id).toBe("88737ae86f2077145f93cc4b153ae9a1cb8d56afa511988c149c5c8c9d93bddf");
  });

  it("the BIP's signatures verify, and not for another message or address", () => {
    const empty =
      "AkcwRAIgM2gBAQqvZX15ZiysmKmQpDrG83avLIT492QBzLnQIxYCIBaTpOaD20qRlEylyxFSeEA2ba9YOixpX8z46TSDtS40ASECx/EgAxlkQpQ9hYjgGu6EBCPMVPwVIVJqO4XCsMvViHI=";
    const taproot = "AUHd69PrJQEv+oKTfZ8l+WROBHuy9HKrbFCJu7U1iK2iiEy1vMU5EfMtjc+VSHM7aU0SDbak5IUZRVno2P5mjSafAQ==";
    expect(verifyBitcoinMessage(text(""), P2WPKH, empty, "mainnet")).toBe(true);
    expect(verifyBitcoinMessage(text("Hello World"), P2TR, taproot, "mainnet")).toBe(true);
    expect(verifyBitcoinMessage(text("Hello World"), P2WPKH, empty, "mainnet")).toBe(false);
    expect(verifyBitcoinMessage(text("Hello"), P2TR, taproot, "mainnet")).toBe(false);
    expect(verifyBitcoinMessage(text(""), P2TR, empty, "mainnet")).toBe(false);
    expect(verifyBitcoinMessage(text(""), P2WPKH, "not base64!", "mainnet")).toBe(false);
    expect(verifyBitcoinMessage(text(""), "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", empty, "mainnet")).toBe(false);
    expect(() => verifyBitcoinMessage(text(""), "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3", empty, "mainnet")).toThrow(
      ChainError,
    );
  });
});

describe("messages signed by keyshard's engines", () => {
  it("ecdsa2p (P2WPKH) and FROST (P2TR) signatures verify; a flipped byte does not", async () => {
    const ecdsa = await signBitcoinMessage(text("keyshard owns this"), "regtest", ecdsa2pSigner(ecdsa2pKey()));
    expect(ecdsa.address).toMatch(/^bcrt1q/);
    expect(verifyBitcoinMessage(text("keyshard owns this"), ecdsa.address, ecdsa.signature, "regtest")).toBe(true);
    const taproot = await signBitcoinMessage(
      text("keyshard owns this"),
      "mainnet",
      taprootSigner(frostKey("secp256k1tr"), [0, 2]),
    );
    expect(taproot.address).toMatch(/^bc1p/);
    expect(verifyBitcoinMessage(text("keyshard owns this"), taproot.address, taproot.signature, "mainnet")).toBe(true);
    for (const { address, signature } of [ecdsa, taproot]) {
      const bytes = Buffer.from(signature, "base64");
      bytes[10] = (bytes[10] as number) ^ 1;
      const network = address.startsWith("bcrt") ? "regtest" : "mainnet";
      expect(verifyBitcoinMessage(text("keyshard owns this"), address, bytes.toString("base64"), network)).toBe(false);
    }
  });

  it("refuses to encode a signature that does not verify", () => {
    const owner = p2wpkhOutput(ecdsa2pSigner(ecdsa2pKey()).publicKey, "mainnet");
    expect(bip322Digest(text("x"), owner)).toHaveLength(32);
    expect(() => bip322TaprootSignature(text("x"), owner, new Uint8Array(64))).toThrow(ChainError);
  });
});
