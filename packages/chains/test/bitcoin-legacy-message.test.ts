/**
 * BIP137 "Bitcoin Signed Message" signatures: published vectors (Bitcoin Core's functional test,
 * bitcoinjs-message's fixtures) and signatures made by bitcoinjs-message, an independent
 * implementation, verify for exactly the address type and key their header claims — and every
 * other address, message, header or byte change answers false instead of throwing.
 */

import { secp256k1 } from "@noble/curves/secp256k1.js";
import { hex } from "@scure/base";
import { NETWORK, p2pkh, p2sh, p2tr, p2wpkh, p2wsh, TEST_NETWORK, WIF } from "@scure/btc-signer";
import bitcoinMessage from "bitcoinjs-message";
import { describe, expect, it } from "vitest";
import { legacyMessageHash } from "../src/bitcoin/message.js";
import { ChainError, verifyBitcoinMessage } from "../src/index.js";
import type { BitcoinNetwork } from "../src/names.js";

const text = (s: string) => new TextEncoder().encode(s);

/** A copy of a base64 signature with `change` applied to its bytes. */
function edited(signature: string, change: (bytes: Buffer) => void): string {
  const bytes = Buffer.from(signature, "base64");
  change(bytes);
  return bytes.toString("base64");
}

describe("published vectors", () => {
  it("the message hash (bitcoinjs-message fixtures)", () => {
    expect(hex.encode(legacyMessageHash(text("")))).toBe(
      "80e795d4a4caadd7047af389d9f7f220562feb6196032e2131e10563352c4bcc",
    );
    expect(hex.encode(legacyMessageHash(text("Vires is Numeris")))).toBe(
      "f8a5affbef4a3241b19067aa694562f64f513310817297089a8929a930f4f933",
    );
  });

  it("Bitcoin Core's signmessagewithprivkey vector verifies for its P2PKH address only", () => {
    const message = text("This is just a test message");
    const signature = "INbVnW4e6PeRmsv2Qgu8NuopvrVjkcxob+sX8OcZG0SALhWybUjzMLPdAsXI46YZGb0KQTRii+wWIQzRpG/U+S0=";
    const key = secp256k1.getPublicKey(
      WIF(TEST_NETWORK).decode("cUeKHd5orzT3mz8P9pxyREHfsWtVfgsfDjiZZBcjUBAaGk1BTj7N"),
    );
    expect(p2pkh(key, TEST_NETWORK).address).toBe("mpLQjfK79b7CCV4VMJWEWAj5Mpx8Up5zxB");
    expect(verifyBitcoinMessage(message, "mpLQjfK79b7CCV4VMJWEWAj5Mpx8Up5zxB", signature, "testnet")).toBe(true);
    expect(verifyBitcoinMessage(message, "mpLQjfK79b7CCV4VMJWEWAj5Mpx8Up5zxB", signature, "regtest")).toBe(true);
    const nested = p2sh(p2wpkh(key, TEST_NETWORK), TEST_NETWORK).address as string;
    const native = p2wpkh(key, TEST_NETWORK).address as string;
    expect(verifyBitcoinMessage(message, nested, signature, "testnet")).toBe(false);
    expect(verifyBitcoinMessage(message, native, signature, "testnet")).toBe(false);
    expect(
      verifyBitcoinMessage(
        text("This is just a test message."),
        "mpLQjfK79b7CCV4VMJWEWAj5Mpx8Up5zxB",
        signature,
        "testnet",
      ),
    ).toBe(false);
  });

  it("bitcoinjs-message's fixtures: one per header type, and no cross-verification", () => {
    const message = text("vires is numeris");
    const uncompressed = "G8JawPtQOrybrSP1WHQnQPr67B9S3qrxBrl1mlzoTJOSHEpmnF7D3+t+LX0Xei9J20B5AIdPbeL3AaTBZ4N3bY0=";
    const compressed = "H8JawPtQOrybrSP1WHQnQPr67B9S3qrxBrl1mlzoTJOSHEpmnF7D3+t+LX0Xei9J20B5AIdPbeL3AaTBZ4N3bY0=";
    const vectors = [
      ["16UwLL9Risc3QfPqBUvKofHmBQ7wMtjvM", uncompressed],
      ["1PMycacnJaSqwwJqjawXBErnLsZ7RkXUAs", compressed],
      [
        "3JvL6Ymt8MVWiCNHC7oWU6nLeHNJKLZGLN",
        "JF8nHqFr3K2UKYahhX3soVeoW8W1ECNbr0wfck7lzyXjCS5Q16Ek45zyBuy1Fiy9sTPKVgsqqOuPvbycuVSSVl8=",
      ],
      [
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
        "KF8nHqFr3K2UKYahhX3soVeoW8W1ECNbr0wfck7lzyXjCS5Q16Ek45zyBuy1Fiy9sTPKVgsqqOuPvbycuVSSVl8=",
      ],
    ] as const;
    for (const [address, signature] of vectors) {
      expect(verifyBitcoinMessage(message, address, signature, "mainnet")).toBe(true);
      expect(verifyBitcoinMessage(text("foobar"), address, signature, "mainnet")).toBe(false);
    }
    expect(verifyBitcoinMessage(message, "16UwLL9Risc3QfPqBUvKofHmBQ7wMtjvM", compressed, "mainnet")).toBe(false);
    expect(verifyBitcoinMessage(message, "1PMycacnJaSqwwJqjawXBErnLsZ7RkXUAs", uncompressed, "mainnet")).toBe(false);
    expect(verifyBitcoinMessage(message, "1111111111111111111114oLvT2", compressed, "mainnet")).toBe(false);
  });

  it("bitcoinjs-message's README example", () => {
    expect(
      verifyBitcoinMessage(
        text("This is an example of a signed message."),
        "1F3sAm6ZtwLAUnj7d38pGFxtP3RVEvtsbV",
        "H9L5yLFjti0QTHhPyFrZCT1V/MMnBtXKmoiKDZ78NDBjERki6ZTQZdSMCtkgoNmp17By9ItJr8o7ChX0XxY91nk=",
        "mainnet",
      ),
    ).toBe(true);
  });
});

