/**
 * DKLs23 key set-up, for key generation and for refresh/reshare: the Shamir part — the Pedersen
 * DKG with proofs of knowledge (keygen), or a resharing of the existing key (refresh, reshare) —
 * is run by `frost`'s protocols on the plain secp256k1 suite, carried inside these messages; and
 * for every pair of parties of the (new) key, the set-up the signing multiplications reuse: base
 * OTs in both directions (the verified simplest OT) and a jointly random zero-sharing seed.
 * A refresh therefore also replaces every base OT (and lifts every ban).
 *
 *   round 1  i → j  Shamir round 1; as Bob (base-OT sender): B, proof; commitment to a seed half
 *   round 2  i → j  Shamir round 2; as Alice (base-OT receiver): Aₖ; opening of the seed half
 *   round 3  i → j  as Bob: challenges ξₖ
 *   round 4  i → j  as Alice: responses ρ′ₖ, digest of the challenges answered
 *   round 5  i → j  as Bob: openings H¹(ρ⁰ₖ), H¹(ρ¹ₖ)
 *   output          as Alice: check the openings; then, as Bob, end a run whose responses failed
 *
 * Messages are addressed by position in the run (the keygen index, or the position in a
 * reshare's member list); pairs are named by their index in the new key. A party that leaves
 * the key in a reshare only deals in round 1 and finishes with null.
 *
 * For the ordered pair (Bob = i, Alice = j) Bob is the base-OT sender and becomes the
 * OT-extension receiver when signing. Alice names Bob when his openings do not match her key or
 * the challenges she got. Bob names Alice when her responses fail on the challenges he sent (she
 * returns a digest of those she answered); when they fail on other challenges he cannot tell a
 * changed challenge from a false digest, so he still sends his openings — with which Alice names
 * him if his challenges were changed — and ends the run naming nobody.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { randomBytes } from "@noble/hashes/utils.js";
import { decodeLocal, Point, Reader, Writer } from "../codec/codec.js";
import { CURVES } from "../frost/curve.js";
import { KeygenParty } from "../frost/keygen.js";
import { type ReshareOptions, ReshareParty, readReshareOptions, writeReshareOptions } from "../frost/reshare.js";
import { FrostShare } from "../frost/share.js";
import { mulBase } from "../math/secp256k1.js";
import { KAPPA } from "../ot/kos.js";
import {
  readSenderKey,
  receiverChoose,
  receiverRespond,
  receiverVerify,
  type SenderKey,
  senderKey,
  senderKeys,
  senderVerify,
  writeSenderKey,
} from "../ot/vsot.js";
import { checkSid } from "../session/envelope.js";
import { checkIndex, checkThreshold, MultiPartyRoundParty } from "../session/multi-party.js";
import { check, type Msg, type Party } from "../session/party.js";
import { openSaved } from "../session/round-party.js";
import { commit, verifyOpening } from "../zk/commitment.js";
import { Transcript } from "../zk/transcript.js";
import { DklsShare, MAX_PARTIES, type PairSetup, pairSid } from "./share.js";

const STATE_VERSION = 1;
const ROUNDS = 5;

export interface KeygenOptions {
  sid: Uint8Array;
  index: number;
  n: number;
  t: number;
}

export type Plan =
  | { kind: "keygen"; options: KeygenOptions }
  | { kind: "reshare"; options: ReshareOptions; share: DklsShare | null };

/** What this party holds towards one peer while the set-up runs. */
interface PeerState {
  // As Bob (base-OT sender).
  bob: SenderKey;
  rho0?: Uint8Array[];
  rho1?: Uint8Array[];
  challenges?: Uint8Array[];
  openings?: [Uint8Array, Uint8Array][];
  /**
   * Whether the peer's responses checked. Responses failing on the challenges sent abort at
   * once, naming the peer; false is a failure on other challenges, which aborts naming nobody,
   * after the openings went out.
   */
  responsesOk?: boolean;
  // As Alice (base-OT receiver).
  choices: number[];
  bobKey?: Pick<SenderKey, "B" | "proof">;
  keys?: Uint8Array[];
  aliceChallenges?: Uint8Array[];
  // Zero-sharing seed.
  seedHalf: Uint8Array;
  seedNonce: Uint8Array;
  seedCommitment: Uint8Array;
  peerSeedCommitment?: Uint8Array;
  peerSeedHalf?: Uint8Array;
}

