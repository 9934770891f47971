/**
 * One party's DKLs23 key share: its Shamir share xᵢ of the secp256k1 key, the public key, every
 * party's verifying share Xⱼ = xⱼ·G, the chain code, and per other party the pairwise set-up the
 * signing multiplications reuse — the base OTs in both directions and a zero-sharing seed — plus
 * whether that party has been banned (a failed OT or multiplication check: engaging it again with
 * the same base OTs would leak them bit by bit) — and the sessions of the latest pre-signatures it
 * has signed with. Versioned encoding.
 */
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { CURVE_ORDER, decodeLocal, type Point, Reader, Writer } from "../codec/codec.js";
import { CURVES } from "../frost/curve.js";
import { interpolate } from "../frost/polynomial.js";
import { mulBase } from "../math/secp256k1.js";
import { KAPPA } from "../ot/kos.js";
import { checkIndex, checkThreshold } from "../session/multi-party.js";
import { ProtocolAbort } from "../session/party.js";
import { type BaseOtsAsReceiver, type BaseOtsAsSender, gadget } from "./multiply.js";

const SHARE_VERSION = 1;
export const MAX_PARTIES = 16;

export interface PairSetup {
  /** Shared with the peer; masks the zero-sharing of every signature. */
  zeroSeed: Uint8Array;
  /** This party as Bob (OT-extension receiver), the peer as Alice. */
  asBob: BaseOtsAsReceiver;
  /** This party as Alice (OT-extension sender), the peer as Bob. */
  asAlice: BaseOtsAsSender;
  banned: boolean;
}

export interface DklsShareFields {
  index: number;
  n: number;
  t: number;
  x: bigint;
  publicKey: Point;
  verifyingShares: Point[];
  chainCode: Uint8Array;
  /** The session of the set-up (keygen, refresh or reshare) that made the pairwise base OTs:
   *  every multiplication session is bound to it. */
  setupSid: Uint8Array;
  pairs: Map<number, PairSetup>;
  usedPresignatures?: string[];
}

/** How many used pre-signature sessions a share remembers (sessions are fresh 32-byte ids). */
const USED_PRESIGNATURES_KEPT = 256;

/** The session of the multiplications with `bob` and `alice` in one key (before the signing sid). */
export function pairSid(setupSid: Uint8Array, bob: number, alice: number): Uint8Array {
  const w = new Writer();
  w.string("keyshard/dkls23/pair/v1");
  w.fixed(setupSid);
  w.u8(bob);
  w.u8(alice);
  return w.finish();
}

export class DklsShare {
  readonly index: number;
  readonly n: number;
  readonly t: number;
  readonly x: bigint;
  readonly publicKey: Point;
  readonly verifyingShares: readonly Point[];
  readonly chainCode: Uint8Array;
  readonly setupSid: Uint8Array;
  private readonly pairs: Map<number, PairSetup>;
  private readonly gadgets = new Map<string, bigint[]>();
  /** Sessions whose pre-signature this share has signed with (the latest ones), persisted. */
  private readonly usedPresignatures: string[];

  constructor(f: DklsShareFields) {
    checkThreshold(f.n, f.t, MAX_PARTIES);
    checkIndex(f.index, f.n);
    if (f.verifyingShares.length !== f.n || f.chainCode.length !== 32 || f.setupSid.length !== 32) {
      throw new RangeError("malformed share fields");
    }
    for (let j = 0; j < f.n; j++)
      if (j !== f.index && !f.pairs.has(j)) throw new RangeError(`no set-up with party ${j}`);
    this.index = f.index;
    this.n = f.n;
    this.t = f.t;
    this.x = f.x;
    this.publicKey = f.publicKey;
    this.verifyingShares = f.verifyingShares;
    this.chainCode = f.chainCode;
    this.setupSid = f.setupSid;
    this.pairs = f.pairs;
    this.usedPresignatures = f.usedPresignatures ?? [];
    if (!mulBase(f.x).equals(f.verifyingShares[f.index] as Point)) {
      throw new ProtocolAbort(null, "share does not match its verifying share");
    }
    const first = new Map(f.verifyingShares.slice(0, f.t).map((X, i) => [i, X]));
    if (!interpolate(CURVES.secp256k1, first).equals(f.publicKey)) {
      throw new ProtocolAbort(null, "verifying shares do not interpolate to the public key");
    }
  }

  pair(peer: number): PairSetup {
    const p = this.pairs.get(peer);
    if (!p) throw new RangeError(`no set-up with party ${peer}`);
    return p;
  }

