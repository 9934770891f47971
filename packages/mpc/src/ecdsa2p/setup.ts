/**
 * Two-party ECDSA key generation and refresh (Lindell 2017, additive-share variant, with the
 * CGGMP21 proofs that make the Paillier part safe against BitForge and Alpha-Rays).
 *
 *   round 1  P0 → P1  commit(contribution₀), N, Πmod(N), ring-Pedersen (N, s₀, t₀), Πprm
 *   round 2  P1 → P0  contribution₁ (+ Schnorr PoK at keygen), ring-Pedersen (Ñ, s, t), Πprm
 *   round 3  P0 → P1  open(contribution₀) (+ Schnorr PoK), c_key = Enc_N(x₀), Πfac(N), Πlog*(c_key, X₀)
 *   round 4  P1 → P0  confirmation: hash of the resulting public state
 *
 * At keygen the contributions are the public shares Xᵢ = xᵢ·G and chain-code halves; at refresh
 * they are the two halves of a joint random δ, and the new shares are x₀ + δ and x₁ − δ under a
 * fresh Paillier key, so old and new shares never combine. P1 checks every proof before it keeps
 * anything; P0 checks Πprm before it uses (Ñ, s, t) in a proof about its secrets. P0's own
 * ring-Pedersen parameters over N are for the proof P1 attaches to every signature (sign.ts).
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { randomBytes } from "@noble/hashes/utils.js";
import { CURVE_ORDER, decodeLocal, Point, Reader, Writer } from "../codec/codec.js";
import { mod, randomBelow, randomUnit } from "../math/bigint.js";
import {
  PAILLIER_MAX_BITS,
  PAILLIER_MIN_BITS,
  PaillierPublicKey,
  PaillierSecretKey,
  readCiphertext,
  readPaillierPublicKey,
  readPaillierSecretKey,
  writePaillierPublicKey,
  writePaillierSecretKey,
} from "../paillier/paillier.js";
import { equalBytes, expectOne, open, seal } from "../session/envelope.js";
import { check, type Msg, ProtocolAbort } from "../session/party.js";
import { RoundParty } from "../session/round-party.js";
import { commit, verifyOpening } from "../zk/commitment.js";
import { proveEncDlog, readEncDlogProof, verifyEncDlog, writeEncDlogProof } from "../zk/enc-dlog.js";
import {
  proveNoSmallFactor,
  readNoSmallFactorProof,
  verifyNoSmallFactor,
  writeNoSmallFactorProof,
} from "../zk/no-small-factor.js";
import {
  proveBlumModulus,
  readBlumModulusProof,
  verifyBlumModulus,
  writeBlumModulusProof,
} from "../zk/paillier-blum.js";
import {
  generateRingPedersen,
  proveRingPedersen,
  RING_PEDERSEN_MAX_BITS,
  type RingPedersenParams,
  type RingPedersenSecret,
  readRingPedersenParams,
  readRingPedersenProof,
  ringPedersenFromPrimes,
  verifyRingPedersen,
  writeRingPedersenParams,
  writeRingPedersenProof,
} from "../zk/ring-pedersen.js";
import { proveDlog, readSchnorr, verifyDlog, writeSchnorr } from "../zk/schnorr.js";
import { Transcript } from "../zk/transcript.js";
import { Ecdsa2pShare } from "./share.js";

export type SetupMode = "keygen" | "refresh";
export const SID_BYTES = 32;
const STATE_VERSION = 1;

export interface KeygenOptions {
  sid: Uint8Array;
  index: 0 | 1;
  /** Paillier and ring-Pedersen modulus size; at least 2048. */
  paillierBits?: number;
  /** This party's moduli, generated ahead of time with `ecdsa2p.prepare`; consumed. */
  prepared?: PreParams;
}

export interface RefreshOptions {
  sid: Uint8Array;
  paillierBits?: number;
  prepared?: PreParams;
}

/**
 * The message-independent, expensive part of a keygen or refresh, made ahead of time (as
 * tss-lib's PreParams): party 0's Paillier key, or party 1's ring-Pedersen modulus. Single use:
 * a modulus serves one key generation or refresh only.
 */
export class PreParams {
  private used = false;
  private constructor(
    readonly index: 0 | 1,
    readonly bits: number,
    private readonly paillier: PaillierSecretKey | undefined,
    private readonly ringPedersen: { params: RingPedersenParams; secret: RingPedersenSecret } | undefined,
  ) {}