interface SetupState {
  step: number;
  shamir?: FrostShare;
  peers: Map<number, PeerState>;
}

/** The old key as a `frost` share on the plain secp256k1 suite, for its resharing protocol. */
function asFrostShare(share: DklsShare): FrostShare {
  return new FrostShare({
    curve: CURVES.secp256k1,
    index: share.index,
    n: share.n,
    t: share.t,
    signingShare: CURVES.secp256k1.Fn.toBytes(share.x),
    groupKey: share.publicKey.toBytes(true),
    verifyingShares: share.verifyingShares.map((X) => X.toBytes(true)),
    chainCode: share.chainCode,
  });
}

export class DklsSetupParty extends MultiPartyRoundParty<DklsShare | null> {
  /** Positions that hold a share of the new key (and run the pairwise set-up). */
  private readonly receivers: number[];
  private readonly newIndex: (position: number) => number;
  /** Positions that speak in the Shamir protocol's round 1 and 2. */
  private readonly shamirSpeakers: [number[], number[]];
  private shamir: Party<FrostShare | null> | undefined;

  constructor(
    private readonly plan: Plan,
    private st: SetupState = { step: 0, peers: new Map() },
    shamir?: Party<FrostShare | null> | null,
  ) {
    const { sid, index } = plan.options;
    super(index, `dkls23/${plan.kind}`, sid);
    checkSid(sid);
    if (plan.kind === "keygen") {
      const { n, t } = plan.options;
      checkThreshold(n, t, MAX_PARTIES);
      checkIndex(index, n);
      this.receivers = Array.from({ length: n }, (_, i) => i);
      this.newIndex = (p) => p;
      this.shamirSpeakers = [this.receivers, this.receivers];
      this.shamir = shamir === undefined ? new KeygenParty(CURVES.secp256k1, plan.options) : (shamir ?? undefined);
    } else {
      const { members, threshold } = plan.options;
      const inner =
        shamir === undefined
          ? new ReshareParty(CURVES.secp256k1, plan.share && asFrostShare(plan.share), plan.options)
          : shamir;
      this.receivers = members.flatMap((m, p) => (m.new !== null ? [p] : []));
      this.newIndex = (p) => (members[p] as { new: number }).new;
      checkThreshold(this.receivers.length, threshold, MAX_PARTIES);
      this.shamirSpeakers = [members.flatMap((m, p) => (m.old !== null ? [p] : [])), this.receivers];
      this.shamir = inner ?? undefined;
    }
  }

  private get isReceiver(): boolean {
    return this.receivers.includes(this.index);
  }
  private get peers(): number[] {
    return this.receivers.filter((p) => p !== this.index);
  }
  protected get step(): number {
    return this.st.step;
  }
  protected speakers(round: number): readonly number[] {
    if (round > 2) return this.receivers;
    return [...new Set([...(this.shamirSpeakers[round - 1] as number[]), ...this.receivers])];
  }
  protected get handlers(): Record<number, (from: Map<number, Reader>) => Msg[]> {
    return Object.fromEntries(
      Array.from({ length: ROUNDS }, (_, k) => [k + 1, (m: Map<number, Reader>) => this.round(k + 1, m)]),
    );
  }

  /** The base OTs with the party at position `bob` as sender and `alice` as receiver. */
  private otSession(bob: number, alice: number): { sid: Uint8Array; transcript: () => Transcript } {
    const [b, a] = [this.newIndex(bob), this.newIndex(alice)];
    const sid = pairSid(this.sid, b, a);
    return { sid, transcript: () => new Transcript("dkls23/setup/base-ot", sid, [b, a]) };
  }

  /**
   * One message per peer of the new key: the Shamir protocol's message for it (rounds 1–2) and
   * this round's set-up data (when this party holds a share of the new key).
   */
  private sendAll(round: number, shamirOut: Msg[], body: (w: Writer, peer: number, s: PeerState) => void): Msg[] {
    return this.receivers
      .filter((p) => p !== this.index)
      .map((p) =>
        this.sendTo(p, round, (w) => {
          if (round <= 2) {
            const inner = shamirOut.find((m) => m.to === p || m.to === null);
            w.optional(inner?.payload, (b) => w.bytes(b));
          }
          if (this.isReceiver) body(w, p, this.st.peers.get(p) as PeerState);
        }),
      );
  }

