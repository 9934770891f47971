/**
 * Two-party ECDSA key generation and refresh (Lindell 2017, additive-share variant, with the
 * CGGMP21 proofs that make the Paillier part safe against BitForge and Alpha-Rays).
 *
 *   round 1  P0 → P1  commit(contribution₀); N; Πmod's w; P0's ring-Pedersen (N, s₀, t₀) with a second
 *                     base s₀′, and Πprm's A for s₀ and for s₀′
 *   round 2  P1 → P0  seed₁; contribution₁ (+ Schnorr PoK at keygen); P1's ring-Pedersen (Ñ, s₁, t₁) and Πprm's A
 *   round 3  P0 → P1  seed₀; Πmod(N) and P0's two Πprm answers, challenged by seed₁
 *   round 4  P1 → P0  P1's Πprm answers, challenged by seed₀
 *   round 5  P0 → P1  open(contribution₀) (+ Schnorr PoK); c_key = Enc_N(x₀); Πfac(N); Πlog*(c_key, X₀)
 *   round 6  P1 → P0  confirmation: hash of the resulting public state
 *
 * The one-bit-challenge proofs (Πmod, Πprm) are interactive: each prover's first message is sent
 * before the verifier's seed enters the challenge, so nobody can grind and 80 repetitions give a
 * statistical 2^−80. P0 verifies P1's Πprm before it uses (Ñ, s₁, t₁) in Πfac and Πlog*; P1
 * checks every proof before it keeps anything. P0's ring-Pedersen parameters over N are for the
 * proof P1 attaches to every signature (sign.ts); the second base lets that proof commit to both
 * of its values at once, and its own Πprm shows P1 that it hides them as s₀ does.
 *
 * At keygen the contributions are the public shares Xᵢ = xᵢ·G and chain-code halves; at refresh
 * they are the two halves of a joint random δ, and the new shares are x₀ + δ and x₁ − δ under a
 * fresh Paillier key, so old and new shares never combine.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { randomBytes } from "@noble/hashes/utils.js";
import { CURVE_ORDER, decodeLocal, type Point, Reader, Writer } from "../codec/codec.js";
import { mod, randomBelow, randomUnit } from "../math/bigint.js";
import { mulBase } from "../math/secp256k1.js";
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
import { checkSid, equalBytes, SID_BYTES } from "../session/envelope.js";
import { check, type Msg } from "../session/party.js";
import { openSaved, type SavedRun } from "../session/round-party.js";
import { TwoPartyRoundParty } from "../session/two-party.js";
import { commit, verifyOpening } from "../zk/commitment.js";
import { proveEncDlog, readEncDlogProof, verifyEncDlog, writeEncDlogProof } from "../zk/enc-dlog.js";
import {
  proveNoSmallFactor,
  readNoSmallFactorProof,
  verifyNoSmallFactor,
  writeNoSmallFactorProof,
} from "../zk/no-small-factor.js";
import {
  blumModulusCommitment,
  proveBlumModulus,
  readBlumModulusProof,
  verifyBlumModulus,
  writeBlumModulusProof,
} from "../zk/paillier-blum.js";
import {
  anotherBase,
  commitRingPedersen,
  generateRingPedersen,
  proveRingPedersen,
  RING_PEDERSEN_MAX_BITS,
  type RingPedersenCommitment,
  type RingPedersenParams,
  type RingPedersenSecret,
  readRingPedersenCommitment,
  readRingPedersenCommitmentState,
  readRingPedersenParams,
  readRingPedersenResponse,
  readRingPedersenSecret,
  ringPedersenFromPrimes,
  verifyRingPedersen,
  writeRingPedersenCommitment,
  writeRingPedersenCommitmentState,
  writeRingPedersenParams,
  writeRingPedersenResponse,
  writeRingPedersenSecret,
} from "../zk/ring-pedersen.js";
import { proveDlog, readSchnorr, verifyDlog, writeSchnorr } from "../zk/schnorr.js";
import { Transcript } from "../zk/transcript.js";
import { Ecdsa2pShare } from "./share.js";

export type SetupMode = "keygen" | "refresh";
/** 2: P0's second ring-Pedersen base and its Πprm. */
const STATE_VERSION = 2;

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
    return { step: 0, paillier: this.paillier, rp1: this.ringPedersen?.params, rpSecret: this.ringPedersen?.secret };
  }
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
  w?: bigint; // Πmod's first message (P0's, and P1's copy)
  rp0?: RingPedersenParams; // P0's ring-Pedersen parameters over N
  s2?: bigint; // P0's second base s₀′ = t₀^λ′ (P0's, and P1's copy)
  lambda2?: bigint; // P0: λ′
  prmCommit2?: RingPedersenCommitment; // P0: Πprm's first message for s₀′ and its secrets
  peerPrmA2?: bigint[]; // P1: P0's Πprm first message for s₀′
  rp1?: RingPedersenParams; // P1's ring-Pedersen parameters
  rpSecret?: RingPedersenSecret; // this party's own trapdoor
  prmCommit?: RingPedersenCommitment; // this party's Πprm first message and its secrets
  peerPrmA?: bigint[]; // the peer's Πprm first message
  seed?: Uint8Array; // the seed this party contributed to the peer's challenges
  peerContribution?: Uint8Array; // P0: P1's contribution, used once P1's Πprm has verified
  pending?: Ecdsa2pShare; // the resulting share, before the run finishes
}

