/**
 * SHA-256 of `prefix ‖ tail` for many short tails under one prefix, computed with noble's SHA-256
 * compression function: the prefix, zero-padded to whole 64-byte blocks, is compressed once; each
 * tail (at most 55 bytes) with the standard padding is one more compression, with no hash object
 * allocated per call. The OT extension hashes thousands of short inputs per signature under one
 * (tag, session) prefix. Callers frame the prefix with its own lengths, so the zero padding
 * cannot make two different inputs collide.
 */
import { _SHA256 } from "@noble/hashes/sha2.js";

const BLOCK = 64;
const MAX_TAIL = BLOCK - 9;

export class TailHash extends _SHA256 {
  private readonly midstate: [number, number, number, number, number, number, number, number];
  private readonly prefixBytes: number;
  private readonly block = new Uint8Array(BLOCK);
  private readonly blockView = new DataView(this.block.buffer);

  constructor(prefix: Uint8Array) {
    super();
    const padded = new Uint8Array(Math.max(1, Math.ceil(prefix.length / BLOCK)) * BLOCK);
    padded.set(prefix);
    const view = new DataView(padded.buffer);
    for (let o = 0; o < padded.length; o += BLOCK) this.process(view, o);
    this.midstate = this.get();
    this.prefixBytes = padded.length;
    this.roundClean();
  }

  /** Writes SHA-256(padded prefix ‖ tail) into `out` (32 bytes, from `offset`). */
  hashInto(tail: Uint8Array, out: Uint8Array, offset = 0): void {
    if (tail.length > MAX_TAIL) throw new RangeError(`tail longer than ${MAX_TAIL} bytes`);
    const { block, blockView } = this;
    block.fill(0);
    block.set(tail);
    block[tail.length] = 0x80;
    const bits = (this.prefixBytes + tail.length) * 8;
    blockView.setUint32(56, Math.floor(bits / 2 ** 32));
    blockView.setUint32(60, bits >>> 0);
    this.set(...this.midstate);
    this.process(blockView, 0);
    this.roundClean();
    const state = this.get();
    const outView = new DataView(out.buffer, out.byteOffset + offset, 32);
    for (let i = 0; i < 8; i++) outView.setUint32(4 * i, state[i] as number);
  }
}