  protected onStart(): Msg[] {
    const shamirOut = (this.shamir as Party<FrostShare | null>).start();
    if (!this.isReceiver) {
      // Leaving the key: deal, and that is all.
      this.st = { step: ROUNDS + 1, peers: new Map() };
      this.shamir = undefined;
      this.finish(null);
      return this.sendAll(1, shamirOut, () => {});
    }
    for (const j of this.peers) {
      const seedHalf = randomBytes(32);
      const { commitment, opening } = commit(this.sid, this.index, seedHalf);
      this.st.peers.set(j, {
        bob: senderKey(this.otSession(this.index, j).transcript()),
        choices: Array.from(randomBytes(KAPPA), (b) => b & 1),
        seedHalf,
        seedNonce: opening.nonce,
        seedCommitment: commitment,
      });
    }
    this.st.step = 1;
    return this.sendAll(1, shamirOut, (w, _, s) => {
      writeSenderKey(w, s.bob);
      w.fixed(s.seedCommitment);
    });
  }

  private round(round: number, from: Map<number, Reader>): Msg[] {
    // The Shamir protocol's messages ride in rounds 1 and 2.
    let shamirOut: Msg[] = [];
    if (round <= 2) {
      const inner: Msg[] = [];
      for (const [p, r] of from) {
        const payload = r.optional(() => r.bytes(1 << 16));
        if (payload) inner.push({ from: p, to: this.index, payload });
      }
      shamirOut = (this.shamir as Party<FrostShare | null>).handle(inner);
    }
    for (const [j, r] of from) {
      if (this.receivers.includes(j)) this.receive(round, j, r);
      r.end();
    }
    if (round === 2) {
      this.st.shamir = (this.shamir as Party<FrostShare | null>).result() as FrostShare;
      this.shamir = undefined;
    }
    this.st.step = round + 1;
    if (round === ROUNDS) return this.finishSetup();
    return this.sendAll(round + 1, shamirOut, (w, j, s) => this.write(round + 1, w, j, s));
  }

  /** Reads and checks peer j's part of `round`. */
  private receive(round: number, j: number, r: Reader): void {
    const s = this.st.peers.get(j) as PeerState;
    switch (round) {
      case 1: {
        s.bobKey = readSenderKey(r);
        s.peerSeedCommitment = r.fixed(32);
        break;
      }
      case 2: {
        const A = Array.from({ length: KAPPA }, () => r.point());
        const nonce = r.fixed(32);
        const half = r.fixed(32);
        check(
          verifyOpening(this.sid, j, s.peerSeedCommitment as Uint8Array, { nonce, message: half }),
          j,
          "zero-sharing seed opening does not match",
        );
        s.peerSeedHalf = half;
        const keys = senderKeys(this.otSession(this.index, j).sid, s.bob, A);
        check(keys.ok, j, "base OT: invalid receiver message");
        if (keys.ok) {
          s.rho0 = keys.rho0;
          s.rho1 = keys.rho1;
          s.challenges = keys.challenges;
        }
        break;
      }
      case 3: {
        s.aliceChallenges = Array.from({ length: KAPPA }, () => r.fixed(32));
        break;
      }
      case 4: {
        const responses = Array.from({ length: KAPPA }, () => r.fixed(32));
        const digest = r.fixed(32);
        const verified = senderVerify(
          this.otSession(this.index, j).sid,
          s.rho0 as Uint8Array[],
          s.rho1 as Uint8Array[],
          s.challenges as Uint8Array[],
          responses,
          digest,
        );
        check(verified.verdict !== "receiver", j, "base OT: receiver answered for the wrong key");
        s.responsesOk = verified.verdict === "ok";
        s.openings = verified.openings;
        break;
      }
      case 5: {
        const openings = Array.from({ length: KAPPA }, () => [r.fixed(32), r.fixed(32)] as [Uint8Array, Uint8Array]);
        check(
          receiverVerify(
            this.otSession(j, this.index).sid,
            s.keys as Uint8Array[],
            s.choices,
            s.aliceChallenges as Uint8Array[],
            openings,
          ),
          j,
          "base OT: sender's openings do not match",
        );
        break;
      }
    }
  }

