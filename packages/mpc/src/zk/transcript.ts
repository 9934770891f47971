/**
 * Fiat–Shamir transcript. Every entry is framed as (label length, label, data length, data), so
 * no two different sequences of entries hash alike (the TSSHOCK ambiguity). A transcript starts
 * bound to the protocol name, the session id and the ordered party list; challenges are read
 * from SHAKE256 over everything absorbed so far and are themselves absorbed, so later challenges
 * depend on earlier ones.
 */
import { shake256 } from "@noble/hashes/sha3.js";
import { bigintToBytes, bitLength, bytesToBigint, CURVE_ORDER, type Point } from "../codec/codec.js";

const DOMAIN = "keyshard/transcript/v1";

export class Transcript {
  private readonly state: ReturnType<typeof shake256.create>;

  constructor(protocol: string, sid: Uint8Array, parties: readonly number[]) {
    this.state = shake256.create({});
    this.frame(DOMAIN, new TextEncoder().encode(protocol));
    this.frame("sid", sid);
    this.frame("parties", Uint8Array.from(parties.flatMap((p) => [p >>> 8, p & 0xff])));
  }

  private frame(label: string, data: Uint8Array): void {
    const l = new TextEncoder().encode(label);
    const head = new Uint8Array(12);
    const v = new DataView(head.buffer);
    v.setUint32(0, l.length);
    v.setUint32(4, Math.floor(data.length / 2 ** 32));
    v.setUint32(8, data.length >>> 0);
    this.state.update(head.subarray(0, 4)).update(l).update(head.subarray(4)).update(data);
  }

  append(label: string, data: Uint8Array): this {
    this.frame(label, data);
    return this;
  }
  appendBigint(label: string, x: bigint): this {
    if (x < 0n) return this.append(`${label}/neg`, bigintToBytes(-x));
    return this.append(label, bigintToBytes(x));
  }
  appendPoint(label: string, p: Point): this {
    return this.append(label, p.toBytes(true));
  }

  /** A copy that can be extended independently (e.g. one per proof in a message). */
  fork(label: string): Transcript {
    const t = Object.create(Transcript.prototype) as Transcript;
    (t as unknown as { state: unknown }).state = this.state.clone();
    t.frame("fork", new TextEncoder().encode(label));
    return t;
  }

  challengeBytes(label: string, length: number): Uint8Array {
    this.frame("challenge", new TextEncoder().encode(label));
    const out = this.state.clone().xof(length);
    this.frame("challenge-output", out);
    return out;
  }

  /** Uniform integer in [0, n) (256 extra bits make the modular bias negligible). */
  challengeBelow(label: string, n: bigint): bigint {
    const bytes = Math.ceil((bitLength(n) + 256) / 8);
    return bytesToBigint(this.challengeBytes(label, bytes)) % n;
  }

  /** Uniform integer in [-q, q] for the curve order q. */
  challengeSignedScalar(label: string): bigint {
    return this.challengeBelow(label, 2n * CURVE_ORDER + 1n) - CURVE_ORDER;
  }

  challengeScalar(label: string): bigint {
    return this.challengeBelow(label, CURVE_ORDER);
  }

  challengeBits(label: string, count: number): boolean[] {
    const b = this.challengeBytes(label, Math.ceil(count / 8));
    return Array.from({ length: count }, (_, i) => (((b[i >> 3] as number) >> (i & 7)) & 1) === 1);
  }
}
