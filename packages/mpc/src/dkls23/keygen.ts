/**
 * DKLs23 key generation: the Pedersen DKG with proofs of knowledge (run by `frost`'s key
 * generation on the plain secp256k1 suite, carried inside these messages), and for every pair of
 * parties the set-up the signing multiplications reuse — base OTs in both directions (the
 * verified simplest OT) and a jointly random zero-sharing seed.
 *
 *   round 1  i → j  DKG round 1; as Bob (base-OT sender): B, proof; commitment to a seed half
 *   round 2  i → j  DKG round 2; as Alice (base-OT receiver): Aₖ; opening of the seed half
 *   round 3  i → j  as Bob: challenges ξₖ
 *   round 4  i → j  as Alice: responses ρ′ₖ
 *   round 5  i → j  as Bob: openings H¹(ρ⁰ₖ), H¹(ρ¹ₖ)
 *   output          as Alice: check the openings; then, as Bob, the round-4 responses
 *
 * For the ordered pair (Bob = i, Alice = j) Bob is the base-OT sender and becomes the
 * OT-extension receiver when signing. A failed base-OT check names the peer. Bob sends his
 * openings even when Alice's responses failed, and acts on that only after checking the
 * openings he received: a Bob who sent bad challenges is then named by his Alice, not the reverse.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { randomBytes } from "@noble/hashes/utils.js";
import { decodeLocal, Point, Reader, Writer } from "../codec/codec.js";
import { CURVES } from "../frost/curve.js";
import { KeygenParty } from "../frost/keygen.js";
import { FrostShare } from "../frost/share.js";
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
import { MultiPartyRoundParty } from "../session/multi-party.js";
import { check, type Msg } from "../session/party.js";
import { commit, verifyOpening } from "../zk/commitment.js";
import { Transcript } from "../zk/transcript.js";
import { checkThreshold, DklsShare, MAX_PARTIES, type PairSetup, pairSid } from "./share.js";

const STATE_VERSION = 1;
const ROUNDS = 5;

export interface KeygenOptions {
  sid: Uint8Array;
  index: number;
  n: number;
  t: number;
}

/** What this party holds towards one peer while the set-up runs. */
interface PeerState {
  // As Bob (base-OT sender).
  bob: SenderKey;
  rho0?: Uint8Array[];
  rho1?: Uint8Array[];
  challenges?: Uint8Array[];
  openings?: [Uint8Array, Uint8Array][];
  /** Whether the peer's responses checked; acted on only after the openings went out. */
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

interface KeygenState {
  step: number;
  dkg?: Uint8Array; // the DKG party's saved state, while it runs
  frost?: FrostShare;
  peers: Map<number, PeerState>;
}

export class DklsKeygenParty extends MultiPartyRoundParty<DklsShare> {
  private readonly parties: number[];
  private dkg: KeygenParty | undefined;

  constructor(
    private readonly options: KeygenOptions,
    private st: KeygenState = { step: 0, peers: new Map() },
    dkg?: KeygenParty,
  ) {
    super(options.index, "dkls23/keygen", options.sid);
    checkSid(options.sid);
    checkThreshold(options.n, options.t);
    if (!Number.isInteger(options.index) || options.index < 0 || options.index >= options.n) {
      throw new RangeError("index out of range");
    }
    this.parties = Array.from({ length: options.n }, (_, i) => i);
    this.dkg = dkg ?? new KeygenParty(CURVES.secp256k1, options);
  }

  private get peers(): number[] {
    return this.parties.filter((j) => j !== this.index);
  }
  protected get step(): number {
    return this.st.step;
  }
  protected speakers(): readonly number[] {
    return this.parties;
  }
  protected get handlers(): Record<number, (from: Map<number, Reader>) => Msg[]> {
    return Object.fromEntries(
      Array.from({ length: ROUNDS }, (_, k) => [k + 1, (m: Map<number, Reader>) => this.round(k + 1, m)]),
    );
  }

  /** The base OTs with `bob` as sender and `alice` as receiver. */
  private otSession(bob: number, alice: number): { sid: Uint8Array; transcript: () => Transcript } {
    const sid = pairSid(this.sid, bob, alice);
    return { sid, transcript: () => new Transcript("dkls23/keygen/base-ot", sid, [bob, alice]) };
  }

  /** One message per peer: the DKG's message for it (rounds 1–2) and this round's set-up data. */
  private sendAll(round: number, dkgOut: Msg[], body: (w: Writer, peer: number, s: PeerState) => void): Msg[] {
    return this.peers.map((j) =>
      this.sendTo(j, round, (w) => {
        if (round <= 2) {
          const inner = dkgOut.find((m) => m.to === j || m.to === null) as Msg;
          w.bytes(inner.payload);
        }
        body(w, j, this.st.peers.get(j) as PeerState);
      }),
    );
  }