  /** This party's part of `round` for peer j. */
  private write(round: number, w: Writer, j: number, s: PeerState): void {
    switch (round) {
      case 2: {
        const chosen = receiverChoose(
          this.otSession(j, this.index).transcript(),
          this.otSession(j, this.index).sid,
          s.bobKey as Pick<SenderKey, "B" | "proof">,
          s.choices,
        );
        check(chosen.ok, j, "base OT: proof of the sender's key failed");
        if (!chosen.ok) return;
        s.keys = chosen.keys;
        for (const A of chosen.A) w.point(A);
        w.fixed(s.seedNonce);
        w.fixed(s.seedHalf);
        break;
      }
      case 3:
        for (const c of s.challenges as Uint8Array[]) w.fixed(c);
        break;
      case 4: {
        const { responses, digest } = receiverRespond(
          this.otSession(j, this.index).sid,
          s.keys as Uint8Array[],
          s.choices,
          s.aliceChallenges as Uint8Array[],
        );
        for (const c of responses) w.fixed(c);
        w.fixed(digest);
        break;
      }
      case 5:
        for (const [o0, o1] of s.openings as [Uint8Array, Uint8Array][]) {
          w.fixed(o0);
          w.fixed(o1);
        }
        break;
    }
  }

  private finishSetup(): Msg[] {
    // Only now, after checking the openings received (a failure there names its sender first).
    for (const j of this.peers) {
      check(
        (this.st.peers.get(j) as PeerState).responsesOk === true,
        null,
        "base OT: a receiver's responses failed on challenges other than those sent",
      );
    }
    const shamir = this.st.shamir as FrostShare;
    const pairs = new Map<number, PairSetup>();
    for (const j of this.peers) {
      const s = this.st.peers.get(j) as PeerState;
      const halves = this.index < j ? [s.seedHalf, s.peerSeedHalf] : [s.peerSeedHalf, s.seedHalf];
      const w = new Writer();
      w.string("keyshard/dkls23/zero-seed/v1");
      for (const h of halves) w.fixed(h as Uint8Array);
      pairs.set(this.newIndex(j), {
        zeroSeed: sha256(w.finish()),
        asBob: { seeds0: s.rho0 as Uint8Array[], seeds1: s.rho1 as Uint8Array[] },
        asAlice: { delta: Uint8Array.from(s.choices), seeds: s.keys as Uint8Array[] },
        banned: false,
      });
    }
    const share = new DklsShare({
      index: shamir.index,
      n: shamir.n,
      t: shamir.t,
      x: CURVES.secp256k1.Fn.fromBytes(shamir.signingShare),
      publicKey: Point.fromBytes(shamir.groupKey),
      verifyingShares: shamir.verifyingShares.map((y) => Point.fromBytes(y)),
      chainCode: shamir.chainCode,
      setupSid: this.sid,
      pairs,
    });
    this.st = { step: ROUNDS + 1, peers: new Map() };
    this.finish(share);
    return [];
  }

  protected saveState(): Uint8Array {
    const w = new Writer();
    const st = this.st;
    w.u8(STATE_VERSION);
    writePlan(w, this.plan);
    w.u8(st.step);
    w.bool(this.done);
    w.optional(this.done ? (this.result()?.toBytes() ?? undefined) : undefined, (b) => w.bytes(b));
    w.optional(this.shamir?.save(), (b) => w.bytes(b));
    w.optional(st.shamir?.toBytes(), (b) => w.bytes(b));
    const list = (items: Uint8Array[] | undefined) => w.optional(items, (xs) => w.list(xs, (w, x) => w.fixed(x)));
    w.list([...st.peers], (w, [j, p]) => {
      w.u8(j);
      w.scalar(p.bob.b);
      writeSenderKey(w, p.bob);
      list(p.rho0);
      list(p.rho1);
      list(p.challenges);
      list(p.openings?.flat());
      w.optional(p.responsesOk, (ok) => w.bool(ok));
      w.fixed(Uint8Array.from(p.choices));
      w.optional(p.bobKey, (k) => writeSenderKey(w, k));
      list(p.keys);
      list(p.aliceChallenges);
      w.fixed(p.seedHalf);
      w.fixed(p.seedNonce);
      w.fixed(p.seedCommitment);
      w.optional(p.peerSeedCommitment, (b) => w.fixed(b));
      w.optional(p.peerSeedHalf, (b) => w.fixed(b));
    });
    return w.finish();
  }

