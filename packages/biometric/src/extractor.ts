/**
 * The fuzzy extractor: from a face embedding to the same 18-bit secret at every genuine try,
 * with helper data that holds no embedding.
 *
 * Enrollment centres the embedding on a population mean, rotates it by a random orthonormal
 * matrix (made from a per-enrollment seed), keeps the 63 coordinates farthest from zero — the
 * ones a new picture of the face is least likely to flip — and takes their signs as bits. The
 * secret is a random 18-bit message; the helper data stores its BCH(63, 18) codeword XOR those
 * bits (the code offset). A later embedding gives bits that differ in a few places; XOR with
 * the offset gives the codeword with as many errors, and the nearest codeword is the secret's,
 * accepted only within `MAX_ERRORS`.
 *
 * A rotation and not a wider random projection: with more rows than dimensions, which rows were
 * kept would tell where the enrolled embedding points. The secret is only 18 bits and the
 * helper data narrows it further, so it is never a key by itself: it is the input of an OPRF
 * round with the provider, and every guess costs an online, rate-limited request.
 */
import {
  bch,
  EMBEDDING_SIZE,
  type HelperData,
  HelperDataError,
  offsetFromHex,
  offsetToHex,
  parseHelperData as readHelperData,
} from "@keyshard/recovery";
import { chacha20 } from "@noble/ciphers/chacha.js";
import { bytesToHex, hexToBytes, randomBytes } from "@noble/hashes/utils.js";
import { BiometricError } from "./errors.js";

/**
 * The largest distance accepted, chosen on the people tuned on (three of `shared/faces/people` and
 * the seven of `shared/faces/expressions`, never `HELD_OUT`; see the README): their closest
 * impostor stays at least two bits beyond it, and a face unrelated to the enrollment lands within
 * it of some codeword (a wrong secret, which costs an OPRF guess) less than once in a thousand
 * tries — 2¹⁸·V(63, 9)/2⁶³ ≈ 1/1250, against 1/226 at 10.
 */
export const MAX_ERRORS = 9;

let lastRotation: { seed: string; rows: Float64Array[] } | undefined;

/** A Gaussian 128×128 matrix from the seed (ChaCha20 stream, Box–Muller), orthonormalized by Gram–Schmidt. */
export function rotation(seed: Uint8Array): Float64Array[] {
  // Tries against one enrollment (an evaluation, frames of one recovery) reuse the last matrix.
  if (lastRotation?.seed === bytesToHex(seed)) return lastRotation.rows;
  const rows = makeRotation(seed);
  lastRotation = { seed: bytesToHex(seed), rows };
  return rows;
}

function makeRotation(seed: Uint8Array): Float64Array[] {
  const stream = chacha20(seed, new Uint8Array(12), new Uint8Array(EMBEDDING_SIZE * EMBEDDING_SIZE * 8));
  const view = new DataView(stream.buffer, stream.byteOffset, stream.byteLength);
  const uniform = (i: number) => (view.getUint32(4 * i, true) + 1) / 2 ** 32;
  const rows: Float64Array[] = [];
  for (let r = 0; r < EMBEDDING_SIZE; r++) {
    const row = new Float64Array(EMBEDDING_SIZE);
    for (let c = 0; c < EMBEDDING_SIZE; c++) {
      const i = 2 * (r * EMBEDDING_SIZE + c);
      row[c] = Math.sqrt(-2 * Math.log(uniform(i))) * Math.cos(2 * Math.PI * uniform(i + 1));
    }
    for (const done of rows) {
      const dot = row.reduce((s, v, c) => s + v * (done[c] as number), 0);
      for (let c = 0; c < EMBEDDING_SIZE; c++) row[c] = (row[c] as number) - dot * (done[c] as number);
    }
    const norm = Math.sqrt(row.reduce((s, v) => s + v * v, 0));
    for (let c = 0; c < EMBEDDING_SIZE; c++) row[c] = (row[c] as number) / norm;
    rows.push(row);
  }
  return rows;
}

function rotated(embedding: Float32Array, mean: Float32Array, rows: readonly Float64Array[]): Float64Array {
  if (embedding.length !== EMBEDDING_SIZE || mean.length !== EMBEDDING_SIZE)
    throw new BiometricError("bad-image", `an embedding has ${EMBEDDING_SIZE} values`);
  const centred = Float64Array.from(embedding, (v, i) => v - (mean[i] as number));
  return Float64Array.from(rows, (row) => row.reduce((s, v, c) => s + v * (centred[c] as number), 0));
}

function bitsAt(values: Float64Array, indices: readonly number[]): bch.Word {
  const word: bch.Word = [0, 0];
  for (const [bit, index] of indices.entries())
    if ((values[index] as number) > 0) word[bit >> 5] = ((word[bit >> 5] as number) | (1 << (bit & 31))) >>> 0;
  return word;
}

/** The secret (18 bits, as 3 bytes) of a message. */
export const secretOf = (message: number) => Uint8Array.of(message >>> 16, (message >>> 8) & 255, message & 255);

/** Enrolls one face (its embedding, already averaged over pictures): the helper data and the secret. */
export function enroll(
  embedding: Float32Array,
  mean: Float32Array,
  random: (n: number) => Uint8Array = randomBytes,
): { helper: HelperData; secret: Uint8Array } {
  const seed = random(32);
  const values = rotated(embedding, mean, rotation(seed));
  const indices = [...values.keys()]
    .sort((a, b) => Math.abs(values[b] as number) - Math.abs(values[a] as number))
    .slice(0, bch.BCH_N);
  const r = random(3);
  const message = (((r[0] as number) << 16) | ((r[1] as number) << 8) | (r[2] as number)) & ((1 << bch.BCH_K) - 1);
  const offset = bch.xor(bch.encode(message), bitsAt(values, indices));
  return {
    helper: { version: 1, seed: bytesToHex(seed), indices, offset: offsetToHex(offset) },
    secret: secretOf(message),
  };
}

/** The secret again from a new embedding of the same face; `no-match` when it is too far. */
export function reproduce(
  embedding: Float32Array,
  mean: Float32Array,
  helper: HelperData,
): { secret: Uint8Array; errors: number } {
  const { message, errors } = bch.decode(noisyCodeword(embedding, mean, helper));
  if (errors > MAX_ERRORS) throw new BiometricError("no-match", "this face does not match the enrolled one");
  return { secret: secretOf(message), errors };
}

/** A new embedding's bits XOR the offset: the enrolled codeword, with a bit flipped wherever the faces differ. */
export function noisyCodeword(embedding: Float32Array, mean: Float32Array, helper: HelperData): bch.Word {
  const checked = parseHelperData(helper);
  const values = rotated(embedding, mean, rotation(hexToBytes(checked.seed)));
  return bch.xor(bitsAt(values, checked.indices), offsetFromHex(checked.offset));
}

/**
 * Helper data read strictly (the format is `@keyshard/recovery`'s): it comes back from the
 * provider, which may have altered it, and is refused as a `bad-helper` like any other face failure.
 */
export function parseHelperData(value: unknown): HelperData {
  try {
    return readHelperData(value);
  } catch (e) {
    if (e instanceof HelperDataError) throw new BiometricError("bad-helper", e.message, { cause: e });
    throw e;
  }
}
