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
import { hashToScalar, readSignature, type Signature, writeSignature } from "../ecdsa/signature.js";
import { CURVES } from "../frost/curve.js";
import { lagrangeAt } from "../frost/polynomial.js";
import { derive, MAX_PATH_LENGTH } from "../hd/derive.js";
import { mod, randomBelow } from "../math/bigint.js";
import { mul, mulBase } from "../math/secp256k1.js";
import { checkSid, equalBytes } from "../session/envelope.js";
import { checkSignerSet, MultiPartyRoundParty } from "../session/multi-party.js";
import { check, type Msg, ProtocolAbort } from "../session/party.js";
import { openSaved } from "../session/round-party.js";
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
import { type DklsShare, pairSid } from "./share.js";

const STATE_VERSION = 2;
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

interface PeerRun {
  bob: BobState;
  /** This party's fresh contribution to the session of its multiplication as Bob (round 1). */
  bobNonce: Uint8Array;
  /** The peer's commitment to its nonce point (round 1). */
  commitment?: Uint8Array;
  /** As Alice with this peer (round 2): her shares of χⱼᵢ·(rᵢ, skᵢ). */
  c?: bigint[];
}

interface SignState {
  step: number;
  r: bigint;
  phi: bigint;
  R: Point;
  nonce: Uint8Array;
  peers: Map<number, PeerRun>;
  /** Round 2 on: this party's additive key share skᵢ and pkᵢ = skᵢ·G. */
  sk?: bigint;
  pk?: Point;
}