  static restore(bytes: Uint8Array, share: DklsShare | null = null): DklsSetupParty {
    return decodeLocal("DKLs23 set-up state", () => {
      const { run, body } = openSaved(bytes);
      const r = new Reader(body, null);
      if (r.u8() !== STATE_VERSION) r.fail("unknown state version");
      const plan = readPlan(r, share);
      const step = r.u8();
      const done = r.bool();
      const result = r.optional(() => DklsShare.fromBytes(r.bytes(1 << 22)));
      const shamirState = r.optional(() => r.bytes(1 << 20));
      const shamir = r.optional(() => FrostShare.fromBytes(r.bytes(1 << 16)));
      const list = () => r.optional(() => r.list(2 * KAPPA, (r) => r.fixed(32)));
      const peers = new Map(
        r.list(MAX_PARTIES, (r) => {
          const j = r.u8();
          const b = r.scalar();
          const bob = { b, ...readSenderKey(r) };
          const p: PeerState = {
            bob,
            choices: [],
            seedHalf: new Uint8Array(0),
            seedNonce: new Uint8Array(0),
            seedCommitment: new Uint8Array(0),
          };
          const rho0 = list();
          const rho1 = list();
          const challenges = list();
          const openings = list();
          const responsesOk = r.optional(() => r.bool());
          if (responsesOk !== undefined) p.responsesOk = responsesOk;
          if (rho0) p.rho0 = rho0;
          if (rho1) p.rho1 = rho1;
          if (challenges) p.challenges = challenges;
          if (openings)
            p.openings = Array.from(
              { length: openings.length / 2 },
              (_, k) => [openings[2 * k], openings[2 * k + 1]] as [Uint8Array, Uint8Array],
            );
          p.choices = Array.from(r.fixed(KAPPA));
          const bobKey = r.optional(() => readSenderKey(r));
          if (bobKey) p.bobKey = bobKey;
          const keys = list();
          const aliceChallenges = list();
          if (keys) p.keys = keys;
          if (aliceChallenges) p.aliceChallenges = aliceChallenges;
          p.seedHalf = r.fixed(32);
          p.seedNonce = r.fixed(32);
          p.seedCommitment = r.fixed(32);
          const peerSeedCommitment = r.optional(() => r.fixed(32));
          if (peerSeedCommitment) p.peerSeedCommitment = peerSeedCommitment;
          const peerSeedHalf = r.optional(() => r.fixed(32));
          if (peerSeedHalf) p.peerSeedHalf = peerSeedHalf;
          if (p.choices.some((c) => c > 1) || !bob.B.equals(mulBase(b))) r.fail("inconsistent state");
          return [j, p] as const;
        }),
      );
      r.end();
      const st: SetupState = { step, peers };
      if (shamir) st.shamir = shamir;
      const curveOf = () => CURVES.secp256k1;
      const inner = shamirState
        ? plan.kind === "keygen"
          ? KeygenParty.restore(curveOf, shamirState)
          : ReshareParty.restore(curveOf, shamirState)
        : null;
      const party = new DklsSetupParty(plan, st, inner);
      party.restoreRun(run, step > 0, done ? { value: result ?? null } : undefined);
      return party;
    });
  }
}

function writePlan(w: Writer, plan: Plan): void {
  w.string(plan.kind);
  if (plan.kind === "keygen") {
    const o = plan.options;
    w.fixed(o.sid);
    w.u8(o.index);
    w.u8(o.n);
    w.u8(o.t);
  } else {
    writeReshareOptions(w, plan.options);
  }
}

/** The plan a state was saved under; a reshare's dealer share is not in the state (nor needed:
 *  it is used only in round 1, before any save). */
function readPlan(r: Reader, share: DklsShare | null): Plan {
  const kind = r.string(16);
  if (kind === "keygen") return { kind, options: { sid: r.fixed(32), index: r.u8(), n: r.u8(), t: r.u8() } };
  if (kind === "reshare") return { kind, options: readReshareOptions(r), share };
  return r.fail("unknown set-up kind");
}
