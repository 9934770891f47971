/**
 * DKLs23 signing (Doerner–Kondi–Lee–shelat 2023, Protocol 3.6) among the signers S:
 *
 *   round 1  i → j  context digest; commitment to Rᵢ = rᵢ·G; as Bob with j: a fresh nonce of his
 *                   own for the multiplication's session, and the OT-extension message (χᵢⱼ = b)
 *   round 2  i → j  as Alice with j, input (rᵢ, skᵢ): her reply; Γᵘᵢⱼ = cᵘ·G, Γᵛᵢⱼ = cᵛ·G;
 *                   ψᵢⱼ = φᵢ − χᵢⱼ; pkᵢ = skᵢ·G; Rᵢ and the commitment's opening
 *   round 3  i → all  uᵢ = rᵢΦᵢ + Σⱼ(cᵘ + dᵘ), wᵢ = m·φᵢ + rₓ·vᵢ; digest of the message and every
 *                     Rⱼ, pkⱼ (they went point to point)
 *   output            s = Σw / Σu, low-S, verified before it is returned
 *
 * skᵢ = λᵢ·(xᵢ + δ) + ζᵢ (Lagrange over S, derivation tweak δ, zero-sharing ζ with Σζ = 0), so
 * Σ skᵢ is the (derived) key. The message enters only in round 3. Each party checks, naming the
 * peer and banning it from further signing with this share (a selective-failure probe of the
 * reused base OTs must not be repeatable): the OT-extension and multiplication checks, the
 * opening of Rⱼ, and that χᵢⱼ·Rⱼ = Γᵘⱼᵢ + dᵘ·G and χᵢⱼ·pkⱼ = Γᵛⱼᵢ + dᵛ·G. The sum of the pkⱼ must
 * be the key. A bad uⱼ or wⱼ cannot be attributed (DKLs23 has no per-party check for them): the
 * signature fails its verification and the run aborts naming nobody.
 *
 * Without a message hash the run stops after round 2 with a pre-signature; round 3 is then
 * `DklsFinishParty` (presign.ts), which a full run also uses for its last round.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { randomBytes } from "@noble/hashes/utils.js";
import { bytesToBigint, CURVE_ORDER, decodeLocal, type Point, Reader, Writer } from "../codec/codec.js";
import {
  bytesUpTo,
  type Codec,
  decodeAll,
  fixed,
  list,
  literal,
  map,
  optional,
  point,
  record,
  scalarOrZero,
  string,
  u8,
  union,
  version,
} from "../codec/schema.js";
import { hashToScalar, readSignature, type Signature, writeSignature } from "../ecdsa/signature.js";
import { CURVES } from "../frost/curve.js";
import { lagrangeAt } from "../frost/polynomial.js";
import { derive, MAX_PATH_LENGTH } from "../hd/derive.js";
import { mod, randomBelow } from "../math/bigint.js";
import { mul, mulBase } from "../math/secp256k1.js";
import { checkSid, equalBytes } from "../session/envelope.js";
import { checkSignerSet, MultiPartyRoundParty } from "../session/multi-party.js";
import { check, type Msg, ProtocolAbort } from "../session/party.js";
import { openSaved, stateAt } from "../session/round-party.js";
import { commit, verifyOpening } from "../zk/commitment.js";
import {
  aliceRespond,
  type BobState,
  bobFinish,
  bobStart,
  readAliceReply,
  readBobState,
  readKosMessage,
  writeAliceReply,
  writeBobState,
  writeKosMessage,
} from "./multiply.js";
import { DklsFinishParty, type Presignature, readPresignature, writePresignature } from "./presign.js";
import { type DklsShare, MAX_PARTIES, pairSid } from "./share.js";

/** The saved state's format, typed by step: a state saved in another format is refused on restore. */
const STATE_VERSION = 3;
const NONCE_BYTES = 32;

export interface SignOptions {
  sid: Uint8Array;
  /** 32-byte message hash, used in round 3 only; without it the run stops at a pre-signature. */
  messageHash?: Uint8Array;
  /** Indices of the signers, this party included; at least the threshold. */
  signers: number[];
  /** Non-hardened BIP32 path. */
  path?: string;
}