type AddressType = "p2pkh-uncompressed" | "p2pkh" | "p2sh-p2wpkh" | "p2wpkh";
const ADDRESS_TYPES: readonly AddressType[] = ["p2pkh-uncompressed", "p2pkh", "p2sh-p2wpkh", "p2wpkh"];

/** The address of `privateKey` of each type, as btc-signer derives it. */
function addressOf(privateKey: Uint8Array, type: AddressType, network: BitcoinNetwork): string {
  const params =
    network === "mainnet" ? NETWORK : network === "testnet" ? TEST_NETWORK : { ...TEST_NETWORK, bech32: "bcrt" };
  const key = secp256k1.getPublicKey(privateKey, type !== "p2pkh-uncompressed");
  const payment =
    type === "p2sh-p2wpkh"
      ? p2sh(p2wpkh(key, params), params)
      : type === "p2wpkh"
        ? p2wpkh(key, params)
        : p2pkh(key, params);
  return payment.address as string;
}

/** bitcoinjs-message's signature of `message` for the address of `type`. */
function theirSignature(message: Uint8Array, privateKey: Uint8Array, type: AddressType): string {
  const key = Buffer.from(privateKey);
  const bytes = Buffer.from(message);
  const signature =
    type === "p2pkh-uncompressed"
      ? bitcoinMessage.sign(bytes, key, false)
      : type === "p2pkh"
        ? bitcoinMessage.sign(bytes, key, true)
        : bitcoinMessage.sign(bytes, key, true, { segwitType: type === "p2wpkh" ? "p2wpkh" : "p2sh(p2wpkh)" });
  return signature.toString("base64");
}