  static generate(index: 0 | 1, bits: number): PreParams {
    if (!Number.isInteger(bits) || bits < PAILLIER_MIN_BITS || bits % 2 !== 0) {
      throw new RangeError(`paillierBits must be an even number ≥ ${PAILLIER_MIN_BITS}`);
    }
    return index === 0
      ? new PreParams(0, bits, PaillierSecretKey.generate(bits), undefined)
      : new PreParams(1, bits, undefined, generateRingPedersen(bits));
  }

  /** The starting state of a setup run that uses these parameters (once). */
  take(index: 0 | 1, bits: number): SetupState {
    if (this.used) throw new RangeError("pre-parameters already used");
    if (index !== this.index || bits !== this.bits)
      throw new RangeError("pre-parameters are for another party or size");
    this.used = true;
    return {
      step: 0,
      paillier: this.paillier,
      ringPedersen: this.ringPedersen?.params,
      ringPedersenSecret: this.ringPedersen?.secret,
    };
  }
}

export function checkSid(sid: Uint8Array): void {
  if (!(sid instanceof Uint8Array) || sid.length !== SID_BYTES) throw new RangeError("sid must be 32 bytes");
}

/** Mutable state of a run, kept flat so that save() writes exactly what restore() reads. */
export interface SetupState {
  step: number;
  x?: bigint; // own share (keygen) or δ half (refresh)
  chainHalf?: Uint8Array; // keygen only
  nonce?: Uint8Array; // P0's commitment opening
  commitment?: Uint8Array; // P1's copy of P0's commitment
  paillier?: PaillierSecretKey; // P0
  paillierN?: bigint; // P1
  paillierRp?: RingPedersenParams; // P0's ring-Pedersen parameters over N (both parties)
  ringPedersen?: RingPedersenParams; // P0 after round 2, P1 after round 1
  ringPedersenSecret?: RingPedersenSecret; // P1: its own trapdoor, which speeds up its checks
  pending?: Ecdsa2pShare; // P0 after round 3
}

export class SetupParty extends RoundParty<Ecdsa2pShare> {
  private readonly protocol: string;
  private readonly transcript: Transcript;

  constructor(
    readonly mode: SetupMode,
    readonly index: 0 | 1,
    readonly sid: Uint8Array,
    readonly bits: number,
    /** The share being refreshed (refresh only). */
    readonly old: Ecdsa2pShare | undefined,
    /** Starting state; a caller may supply P0's Paillier key (generated ahead of time). */
    private st: SetupState = { step: 0 },
  ) {
    super();
    checkSid(sid);
    if (!Number.isInteger(bits) || bits < PAILLIER_MIN_BITS || bits % 2 !== 0) {
      throw new RangeError(`paillierBits must be an even number ≥ ${PAILLIER_MIN_BITS}`);
    }
    if (mode === "refresh" && (!old || old.index !== index)) throw new RangeError("refresh needs this party's share");
    this.protocol = `ecdsa2p/${mode}`;
    this.transcript = new Transcript(this.protocol, sid, [0, 1]);
  }

  private tr(label: string): Transcript {
    return this.transcript.fork(label);
  }
  private get peer(): 0 | 1 {
    return this.index === 0 ? 1 : 0;
  }
  private send(round: number, body: (w: Writer) => void): Msg[] {
    return [{ from: this.index, to: this.peer, payload: seal(this.protocol, this.sid, round, body) }];
  }
  private receive(incoming: Msg[], round: number): Reader {
    return open(expectOne(incoming, this.peer, this.index), this.protocol, this.sid, round);
  }

  protected onStart(): Msg[] {
    if (this.index === 1) return [];
    // Round 1 (P0): commit to the contribution, publish N with Πmod.
    const st = this.st;
    st.x = 1n + randomBelow(CURVE_ORDER - 1n);
    if (this.mode === "keygen") st.chainHalf = randomBytes(32);
    const { commitment, opening } = commit(this.sid, 0, this.contribution0());
    st.nonce = opening.nonce;
    const sk = (st.paillier ??= PaillierSecretKey.generate(this.bits));
    const proof = proveBlumModulus(this.tr("p0/mod"), sk);
    // N doubles as P0's ring-Pedersen modulus, for the proof P1 attaches to every signature.
    const rp = ringPedersenFromPrimes(sk.p, sk.q);
    st.paillierRp = rp.params;
    const prmProof = proveRingPedersen(this.tr("p0/prm"), rp.params, rp.secret);
    st.step = 1;
    return this.send(1, (w) => {
      w.fixed(commitment);
      if (this.old) w.fixed(sha256(this.old.fingerprint()));
      writePaillierPublicKey(w, sk.publicKey);
      writeBlumModulusProof(w, proof);
      writeRingPedersenParams(w, rp.params);
      writeRingPedersenProof(w, prmProof);
    });
  }