/** What this party holds towards one peer after round 1: its multiplication as Bob, started. */
interface BobRun {
  bob: BobState;
  /** This party's fresh contribution to the session of its multiplication as Bob. */
  bobNonce: Uint8Array;
}

/** What this party holds towards one peer after round 2. */
interface PeerRun extends BobRun {
  /** The peer's commitment to its nonce point. */
  commitment: Uint8Array;
  /** As Alice with this peer: her shares cᵘ, cᵛ of χⱼᵢ·(rᵢ, skᵢ). */
  cu: bigint;
  cv: bigint;
}

/** Before round 1. */
interface Unstarted {
  step: 0;
}

/** After round 1: nonce rᵢ, mask φᵢ, Rᵢ committed to; a multiplication started with each peer. */
interface Committed {
  step: 1;
  r: bigint;
  phi: bigint;
  R: Point;
  /** The opening of the commitment to Rᵢ. */
  nonce: Uint8Array;
  peers: Map<number, BobRun>;
}

/** After round 2: the additive key share skᵢ and pkᵢ = skᵢ·G are out, Rᵢ opened. */
interface Answered {
  step: 2;
  r: bigint;
  phi: bigint;
  R: Point;
  sk: bigint;
  pk: Point;
  peers: Map<number, PeerRun>;
}

/** The pre-signature is made: the final round (if any) is `DklsFinishParty`'s. */
interface Presigned {
  step: 3;
}

type SignState = Unstarted | Committed | Answered | Presigned;

export class DklsSignParty extends MultiPartyRoundParty<Signature | Presignature> {
  private readonly signers: number[];
  private readonly peers: number[];
  private readonly tweak: bigint;
  private readonly childKey: Point;
  private st: SignState = { step: 0 };
  /** The final round, once the pre-signature is made (when a message was given). */
  private final: DklsFinishParty | undefined;

  constructor(
    private readonly share: DklsShare,
    private readonly options: SignOptions,
    st?: SignState,
  ) {
    super(share.index, "dkls23/sign", options.sid);
    checkSid(options.sid);
    if (options.messageHash) hashToScalar(options.messageHash);
    this.signers = checkSignerSet(share.index, share.n, share.t, options.signers);
    this.peers = this.signers.filter((j) => j !== share.index);
    for (const j of this.peers) {
      if (share.pair(j).banned)
        throw new RangeError(`party ${j} failed a check before; refresh the key to sign with it`);
    }
    const derived = derive(share.publicKey, share.chainCode, options.path);
    this.tweak = derived.tweak;
    this.childKey = derived.publicKey;
    if (st) this.st = st;
  }

  protected get step(): number {
    return this.st.step;
  }

  /** Round 3 is the final round's, run by the pre-signature's DklsFinishParty. */
  protected override onRound(incoming: Msg[]): Msg[] {
    if (this.final) {
      const out = this.final.handle(incoming);
      if (this.final.done) this.finish(this.final.result());
      return out;
    }
    return super.onRound(incoming);
  }
  protected speakers(): readonly number[] {
    return this.signers;
  }
  protected get handlers(): Record<number, (from: Map<number, Reader>) => Msg[]> {
    return {
      1: (m) => this.round2(stateAt(this.st, 1), m),
      2: (m) => this.presignature(stateAt(this.st, 2), m),
    };
  }

  /**
   * The session of the multiplication with `bob` and `alice` in this signing run. Bob's nonce is
   * his own fresh randomness: without it his OT-extension pads would be a function of what the
   * caller and the peer chose, and three runs started under one sid would give Alice his choice
   * bits by linear algebra, then his key share.
   */
  private mulSid(bob: number, alice: number, bobNonce: Uint8Array): Uint8Array {
    const w = new Writer();
    w.bytes(pairSid(this.share.setupSid, bob, alice));
    w.fixed(this.sid);
    w.list(this.signers, (w, s) => w.u8(s));
    w.optional(this.options.path, (p) => w.string(p));
    w.fixed(bobNonce);
    return sha256(w.finish());
  }

