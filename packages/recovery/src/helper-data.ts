/**
 * The helper data of a face enrollment: what the fuzzy extractor of `@keyshard/biometric` leaves
 * behind, the provider keeps and a recovering device reads back. It holds the seed of a random
 * rotation, which 63 rotated embedding coordinates give the bits, and a BCH(63, 18) codeword XOR
 * those bits (the code offset): no embedding and no bits.
 *
 * The format is here, with no face model behind it, because the provider must check what it
 * stores and the device must check what it gets back; either side may have altered it.
 */
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { BCH_N, type Word } from "./bch.js";

/** Values in a face embedding (face-api's recognition net); the rotation is square, so indices stay below it. */
export const EMBEDDING_SIZE = 128;

/** What enrollment leaves behind: no embedding, no bits, only how to find them again. */
export interface HelperData {
  version: 1;
  /** Hex, 32 bytes: seeds the rotation. */
  seed: string;
  /** The 63 rotated coordinates used, in bit order. */
  indices: number[];
  /** Hex, 8 bytes: the codeword XOR the enrolled bits (bit 63 always 0). */
  offset: string;
}

/** Helper data that is not of this format. */
export class HelperDataError extends Error {
  override readonly name = "HelperDataError";
}

/** A 63-bit word as the helper data writes it: 8 bytes, each 32-bit half little-endian. */
export const offsetToHex = (w: Word): string =>
  bytesToHex(Uint8Array.of(...[w[0], w[1]].flatMap((x) => [x & 255, (x >>> 8) & 255, (x >>> 16) & 255, x >>> 24])));

/** The word of an offset written by `offsetToHex`: 16 lowercase hex digits, bit 63 clear. */
export function offsetFromHex(hex: string): Word {
  if (!/^[0-9a-f]{16}$/.test(hex)) throw new HelperDataError("the helper data is not valid: offset");
  const b = hexToBytes(hex);
  const half = (o: number) =>
    ((b[o] as number) | ((b[o + 1] as number) << 8) | ((b[o + 2] as number) << 16) | ((b[o + 3] as number) << 24)) >>>
    0;
  const word: Word = [half(0), half(4)];
  // A codeword has 63 bits: a set 64th bit is no offset the extractor wrote.
  if (word[1] >>> 31 !== 0) throw new HelperDataError("the helper data is not valid: offset");
  return word;
}

/** Helper data read strictly, into a fresh object that shares nothing with the input. */
export function parseHelperData(value: unknown): HelperData {
  const h = value as Partial<HelperData> | null;
  const bad = (why: string) => new HelperDataError(`the helper data is not valid: ${why}`);
  if (typeof h !== "object" || h === null || Array.isArray(h)) throw bad("not an object");
  if (Object.keys(h).some((k) => !["version", "seed", "indices", "offset"].includes(k))) throw bad("unknown fields");
  if (h.version !== 1) throw bad("unknown version");
  if (typeof h.seed !== "string" || !/^[0-9a-f]{64}$/.test(h.seed)) throw bad("seed");
  if (
    !Array.isArray(h.indices) ||
    h.indices.length !== BCH_N ||
    h.indices.some((i) => !Number.isInteger(i) || i < 0 || i >= EMBEDDING_SIZE) ||
    new Set(h.indices).size !== BCH_N
  )
    throw bad("indices");
  if (typeof h.offset !== "string") throw bad("offset");
  offsetFromHex(h.offset);
  return { version: 1, seed: h.seed, indices: [...h.indices], offset: h.offset };
}
