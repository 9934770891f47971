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
import { CURVE_ORDER, decodeLocal, MAX_FIELD, type Point, Reader, Writer } from "../codec/codec.js";
import {
  bigint,
  bool,
  bytesUpTo,
  type Codec,
  decodeAll,
  fixed,
  literal,
  optional,
  record,
  scalar,
  string,
  u8,
  u32,
  union,
  version,
} from "../codec/schema.js";
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
import { openSaved, stateAt } from "../session/round-party.js";
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
/** The saved state's format, typed by step: a state saved in another format is refused on restore. */
const STATE_VERSION = 3;

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

/** A ring-Pedersen modulus with its trapdoor. */
interface RingPedersenKey {
  params: RingPedersenParams;
  secret: RingPedersenSecret;
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
    private readonly ringPedersen: RingPedersenKey | undefined,
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
  take(index: 0 | 1, bits: number): Unstarted {
    if (this.used) throw new RangeError("pre-parameters already used");
    if (index !== this.index || bits !== this.bits)
      throw new RangeError("pre-parameters are for another party or size");
    this.used = true;
    return { step: 0, paillier: this.paillier, ringPedersen: this.ringPedersen };
  }
}

/**
 * What a party contributes: at keygen its share xᵢ and its half of the chain code, at refresh its
 * half of δ.
 */
type Contribution = { mode: "keygen"; x: bigint; chainHalf: Uint8Array } | { mode: "refresh"; x: bigint };

/** Either party before round 1: the pre-parameters it was given, if any. */
interface Unstarted {
  step: 0;
  paillier?: PaillierSecretKey;
  ringPedersen?: RingPedersenKey;
}

/** P0 after round 1: committed to its contribution, waiting for P1's contribution and seed. */
interface P0Committed {
  step: 1;
  mine: Contribution;
  /** The opening of the commitment to `mine`. */
  nonce: Uint8Array;
  paillier: PaillierSecretKey;
  /** Πmod's first message. */
  w: bigint;
  /** P0's ring-Pedersen parameters over N, their trapdoor and Πprm's first message for them. */
  rp0: RingPedersenParams;
  rpSecret: RingPedersenSecret;
  prmCommit: RingPedersenCommitment;
  /** The second base s₀′ = t₀^λ′ and Πprm's first message for it. */
  s2: bigint;
  lambda2: bigint;
  prmCommit2: RingPedersenCommitment;
}

/** P1 after round 2: holds P0's commitment and first messages, has sent its seed. */
interface P1Seeded {
  step: 2;
  /** P0's commitment to its contribution. */
  commitment: Uint8Array;
  /** P0's Πmod first message. */
  w: bigint;
  /** P0's ring-Pedersen parameters (over its Paillier N), its second base and Πprm first messages. */
  rp0: RingPedersenParams;
  peerPrmA: bigint[];
  s2: bigint;
  peerPrmA2: bigint[];
  /** The seed of P0's challenges. */
  seed: Uint8Array;
  mine: Contribution;
  /** P1's ring-Pedersen parameters, their trapdoor and Πprm's first message for them. */
  rp1: RingPedersenParams;
  rpSecret: RingPedersenSecret;
  prmCommit: RingPedersenCommitment;
}

/** P0 after round 3: has proven N and its parameters; holds P1's contribution until P1's Πprm verifies. */
interface P0Proven {
  step: 3;
  mine: Contribution;
  nonce: Uint8Array;
  paillier: PaillierSecretKey;
  rp0: RingPedersenParams;
  rpSecret: RingPedersenSecret;
  s2: bigint;
  lambda2: bigint;
  /** P1's contribution, PoK checked. */
  peerContribution: Uint8Array;
  /** P1's ring-Pedersen parameters and Πprm first message. */
  rp1: RingPedersenParams;
  peerPrmA: bigint[];
  /** The seed of P1's challenges. */
  seed: Uint8Array;
}