  /**
   * What every signer must agree on before any multiplication runs: the key's whole public state
   * (a corrupt or outdated share stops here, instead of failing a check that bans an honest
   * peer), the signer set and the path.
   */
  private context(): Uint8Array {
    const w = new Writer();
    w.string("keyshard/dkls23/sign-context/v1");
    w.fixed(this.sid);
    w.bytes(this.share.publicBytes());
    w.list(this.signers, (w, s) => w.u8(s));
    w.optional(this.options.path, (p) => w.string(p));
    return sha256(w.finish());
  }

  /** ζᵢ: Σⱼ ±H(seedᵢⱼ, sid), minus towards higher indices, so the signers' ζ sum to zero. */
  private zeroShare(): bigint {
    let zeta = 0n;
    for (const j of this.peers) {
      const w = new Writer();
      w.string("keyshard/dkls23/zero-share/v1");
      w.fixed(this.share.pair(j).zeroSeed);
      w.fixed(this.sid);
      w.list(this.signers, (w, s) => w.u8(s));
      const h = mod(bytesToBigint(sha256(w.finish())), CURVE_ORDER);
      zeta += this.index < j ? -h : h;
    }
    return mod(zeta, CURVE_ORDER);
  }

  protected onStart(): Msg[] {
    // Round 1: nonce and inversion mask; commit to Rᵢ; as Bob, start every multiplication.
    const r = 1n + randomBelow(CURVE_ORDER - 1n);
    const phi = 1n + randomBelow(CURVE_ORDER - 1n);
    const R = mulBase(r);
    const { commitment, opening } = commit(this.sid, this.index, R.toBytes(true));
    const peers = new Map<number, BobRun>();
    const context = this.context();
    const out = this.peers.map((j) => {
      const bobNonce = randomBytes(NONCE_BYTES);
      const started = bobStart(
        this.mulSid(this.index, j, bobNonce),
        this.share.pair(j).asBob,
        this.share.gadget(this.index, j),
      );
      peers.set(j, { bob: started.state, bobNonce });
      return this.sendTo(j, 1, (w) => {
        w.fixed(context);
        w.fixed(commitment);
        w.fixed(bobNonce);
        writeKosMessage(w, started.message);
      });
    });
    this.st = { step: 1, r, phi, R, nonce: opening.nonce, peers };
    return out;
  }

  /**
   * A peer banned meanwhile (by another session of this share, e.g. a batch of pre-signatures)
   * gets no further answer: each answer to a cheating peer can leak a bit of the base OTs.
   */
  private refuseBanned(j: number): void {
    check(!this.share.pair(j).banned, j, "party is banned from signing with this share until a refresh");
  }

  private ban(j: number, reason: string): never {
    this.share.ban(j);
    throw new ProtocolAbort(j, `${reason}; party banned from signing with this share until a refresh`);
  }

  private round2(st: Committed, from: Map<number, Reader>): Msg[] {
    const lambda = lagrangeAt(CURVES.secp256k1, this.signers, this.index);
    const sk = mod(lambda * (this.share.x + this.tweak) + this.zeroShare(), CURVE_ORDER);
    const pk = mulBase(sk);
    const peers = new Map<number, PeerRun>();
    const out: Msg[] = [];
    const context = this.context();
    for (const [j, rd] of from) {
      this.refuseBanned(j);
      check(equalBytes(rd.fixed(32), context), j, "signs with another key state, signer set or path");
      const bob = st.peers.get(j);
      check(bob !== undefined, null, "no multiplication with this party");
      const commitment = rd.fixed(32);
      const theirNonce = rd.fixed(NONCE_BYTES);
      const message = readKosMessage(rd);
      rd.end();
      // As Alice with j as Bob: input (rᵢ, skᵢ).
      const answered = aliceRespond(
        this.mulSid(j, this.index, theirNonce),
        this.share.pair(j).asAlice,
        this.share.gadget(j, this.index),
        message,
        [st.r, sk],
      );
      if (!answered.ok) this.ban(j, "OT-extension consistency check failed");
      const [cu, cv] = answered.c as [bigint, bigint];
      peers.set(j, { ...bob, commitment, cu, cv });
      out.push(
        this.sendTo(j, 2, (w) => {
          writeAliceReply(w, answered.reply);
          w.point(mulBase(cu));
          w.point(mulBase(cv));
          w.scalar(mod(st.phi - bob.bob.b, CURVE_ORDER));
          w.point(pk);
          w.point(st.R);
          w.fixed(st.nonce);
        }),
      );
    }
    this.st = { step: 2, r: st.r, phi: st.phi, R: st.R, sk, pk, peers };
    return out;
  }