const KEYS = [
  hex.decode("0c28fca386c7a227600b2fe50b7cae11ec86d3bf1fbe471be89827e19d72aa1d"),
  new Uint8Array(32).fill(7),
];
const MESSAGES = [
  text(""),
  text("I own this address: withdrawal #4812"),
  text("ü".repeat(200)),
  new Uint8Array(70_000).fill(0x61),
];
const NETWORKS: readonly BitcoinNetwork[] = ["mainnet", "testnet", "regtest"];

describe("signatures made by bitcoinjs-message", () => {
  it("verify for the address type and network they were made for", () => {
    for (const network of NETWORKS)
      for (const privateKey of KEYS)
        for (const type of ADDRESS_TYPES)
          for (const message of MESSAGES) {
            const address = addressOf(privateKey, type, network);
            const signature = theirSignature(message, privateKey, type);
            // Their verifier agrees the signature belongs to this address, so the address is right.
            expect(bitcoinMessage.verify(Buffer.from(message), address, signature)).toBe(true);
            expect(verifyBitcoinMessage(message, address, signature, network)).toBe(true);
          }
  });

  it("answer false for another message, another key's address or a changed byte", () => {
    const [mine, other] = KEYS as [Uint8Array, Uint8Array];
    const message = text("I own this address");
    for (const network of NETWORKS)
      for (const type of ADDRESS_TYPES) {
        const address = addressOf(mine, type, network);
        const signature = theirSignature(message, mine, type);
        expect(verifyBitcoinMessage(text("I own this address."), address, signature, network)).toBe(false);
        expect(verifyBitcoinMessage(message, addressOf(other, type, network), signature, network)).toBe(false);
        for (const at of [1, 20, 32, 33, 50, 64])
          expect(
            verifyBitcoinMessage(
              message,
              address,
              edited(signature, (b) => {
                b[at] = (b[at] as number) ^ 0x01;
              }),
              network,
            ),
          ).toBe(false);
      }
  });

  it("verify for no other address type of the same key, whatever the header claims", () => {
    const [key] = KEYS as [Uint8Array];
    const message = text("I own this address");
    for (const network of NETWORKS)
      for (const signedFor of ADDRESS_TYPES) {
        const signature = theirSignature(message, key, signedFor);
        const header = Buffer.from(signature, "base64")[0] as number;
        for (const claimed of ADDRESS_TYPES) {
          // The same r, s and recovery id with the header of another address type.
          const reheadered = edited(signature, (b) => {
            b[0] = 27 + 4 * ADDRESS_TYPES.indexOf(claimed) + ((header - 27) & 3);
          });
          for (const addressType of ADDRESS_TYPES) {
            const address = addressOf(key, addressType, network);
            expect(verifyBitcoinMessage(message, address, signature, network)).toBe(addressType === signedFor);
            expect(verifyBitcoinMessage(message, address, reheadered, network)).toBe(addressType === claimed);
          }
        }
      }
  });

  it("a segwit address signed with a P2PKH header (Electrum's form) is not accepted", () => {
    const [key] = KEYS as [Uint8Array];
    const message = text("I own this address");
    const signature = theirSignature(message, key, "p2pkh");
    expect(verifyBitcoinMessage(message, addressOf(key, "p2wpkh", "mainnet"), signature, "mainnet")).toBe(false);
    expect(verifyBitcoinMessage(message, addressOf(key, "p2sh-p2wpkh", "mainnet"), signature, "mainnet")).toBe(false);
  });

  it("a high-S form of a signature verifies, as in Bitcoin Core", () => {
    const [key] = KEYS as [Uint8Array];
    const message = text("I own this address");
    const signature = theirSignature(message, key, "p2pkh");
    const bytes = Buffer.from(signature, "base64");
    const s = BigInt(`0x${hex.encode(bytes.subarray(33))}`);
    const highS = secp256k1.Point.Fn.ORDER - s;
    bytes.set(hex.decode(highS.toString(16).padStart(64, "0")), 33);
    // Negating s negates the nonce point, whose y parity is the low recovery bit.
    bytes[0] = 27 + (((bytes[0] as number) - 27) ^ 1);
    expect(verifyBitcoinMessage(message, addressOf(key, "p2pkh", "mainnet"), bytes.toString("base64"), "mainnet")).toBe(
      true,
    );
  });
});

