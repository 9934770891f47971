/**
 * Extended public keys and watch-only addresses, against software keyshard did not write: the
 * BIP32 test vectors, @scure/bip32's serialization, and the published first addresses of BIP84
 * (P2WPKH), BIP86 (P2TR) and the common Ethereum path for the standard test mnemonic. Every
 * malformed key, and every path a public key cannot take, is a `ChainError`.
 */
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { pbkdf2 } from "@noble/hashes/pbkdf2.js";
import { sha256, sha512 } from "@noble/hashes/sha2.js";
import { createBase58check } from "@scure/base";
import { HDKey } from "@scure/bip32";
import { describe, expect, it } from "vitest";
import { ChainError } from "../src/errors.js";
import {
  deriveExtendedPublicKey,
  type ExtendedPublicKey,
  encodeExtendedPublicKey,
  parseExtendedPublicKey,
} from "../src/extended-key.js";
import { watchedAddresses, watchOnly } from "../src/watch-only.js";

const base58check = createBase58check(sha256);
const TPUB = { private: 0x04358394, public: 0x043587cf };

/** BIP32 test vector 1 (seed 000102…0f): xpubs of m/0'/1/2', m/0'/1/2'/2, m/0'/1/2'/2/1000000000. */
const VECTOR_1 = [
  "xpub6D4BDPcP2GT577Vvch3R8wDkScZWzQzMMUm3PWbmWvVJrZwQY4VUNgqFJPMM3No2dFDFGTsxxpG5uJh7n7epu4trkrX7x7DogT5Uv6fcLW5",
  "xpub6FHa3pjLCk84BayeJxFW2SP4XRrFd1JYnxeLeU8EqN3vDfZmbqBqaGJAyiLjTAwm6ZLRQUMv1ZACTj37sR62cfN7fe5JnJ7dh8zL4fiyLHV",
  "xpub6H1LXWLaKsWFhvm6RVpEL9P4KfRZSW7abD2ttkWP3SSQvnyA8FSVqNTEcYFgJS2UaFcxupHiYkro49S8yGasTvXEYBVPamhGW6cFJodrTHy",
] as const;
const VECTOR_1_XPRV_M =
  "xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi";

/** The standard test mnemonic ("abandon" ×11, "about"), as BIP39 makes a seed of it. */
const TEST_ROOT = HDKey.fromMasterSeed(
  pbkdf2(sha512, `${"abandon ".repeat(11)}about`, "mnemonic", { c: 2048, dkLen: 64 }),
);

/** `xpub` with its 78 bytes changed by `edit`, checksummed again. */
function edited(xpub: string, edit: (bytes: Uint8Array, view: DataView) => void): string {
  const bytes = base58check.decode(xpub);
  edit(bytes, new DataView(bytes.buffer, bytes.byteOffset));
  return base58check.encode(bytes);
}

function refusal(work: () => unknown): ChainError {
  try {
    work();
  } catch (e) {
    expect(e).toBeInstanceOf(ChainError);
    return e as ChainError;
  }
  throw new Error("expected a ChainError");
}

const randomRoot = (versions?: typeof TPUB) =>
  new HDKey({
    publicKey: secp256k1.getPublicKey(secp256k1.utils.randomSecretKey()),
    chainCode: crypto.getRandomValues(new Uint8Array(32)),
    ...(versions && { versions }),
  });