  /** After round 2: every check, then the pre-signature; with a message, round 3 starts. */
  private presignature(st: Answered, from: Map<number, Reader>): Msg[] {
    const sk = st.sk;
    let Phi = st.phi;
    let uSum = 0n;
    let vSum = 0n;
    const Rs = new Map<number, Point>([[this.index, st.R]]);
    const pks = new Map<number, Point>([[this.index, st.pk]]);
    for (const [j, rd] of from) {
      const reply = readAliceReply(rd);
      const gammaU = rd.point();
      const gammaV = rd.point();
      const psi = rd.scalar(true);
      const pk = rd.point();
      const R = rd.point();
      const nonce = rd.fixed(32);
      rd.end();
      this.refuseBanned(j);
      const peer = st.peers.get(j);
      check(peer !== undefined, null, "no multiplication with this party");
      check(
        verifyOpening(this.sid, j, peer.commitment, { nonce, message: R.toBytes(true) }),
        j,
        "nonce commitment opening does not match",
      );
      const done = bobFinish(
        this.mulSid(this.index, j, peer.bobNonce),
        peer.bob,
        this.share.gadget(this.index, j),
        reply,
      );
      if (!done.ok) this.ban(j, "multiplication check failed");
      const [du, dv] = done.d as [bigint, bigint];
      const chi = peer.bob.b;
      if (!mul(R, chi).equals(gammaU.add(mulBase(du)))) this.ban(j, "nonce does not match its multiplication");
      if (!mul(pk, chi).equals(gammaV.add(mulBase(dv)))) this.ban(j, "key share does not match its multiplication");
      Phi += psi;
      uSum += peer.cu + du;
      vSum += peer.cv + dv;
      Rs.set(j, R);
      pks.set(j, pk);
    }
    const sumPk = [...pks.values()].reduce((a, b) => a.add(b));
    check(sumPk.equals(this.childKey), null, "the signers' key shares do not add up to the key");
    const R = [...Rs.values()].reduce((a, b) => a.add(b));
    check(!R.is0(), null, "nonce point is the identity");
    Phi = mod(Phi, CURVE_ORDER);
    // Rⱼ and pkⱼ went point to point: the signers compare them through this digest only in the
    // final round, after their shares are out (as DKLs23 allows: a wrong view fails the check
    // there, and the signature is verified before anyone outputs it).
    const view = new Writer();
    view.string("keyshard/dkls23/sign-view/v1");
    for (const j of this.signers) {
      view.point(Rs.get(j) as Point);
      view.point(pks.get(j) as Point);
    }
    const pre: Omit<Presignature, "id"> = {
      setupSid: this.share.setupSid,
      sid: this.sid,
      index: this.index,
      signers: this.signers,
      phi: st.phi,
      u: mod(st.r * Phi + uSum, CURVE_ORDER),
      v: mod(sk * Phi + vSum, CURVE_ORDER),
      R,
      view: sha256(view.finish()),
    };
    if (this.options.path !== undefined) pre.path = this.options.path;
    // The secrets that made the pre-signature are not needed any more.
    this.st = { step: 3 };
    if (!this.options.messageHash) {
      // Listed in the share until it signs: persist the share with the pre-signature.
      this.finish({ ...pre, id: this.share.issuePresignature() });
      return [];
    }
    this.final = DklsFinishParty.inRun(this.share, pre, this.options.messageHash);
    return this.final.start();
  }