export class SetupParty extends TwoPartyRoundParty<Ecdsa2pShare> {
  private readonly transcript: Transcript;

  constructor(
    readonly mode: SetupMode,
    index: 0 | 1,
    sid: Uint8Array,
    readonly bits: number,
    /** The share being refreshed (refresh only). */
    readonly old: Ecdsa2pShare | undefined,
    /** Starting state; a caller may supply P0's Paillier key (generated ahead of time). */
    private st: SetupState = { step: 0 },
  ) {
    super(index, `ecdsa2p/${mode}`, sid);
    checkSid(sid);
    if (!Number.isInteger(bits) || bits < PAILLIER_MIN_BITS || bits % 2 !== 0) {
      throw new RangeError(`paillierBits must be an even number ≥ ${PAILLIER_MIN_BITS}`);
    }
    if (mode === "refresh" && (!old || old.index !== index)) throw new RangeError("refresh needs this party's share");
    this.transcript = new Transcript(this.protocol, sid, [0, 1]);
  }

  private tr(label: string): Transcript {
    return this.transcript.fork(label);
  }
  protected get step(): number {
    return this.st.step;
  }

  protected onStart(): Msg[] {
    if (this.index === 1) return [];
    // Round 1 (P0): commit to the contribution; N with Πmod's and Πprm's first messages.
    const st = this.st;
    st.x = 1n + randomBelow(CURVE_ORDER - 1n);
    if (this.mode === "keygen") st.chainHalf = randomBytes(32);
    const { commitment, opening } = commit(this.sid, 0, this.contribution0());
    st.nonce = opening.nonce;
    const sk = (st.paillier ??= PaillierSecretKey.generate(this.bits));
    st.w = blumModulusCommitment(sk.publicKey.n);
    // N doubles as P0's ring-Pedersen modulus, for the proof P1 attaches to every signature.
    const rp0 = ringPedersenFromPrimes(sk.p, sk.q);
    st.rp0 = rp0.params;
    st.rpSecret = rp0.secret;
    st.prmCommit = commitRingPedersen(rp0.params, rp0.secret);
    const second = this.secondBase(rp0.params, rp0.secret);
    st.s2 = second.params.s;
    st.lambda2 = second.secret.lambda;
    st.prmCommit2 = commitRingPedersen(second.params, second.secret);
    st.step = 1;
    return this.send(1, (w) => {
      w.fixed(commitment);
      if (this.old) w.fixed(sha256(this.old.fingerprint()));
      writePaillierPublicKey(w, sk.publicKey);
      w.bigint(st.w as bigint);
      writeRingPedersenParams(w, rp0.params);
      writeRingPedersenCommitment(w, (st.prmCommit as RingPedersenCommitment).A);
      w.bigint(st.s2 as bigint);
      writeRingPedersenCommitment(w, (st.prmCommit2 as RingPedersenCommitment).A);
    });
  }

  /** P0's ring-Pedersen parameters with its second base in place of s, as Πprm proves it. */
  private secondBaseParams(): RingPedersenParams {
    return { ...(this.st.rp0 as RingPedersenParams), s: this.st.s2 as bigint };
  }

  /** The bytes P0 commits to in round 1 and opens in round 5. */
  private contribution0(): Uint8Array {
    const w = new Writer();
    if (this.mode === "keygen") {
      w.point(mulBase(this.st.x as bigint));
      w.fixed(this.st.chainHalf as Uint8Array);
    } else {
      w.scalar(this.st.x as bigint);
    }
    return w.finish();
  }