  /**
   * Records that the pre-signature of session `sid` signs now; false if it signed before. Persist
   * the share after it, as after a ban: the record is what stops a second use after a restart.
   */
  usePresignature(sid: Uint8Array): boolean {
    const key = bytesToHex(sid);
    if (this.usedPresignatures.includes(key)) return false;
    if (this.usedPresignatures.length >= USED_PRESIGNATURES_KEPT) this.usedPresignatures.shift();
    this.usedPresignatures.push(key);
    return true;
  }

  /** Marks a peer that failed an OT or multiplication check; it cannot sign with this share again. */
  ban(peer: number): void {
    this.pair(peer).banned = true;
  }

  /** The gadget vector of the multiplications with `bob` and `alice` (cached). */
  gadget(bob: number, alice: number): bigint[] {
    const key = `${bob}/${alice}`;
    let g = this.gadgets.get(key);
    if (!g) {
      g = gadget(pairSid(this.setupSid, bob, alice));
      this.gadgets.set(key, g);
    }
    return g;
  }

  /** Public state all parties of the key hold identically. */
  publicBytes(): Uint8Array {
    const w = new Writer();
    w.u8(this.n);
    w.u8(this.t);
    w.point(this.publicKey);
    for (const X of this.verifyingShares) w.point(X);
    w.fixed(this.chainCode);
    w.fixed(this.setupSid);
    return w.finish();
  }

  fingerprint(): string {
    return bytesToHex(this.publicBytes());
  }

  toBytes(): Uint8Array {
    const w = new Writer();
    w.u8(SHARE_VERSION);
    w.bytes(this.publicBytes());
    w.u8(this.index);
    w.scalar(this.x);
    for (let j = 0; j < this.n; j++) {
      if (j === this.index) continue;
      const p = this.pair(j);
      w.fixed(p.zeroSeed);
      for (const s of p.asBob.seeds0) w.fixed(s);
      for (const s of p.asBob.seeds1) w.fixed(s);
      w.fixed(packBits(p.asAlice.delta));
      for (const s of p.asAlice.seeds) w.fixed(s);
      w.bool(p.banned);
    }
    w.list(this.usedPresignatures, (w, key) => w.fixed(hexToBytes(key)));
    return w.finish();
  }

  static fromBytes(bytes: Uint8Array): DklsShare {
    return decodeLocal("DKLs23 share", () => {
      const r = new Reader(bytes, null);
      if (r.u8() !== SHARE_VERSION) r.fail("unknown share version");
      const pub = new Reader(r.bytes(64 * 1024), null);
      const n = pub.u8();
      const t = pub.u8();
      if (t < 2 || t > n || n > MAX_PARTIES) pub.fail("invalid threshold");
      const publicKey = pub.point();
      const verifyingShares = Array.from({ length: n }, () => pub.point());
      const chainCode = pub.fixed(32);
      const setupSid = pub.fixed(32);
      pub.end();
      const index = r.u8();
      const x = r.scalar();
      const pairs = new Map<number, PairSetup>();
      for (let j = 0; j < n; j++) {
        if (j === index) continue;
        const seeds = () => Array.from({ length: KAPPA }, () => r.fixed(32));
        const zeroSeed = r.fixed(32);
        const asBob = { seeds0: seeds(), seeds1: seeds() };
        const delta = unpackBits(r.fixed(KAPPA / 8));
        pairs.set(j, { zeroSeed, asBob, asAlice: { delta, seeds: seeds() }, banned: r.bool() });
      }
      const usedPresignatures = r.list(USED_PRESIGNATURES_KEPT, (r) => bytesToHex(r.fixed(32)));
      r.end();
      if (index >= n || x >= CURVE_ORDER) r.fail("invalid share");
      return new DklsShare({
        index,
        n,
        t,
        x,
        publicKey,
        verifyingShares,
        chainCode,
        setupSid,
        pairs,
        usedPresignatures,
      });
    });
  }
}

function packBits(bits: Uint8Array): Uint8Array {
  const out = new Uint8Array(bits.length / 8);
  bits.forEach((b, i) => {
    out[i >> 3] = (out[i >> 3] as number) | ((b & 1) << (i & 7));
  });
  return out;
}

function unpackBits(packed: Uint8Array): Uint8Array {
  return Uint8Array.from({ length: packed.length * 8 }, (_, i) => ((packed[i >> 3] as number) >> (i & 7)) & 1);
}
