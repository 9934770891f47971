/**
 * The DLEQ proof: RFC 9497's VOPRF test vector reproduced byte for byte, proofs that cross both
 * ways with noble's RFC 9497 VOPRF, and refusals of proofs for another key, element or bit.
 */
import { ristretto255, ristretto255_hasher, ristretto255_oprf } from "@noble/curves/ed25519.js";
import { numberToBytesLE } from "@noble/curves/utils.js";
import { sha512 } from "@noble/hashes/sha2.js";
import { bytesToHex, concatBytes, hexToBytes, randomBytes } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import { generateDleqProof, verifyDleqProof } from "../src/index.js";

const voprf = ristretto255_oprf.voprf;
const G = ristretto255.Point.BASE.toBytes();
const ORDER = ristretto255.Point.Fn.ORDER;

/** An rng whose 48 bytes reduce (as RFC 9497 RandomScalar does here) to exactly `scalar`. */
const fixedScalar = (scalar: Uint8Array) => () =>
  numberToBytesLE((BigInt(`0x${bytesToHex(scalar.slice().reverse())}`) - 1n) % (ORDER - 1n), 48);

function evaluation() {
  const keys = voprf.generateKeyPair();
  const { blinded } = voprf.blind(randomBytes(8));
  const { evaluated, proof } = voprf.blindEvaluate(keys.secretKey, keys.publicKey, blinded);
  return { ...keys, blinded, evaluated, proof };
}