describe("extended public keys", () => {
  it("reads the BIP32 vectors, writes them back byte for byte, and derives the next ones", () => {
    const [first, second, third] = VECTOR_1.map(parseExtendedPublicKey) as [
      ExtendedPublicKey,
      ExtendedPublicKey,
      ExtendedPublicKey,
    ];
    expect(first).toMatchObject({ network: "mainnet", depth: 3, childNumber: 0x80000002 });
    for (const [i, node] of [first, second, third].entries())
      expect(encodeExtendedPublicKey(node, "mainnet")).toBe(VECTOR_1[i]);
    expect(deriveExtendedPublicKey(first, "2")).toEqual(second);
    expect(deriveExtendedPublicKey(first, "2/1000000000")).toEqual(third);
    expect(deriveExtendedPublicKey(first, "")).toEqual(first);
  });

  it("writes what @scure/bip32 writes for the same node: xpub on mainnet, tpub on testnet and regtest", () => {
    const root = randomRoot();
    for (const path of ["m", "m/0", "m/1/2/3"]) {
      const ref = root.derive(path);
      const node = {
        depth: ref.depth,
        parentFingerprint: ref.parentFingerprint,
        childNumber: ref.index,
        chainCode: ref.chainCode as Uint8Array,
        publicKey: ref.publicKey as Uint8Array,
      };
      expect(encodeExtendedPublicKey(node, "mainnet")).toBe(ref.publicExtendedKey);
      const tpub = new HDKey({ ...node, index: node.childNumber, versions: TPUB }).publicExtendedKey;
      expect(encodeExtendedPublicKey(node, "testnet")).toBe(tpub);
      expect(encodeExtendedPublicKey(node, "regtest")).toBe(tpub);
      expect(parseExtendedPublicKey(tpub)).toEqual({ ...node, network: "testnet" });
    }
    expect(
      refusal(() => encodeExtendedPublicKey(parseExtendedPublicKey(VECTOR_1[0]), "signet" as "mainnet")).code,
    ).toBe("invalid");
  });

  it("writes no key from a node that is not one", () => {
    const node = parseExtendedPublicKey(VECTOR_1[0]);
    const bad: [Partial<ExtendedPublicKey>, RegExp][] = [
      [{ depth: 256 }, /depth must be 0 to 255/],
      [{ childNumber: -1 }, /32-bit/],
      [{ parentFingerprint: 2 ** 32 }, /32-bit/],
      [{ chainCode: new Uint8Array(31) }, /chain code is 32 bytes/],
      [{ publicKey: node.publicKey.subarray(1) }, /33-byte compressed public key/],
      [{ depth: 0 }, /depth-0 node has no parent/],
    ];
    for (const [change, message] of bad)
      expect(refusal(() => encodeExtendedPublicKey({ ...node, ...change }, "mainnet")).message).toMatch(message);
  });

  it("refuses a mistyped key by its checksum", () => {
    const [head, tail] = [VECTOR_1[0].slice(0, 50), VECTOR_1[0].slice(51)];
    const typo = `${head}${VECTOR_1[0][50] === "a" ? "b" : "a"}${tail}`;
    expect(refusal(() => parseExtendedPublicKey(typo)).message).toMatch(/checksum does not match/);
  });

  it("refuses private keys and versions other than xpub and tpub, SLIP-132 ones included", () => {
    const e = refusal(() => parseExtendedPublicKey(VECTOR_1_XPRV_M));
    expect(e.code).toBe("unsupported");
    expect(e.message).toMatch(/private extended key/);
    expect(e.message).not.toContain(VECTOR_1_XPRV_M);
    const zpub = edited(VECTOR_1[0], (_, view) => view.setUint32(0, 0x04b24746));
    expect(refusal(() => parseExtendedPublicKey(zpub)).message).toMatch(/version 0x04b24746 .* SLIP-132/);
  });

  it("refuses a key that is not a compressed point on the curve", () => {
    // x = 5: 5³ + 7 = 132 is not a square modulo p, so no point has it.
    const offCurve = edited(VECTOR_1[0], (bytes) => bytes.set([2, ...new Uint8Array(31), 5], 45));
    expect(refusal(() => parseExtendedPublicKey(offCurve)).message).toMatch(/not a point on secp256k1/);
    const uncompressedPrefix = edited(VECTOR_1[0], (bytes) => {
      bytes[45] = 4;
    });
    expect(refusal(() => parseExtendedPublicKey(uncompressedPrefix)).code).toBe("malformed");
  });

  it("refuses a depth-0 key that names a parent or a child number", () => {
    const root = randomRoot().publicExtendedKey;
    expect(parseExtendedPublicKey(root).depth).toBe(0);
    for (const offset of [5, 9]) {
      const orphan = edited(root, (_, view) => view.setUint32(offset, 1));
      expect(refusal(() => parseExtendedPublicKey(orphan)).message).toMatch(/depth-0 node has no parent/);
    }
  });

  it("refuses a wrong length, a text too long to be a key, and what is not text", () => {
    const short = base58check.encode(base58check.decode(VECTOR_1[0]).subarray(0, 77));
    expect(refusal(() => parseExtendedPublicKey(short)).message).toMatch(/77 bytes instead of 78/);
    expect(refusal(() => parseExtendedPublicKey("1".repeat(100_000))).message).toMatch(/base58 text of 78 bytes/);
    expect(refusal(() => parseExtendedPublicKey(42 as unknown as string)).code).toBe("malformed");
  });

  it("refuses hardened steps, saying why, and paths past depth 255", () => {
    const node = parseExtendedPublicKey(VECTOR_1[0]);
    for (const step of ["0'", "0h", "1/2H"])
      expect(refusal(() => deriveExtendedPublicKey(node, step)).message).toMatch(
        /hardened step .* private key, which a threshold wallet never has whole/,
      );
    for (const step of ["01", "2147483648", "1//2", "-1", "x"])
      expect(refusal(() => deriveExtendedPublicKey(node, step)).message).toMatch(/invalid path step/);
    const deepest = edited(VECTOR_1[0], (bytes) => {
      bytes[4] = 255;
    });
    expect(parseExtendedPublicKey(deepest).depth).toBe(255);
    expect(refusal(() => deriveExtendedPublicKey(parseExtendedPublicKey(deepest), "0")).message).toMatch(
      /past depth 255/,
    );
    expect(refusal(() => deriveExtendedPublicKey(node, Array(253).fill("0").join("/"))).message).toMatch(
      /past depth 255/,
    );
    expect(refusal(() => deriveExtendedPublicKey(node, "1/".repeat(100_000))).message).toBe("path too long");
  });

  it("reads a path from the root only below a root key: below a deeper one 'm' would name another node", () => {
    const root = parseExtendedPublicKey(randomRoot().publicExtendedKey);
    expect(deriveExtendedPublicKey(root, "m/0/5")).toEqual(deriveExtendedPublicKey(root, "0/5"));
    expect(deriveExtendedPublicKey(root, "m")).toEqual(root);
    expect(refusal(() => deriveExtendedPublicKey(root, "m/")).message).toMatch(/invalid path step ""/);
    const deeper = parseExtendedPublicKey(VECTOR_1[0]);
    expect(refusal(() => deriveExtendedPublicKey(deeper, "m/2")).message).toMatch(/3 steps below a root/);
  });
});