  /** The bytes P0 commits to in round 1 and opens in round 3. */
  private contribution0(): Uint8Array {
    const w = new Writer();
    if (this.mode === "keygen") {
      w.point(Point.BASE.multiply(this.st.x as bigint));
      w.fixed(this.st.chainHalf as Uint8Array);
    } else {
      w.scalar(this.st.x as bigint);
    }
    return w.finish();
  }

  protected onRound(incoming: Msg[]): Msg[] {
    const st = this.st;
    if (this.index === 1 && st.step === 0) return this.p1Round2(this.receive(incoming, 1));
    if (this.index === 0 && st.step === 1) return this.p0Round3(this.receive(incoming, 2));
    if (this.index === 1 && st.step === 2) return this.p1Round4(this.receive(incoming, 3));
    if (this.index === 0 && st.step === 3) return this.p0Finish(this.receive(incoming, 4));
    throw new ProtocolAbort(null, "no round expected");
  }

  private p1Round2(r: Reader): Msg[] {
    const st = this.st;
    st.commitment = r.fixed(32);
    if (this.old) check(equalBytes(r.fixed(32), sha256(this.old.fingerprint())), 0, "shares are not from the same key");
    const pk = readPaillierPublicKey(r);
    const modProof = readBlumModulusProof(r, pk.n);
    const paillierRp = readRingPedersenParams(r);
    check(paillierRp.n === pk.n, 0, "ring-Pedersen modulus differs from the Paillier modulus");
    const paillierPrm = readRingPedersenProof(r, paillierRp);
    r.end();
    check(verifyBlumModulus(this.tr("p0/mod"), pk.n, modProof), 0, "Paillier modulus proof (Πmod) failed");
    check(
      verifyRingPedersen(this.tr("p0/prm"), paillierRp, paillierPrm),
      0,
      "ring-Pedersen parameter proof (Πprm) failed",
    );
    st.paillierN = pk.n;
    st.paillierRp = paillierRp;

    st.x = 1n + randomBelow(CURVE_ORDER - 1n);
    const rp =
      st.ringPedersen && st.ringPedersenSecret
        ? { params: st.ringPedersen, secret: st.ringPedersenSecret }
        : generateRingPedersen(this.bits);
    st.ringPedersen = rp.params;
    st.ringPedersenSecret = rp.secret;
    const prmProof = proveRingPedersen(this.tr("p1/prm"), rp.params, rp.secret);
    const X1 = Point.BASE.multiply(st.x);
    const dlog = this.mode === "keygen" ? proveDlog(this.tr("p1/dlog"), st.x, X1) : undefined;
    if (this.mode === "keygen") st.chainHalf = randomBytes(32);
    st.step = 2;
    return this.send(2, (w) => {
      if (dlog) {
        w.point(X1);
        writeSchnorr(w, dlog);
        w.fixed(st.chainHalf as Uint8Array);
      } else {
        w.scalar(st.x as bigint);
      }
      writeRingPedersenParams(w, rp.params);
      writeRingPedersenProof(w, prmProof);
    });
  }

  private p0Round3(r: Reader): Msg[] {
    const st = this.st;
    const sk = st.paillier as PaillierSecretKey;
    let X1: Point | undefined;
    let peerHalf: bigint | Uint8Array;
    if (this.mode === "keygen") {
      X1 = r.point();
      const dlog = readSchnorr(r);
      peerHalf = r.fixed(32);
      check(verifyDlog(this.tr("p1/dlog"), X1, dlog), 1, "proof of knowledge of the share failed");
    } else {
      peerHalf = r.scalar(true);
    }
    const rp = readRingPedersenParams(r);
    const prmProof = readRingPedersenProof(r, rp);
    r.end();
    check(verifyRingPedersen(this.tr("p1/prm"), rp, prmProof), 1, "ring-Pedersen parameter proof (Πprm) failed");
    st.ringPedersen = rp;

    // The new share x₀' and the public state both parties will hold.
    let x0: bigint;
    let publicKey: Point;
    let peerPublic: Point;
    let chainCode: Uint8Array;
    if (this.mode === "keygen") {
      x0 = st.x as bigint;
      peerPublic = X1 as Point;
      publicKey = Point.BASE.multiply(x0).add(peerPublic);
      check(!publicKey.is0(), null, "joint public key is the identity");
      chainCode = this.chainCode(st.chainHalf as Uint8Array, peerHalf as Uint8Array);
    } else {
      const old = this.old as Ecdsa2pShare;
      const delta = mod((st.x as bigint) + (peerHalf as bigint), CURVE_ORDER);
      x0 = mod(old.x + delta, CURVE_ORDER);
      check(x0 !== 0n, null, "refresh produced a zero share; run it again");
      peerPublic = old.peerPublic.subtract(Point.BASE.multiply(delta));
      publicKey = old.publicKey;
      chainCode = old.chainCode;
    }
    const X0 = Point.BASE.multiply(x0);
    const rho = randomUnit(sk.publicKey.n);
    const encrypted = this.plaintextOfShare(x0);
    const cKey = sk.encrypt(encrypted, rho);
    const facProof = proveNoSmallFactor(this.tr("p0/fac"), sk, rp);
    const logProof = proveEncDlog(this.tr("p0/log"), { key: sk, ringPedersen: rp, C: cKey, X: X0, x: encrypted, rho });
    const dlog0 = this.mode === "keygen" ? proveDlog(this.tr("p0/dlog"), x0, X0) : undefined;
    st.pending = Ecdsa2pShare.forParty0(
      { x: x0, publicKey, peerPublic, chainCode, locked: false, ringPedersen: st.paillierRp as RingPedersenParams },
      sk,
      cKey,
    );
    const opening = this.contribution0();
    st.step = 3;
    return this.send(3, (w) => {
      w.fixed(st.nonce as Uint8Array);
      w.bytes(opening);
      if (dlog0) writeSchnorr(w, dlog0);
      w.bigint(cKey);
      writeNoSmallFactorProof(w, facProof);
      writeEncDlogProof(w, logProof);
    });
  }