  protected onStart(): Msg[] {
    const dkgOut = (this.dkg as KeygenParty).start();
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
    return this.sendAll(1, dkgOut, (w, _, s) => {
      writeSenderKey(w, s.bob);
      w.fixed(s.seedCommitment);
    });
  }

  private round(round: number, from: Map<number, Reader>): Msg[] {
    // The DKG's messages ride in rounds 1 and 2.
    let dkgOut: Msg[] = [];
    if (round <= 2) {
      const inner = [...from].map(([j, r]) => ({ from: j, to: this.index, payload: r.bytes(1 << 16) }));
      dkgOut = (this.dkg as KeygenParty).handle(inner);
    }
    for (const [j, r] of from) this.receive(round, j, r);
    if (round === 2) {
      this.st.frost = (this.dkg as KeygenParty).result();
      this.dkg = undefined;
    }
    this.st.step = round + 1;
    if (round === ROUNDS) return this.finishKeygen();
    return this.sendAll(round + 1, dkgOut, (w, j, s) => this.write(round + 1, w, j, s));
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
        const verified = senderVerify(
          this.otSession(this.index, j).sid,
          s.rho0 as Uint8Array[],
          s.rho1 as Uint8Array[],
          responses,
        );
        s.responsesOk = verified.ok;
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
    r.end();
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
      case 4:
        for (const c of receiverRespond(
          this.otSession(j, this.index).sid,
          s.keys as Uint8Array[],
          s.choices,
          s.aliceChallenges as Uint8Array[],
        )) {
          w.fixed(c);
        }
        break;
      case 5:
        for (const [o0, o1] of s.openings as [Uint8Array, Uint8Array][]) {
          w.fixed(o0);
          w.fixed(o1);
        }
        break;
    }
  }

  private finishKeygen(): Msg[] {
    for (const j of this.peers) {
      check(
        (this.st.peers.get(j) as PeerState).responsesOk === true,
        j,
        "base OT: receiver answered for the wrong key",
      );
    }
    const frost = this.st.frost as FrostShare;
    const pairs = new Map<number, PairSetup>();
    for (const j of this.peers) {
      const s = this.st.peers.get(j) as PeerState;
      const halves = this.index < j ? [s.seedHalf, s.peerSeedHalf] : [s.peerSeedHalf, s.seedHalf];
      const w = new Writer();
      w.string("keyshard/dkls23/zero-seed/v1");
      for (const h of halves) w.fixed(h as Uint8Array);
      pairs.set(j, {
        zeroSeed: sha256(w.finish()),
        asBob: { seeds0: s.rho0 as Uint8Array[], seeds1: s.rho1 as Uint8Array[] },
        asAlice: { delta: Uint8Array.from(s.choices), seeds: s.keys as Uint8Array[] },
        banned: false,
      });
    }
    const share = new DklsShare({
      index: this.index,
      n: this.options.n,
      t: this.options.t,
      x: CURVES.secp256k1.Fn.fromBytes(frost.signingShare),
      publicKey: Point.fromBytes(frost.groupKey),
      verifyingShares: frost.verifyingShares.map((y) => Point.fromBytes(y)),
      chainCode: frost.chainCode,
      keygenSid: this.sid,
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
    w.fixed(this.sid);
    w.u8(this.options.n);
    w.u8(this.options.t);
    w.u8(this.index);
    w.u8(st.step);
    w.optional(this.done ? this.result().toBytes() : undefined, (b) => w.bytes(b));
    w.optional(this.dkg?.save(), (b) => w.bytes(b));
    w.optional(st.frost?.toBytes(), (b) => w.bytes(b));
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

  static restore(bytes: Uint8Array): DklsKeygenParty {
    return decodeLocal("DKLs23 keygen state", () => {
      const r = new Reader(bytes, null);
      if (r.u8() !== STATE_VERSION) r.fail("unknown state version");
      const sid = r.fixed(32);
      const n = r.u8();
      const t = r.u8();
      const index = r.u8();
      const step = r.u8();
      const result = r.optional(() => DklsShare.fromBytes(r.bytes(1 << 22)));
      const dkgState = r.optional(() => r.bytes(1 << 20));
      const frost = r.optional(() => FrostShare.fromBytes(r.bytes(1 << 16)));
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
          if (p.choices.some((c) => c > 1) || !bob.B.equals(Point.BASE.multiply(b))) r.fail("inconsistent state");
          return [j, p] as const;
        }),
      );
      r.end();
      const st: KeygenState = { step, peers };
      if (frost) st.frost = frost;
      const dkg = dkgState ? KeygenParty.restore(() => CURVES.secp256k1, dkgState) : undefined;
      const party = new DklsKeygenParty({ sid, index, n, t }, st, dkg);
      if (!dkg) party.dkg = undefined;
      party.restoreFlags(step > 0, result ? { value: result } : undefined);
      return party;
    });
  }
}