describe("watch-only addresses", () => {
  it("are the published first addresses of BIP84, BIP86 and the common Ethereum path", () => {
    const bip84 = watchOnly(TEST_ROOT.derive("m/84'/0'/0'").publicExtendedKey);
    expect(bip84.address("bitcoin", "0/0", { type: "p2wpkh" })).toBe("bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu");
    const bip86 = watchOnly(TEST_ROOT.derive("m/86'/0'/0'").publicExtendedKey);
    expect(bip86.address("bitcoin", "0/0", { type: "p2tr" })).toBe(
      "bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr",
    );
    const ethereum = watchOnly(TEST_ROOT.derive("m/44'/60'/0'").publicExtendedKey);
    expect(ethereum.address("ethereum", "0/0", { algorithm: "ecdsa" })).toBe(
      "0x9858EfFD232B4033E47d90003D41EC34EcaEda94",
    );
  });

  it("of a Taproot (bip340) key are its P2TR ones only: no Ethereum address, which its wallet could not sign for", () => {
    const taproot = watchOnly(TEST_ROOT.derive("m/86'/0'/0'").publicExtendedKey);
    const bip86 = "bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr";
    expect(taproot.address("bitcoin", "0/0", { algorithm: "bip340" })).toBe(bip86);
    expect(taproot.address("bitcoin", "0/0", { algorithm: "bip340", type: "p2tr" })).toBe(bip86);
    const ethereum = refusal(() => taproot.address("ethereum", "0/0", { algorithm: "bip340" }));
    expect(ethereum.code).toBe("unsupported");
    expect(ethereum.message).toMatch(/bip340 key has no ethereum address .* ethereum signs ecdsa only/);
    expect(refusal(() => taproot.address("bitcoin", "0/0", { algorithm: "bip340", type: "p2wpkh" })).message).toBe(
      "a bip340 key's Bitcoin address is p2tr, not p2wpkh",
    );
    expect(watchedAddresses("bip340")).toEqual({ chains: ["bitcoin"], bitcoinType: "p2tr" });
    expect(watchedAddresses("ecdsa")).toEqual({ chains: ["ethereum", "bitcoin"], bitcoinType: "p2wpkh" });
  });

  it("need the key's algorithm said for Ethereum, as the type for Bitcoin, since the key does not say how its wallet signs", () => {
    const watcher = watchOnly(TEST_ROOT.derive("m/44'/60'/0'").publicExtendedKey);
    const unsaid = refusal(() => watcher.address("ethereum", "0/0"));
    expect(unsaid.code).toBe("invalid");
    expect(unsaid.message).toMatch(/ethereum address needs the key's algorithm: ecdsa .* bip340 for frost-taproot/);
    expect(refusal(() => watcher.address("ethereum", "0/0", { algorithm: "ed25519" as "ecdsa" })).message).toBe(
      "algorithm must be ecdsa or bip340",
    );
    expect(
      refusal(() => watcher.address("bitcoin", "0/0", { type: "p2wpkh", algorithm: "schnorr" as "ecdsa" })).message,
    ).toBe("algorithm must be ecdsa or bip340");
    expect(watcher.address("bitcoin", "0/0", { algorithm: "ecdsa" })).toBe(
      watcher.address("bitcoin", "0/0", { type: "p2wpkh" }),
    );
  });

  it("take the key's network: an xpub has mainnet addresses only, a tpub testnet (default) and regtest ones", () => {
    const root = randomRoot(TPUB);
    const tpub = watchOnly(root.publicExtendedKey);
    expect(tpub.key.network).toBe("testnet");
    expect(tpub.address("bitcoin", "0/1", { type: "p2wpkh" })).toMatch(/^tb1q/);
    expect(tpub.address("bitcoin", "0/1", { type: "p2tr", network: "regtest" })).toMatch(/^bcrt1p/);
    expect(refusal(() => tpub.address("bitcoin", "0/1", { type: "p2wpkh", network: "mainnet" })).code).toBe(
      "wrong-network",
    );
    const xpub = watchOnly(randomRoot().publicExtendedKey);
    expect(refusal(() => xpub.address("bitcoin", "0", { type: "p2wpkh", network: "regtest" })).code).toBe(
      "wrong-network",
    );
    expect(tpub.publicKey("0/1")).toEqual(root.derive("m/0/1").publicKey);
  });

  it("need the Bitcoin address type said, since a coin sent to the other is one the wallet cannot spend", () => {
    const watcher = watchOnly(randomRoot().publicExtendedKey);
    expect(refusal(() => watcher.address("bitcoin", "0")).message).toMatch(/needs its type: p2wpkh .* p2tr/);
    expect(refusal(() => watcher.address("bitcoin", "0", { type: "p2pkh" as "p2wpkh" })).message).toMatch(
      /type must be p2wpkh or p2tr/,
    );
    expect(refusal(() => watcher.address("ethereum", "0", { type: "p2tr", algorithm: "ecdsa" })).message).toMatch(
      /Bitcoin address type/,
    );
  });

  it("have no Solana address: an extended key is a secp256k1 key", () => {
    const watcher = watchOnly(randomRoot().publicExtendedKey);
    const e = refusal(() => watcher.address("solana", "0"));
    expect(e.code).toBe("unsupported");
    expect(e.message).toMatch(/no solana address/);
  });

  it("refuse a malformed key before anything", () => {
    expect(refusal(() => watchOnly(VECTOR_1_XPRV_M)).code).toBe("unsupported");
  });
});