  protected saveState(w: Writer): void {
    savedSign.write(w, {
      version: STATE_VERSION,
      keyDigest: sha256(this.share.publicBytes()),
      index: this.index,
      sid: this.sid,
      messageHash: this.options.messageHash,
      signers: this.signers,
      path: this.options.path,
      result: this.done ? this.result() : undefined,
      final: this.final?.save(),
      state: this.st,
    });
  }

  static restore(share: DklsShare, bytes: Uint8Array): DklsSignParty {
    return decodeLocal("DKLs23 signing state", () => {
      const { run, body } = openSaved(bytes);
      const r: Reader = new Reader(body, null);
      const saved = decodeAll(savedSign, r);
      if (!equalBytes(saved.keyDigest, sha256(share.publicBytes()))) r.fail("state belongs to another key");
      if (saved.index !== share.index) r.fail("state belongs to another party");
      const st = saved.state;
      const options: SignOptions = { sid: saved.sid, signers: saved.signers };
      if (saved.messageHash) options.messageHash = saved.messageHash;
      if (saved.path !== undefined) options.path = saved.path;
      const party = new DklsSignParty(share, options, st);
      if ("peers" in st && !sameKeys(st.peers, party.peers)) r.fail("inconsistent signing state");
      if (saved.final) party.final = DklsFinishParty.restore(share, saved.final);
      party.restoreRun(run, st.step > 0, saved.result ? { value: saved.result } : undefined);
      return party;
    });
  }
}

/** Whether `map` has an entry for each of `keys` and no other. */
function sameKeys(map: Map<number, unknown>, keys: readonly number[]): boolean {
  return map.size === keys.length && keys.every((k) => map.has(k));
}

// Saved-state layout: each state's fields, declared once for save and restore.

const bobState: Codec<BobState> = { write: writeBobState, read: (r) => readBobState(r) };
const bobNonce = fixed(NONCE_BYTES);
const partyIndex = u8;

const signState = union<SignState, "step">("step", {
  0: record<Unstarted>({ step: literal(0) }),
  1: record<Committed>({
    step: literal(1),
    r: scalarOrZero,
    phi: scalarOrZero,
    R: point,
    nonce: fixed(32),
    peers: map(partyIndex, record<BobRun>({ bob: bobState, bobNonce }), MAX_PARTIES),
  }),
  2: record<Answered>({
    step: literal(2),
    r: scalarOrZero,
    phi: scalarOrZero,
    R: point,
    sk: scalarOrZero,
    pk: point,
    peers: map(
      partyIndex,
      record<PeerRun>({ bob: bobState, bobNonce, commitment: fixed(32), cu: scalarOrZero, cv: scalarOrZero }),
      MAX_PARTIES,
    ),
  }),
  3: record<Presigned>({ step: literal(3) }),
});

/** A finished run's output: none yet, a signature, or (without a message) a pre-signature. */
const outcome: Codec<Signature | Presignature | undefined> = {
  write: (w, result) => {
    w.u8(result === undefined ? 0 : "R" in result ? 2 : 1);
    if (result && "R" in result) writePresignature(w, result);
    else if (result) writeSignature(w, result);
  },
  read: (r) => {
    const kind = r.u8();
    if (kind === 0) return undefined;
    if (kind === 1) return readSignature(r);
    if (kind === 2) return readPresignature(r);
    return r.fail("bad result");
  },
};

const savedSign = record<{
  version: number;
  /** Digest of the key's public state. */
  keyDigest: Uint8Array;
  index: number;
  sid: Uint8Array;
  messageHash: Uint8Array | undefined;
  signers: number[];
  path: string | undefined;
  result: Signature | Presignature | undefined;
  /** The final round's own saved state, once it runs. */
  final: Uint8Array | undefined;
  state: SignState;
}>({
  version: version(STATE_VERSION),
  keyDigest: fixed(32),
  index: u8,
  sid: fixed(32),
  messageHash: optional(fixed(32)),
  signers: list(partyIndex, MAX_PARTIES),
  path: optional(string(MAX_PATH_LENGTH)),
  result: outcome,
  final: optional(bytesUpTo(1 << 12)),
  state: signState,
});