  protected get handlers(): Record<number, (r: Reader) => Msg[]> {
    return {
      1: (r) => this.p1Round2(r),
      2: (r) => this.p0Round3(r),
      3: (r) => this.p1Round4(r),
      4: (r) => this.p0Round5(r),
      5: (r) => this.p1Round6(r),
      6: (r) => this.p0Finish(r),
    };
  }

  /** Transcript of a one-bit-challenge proof, seeded by its verifier. */
  private seeded(label: string, seed: Uint8Array): Transcript {
    return this.tr(label).append("verifier-seed", seed);
  }

  private p1Round2(r: Reader): Msg[] {
    const st = this.st;
    st.commitment = r.fixed(32);
    if (this.old) check(equalBytes(r.fixed(32), sha256(this.old.fingerprint())), 0, "shares are not from the same key");
    const pk = readPaillierPublicKey(r);
    st.w = r.below(pk.n);
    const rp0 = readRingPedersenParams(r);
    check(rp0.n === pk.n, 0, "ring-Pedersen modulus differs from the Paillier modulus");
    st.peerPrmA = readRingPedersenCommitment(r, rp0);
    st.s2 = r.below(rp0.n);
    st.peerPrmA2 = readRingPedersenCommitment(r, rp0);
    r.end();
    st.paillierN = pk.n;
    st.rp0 = rp0;

    st.seed = randomBytes(32);
    st.x = 1n + randomBelow(CURVE_ORDER - 1n);
    const rp1 = st.rp1 && st.rpSecret ? { params: st.rp1, secret: st.rpSecret } : generateRingPedersen(this.bits);
    st.rp1 = rp1.params;
    st.rpSecret = rp1.secret;
    st.prmCommit = commitRingPedersen(rp1.params, rp1.secret);
    const X1 = mulBase(st.x);
    const dlog = this.mode === "keygen" ? proveDlog(this.tr("p1/dlog"), st.x, X1) : undefined;
    if (this.mode === "keygen") st.chainHalf = randomBytes(32);
    st.step = 2;
    return this.send(2, (w) => {
      w.fixed(st.seed as Uint8Array);
      if (dlog) {
        w.point(X1);
        writeSchnorr(w, dlog);
        w.fixed(st.chainHalf as Uint8Array);
      } else {
        w.scalar(st.x as bigint);
      }
      writeRingPedersenParams(w, rp1.params);
      writeRingPedersenCommitment(w, (st.prmCommit as RingPedersenCommitment).A);
    });
  }

  private p0Round3(r: Reader): Msg[] {
    const st = this.st;
    const sk = st.paillier as PaillierSecretKey;
    const seed1 = r.fixed(32);
    // P1's contribution is checked now (its PoK) but used only after P1's Πprm verifies.
    const contribution = new Writer();
    if (this.mode === "keygen") {
      const X1 = r.point();
      const dlog = readSchnorr(r);
      const half = r.fixed(32);
      check(verifyDlog(this.tr("p1/dlog"), X1, dlog), 1, "proof of knowledge of the share failed");
      contribution.point(X1);
      contribution.fixed(half);
    } else {
      contribution.scalar(r.scalar(true));
    }
    const rp1 = readRingPedersenParams(r);
    const peerPrmA = readRingPedersenCommitment(r, rp1);
    r.end();
    st.peerContribution = contribution.finish();
    st.rp1 = rp1;
    st.peerPrmA = peerPrmA;

    const mod = proveBlumModulus(this.seeded("p0/mod", seed1), sk, st.w as bigint);
    const prm = proveRingPedersen(
      this.seeded("p0/prm", seed1),
      st.rp0 as RingPedersenParams,
      st.rpSecret as RingPedersenSecret,
      st.prmCommit,
    );
    const prm2 = proveRingPedersen(
      this.seeded("p0/prm2", seed1),
      this.secondBaseParams(),
      { ...(st.rpSecret as RingPedersenSecret), lambda: st.lambda2 as bigint },
      st.prmCommit2,
    );
    st.seed = randomBytes(32);
    st.w = undefined;
    st.prmCommit = undefined;
    st.prmCommit2 = undefined;
    st.step = 3;
    return this.send(3, (w) => {
      w.fixed(st.seed as Uint8Array);
      writeBlumModulusProof(w, mod);
      writeRingPedersenResponse(w, prm.z);
      writeRingPedersenResponse(w, prm2.z);
    });
  }