  private p1Round4(r: Reader): Msg[] {
    const st = this.st;
    const n = st.paillierN as bigint;
    const rp = st.ringPedersen as RingPedersenParams;
    const nonce = r.fixed(32);
    const opened = r.bytes(128);
    check(
      verifyOpening(this.sid, 0, st.commitment as Uint8Array, { nonce, message: opened }),
      0,
      "commitment opening does not match",
    );
    const c = new Reader(opened, 0);
    let X0: Point;
    let publicKey: Point;
    let x1: bigint;
    let chainCode: Uint8Array;
    if (this.mode === "keygen") {
      X0 = c.point();
      const half0 = c.fixed(32);
      c.end();
      const dlog = readSchnorr(r);
      check(verifyDlog(this.tr("p0/dlog"), X0, dlog), 0, "proof of knowledge of the share failed");
      x1 = st.x as bigint;
      publicKey = X0.add(Point.BASE.multiply(x1));
      check(!publicKey.is0(), null, "joint public key is the identity");
      chainCode = this.chainCode(half0, st.chainHalf as Uint8Array);
    } else {
      const half0 = c.scalar(true);
      c.end();
      const old = this.old as Ecdsa2pShare;
      const delta = mod(half0 + (st.x as bigint), CURVE_ORDER);
      x1 = mod(old.x - delta, CURVE_ORDER);
      check(x1 !== 0n, null, "refresh produced a zero share; run it again");
      X0 = old.peerPublic.add(Point.BASE.multiply(delta));
      publicKey = old.publicKey;
      chainCode = old.chainCode;
    }
    const cKey = readCiphertext(r, new PaillierPublicKey(n));
    const facProof = readNoSmallFactorProof(r);
    const logProof = readEncDlogProof(r);
    r.end();
    const trapdoor = st.ringPedersenSecret;
    check(verifyNoSmallFactor(this.tr("p0/fac"), n, rp, facProof, trapdoor), 0, "no-small-factor proof (Πfac) failed");
    check(
      verifyEncDlog(this.tr("p0/log"), { n, ringPedersen: rp, C: cKey, X: X0 }, logProof, trapdoor),
      0,
      "proof that Enc(x0) encrypts the discrete log of X0 in range (Πlog*) failed",
    );
    const share = Ecdsa2pShare.forParty1(
      { x: x1, publicKey, peerPublic: X0, chainCode, locked: false, ringPedersen: st.paillierRp as RingPedersenParams },
      n,
      cKey,
    );
    // Only the share survives in the state: the trapdoor and intermediate secrets are dropped.
    this.st = { step: 4, pending: share };
    this.finish(share);
    return this.send(4, (w) => w.fixed(confirmation(share)));
  }

  private p0Finish(r: Reader): Msg[] {
    const theirs = r.fixed(32);
    r.end();
    const share = this.st.pending as Ecdsa2pShare;
    check(equalBytes(theirs, confirmation(share)), 1, "party 1 confirmed a different key");
    this.st = { step: 4, pending: share };
    this.finish(share);
    return [];
  }

  /** What P0 encrypts as its share. Honest: x₀ itself; the malicious-party tests override it. */
  protected plaintextOfShare(x0: bigint): bigint {
    return x0;
  }

