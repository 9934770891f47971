/**
 * One party's DKLs23 key share: its Shamir share xᵢ of the secp256k1 key, the public key, every
 * party's verifying share Xⱼ = xⱼ·G, the chain code, and per other party the pairwise set-up the
 * signing multiplications reuse — the base OTs in both directions and a zero-sharing seed — plus
 * whether that party has been banned (a failed OT or multiplication check: engaging it again with
 * the same base OTs would leak them bit by bit) — and the ids of the pre-signatures it has issued
 * and not yet signed with. Versioned encoding.
 */
import { bytesToHex, hexToBytes, randomBytes } from "@noble/hashes/utils.js";
import { CURVE_ORDER, decodeLocal, type Point, Reader, Writer } from "../codec/codec.js";
import { CURVES } from "../frost/curve.js";
import { interpolate } from "../frost/polynomial.js";
import { mulBase } from "../math/secp256k1.js";
import { KAPPA } from "../ot/kos.js";
import { checkIndex, checkThreshold } from "../session/multi-party.js";
import { ProtocolAbort } from "../session/party.js";
import { type BaseOtsAsReceiver, type BaseOtsAsSender, gadget } from "./multiply.js";

/** Version 2 records the pre-signatures outstanding; version 1 recorded the latest ones used. */
const SHARE_VERSION = 2;
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
  /** Ids of the pre-signatures issued and not yet used; a new share (keygen, refresh, reshare) has none. */
  outstandingPresignatures?: Uint8Array[];
}

/**
 * How many pre-signatures a share has outstanding at most: past it the share refuses to make
 * more, rather than forget one the caller still holds (which would fail only when it signs). It
 * keeps the share's size bounded without a window a used pre-signature could fall out of.
 */
export const MAX_OUTSTANDING_PRESIGNATURES = 256;
export const PRESIGNATURE_ID_BYTES = 32;
/** Version 1's list of used pre-signature sessions, read and dropped. */
const V1_USED_PRESIGNATURES_KEPT = 256;

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
  /**
   * Pre-signatures issued and not used yet, by id (hex), persisted. A pre-signature signs only
   * while it is listed here and leaves it as it signs, so nothing aging out of a window can make
   * a used one valid again: a used one, one made by a copy of the share that was never persisted,
   * or one whose share was refreshed is simply not listed.
   */
  private readonly outstanding: Set<string>;

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
    const ids = f.outstandingPresignatures ?? [];
    this.outstanding = new Set(ids.map((id) => bytesToHex(id)));
    if (
      this.outstanding.size !== ids.length ||
      ids.length > MAX_OUTSTANDING_PRESIGNATURES ||
      ids.some((id) => id.length !== PRESIGNATURE_ID_BYTES)
    ) {
      throw new RangeError("malformed outstanding pre-signatures");
    }
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
   * Draws the id of a pre-signature being handed out and lists it as outstanding. Persist the
   * share before the pre-signature is used: until then a restart loses the id, and with it only
   * the pre-signature (it cannot sign).
   */
  issuePresignature(): Uint8Array {
    if (this.outstanding.size >= MAX_OUTSTANDING_PRESIGNATURES) {
      throw new ProtocolAbort(
        null,
        `this share has ${MAX_OUTSTANDING_PRESIGNATURES} pre-signatures outstanding, the most it keeps: ` +
          "sign with or discard some before making more",
      );
    }
    const id = randomBytes(PRESIGNATURE_ID_BYTES);
    this.outstanding.add(bytesToHex(id));
    return id;
  }

  /**
   * Takes pre-signature `id` off the outstanding list as it signs; false if it was not on it
   * (used already, or never issued by this share as persisted). Persist the share after it, and
   * before sending what that signing produced, as after a ban: a restart from a copy that still
   * lists the id would let the pre-signature sign a second message.
   */
  usePresignature(id: Uint8Array): boolean {
    return this.outstanding.delete(bytesToHex(id));
  }

  /** Voids an outstanding pre-signature the caller will not use (lost, or unwanted): it frees a place. */
  discardPresignature(id: Uint8Array): void {
    this.outstanding.delete(bytesToHex(id));
  }

  /** How many pre-signatures are outstanding: issued, and neither used nor discarded. */
  get outstandingPresignatures(): number {
    return this.outstanding.size;
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
    w.list([...this.outstanding], (w, id) => w.fixed(hexToBytes(id)));
    return w.finish();
  }

  static fromBytes(bytes: Uint8Array): DklsShare {
    return decodeLocal("DKLs23 share", () => {
      const r = new Reader(bytes, null);
      const version = r.u8();
      if (version !== 1 && version !== SHARE_VERSION) r.fail("unknown share version");
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
      let outstandingPresignatures: Uint8Array[] = [];
      // Version 1 listed the sessions of used pre-signatures. None of its pre-signatures is
      // outstanding here, so those made before the upgrade cannot sign: the safe side.
      if (version === 1) r.list(V1_USED_PRESIGNATURES_KEPT, (r) => r.fixed(32));
      else outstandingPresignatures = r.list(MAX_OUTSTANDING_PRESIGNATURES, (r) => r.fixed(PRESIGNATURE_ID_BYTES));
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
        outstandingPresignatures,
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