  private p1Round4(r: Reader): Msg[] {
    const st = this.st;
    const n = st.paillierN as bigint;
    const rp0 = st.rp0 as RingPedersenParams;
    const seed0 = r.fixed(32);
    const mod = readBlumModulusProof(r, n);
    const z0 = readRingPedersenResponse(r, rp0);
    const z0second = readRingPedersenResponse(r, rp0);
    r.end();
    check(mod.w === st.w, 0, "Πmod answers a different first message");
    check(
      verifyBlumModulus(this.seeded("p0/mod", st.seed as Uint8Array), n, mod),
      0,
      "Paillier modulus proof (Πmod) failed",
    );
    check(
      verifyRingPedersen(this.seeded("p0/prm", st.seed as Uint8Array), rp0, { A: st.peerPrmA as bigint[], z: z0 }),
      0,
      "ring-Pedersen parameter proof (Πprm) of party 0 failed",
    );
    check(
      verifyRingPedersen(this.seeded("p0/prm2", st.seed as Uint8Array), this.secondBaseParams(), {
        A: st.peerPrmA2 as bigint[],
        z: z0second,
      }),
      0,
      "ring-Pedersen parameter proof (Πprm) of party 0's second base failed",
    );
    const prm = proveRingPedersen(
      this.seeded("p1/prm", seed0),
      st.rp1 as RingPedersenParams,
      st.rpSecret as RingPedersenSecret,
      st.prmCommit,
    );
    st.w = undefined;
    st.peerPrmA = undefined;
    st.peerPrmA2 = undefined;
    st.prmCommit = undefined;
    st.seed = undefined;
    st.step = 4;
    return this.send(4, (w) => writeRingPedersenResponse(w, prm.z));
  }

  private p0Round5(r: Reader): Msg[] {
    const st = this.st;
    const sk = st.paillier as PaillierSecretKey;
    const rp = st.rp1 as RingPedersenParams;
    const z1 = readRingPedersenResponse(r, rp);
    r.end();
    check(
      verifyRingPedersen(this.seeded("p1/prm", st.seed as Uint8Array), rp, { A: st.peerPrmA as bigint[], z: z1 }),
      1,
      "ring-Pedersen parameter proof (Πprm) of party 1 failed",
    );

    // The new share x₀' and the public state both parties will hold.
    const peer = new Reader(st.peerContribution as Uint8Array, 1);
    let x0: bigint;
    let publicKey: Point;
    let peerPublic: Point;
    let chainCode: Uint8Array;
    if (this.mode === "keygen") {
      x0 = st.x as bigint;
      peerPublic = peer.point();
      publicKey = mulBase(x0).add(peerPublic);
      check(!publicKey.is0(), null, "joint public key is the identity");
      chainCode = this.chainCode(st.chainHalf as Uint8Array, peer.fixed(32));
    } else {
      const old = this.old as Ecdsa2pShare;
      const delta = mod(peer.scalar(true) + (st.x as bigint), CURVE_ORDER);
      x0 = mod(old.x + delta, CURVE_ORDER);
      check(x0 !== 0n, null, "refresh produced a zero share; run it again");
      peerPublic = old.peerPublic.subtract(mulBase(delta));
      publicKey = old.publicKey;
      chainCode = old.chainCode;
    }
    peer.end();
    const X0 = mulBase(x0);
    const rho = randomUnit(sk.publicKey.n);
    const encrypted = this.plaintextOfShare(x0);
    const cKey = sk.encrypt(encrypted, rho);
    const facProof = proveNoSmallFactor(this.tr("p0/fac"), sk, rp);
    const logProof = proveEncDlog(this.tr("p0/log"), { key: sk, ringPedersen: rp, C: cKey, X: X0, x: encrypted, rho });
    const dlog0 = this.mode === "keygen" ? proveDlog(this.tr("p0/dlog"), x0, X0) : undefined;
    st.pending = Ecdsa2pShare.forParty0(
      {
        x: x0,
        publicKey,
        peerPublic,
        chainCode,
        locked: false,
        ringPedersen: st.rp0 as RingPedersenParams,
        ringPedersenS2: st.s2,
      },
      sk,
      cKey,
      st.rpSecret && { s: st.rpSecret.lambda, s2: st.lambda2 },
    );
    const opening = this.contribution0();
    const nonce = st.nonce as Uint8Array;
    // From here on only the share is needed.
    this.st = { step: 5, pending: st.pending };
    return this.send(5, (w) => {
      w.fixed(nonce);
      w.bytes(opening);
      if (dlog0) writeSchnorr(w, dlog0);
      w.bigint(cKey);
      writeNoSmallFactorProof(w, facProof);
      writeEncDlogProof(w, logProof);
    });
  }