  private chainCode(half0: Uint8Array, half1: Uint8Array): Uint8Array {
    const w = new Writer();
    w.string("keyshard/ecdsa2p/chain-code");
    w.fixed(this.sid);
    w.fixed(half0);
    w.fixed(half1);
    return sha256(w.finish());
  }

  save(): Uint8Array {
    const st = this.st;
    const w = new Writer();
    w.u8(STATE_VERSION);
    w.string(this.protocol);
    w.u8(this.index);
    w.fixed(this.sid);
    w.u32(this.bits);
    optional(w, this.old, (v) => w.fixed(sha256(v.fingerprint())));
    w.bool(this.started);
    w.u8(st.step);
    optional(w, st.x, (v) => w.scalar(v));
    optional(w, st.chainHalf, (v) => w.fixed(v));
    optional(w, st.nonce, (v) => w.fixed(v));
    optional(w, st.commitment, (v) => w.fixed(v));
    optional(w, st.paillier, (v) => writePaillierSecretKey(w, v));
    optional(w, st.paillierN, (v) => w.bigint(v));
    optional(w, st.ringPedersen, (v) => writeRingPedersenParams(w, v));
    optional(w, st.paillierRp, (v) => writeRingPedersenParams(w, v));
    optional(w, st.ringPedersenSecret, (v) => {
      w.bigint(v.p);
      w.bigint(v.q);
      w.bigint(v.lambda);
    });
    optional(w, st.pending, (v) => w.bytes(v.toBytes()));
    w.bool(this.done);
    return w.finish();
  }

  static restore(bytes: Uint8Array, old?: Ecdsa2pShare): SetupParty {
    return decodeLocal("setup state", () => SetupParty.decode(new Reader(bytes, null), old));
  }

  private static decode(r: Reader, old: Ecdsa2pShare | undefined): SetupParty {
    if (r.u8() !== STATE_VERSION) r.fail("unknown state version");
    const protocol = r.string();
    if (protocol !== "ecdsa2p/keygen" && protocol !== "ecdsa2p/refresh") r.fail("not an ecdsa2p setup state");
    const mode = protocol === "ecdsa2p/keygen" ? "keygen" : "refresh";
    const index = r.u8();
    if (index !== 0 && index !== 1) r.fail("bad index");
    const sid = r.fixed(SID_BYTES);
    const bits = r.u32();
    const oldFingerprint = readOptional(r, () => r.fixed(32));
    if ((mode === "refresh") !== (oldFingerprint !== undefined)) r.fail("inconsistent refresh state");
    if (oldFingerprint && !(old && equalBytes(oldFingerprint, sha256(old.fingerprint())))) {
      r.fail("state belongs to the refresh of another share");
    }
    const started = r.bool();
    const st: SetupState = { step: r.u8() };
    st.x = readOptional(r, () => r.scalar());
    st.chainHalf = readOptional(r, () => r.fixed(32));
    st.nonce = readOptional(r, () => r.fixed(32));
    st.commitment = readOptional(r, () => r.fixed(32));
    st.paillier = readOptional(r, () => readPaillierSecretKey(r));
    st.paillierN = readOptional(r, () => r.bigint(PAILLIER_MAX_BITS));
    st.ringPedersen = readOptional(r, () => readRingPedersenParams(r));
    st.paillierRp = readOptional(r, () => readRingPedersenParams(r));
    st.ringPedersenSecret = readOptional(r, () => ({
      p: r.bigint(RING_PEDERSEN_MAX_BITS / 2),
      q: r.bigint(RING_PEDERSEN_MAX_BITS / 2),
      lambda: r.bigint(RING_PEDERSEN_MAX_BITS),
    }));
    st.pending = readOptional(r, () => Ecdsa2pShare.fromBytes(r.bytes()));
    const done = r.bool();
    r.end();
    const party = new SetupParty(mode, index as 0 | 1, sid, bits, mode === "refresh" ? old : undefined, st);
    if (done && !st.pending) r.fail("finished state without a share");
    party.restoreFlags(started, done ? { value: st.pending as Ecdsa2pShare } : undefined);
    return party;
  }
}

/** What P1 sends back so that P0 keeps its share only if P1 holds the same key. */
function confirmation(share: Ecdsa2pShare): Uint8Array {
  return sha256(share.fingerprint());
}

export function optional<T>(w: Writer, v: T | undefined, write: (v: T) => void): void {
  w.bool(v !== undefined);
  if (v !== undefined) write(v);
}

export function readOptional<T>(r: Reader, read: () => T): T | undefined {
  return r.bool() ? read() : undefined;
}
