/**
 * Adding key-value pairs to a PSBT's input maps without re-encoding anything else. A PSBT passed
 * on after our signatures must keep what other wallets and coordinators put in it exactly: its
 * version (a PSBT v2 stays v2), the pairs keyshard does not know, and their order. Re-encoding it
 * through a library keeps only what that library models, in that library's order.
 */

import { concatBytes } from "@noble/hashes/utils.js";
import { CompactSize } from "@scure/btc-signer";
import { ChainError } from "../errors.js";

export interface PsbtPair {
  /** The key type and key data. */
  key: Uint8Array;
  value: Uint8Array;
}

/** Reads a CompactSize at `at`; returns its value and where what follows starts. */
function readCompactSize(bytes: Uint8Array, at: number): [number, number] {
  const first = bytes[at];
  if (first === undefined) throw truncated();
  if (first < 0xfd) return [first, at + 1];
  const size = first === 0xfd ? 2 : first === 0xfe ? 4 : 8;
  if (at + 1 + size > bytes.length) throw truncated();
  let n = 0;
  for (let i = size; i >= 1; i--) n = n * 256 + (bytes[at + i] as number);
  return [n, at + 1 + size];
}

const truncated = () => new ChainError("malformed", "PSBT: a key-value map runs past the end of the bytes");

const encodePair = ({ key, value }: PsbtPair) =>
  concatBytes(CompactSize.encode(BigInt(key.length)), key, CompactSize.encode(BigInt(value.length)), value);

/**
 * Where each of the PSBT's maps ends (the offset of its 0x00 separator): the global map, then
 * `inputs` input maps, then `outputs` output maps, and nothing after them. btc-signer lets a
 * stray byte follow the last map; this reading does not, so that a PSBT has one framing only.
 */
export function psbtMapEnds(psbt: Uint8Array, counts: { inputs: number; outputs: number }): number[] {
  const ends: number[] = [];
  let at = 5; // past the magic, "psbt" 0xff
  while (ends.length < 1 + counts.inputs + counts.outputs) {
    const [keyLength, keyStart] = readCompactSize(psbt, at);
    if (keyLength === 0) {
      ends.push(at);
      at = keyStart;
      continue;
    }
    const [valueLength, valueStart] = readCompactSize(psbt, keyStart + keyLength);
    at = valueStart + valueLength;
    if (at > psbt.length) throw truncated();
  }
  if (at !== psbt.length) throw new ChainError("malformed", "PSBT: bytes follow its last map");
  return ends;
}

/**
 * `psbt` with `pairs` appended to the maps of the inputs they are listed for, every byte of it
 * otherwise as it was. `ends` are the PSBT's `psbtMapEnds`; the caller knows that each input
 * exists and that no added key is in its map already.
 */
export function addInputPairs(
  psbt: Uint8Array,
  ends: readonly number[],
  pairs: ReadonlyMap<number, readonly PsbtPair[]>,
): Uint8Array {
  const parts: Uint8Array[] = [];
  let from = 0;
  for (const [input, added] of [...pairs].sort(([a], [b]) => a - b)) {
    const end = ends[1 + input] as number;
    parts.push(psbt.subarray(from, end), ...added.map(encodePair));
    from = end;
  }
  parts.push(psbt.subarray(from));
  return concatBytes(...parts);
}