describe("anything else answers false, an address of another network is an error", () => {
  const [key] = KEYS as [Uint8Array];
  const message = text("I own this address");

  it("malformed signatures", () => {
    const address = addressOf(key, "p2pkh", "mainnet");
    const signature = theirSignature(message, key, "p2pkh");
    const bytes = Buffer.from(signature, "base64");
    const malformed = [
      "",
      "not base64!",
      bytes.subarray(0, 64).toString("base64"),
      Buffer.concat([bytes, Buffer.of(0)]).toString("base64"),
      edited(signature, (b) => b.fill(0, 1, 33)),
      edited(signature, (b) => b.fill(0xff, 1, 33)),
      edited(signature, (b) => b.fill(0, 33)),
      ...[0, 26, 43, 255].map((header) =>
        edited(signature, (b) => {
          b[0] = header;
        }),
      ),
      // Recovery id 0 or 1 moved to 2 or 3, which needs r + n to be a field element: it almost never is.
      edited(signature, (b) => {
        b[0] = (b[0] as number) + 2;
      }),
    ];
    for (const bad of malformed) expect(verifyBitcoinMessage(message, address, bad, "mainnet")).toBe(false);
    expect(verifyBitcoinMessage(message, address, undefined as unknown as string, "mainnet")).toBe(false);
  });

  it("address types no BIP137 or BIP322 signature here covers", () => {
    const signature = theirSignature(message, key, "p2wpkh");
    const compressed = secp256k1.getPublicKey(key);
    const others = [
      p2tr(compressed.subarray(1)).address,
      p2wsh(p2pkh(compressed)).address,
      p2sh(p2pkh(compressed)).address,
    ] as string[];
    for (const address of others) expect(verifyBitcoinMessage(message, address, signature, "mainnet")).toBe(false);
  });

  it("a message of megabytes is hashed, not a stack overflow", () => {
    const large = new Uint8Array(4_000_000).fill(0x61);
    const address = addressOf(key, "p2wpkh", "mainnet");
    const legacy = theirSignature(large, key, "p2wpkh");
    expect(verifyBitcoinMessage(large, address, legacy, "mainnet")).toBe(true);
    // A BIP322 witness for this address, over another message: it reaches the BIP322 hash.
    const witness =
      "AkcwRAIgM2gBAQqvZX15ZiysmKmQpDrG83avLIT492QBzLnQIxYCIBaTpOaD20qRlEylyxFSeEA2ba9YOixpX8z46TSDtS40ASECx/EgAxlkQpQ9hYjgGu6EBCPMVPwVIVJqO4XCsMvViHI=";
    expect(verifyBitcoinMessage(large, "bc1q9vza2e8x573nczrlzms0wvx3gsqjx7vavgkx0l", witness, "mainnet")).toBe(false);
  });

  it("addresses that are not of the network are a ChainError", () => {
    const signature = theirSignature(message, key, "p2pkh");
    for (const [address, network] of [
      [addressOf(key, "p2pkh", "mainnet"), "testnet"],
      [addressOf(key, "p2pkh", "testnet"), "mainnet"],
      [addressOf(key, "p2wpkh", "testnet"), "regtest"],
      ["1PMycacnJaSqwwJqjawXBErnLsZ7RkXUAt", "mainnet"],
    ] as const)
      expect(() => verifyBitcoinMessage(message, address, signature, network)).toThrow(ChainError);
  });
});