export class DklsSignParty extends MultiPartyRoundParty<Signature | Presignature> {
  private readonly signers: number[];
  private readonly peers: number[];
  private readonly tweak: bigint;
  private readonly childKey: Point;
  private st: SignState | undefined;
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
    this.st = st;
  }

  protected get step(): number {
    return this.st?.step ?? 0;
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
    return { 1: (m) => this.round2(m), 2: (m) => this.presignature(m) };
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
    const peers = new Map<number, PeerRun>();
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

  private round2(from: Map<number, Reader>): Msg[] {
    const st = this.st as SignState;
    const lambda = lagrangeAt(CURVES.secp256k1, this.signers, this.index);
    const sk = mod(lambda * (this.share.x + this.tweak) + this.zeroShare(), CURVE_ORDER);
    const pk = mulBase(sk);
    st.sk = sk;
    st.pk = pk;
    const out: Msg[] = [];
    const context = this.context();
    for (const [j, rd] of from) {
      this.refuseBanned(j);
      check(equalBytes(rd.fixed(32), context), j, "signs with another key state, signer set or path");
      const peer = st.peers.get(j) as PeerRun;
      peer.commitment = rd.fixed(32);
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
      peer.c = answered.c;
      const [cu, cv] = answered.c as [bigint, bigint];
      out.push(
        this.sendTo(j, 2, (w) => {
          writeAliceReply(w, answered.reply);
          w.point(mulBase(cu));
          w.point(mulBase(cv));
          w.scalar(mod(st.phi - peer.bob.b, CURVE_ORDER));
          w.point(pk);
          w.point(st.R);
          w.fixed(st.nonce);
        }),
      );
    }
    st.step = 2;
    return out;
  }

  /** After round 2: every check, then the pre-signature; with a message, round 3 starts. */
  private presignature(from: Map<number, Reader>): Msg[] {
    const st = this.st as SignState;
    const sk = st.sk as bigint;
    let Phi = st.phi;
    let uSum = 0n;
    let vSum = 0n;
    const Rs = new Map<number, Point>([[this.index, st.R]]);
    const pks = new Map<number, Point>([[this.index, st.pk as Point]]);
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
      const peer = st.peers.get(j) as PeerRun;
      check(
        verifyOpening(this.sid, j, peer.commitment as Uint8Array, { nonce, message: R.toBytes(true) }),
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
      const [cu, cv] = peer.c as [bigint, bigint];
      Phi += psi;
      uSum += cu + du;
      vSum += cv + dv;
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
    this.st = { ...st, step: 3, r: 0n, phi: 0n, sk: 0n, peers: new Map() };
    if (!this.options.messageHash) {
      // Listed in the share until it signs: persist the share with the pre-signature.
      this.finish({ ...pre, id: this.share.issuePresignature() });
      return [];
    }
    this.final = DklsFinishParty.inRun(this.share, pre, this.options.messageHash);
    return this.final.start();
  }

  protected saveState(): Uint8Array {
    const w = new Writer();
    w.u8(STATE_VERSION);
    w.fixed(sha256(this.share.publicBytes()));
    w.u8(this.index);
    w.fixed(this.sid);
    w.optional(this.options.messageHash, (h) => w.fixed(h));
    w.list(this.signers, (w, s) => w.u8(s));
    w.optional(this.options.path, (p) => w.string(p));
    const result = this.done ? this.result() : undefined;
    w.u8(result === undefined ? 0 : "R" in result ? 2 : 1);
    if (result && "R" in result) writePresignature(w, result);
    else if (result) writeSignature(w, result);
    w.optional(this.final?.save(), (b) => w.bytes(b));
    w.optional(this.st, (st) => {
      w.u8(st.step);
      w.scalar(st.r);
      w.scalar(st.phi);
      w.point(st.R);
      w.fixed(st.nonce);
      w.list([...st.peers], (w, [j, p]) => {
        w.u8(j);
        writeBobState(w, p.bob);
        w.fixed(p.bobNonce);
        w.optional(p.commitment, (c) => w.fixed(c));
        w.optional(p.c, (c) => {
          for (const x of c) w.scalar(x);
        });
      });
      w.optional(st.sk, (x) => w.scalar(x));
      w.optional(st.pk, (p) => w.point(p));
    });
    return w.finish();
  }

  static restore(share: DklsShare, bytes: Uint8Array): DklsSignParty {
    return decodeLocal("DKLs23 signing state", () => {
      const { run, body } = openSaved(bytes);
      const r = new Reader(body, null);
      if (r.u8() !== STATE_VERSION) r.fail("unknown state version");
      if (!equalBytes(r.fixed(32), sha256(share.publicBytes()))) r.fail("state belongs to another key");
      if (r.u8() !== share.index) r.fail("state belongs to another party");
      const sid = r.fixed(32);
      const messageHash = r.optional(() => r.fixed(32));
      const signers = r.list(share.n, (r) => r.u8());
      const path = r.optional(() => r.string(MAX_PATH_LENGTH));
      const kind = r.u8();
      const result =
        kind === 0
          ? undefined
          : kind === 1
            ? readSignature(r)
            : kind === 2
              ? readPresignature(r)
              : r.fail("bad result");
      const final = r.optional(() => r.bytes(1 << 12));
      const st = r.optional(() => {
        const step = r.u8();
        const state: SignState = {
          step,
          r: r.scalar(true),
          phi: r.scalar(true),
          R: r.point(),
          nonce: r.fixed(32),
          peers: new Map(
            r.list(share.n, (r) => {
              const j = r.u8();
              const bob = readBobState(r);
              const peer: PeerRun = { bob, bobNonce: r.fixed(NONCE_BYTES) };
              const commitment = r.optional(() => r.fixed(32));
              if (commitment) peer.commitment = commitment;
              const c = r.optional(() => [r.scalar(true), r.scalar(true)]);
              if (c) peer.c = c;
              return [j, peer] as const;
            }),
          ),
        };
        const sk = r.optional(() => r.scalar(true));
        if (sk !== undefined) state.sk = sk;
        const pk = r.optional(() => r.point());
        if (pk) state.pk = pk;
        if ((sk === undefined) !== (pk === undefined)) r.fail("inconsistent signing state");
        return state;
      });
      r.end();
      const options: SignOptions = { sid, signers };
      if (messageHash) options.messageHash = messageHash;
      if (path !== undefined) options.path = path;
      const party = new DklsSignParty(share, options, st);
      if (final) party.final = DklsFinishParty.restore(share, final);
      party.restoreRun(run, st !== undefined, result ? { value: result } : undefined);
      return party;
    });
  }
}