describe("DLEQ proof (RFC 9497 §2.2, VOPRF mode)", () => {
  it("reproduces RFC 9497's ristretto255-SHA512 VOPRF test vector 1", () => {
    // RFC 9497 appendix A.1.2: Seed = a3…a3, KeyInfo = "test key", Input = 00, fixed Blind and proof scalar.
    const keys = voprf.deriveKeyPair(new Uint8Array(32).fill(0xa3), new TextEncoder().encode("test key"));
    expect(bytesToHex(keys.secretKey)).toBe("e6f73f344b79b379f1a0dd37e07ff62e38d9f71345ce62ae3a9bc60b04ccd909");
    expect(bytesToHex(keys.publicKey)).toBe("c803e2cc6b05fc15064549b5920659ca4a77b2cca6f04f6b357009335476ad4e");
    const blind = hexToBytes("64d37aed22a27f5191de1c1d69fadb899d8862b58eb4220029e036ec4c1f6706");
    const blinded = ristretto255_hasher
      .hashToCurve(Uint8Array.of(0), { DST: new TextEncoder().encode("HashToGroup-OPRFV1-\x01-ristretto255-SHA512") })
      .multiply(ristretto255.Point.Fn.fromBytes(blind))
      .toBytes();
    expect(bytesToHex(blinded)).toBe("863f330cc1a1259ed5a5998a23acfd37fb4351a793a5b3c090b642ddc439b945");
    const evaluated = ristretto255.Point.fromBytes(blinded)
      .multiply(ristretto255.Point.Fn.fromBytes(keys.secretKey))
      .toBytes();
    expect(bytesToHex(evaluated)).toBe("aa8fa048764d5623868679402ff6108d2521884fa138cd7f9c7669a9a014267e");
    const r = hexToBytes("222a5e897cf59db8145db8d16e597e8facb80ae7d4e26d9881aa6f61d645fc0e");
    const proof = generateDleqProof(keys.secretKey, G, keys.publicKey, blinded, evaluated, fixedScalar(r));
    expect(bytesToHex(proof)).toBe(
      "ddef93772692e535d1a53903db24367355cc2cc78de93b3be5a8ffcc6985dd066d4346421d17bf5117a2a1ff0fcb2a759f58a539dfbe857a40bce4cf49ec600d",
    );
    expect(verifyDleqProof(G, keys.publicKey, blinded, evaluated, proof)).toBe(true);
    expect(bytesToHex(voprf.finalize(Uint8Array.of(0), blind, evaluated, blinded, keys.publicKey, proof))).toBe(
      "b58cfbe118e0cb94d79b5fd6a6dafb98764dff49c14e1770b566e42402da1a7da4d8527693914139caee5bd03903af43a491351d23b430948dd50cde10d32b3c",
    );
  });

  it("verifies noble's VOPRF proofs, and noble's VOPRF client verifies ours", () => {
    const e = evaluation();
    expect(verifyDleqProof(G, e.publicKey, e.blinded, e.evaluated, e.proof)).toBe(true);

    const input = randomBytes(8);
    const { blind, blinded } = voprf.blind(input);
    const evaluated = ristretto255.Point.fromBytes(blinded)
      .multiply(ristretto255.Point.Fn.fromBytes(e.secretKey))
      .toBytes();
    const proof = generateDleqProof(e.secretKey, G, e.publicKey, blinded, evaluated);
    const theirs = voprf.blindEvaluate(e.secretKey, e.publicKey, blinded);
    expect(voprf.finalize(input, blind, evaluated, blinded, e.publicKey, proof)).toEqual(
      voprf.finalize(input, blind, theirs.evaluated, blinded, e.publicKey, theirs.proof),
    );
  });

  it("refuses a proof for another key, another element, or with any bit flipped", () => {
    const e = evaluation();
    const other = evaluation();
    expect(verifyDleqProof(G, other.publicKey, e.blinded, e.evaluated, e.proof)).toBe(false);
    expect(verifyDleqProof(G, e.publicKey, other.blinded, e.evaluated, e.proof)).toBe(false);
    expect(verifyDleqProof(G, e.publicKey, e.blinded, other.evaluated, e.proof)).toBe(false);
    expect(verifyDleqProof(G, e.publicKey, e.blinded, e.evaluated, other.proof)).toBe(false);
    for (const bit of [0, 100, 255, 256, 300, 511]) {
      const flipped = e.proof.slice();
      flipped[bit >> 3] = (flipped[bit >> 3] as number) ^ (1 << (bit & 7));
      expect(verifyDleqProof(G, e.publicKey, e.blinded, e.evaluated, flipped)).toBe(false);
    }
  });

  it("accepts no first element but the generator, which the transcript leaves out", () => {
    // An operator free to name A could "prove" any evaluation D = w·C under its public key B: it
    // fixes t2 and t3 first, then solves s = r3 − c·w and A = (t2 − c·B)/s. Fixing A = G stops it.
    const { Point } = ristretto255;
    const { Fn } = Point;
    const e = evaluation();
    const [B, C] = [Point.fromBytes(e.publicKey), Point.fromBytes(e.blinded)];
    const w = Fn.fromBytes(randomBytes(32).fill(0, 31));
    const D = C.multiply(w);
    const text = (s: string) => new TextEncoder().encode(s);
    const enc = (...parts: Uint8Array[]) =>
      concatBytes(...parts.flatMap((p) => [Uint8Array.of(p.length >> 8, p.length & 0xff), p]));
    const h2s = (msg: Uint8Array) =>
      ristretto255_hasher.hashToScalar(msg, { DST: text("HashToScalar-OPRFV1-\x01-ristretto255-SHA512") });
    const seed = sha512(enc(B.toBytes(), text("Seed-OPRFV1-\x01-ristretto255-SHA512")));
    const d = h2s(concatBytes(enc(seed), new Uint8Array(2), enc(C.toBytes(), D.toBytes()), text("Composite")));
    const [M, Z] = [C.multiply(d), D.multiply(d)];
    const [r2, r3] = [randomBytes(32).fill(0, 31), randomBytes(32).fill(0, 31)].map((r) => Fn.fromBytes(r)) as [
      bigint,
      bigint,
    ];
    const [t2, t3] = [Point.BASE.multiply(r2), M.multiply(r3)];
    const c = h2s(concatBytes(enc(...[B, M, Z, t2, t3].map((p) => p.toBytes())), text("Challenge")));
    const s = Fn.sub(r3, Fn.mul(c, w));
    const A = t2.subtract(B.multiply(c)).multiply(Fn.inv(s));
    // The forgery satisfies both verification equations for this A …
    expect(A.multiply(s).add(B.multiply(c)).equals(t2)).toBe(true);
    expect(M.multiply(s).add(Z.multiply(c)).equals(t3)).toBe(true);
    // … and is refused, because A is not the generator.
    const proof = concatBytes(numberToBytesLE(c, 32), numberToBytesLE(s, 32));
    expect(verifyDleqProof(A.toBytes(), e.publicKey, e.blinded, D.toBytes(), proof)).toBe(false);
  });

  it("refuses non-canonical proof scalars, malformed elements and any first element but the generator", () => {
    const e = evaluation();
    // s + ℓ (< 2^253, so it fits) is the same residue as s but not its canonical encoding.
    const s = BigInt(`0x${bytesToHex(e.proof.slice(32).reverse())}`);
    const nonCanonical = e.proof.slice();
    nonCanonical.set(numberToBytesLE(s + ORDER, 32), 32);
    expect(verifyDleqProof(G, e.publicKey, e.blinded, e.evaluated, nonCanonical)).toBe(false);
    expect(verifyDleqProof(G, e.publicKey, e.blinded, e.evaluated, e.proof.subarray(1))).toBe(false);
    expect(verifyDleqProof(G, e.publicKey, new Uint8Array(32), e.evaluated, e.proof)).toBe(false);
    expect(verifyDleqProof(G, e.publicKey, new Uint8Array(32).fill(0xff), e.evaluated, e.proof)).toBe(false);
    expect(verifyDleqProof(e.publicKey, e.publicKey, e.blinded, e.evaluated, e.proof)).toBe(false);
    expect(() => generateDleqProof(e.secretKey, e.blinded, e.publicKey, e.blinded, e.evaluated)).toThrow(RangeError);
    expect(() => generateDleqProof(new Uint8Array(32), G, e.publicKey, e.blinded, e.evaluated)).toThrow(RangeError);
    expect(() => generateDleqProof(e.secretKey, G, e.publicKey, new Uint8Array(32), e.evaluated)).toThrow(RangeError);
  });
});