  private p1Round6(r: Reader): Msg[] {
    const st = this.st;
    const n = st.paillierN as bigint;
    const rp = st.rp1 as RingPedersenParams;
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
      publicKey = X0.add(mulBase(x1));
      check(!publicKey.is0(), null, "joint public key is the identity");
      chainCode = this.chainCode(half0, st.chainHalf as Uint8Array);
    } else {
      const half0 = c.scalar(true);
      c.end();
      const old = this.old as Ecdsa2pShare;
      const delta = mod(half0 + (st.x as bigint), CURVE_ORDER);
      x1 = mod(old.x - delta, CURVE_ORDER);
      check(x1 !== 0n, null, "refresh produced a zero share; run it again");
      X0 = old.peerPublic.add(mulBase(delta));
      publicKey = old.publicKey;
      chainCode = old.chainCode;
    }
    const cKey = readCiphertext(r, new PaillierPublicKey(n));
    const facProof = readNoSmallFactorProof(r);
    const logProof = readEncDlogProof(r);
    r.end();
    const trapdoor = st.rpSecret;
    check(verifyNoSmallFactor(this.tr("p0/fac"), n, rp, facProof, trapdoor), 0, "no-small-factor proof (Πfac) failed");
    check(
      verifyEncDlog(this.tr("p0/log"), { n, ringPedersen: rp, C: cKey, X: X0 }, logProof, trapdoor),
      0,
      "proof that Enc(x0) encrypts the discrete log of X0 in range (Πlog*) failed",
    );
    const share = Ecdsa2pShare.forParty1(
      {
        x: x1,
        publicKey,
        peerPublic: X0,
        chainCode,
        locked: false,
        ringPedersen: st.rp0 as RingPedersenParams,
        ringPedersenS2: st.s2,
      },
      n,
      cKey,
    );
    // Only the share survives in the state: the trapdoor and intermediate secrets are dropped.
    this.st = { step: 6, pending: share };
    this.finish(share);
    return this.send(6, (w) => w.fixed(confirmation(share)));
  }

  private p0Finish(r: Reader): Msg[] {
    const theirs = r.fixed(32);
    r.end();
    const share = this.st.pending as Ecdsa2pShare;
    check(equalBytes(theirs, confirmation(share)), 1, "party 1 confirmed a different key");
    this.st = { step: 6, pending: share };
    this.finish(share);
    return [];
  }

  /** P0's second ring-Pedersen base. Honest: a fresh t^λ′; the malicious-party tests override it. */
  protected secondBase(
    params: RingPedersenParams,
    secret: RingPedersenSecret,
  ): { params: RingPedersenParams; secret: RingPedersenSecret } {
    return anotherBase(params, secret);
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

  protected saveState(): Uint8Array {
    const st = this.st;
    const w = new Writer();
    w.u8(STATE_VERSION);
    w.string(this.protocol);
    w.u8(this.index);
    w.fixed(this.sid);
    w.u32(this.bits);
    w.optional(this.old, (v) => w.fixed(sha256(v.fingerprint())));
    w.bool(this.started);
    w.u8(st.step);
    w.optional(st.x, (v) => w.scalar(v));
    w.optional(st.chainHalf, (v) => w.fixed(v));
    w.optional(st.nonce, (v) => w.fixed(v));
    w.optional(st.commitment, (v) => w.fixed(v));
    w.optional(st.paillier, (v) => writePaillierSecretKey(w, v));
    w.optional(st.paillierN, (v) => w.bigint(v));
    w.optional(st.w, (v) => w.bigint(v));
    w.optional(st.rp0, (v) => writeRingPedersenParams(w, v));
    w.optional(st.rp1, (v) => writeRingPedersenParams(w, v));
    w.optional(st.rpSecret, (v) => writeRingPedersenSecret(w, v));
    w.optional(st.prmCommit, (v) => writeRingPedersenCommitmentState(w, v));
    w.optional(st.peerPrmA, (v) => writeRingPedersenCommitment(w, v));
    w.optional(st.s2, (v) => w.bigint(v));
    w.optional(st.lambda2, (v) => w.bigint(v));
    w.optional(st.prmCommit2, (v) => writeRingPedersenCommitmentState(w, v));
    w.optional(st.peerPrmA2, (v) => writeRingPedersenCommitment(w, v));
    w.optional(st.seed, (v) => w.fixed(v));
    w.optional(st.peerContribution, (v) => w.bytes(v));
    w.optional(st.pending, (v) => w.bytes(v.toBytes()));
    w.bool(this.done);
    return w.finish();
  }

  static restore(bytes: Uint8Array, old?: Ecdsa2pShare): SetupParty {
    return decodeLocal("setup state", () => {
      const { run, body } = openSaved(bytes);
      return SetupParty.decode(run, new Reader(body, null), old);
    });
  }

  private static decode(run: SavedRun, r: Reader, old: Ecdsa2pShare | undefined): SetupParty {
    if (r.u8() !== STATE_VERSION) r.fail("unknown state version");
    const protocol = r.string();
    if (protocol !== "ecdsa2p/keygen" && protocol !== "ecdsa2p/refresh") r.fail("not an ecdsa2p setup state");
    const mode = protocol === "ecdsa2p/keygen" ? "keygen" : "refresh";
    const index = r.u8();
    if (index !== 0 && index !== 1) r.fail("bad index");
    const sid = r.fixed(SID_BYTES);
    const bits = r.u32();
    const oldFingerprint = r.optional(() => r.fixed(32));
    if ((mode === "refresh") !== (oldFingerprint !== undefined)) r.fail("inconsistent refresh state");
    if (oldFingerprint && !(old && equalBytes(oldFingerprint, sha256(old.fingerprint())))) {
      r.fail("state belongs to the refresh of another share");
    }
    const started = r.bool();
    const st: SetupState = { step: r.u8() };
    st.x = r.optional(() => r.scalar());
    st.chainHalf = r.optional(() => r.fixed(32));
    st.nonce = r.optional(() => r.fixed(32));
    st.commitment = r.optional(() => r.fixed(32));
    st.paillier = r.optional(() => readPaillierSecretKey(r));
    st.paillierN = r.optional(() => r.bigint(PAILLIER_MAX_BITS));
    st.w = r.optional(() => r.bigint(PAILLIER_MAX_BITS));
    st.rp0 = r.optional(() => readRingPedersenParams(r));
    st.rp1 = r.optional(() => readRingPedersenParams(r));
    st.rpSecret = r.optional(() => readRingPedersenSecret(r));
    const ownRp = index === 0 ? st.rp0 : st.rp1;
    st.prmCommit = r.optional(() => {
      if (!ownRp) r.fail("Πprm commitment without parameters");
      return readRingPedersenCommitmentState(r, ownRp);
    });
    const peerRp = index === 0 ? st.rp1 : st.rp0;
    st.peerPrmA = r.optional(() => {
      if (!peerRp) r.fail("peer Πprm commitment without parameters");
      return readRingPedersenCommitment(r, peerRp);
    });
    st.s2 = r.optional(() => r.bigint(RING_PEDERSEN_MAX_BITS));
    st.lambda2 = r.optional(() => r.bigint(RING_PEDERSEN_MAX_BITS));
    const rp0 = st.rp0;
    st.prmCommit2 = r.optional(() => {
      if (!rp0 || index !== 0) r.fail("second-base Πprm commitment out of place");
      return readRingPedersenCommitmentState(r, rp0);
    });
    st.peerPrmA2 = r.optional(() => {
      if (!rp0 || index !== 1) r.fail("second-base Πprm commitment out of place");
      return readRingPedersenCommitment(r, rp0);
    });
    st.seed = r.optional(() => r.fixed(32));
    st.peerContribution = r.optional(() => r.bytes(256));
    st.pending = r.optional(() => Ecdsa2pShare.fromBytes(r.bytes()));
    const done = r.bool();
    r.end();
    const party = new SetupParty(mode, index as 0 | 1, sid, bits, mode === "refresh" ? old : undefined, st);
    if (done && !st.pending) r.fail("finished state without a share");
    party.restoreRun(run, started, done ? { value: st.pending as Ecdsa2pShare } : undefined);
    return party;
  }
}

/** What P1 sends back so that P0 keeps its share only if P1 holds the same key. */
function confirmation(share: Ecdsa2pShare): Uint8Array {
  return sha256(share.fingerprint());
}