/** P1 after round 4: has checked P0's proofs and answered its own; waits for P0's opening. */
interface P1Proven {
  step: 4;
  commitment: Uint8Array;
  rp0: RingPedersenParams;
  s2: bigint;
  mine: Contribution;
  rp1: RingPedersenParams;
  rpSecret: RingPedersenSecret;
}

/** P0 after round 5: its new share, kept only if P1 confirms the same key. */
interface Confirming {
  step: 5;
  share: Ecdsa2pShare;
}

/** Either party once the run is done. */
interface Done {
  step: 6;
  share: Ecdsa2pShare;
}

type SetupState = Unstarted | P0Committed | P1Seeded | P0Proven | P1Proven | Confirming | Done;

/** The steps each party's state can be at. */
const STEPS_OF: Record<0 | 1, readonly SetupState["step"][]> = { 0: [0, 1, 3, 5, 6], 1: [0, 2, 4, 6] };

export class SetupParty extends TwoPartyRoundParty<Ecdsa2pShare> {
  private readonly transcript: Transcript;

  constructor(
    readonly mode: SetupMode,
    index: 0 | 1,
    sid: Uint8Array,
    readonly bits: number,
    /** The share being refreshed (refresh only). */
    readonly old: Ecdsa2pShare | undefined,
    /** Starting state; a caller may supply pre-parameters (generated ahead of time). */
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

  /** A fresh contribution of this party for this run's mode. */
  private contribute(): Contribution {
    const x = 1n + randomBelow(CURVE_ORDER - 1n);
    return this.mode === "keygen" ? { mode: "keygen", x, chainHalf: randomBytes(32) } : { mode: "refresh", x };
  }

  protected onStart(): Msg[] {
    if (this.index === 1) return [];
    // Round 1 (P0): commit to the contribution; N with Πmod's and Πprm's first messages.
    const st = stateAt(this.st, 0);
    const mine = this.contribute();
    const { commitment, opening } = commit(this.sid, 0, contributionBytes(mine));
    const sk = st.paillier ?? PaillierSecretKey.generate(this.bits);
    // N doubles as P0's ring-Pedersen modulus, for the proof P1 attaches to every signature.
    const rp0 = ringPedersenFromPrimes(sk.p, sk.q);
    const second = this.secondBase(rp0.params, rp0.secret);
    const next: P0Committed = {
      step: 1,
      mine,
      nonce: opening.nonce,
      paillier: sk,
      w: blumModulusCommitment(sk.publicKey.n),
      rp0: rp0.params,
      rpSecret: rp0.secret,
      prmCommit: commitRingPedersen(rp0.params, rp0.secret),
      s2: second.params.s,
      lambda2: second.secret.lambda,
      prmCommit2: commitRingPedersen(second.params, second.secret),
    };
    this.st = next;
    return this.send(1, (w) => {
      w.fixed(commitment);
      if (this.old) w.fixed(sha256(this.old.fingerprint()));
      writePaillierPublicKey(w, sk.publicKey);
      w.bigint(next.w);
      writeRingPedersenParams(w, next.rp0);
      writeRingPedersenCommitment(w, next.prmCommit.A);
      w.bigint(next.s2);
      writeRingPedersenCommitment(w, next.prmCommit2.A);
    });
  }

  protected get handlers(): Record<number, (r: Reader) => Msg[]> {
    return {
      1: (r) => this.p1Round2(stateAt(this.st, 0), r),
      2: (r) => this.p0Round3(stateAt(this.st, 1), r),
      3: (r) => this.p1Round4(stateAt(this.st, 2), r),
      4: (r) => this.p0Round5(stateAt(this.st, 3), r),
      5: (r) => this.p1Round6(stateAt(this.st, 4), r),
      6: (r) => this.p0Finish(stateAt(this.st, 5), r),
    };
  }

  /** Transcript of a one-bit-challenge proof, seeded by its verifier. */
  private seeded(label: string, seed: Uint8Array): Transcript {
    return this.tr(label).append("verifier-seed", seed);
  }

  private p1Round2(st: Unstarted, r: Reader): Msg[] {
    const commitment = r.fixed(32);
    if (this.old) check(equalBytes(r.fixed(32), sha256(this.old.fingerprint())), 0, "shares are not from the same key");
    const pk = readPaillierPublicKey(r);
    const w = r.below(pk.n);
    const rp0 = readRingPedersenParams(r);
    check(rp0.n === pk.n, 0, "ring-Pedersen modulus differs from the Paillier modulus");
    const peerPrmA = readRingPedersenCommitment(r, rp0);
    const s2 = r.below(rp0.n);
    const peerPrmA2 = readRingPedersenCommitment(r, rp0);
    r.end();

    const seed = randomBytes(32);
    const mine = this.contribute();
    const rp1 = st.ringPedersen ?? generateRingPedersen(this.bits);
    const prmCommit = commitRingPedersen(rp1.params, rp1.secret);
    const X1 = mulBase(mine.x);
    const dlog = mine.mode === "keygen" ? proveDlog(this.tr("p1/dlog"), mine.x, X1) : undefined;
    this.st = {
      step: 2,
      commitment,
      w,
      rp0,
      peerPrmA,
      s2,
      peerPrmA2,
      seed,
      mine,
      rp1: rp1.params,
      rpSecret: rp1.secret,
      prmCommit,
    };
    return this.send(2, (out) => {
      out.fixed(seed);
      if (mine.mode === "keygen" && dlog) {
        out.point(X1);
        writeSchnorr(out, dlog);
        out.fixed(mine.chainHalf);
      } else {
        out.scalar(mine.x);
      }
      writeRingPedersenParams(out, rp1.params);
      writeRingPedersenCommitment(out, prmCommit.A);
    });
  }

  private p0Round3(st: P0Committed, r: Reader): Msg[] {
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

    const mod = proveBlumModulus(this.seeded("p0/mod", seed1), st.paillier, st.w);
    const prm = proveRingPedersen(this.seeded("p0/prm", seed1), st.rp0, st.rpSecret, st.prmCommit);
    const prm2 = proveRingPedersen(
      this.seeded("p0/prm2", seed1),
      secondBaseParams(st),
      { ...st.rpSecret, lambda: st.lambda2 },
      st.prmCommit2,
    );
    const seed = randomBytes(32);
    this.st = {
      step: 3,
      mine: st.mine,
      nonce: st.nonce,
      paillier: st.paillier,
      rp0: st.rp0,
      rpSecret: st.rpSecret,
      s2: st.s2,
      lambda2: st.lambda2,
      peerContribution: contribution.finish(),
      rp1,
      peerPrmA,
      seed,
    };
    return this.send(3, (w) => {
      w.fixed(seed);
      writeBlumModulusProof(w, mod);
      writeRingPedersenResponse(w, prm.z);
      writeRingPedersenResponse(w, prm2.z);
    });
  }

  private p1Round4(st: P1Seeded, r: Reader): Msg[] {
    const n = st.rp0.n;
    const seed0 = r.fixed(32);
    const mod = readBlumModulusProof(r, n);
    const z0 = readRingPedersenResponse(r, st.rp0);
    const z0second = readRingPedersenResponse(r, st.rp0);
    r.end();
    check(mod.w === st.w, 0, "Πmod answers a different first message");
    check(verifyBlumModulus(this.seeded("p0/mod", st.seed), n, mod), 0, "Paillier modulus proof (Πmod) failed");
    check(
      verifyRingPedersen(this.seeded("p0/prm", st.seed), st.rp0, { A: st.peerPrmA, z: z0 }),
      0,
      "ring-Pedersen parameter proof (Πprm) of party 0 failed",
    );
    check(
      verifyRingPedersen(this.seeded("p0/prm2", st.seed), secondBaseParams(st), { A: st.peerPrmA2, z: z0second }),
      0,
      "ring-Pedersen parameter proof (Πprm) of party 0's second base failed",
    );
    const prm = proveRingPedersen(this.seeded("p1/prm", seed0), st.rp1, st.rpSecret, st.prmCommit);
    this.st = {
      step: 4,
      commitment: st.commitment,
      rp0: st.rp0,
      s2: st.s2,
      mine: st.mine,
      rp1: st.rp1,
      rpSecret: st.rpSecret,
    };
    return this.send(4, (w) => writeRingPedersenResponse(w, prm.z));
  }

  private p0Round5(st: P0Proven, r: Reader): Msg[] {
    const sk = st.paillier;
    const rp = st.rp1;
    const z1 = readRingPedersenResponse(r, rp);
    r.end();
    check(
      verifyRingPedersen(this.seeded("p1/prm", st.seed), rp, { A: st.peerPrmA, z: z1 }),
      1,
      "ring-Pedersen parameter proof (Πprm) of party 1 failed",
    );

    // The new share x₀' and the public state both parties will hold.
    const peer = new Reader(st.peerContribution, 1);
    const mine = st.mine;
    let x0: bigint;
    let publicKey: Point;
    let peerPublic: Point;
    let chainCode: Uint8Array;
    if (mine.mode === "keygen") {
      x0 = mine.x;
      peerPublic = peer.point();
      publicKey = mulBase(x0).add(peerPublic);
      check(!publicKey.is0(), null, "joint public key is the identity");
      chainCode = this.chainCode(mine.chainHalf, peer.fixed(32));
    } else {
      const old = this.old as Ecdsa2pShare;
      const delta = mod(peer.scalar(true) + mine.x, CURVE_ORDER);
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
    const dlog0 = mine.mode === "keygen" ? proveDlog(this.tr("p0/dlog"), x0, X0) : undefined;
    const share = Ecdsa2pShare.forParty0(
      { x: x0, publicKey, peerPublic, chainCode, locked: false, ringPedersen: st.rp0, ringPedersenS2: st.s2 },
      sk,
      cKey,
      { s: st.rpSecret.lambda, s2: st.lambda2 },
    );
    // From here on only the share is needed.
    this.st = { step: 5, share };
    return this.send(5, (w) => {
      w.fixed(st.nonce);
      w.bytes(contributionBytes(mine));
      if (dlog0) writeSchnorr(w, dlog0);
      w.bigint(cKey);
      writeNoSmallFactorProof(w, facProof);
      writeEncDlogProof(w, logProof);
    });
  }

  private p1Round6(st: P1Proven, r: Reader): Msg[] {
    const n = st.rp0.n;
    const rp = st.rp1;
    const nonce = r.fixed(32);
    const opened = r.bytes(128);
    check(
      verifyOpening(this.sid, 0, st.commitment, { nonce, message: opened }),
      0,
      "commitment opening does not match",
    );
    const c = new Reader(opened, 0);
    const mine = st.mine;
    let X0: Point;
    let publicKey: Point;
    let x1: bigint;
    let chainCode: Uint8Array;
    if (mine.mode === "keygen") {
      X0 = c.point();
      const half0 = c.fixed(32);
      c.end();
      const dlog = readSchnorr(r);
      check(verifyDlog(this.tr("p0/dlog"), X0, dlog), 0, "proof of knowledge of the share failed");
      x1 = mine.x;
      publicKey = X0.add(mulBase(x1));
      check(!publicKey.is0(), null, "joint public key is the identity");
      chainCode = this.chainCode(half0, mine.chainHalf);
    } else {
      const half0 = c.scalar(true);
      c.end();
      const old = this.old as Ecdsa2pShare;
      const delta = mod(half0 + mine.x, CURVE_ORDER);
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
      { x: x1, publicKey, peerPublic: X0, chainCode, locked: false, ringPedersen: st.rp0, ringPedersenS2: st.s2 },
      n,
      cKey,
    );
    // Only the share survives in the state: the trapdoor and intermediate secrets are dropped.
    this.st = { step: 6, share };
    this.finish(share);
    return this.send(6, (w) => w.fixed(confirmation(share)));
  }

  private p0Finish(st: Confirming, r: Reader): Msg[] {
    const theirs = r.fixed(32);
    r.end();
    check(equalBytes(theirs, confirmation(st.share)), 1, "party 1 confirmed a different key");
    this.st = { step: 6, share: st.share };
    this.finish(st.share);
    return [];
  }

  /** P0's second ring-Pedersen base. Honest: a fresh t^λ′; the malicious-party tests override it. */
  protected secondBase(params: RingPedersenParams, secret: RingPedersenSecret): RingPedersenKey {
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

  protected saveState(w: Writer): void {
    savedSetup.write(w, {
      version: STATE_VERSION,
      protocol: this.protocol,
      index: this.index,
      sid: this.sid,
      bits: this.bits,
      oldFingerprint: this.old && sha256(this.old.fingerprint()),
      started: this.started,
      state: this.st,
    });
  }

  static restore(bytes: Uint8Array, old?: Ecdsa2pShare): SetupParty {
    return decodeLocal("setup state", () => {
      const { run, body } = openSaved(bytes);
      const r: Reader = new Reader(body, null);
      const saved = decodeAll(savedSetup, r);
      const { protocol, index, state } = saved;
      if (protocol !== "ecdsa2p/keygen" && protocol !== "ecdsa2p/refresh") r.fail("not an ecdsa2p setup state");
      const mode = protocol === "ecdsa2p/keygen" ? "keygen" : "refresh";
      if (index !== 0 && index !== 1) r.fail("bad index");
      if (!STEPS_OF[index].includes(state.step)) r.fail("state of the other party");
      if ("mine" in state && state.mine.mode !== mode) r.fail("inconsistent refresh state");
      if ((mode === "refresh") !== (saved.oldFingerprint !== undefined)) r.fail("inconsistent refresh state");
      if (saved.oldFingerprint && !(old && equalBytes(saved.oldFingerprint, sha256(old.fingerprint())))) {
        r.fail("state belongs to the refresh of another share");
      }
      const party = new SetupParty(mode, index, saved.sid, saved.bits, mode === "refresh" ? old : undefined, state);
      party.restoreRun(run, saved.started, state.step === 6 ? { value: state.share } : undefined);
      return party;
    });
  }
}

/** P0's ring-Pedersen parameters with its second base in place of s, as Πprm proves it. */
function secondBaseParams(st: { rp0: RingPedersenParams; s2: bigint }): RingPedersenParams {
  return { ...st.rp0, s: st.s2 };
}

/** The bytes P0 commits to in round 1 and opens in round 5. */
function contributionBytes(mine: Contribution): Uint8Array {
  const w = new Writer();
  if (mine.mode === "keygen") {
    w.point(mulBase(mine.x));
    w.fixed(mine.chainHalf);
  } else {
    w.scalar(mine.x);
  }
  return w.finish();
}

/** What P1 sends back so that P0 keeps its share only if P1 holds the same key. */
function confirmation(share: Ecdsa2pShare): Uint8Array {
  return sha256(share.fingerprint());
}

// Saved-state layout: each state's fields, declared once for save and restore.

const paillierSecretKey: Codec<PaillierSecretKey> = {
  write: writePaillierSecretKey,
  read: (r) => readPaillierSecretKey(r),
};
const ringPedersenParams: Codec<RingPedersenParams> = {
  write: writeRingPedersenParams,
  read: (r) => readRingPedersenParams(r),
};
const ringPedersenSecret: Codec<RingPedersenSecret> = {
  write: writeRingPedersenSecret,
  read: (r) => readRingPedersenSecret(r),
};
const ringPedersenModulusBits = bigint(RING_PEDERSEN_MAX_BITS);
const bytes32 = fixed(32);

/** Πprm's first message with its secrets, checked against the parameters `params` picks from the fields before it. */
function prmCommitState<C>(params: (st: C) => RingPedersenParams): Codec<RingPedersenCommitment, C> {
  return { write: writeRingPedersenCommitmentState, read: (r, st) => readRingPedersenCommitmentState(r, params(st)) };
}

/** A peer's Πprm first message, checked against the parameters `params` picks from the fields before it. */
function prmCommitment<C>(params: (st: C) => RingPedersenParams): Codec<bigint[], C> {
  return { write: writeRingPedersenCommitment, read: (r, st) => readRingPedersenCommitment(r, params(st)) };
}

const share: Codec<Ecdsa2pShare> = {
  write: (w, s) => w.bytes(s.toBytes()),
  read: (r) => Ecdsa2pShare.fromBytes(r.bytes(MAX_FIELD)),
};

const contribution = union<Contribution, "mode">("mode", {
  keygen: record({ mode: literal("keygen"), x: scalar, chainHalf: bytes32 }),
  refresh: record({ mode: literal("refresh"), x: scalar }),
});

const setupState = union<SetupState, "step">("step", {
  0: record<Unstarted>({
    step: literal(0),
    paillier: optional(paillierSecretKey),
    ringPedersen: optional(record<RingPedersenKey>({ params: ringPedersenParams, secret: ringPedersenSecret })),
  }),
  1: record<P0Committed>({
    step: literal(1),
    mine: contribution,
    nonce: bytes32,
    paillier: paillierSecretKey,
    w: bigint(PAILLIER_MAX_BITS),
    rp0: ringPedersenParams,
    rpSecret: ringPedersenSecret,
    prmCommit: prmCommitState((st: P0Committed) => st.rp0),
    s2: ringPedersenModulusBits,
    lambda2: ringPedersenModulusBits,
    prmCommit2: prmCommitState((st: P0Committed) => st.rp0),
  }),
  2: record<P1Seeded>({
    step: literal(2),
    commitment: bytes32,
    w: bigint(PAILLIER_MAX_BITS),
    rp0: ringPedersenParams,
    peerPrmA: prmCommitment((st: P1Seeded) => st.rp0),
    s2: ringPedersenModulusBits,
    peerPrmA2: prmCommitment((st: P1Seeded) => st.rp0),
    seed: bytes32,
    mine: contribution,
    rp1: ringPedersenParams,
    rpSecret: ringPedersenSecret,
    prmCommit: prmCommitState((st: P1Seeded) => st.rp1),
  }),
  3: record<P0Proven>({
    step: literal(3),
    mine: contribution,
    nonce: bytes32,
    paillier: paillierSecretKey,
    rp0: ringPedersenParams,
    rpSecret: ringPedersenSecret,
    s2: ringPedersenModulusBits,
    lambda2: ringPedersenModulusBits,
    peerContribution: bytesUpTo(256),
    rp1: ringPedersenParams,
    peerPrmA: prmCommitment((st: P0Proven) => st.rp1),
    seed: bytes32,
  }),
  4: record<P1Proven>({
    step: literal(4),
    commitment: bytes32,
    rp0: ringPedersenParams,
    s2: ringPedersenModulusBits,
    mine: contribution,
    rp1: ringPedersenParams,
    rpSecret: ringPedersenSecret,
  }),
  5: record<Confirming>({ step: literal(5), share }),
  6: record<Done>({ step: literal(6), share }),
});

const savedSetup = record<{
  version: number;
  protocol: string;
  index: number;
  sid: Uint8Array;
  bits: number;
  /** The refreshed share's fingerprint (refresh only). */
  oldFingerprint: Uint8Array | undefined;
  started: boolean;
  state: SetupState;
}>({
  version: version(STATE_VERSION),
  protocol: string(1024),
  index: u8,
  sid: fixed(SID_BYTES),
  bits: u32,
  oldFingerprint: optional(bytes32),
  started: bool,
  state: setupState,
});
