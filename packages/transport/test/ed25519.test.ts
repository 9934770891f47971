import { ed25519 } from "@noble/curves/ed25519.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import { signEd25519, verifyEd25519 } from "../src/ed25519.js";

// RFC 8032 §7.1, tests 1 and 2.
const VECTORS = [
  {
    secretKey: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
    publicKey: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
    message: "",
    signature:
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
  },
  {
    secretKey: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
    publicKey: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
    message: "72",
    signature:
      "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
  },
];
const L = 2n ** 252n + 27742317777372353535851937790883648493n;

describe("Ed25519 (OpenSSL where available, noble elsewhere)", () => {
  it("signs and verifies the RFC 8032 vectors", () => {
    for (const v of VECTORS) {
      const signature = signEd25519(hexToBytes(v.message), hexToBytes(v.secretKey));
      expect(bytesToHex(signature)).toBe(v.signature);
      expect(verifyEd25519(signature, hexToBytes(v.message), hexToBytes(v.publicKey))).toBe(true);
    }
  });

  it("agrees with noble on random keys and messages", () => {
    for (let i = 0; i < 20; i++) {
      const secretKey = ed25519.utils.randomSecretKey();
      const message = crypto.getRandomValues(new Uint8Array(i * 7));
      const signature = signEd25519(message, secretKey);
      expect(bytesToHex(signature)).toBe(bytesToHex(ed25519.sign(message, secretKey)));
      expect(verifyEd25519(signature, message, ed25519.getPublicKey(secretKey))).toBe(true);
    }
  });

  it("refuses altered, malleated and malformed signatures without throwing", () => {
    const v = VECTORS[1] as (typeof VECTORS)[number];
    const message = hexToBytes(v.message);
    const publicKey = hexToBytes(v.publicKey);
    const signature = hexToBytes(v.signature);
    const flipped = signature.slice();
    flipped[10] = (flipped[10] as number) ^ 1;
    expect(verifyEd25519(flipped, message, publicKey)).toBe(false);
    expect(verifyEd25519(signature, Uint8Array.of(0x73), publicKey)).toBe(false);
    // S + L verifies under the group law; RFC 8032 requires S < L.
    const s = BigInt(`0x${bytesToHex(signature.slice(32).reverse())}`) + L;
    const malleated = signature.slice();
    malleated.set(hexToBytes(s.toString(16).padStart(64, "0")).reverse(), 32);
    expect(verifyEd25519(malleated, message, publicKey)).toBe(false);
    expect(verifyEd25519(signature.slice(0, 63), message, publicKey)).toBe(false);
    expect(verifyEd25519(signature, message, publicKey.slice(0, 31))).toBe(false);
    expect(verifyEd25519(signature, message, new Uint8Array(32).fill(0xff))).toBe(false);
    expect(() => signEd25519(message, new Uint8Array(31))).toThrow();
  });
});
