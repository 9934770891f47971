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
import {
  bool,
  bytesUpTo,
  type Codec,
  decodeAll,
  fixed,
  list,
  literal,
  map,
  optional,
  record,
  u8,
  union,
  version,
} from "../codec/schema.js";
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
import { check, type Msg, type Party, ProtocolAbort } from "../session/party.js";
import { openSaved, stateAt } from "../session/round-party.js";
import { commit, verifyOpening } from "../zk/commitment.js";
import { Transcript } from "../zk/transcript.js";
import { DklsShare, MAX_PARTIES, type PairSetup, pairSid } from "./share.js";

/** The saved state's format, typed by step: a state saved in another format is refused on restore. */
const STATE_VERSION = 2;
/** The step of a finished run: after its five rounds. */
const FINISHED = 6;

export interface KeygenOptions {
  sid: Uint8Array;
  index: number;
  n: number;
  t: number;
}

export type Plan =
  | { kind: "keygen"; options: KeygenOptions }
  | { kind: "reshare"; options: ReshareOptions; share: DklsShare | null };

/**
 * What this party holds towards one peer, by step. As Bob it is the base-OT sender, as Alice the
 * receiver; the seed halves make the pair's zero-sharing seed.
 */
interface PeerCommitted {
  /** As Bob: the sender key sent in round 1. */
  bob: SenderKey;
  /** As Alice: the secret choice bits. */
  choices: number[];
  /** This party's seed half, the opening and the commitment sent in round 1. */
  seedHalf: Uint8Array;
  seedNonce: Uint8Array;
  seedCommitment: Uint8Array;
}

interface PeerChosen {
  bob: SenderKey;
  choices: number[];
  /** As Alice: her keys ρ^ωₖ. */
  keys: Uint8Array[];
  seedHalf: Uint8Array;
  peerSeedCommitment: Uint8Array;
}

interface PeerChallenged {
  /** As Bob: both keys of every OT and the challenges sent in round 3. */
  rho0: Uint8Array[];
  rho1: Uint8Array[];
  challenges: Uint8Array[];
  choices: number[];
  keys: Uint8Array[];
  seedHalf: Uint8Array;
  peerSeedHalf: Uint8Array;
}

interface PeerResponded {
  rho0: Uint8Array[];
  rho1: Uint8Array[];
  challenges: Uint8Array[];
  choices: number[];
  keys: Uint8Array[];
  /** As Alice: the challenges answered in round 4. */
  aliceChallenges: Uint8Array[];
  seedHalf: Uint8Array;
  peerSeedHalf: Uint8Array;
}

interface PeerOpened {
  rho0: Uint8Array[];
  rho1: Uint8Array[];
  choices: number[];
  keys: Uint8Array[];
  aliceChallenges: Uint8Array[];
  /**
   * Whether the peer's responses checked. Responses failing on the challenges sent abort at
   * once, naming the peer; false is a failure on other challenges, which aborts naming nobody,
   * after the openings went out.
   */
  responsesOk: boolean;
  seedHalf: Uint8Array;
  peerSeedHalf: Uint8Array;
}

/** Before round 1. */
interface Unstarted {
  step: 0;
}
/** After round 1: base-OT sender keys and seed commitments are out. */
interface Committed {
  step: 1;
  peers: Map<number, PeerCommitted>;
}
/** After round 2: as Alice, choices made; seed halves opened. */
interface Chosen {
  step: 2;
  peers: Map<number, PeerChosen>;
}
/** After round 3: the Shamir part is done; as Bob, challenges sent. */
interface Challenged {
  step: 3;
  shamir: FrostShare;
  peers: Map<number, PeerChallenged>;
}
/** After round 4: as Alice, responses sent. */
interface Responded {
  step: 4;
  shamir: FrostShare;
  peers: Map<number, PeerResponded>;
}
/** After round 5: as Bob, openings sent. */
interface Opened {
  step: 5;
  shamir: FrostShare;
  peers: Map<number, PeerOpened>;
}
/** Finished: with a share of the new key, or none (a party leaving the key). */
interface Finished {
  step: typeof FINISHED;
  share: DklsShare | undefined;
}

type SetupState = Unstarted | Committed | Chosen | Challenged | Responded | Opened | Finished;

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
    private st: SetupState = { step: 0 },
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
    return {
      1: (m) => this.round1(stateAt(this.st, 1), m),
      2: (m) => this.round2(stateAt(this.st, 2), m),
      3: (m) => this.round3(stateAt(this.st, 3), m),
      4: (m) => this.round4(stateAt(this.st, 4), m),
      5: (m) => this.round5(stateAt(this.st, 5), m),
    };
  }

  /** The base OTs with the party at position `bob` as sender and `alice` as receiver. */
  private otSession(bob: number, alice: number): { sid: Uint8Array; transcript: () => Transcript } {
    const [b, a] = [this.newIndex(bob), this.newIndex(alice)];
    const sid = pairSid(this.sid, b, a);
    return { sid, transcript: () => new Transcript("dkls23/setup/base-ot", sid, [b, a]) };
  }

  /** The Shamir protocol's run, while it lasts (rounds 0–2). */
  private get shamirRun(): Party<FrostShare | null> {
    const run = this.shamir;
    if (!run) throw new ProtocolAbort(null, "the Shamir part has ended");
    return run;
  }

  /**
   * One message per peer of the new key: the Shamir protocol's message for it (rounds 1–2) and
   * this round's set-up data, which `body` writes.
   */
  private sendAll(round: number, shamirOut: Msg[], body: (w: Writer, peer: number) => void): Msg[] {
    return this.peers.map((p) =>
      this.sendTo(p, round, (w) => {
        if (round <= 2) {
          const inner = shamirOut.find((m) => m.to === p || m.to === null);
          w.optional(inner?.payload, (b) => w.bytes(b));
        }
        body(w, p);
      }),
    );
  }

  /** Hands the Shamir protocol its messages, which ride in rounds 1 and 2, before anything else is read. */
  private shamirRound(from: Map<number, Reader>): Msg[] {
    const inner: Msg[] = [];
    for (const [p, r] of from) {
      const payload = r.optional(() => r.bytes(1 << 16));
      if (payload) inner.push({ from: p, to: this.index, payload });
    }
    return this.shamirRun.handle(inner);
  }

  /** Reads and checks, in speaking order, each peer's part of a round (the others' messages
   *  carry Shamir data only). */
  private receiveAll<T>(from: Map<number, Reader>, read: (j: number, r: Reader) => T): Map<number, T> {
    const heard = new Map<number, T>();
    for (const [j, r] of from) {
      if (this.receivers.includes(j)) heard.set(j, read(j, r));
      r.end();
    }
    return heard;
  }

  protected onStart(): Msg[] {
    const shamirOut = this.shamirRun.start();
    if (!this.isReceiver) {
      // Leaving the key: deal, and that is all.
      this.st = { step: FINISHED, share: undefined };
      this.shamir = undefined;
      this.finish(null);
      return this.sendAll(1, shamirOut, () => {});
    }
    // Round 1: as Bob, the base-OT sender key; a commitment to this party's seed half.
    const peers = new Map<number, PeerCommitted>();
    for (const j of this.peers) {
      const seedHalf = randomBytes(32);
      const { commitment, opening } = commit(this.sid, this.index, seedHalf);
      peers.set(j, {
        bob: senderKey(this.otSession(this.index, j).transcript()),
        choices: Array.from(randomBytes(KAPPA), (b) => b & 1),
        seedHalf,
        seedNonce: opening.nonce,
        seedCommitment: commitment,
      });
    }
    this.st = { step: 1, peers };
    return this.sendAll(1, shamirOut, (w, j) => {
      const s = peerState(peers, j);
      writeSenderKey(w, s.bob);
      w.fixed(s.seedCommitment);
    });
  }

  /** Round 2: as Alice, check Bob's key and choose; open the seed half. */
  private round1(st: Committed, from: Map<number, Reader>): Msg[] {
    const shamirOut = this.shamirRound(from);
    const heard = this.receiveAll(from, (_, r) => ({ bobKey: readSenderKey(r), peerSeedCommitment: r.fixed(32) }));
    const peers = new Map<number, PeerChosen>();
    const out = this.sendAll(2, shamirOut, (w, j) => {
      const s = peerState(st.peers, j);
      const { bobKey, peerSeedCommitment } = peerState(heard, j);
      const session = this.otSession(j, this.index);
      const chosen = receiverChoose(session.transcript(), session.sid, bobKey, s.choices);
      check(chosen.ok, j, "base OT: proof of the sender's key failed");
      for (const A of chosen.A) w.point(A);
      w.fixed(s.seedNonce);
      w.fixed(s.seedHalf);
      peers.set(j, { bob: s.bob, choices: s.choices, keys: chosen.keys, seedHalf: s.seedHalf, peerSeedCommitment });
    });
    this.st = { step: 2, peers };
    return out;
  }

  /** Round 3: check the peer's seed opening; as Bob, derive both keys of every OT and challenge. */
  private round2(st: Chosen, from: Map<number, Reader>): Msg[] {
    const shamirOut = this.shamirRound(from);
    const peers = this.receiveAll(from, (j, r): PeerChallenged => {
      const s = peerState(st.peers, j);
      const A = Array.from({ length: KAPPA }, () => r.point());
      const nonce = r.fixed(32);
      const half = r.fixed(32);
      check(
        verifyOpening(this.sid, j, s.peerSeedCommitment, { nonce, message: half }),
        j,
        "zero-sharing seed opening does not match",
      );
      const keys = senderKeys(this.otSession(this.index, j).sid, s.bob, A);
      check(keys.ok, j, "base OT: invalid receiver message");
      const { rho0, rho1, challenges } = keys;
      return { rho0, rho1, challenges, choices: s.choices, keys: s.keys, seedHalf: s.seedHalf, peerSeedHalf: half };
    });
    const shamir = this.shamirRun.result();
    check(shamir !== null, null, "the Shamir part gave this party no share");
    this.shamir = undefined;
    this.st = { step: 3, shamir, peers };
    return this.sendAll(3, shamirOut, (w, j) => {
      for (const c of peerState(peers, j).challenges) w.fixed(c);
    });
  }

  /** Round 4: as Alice, answer Bob's challenges. */
  private round3(st: Challenged, from: Map<number, Reader>): Msg[] {
    const heard = this.receiveAll(from, (_, r) => Array.from({ length: KAPPA }, () => r.fixed(32)));
    const peers = new Map<number, PeerResponded>();
    const out = this.sendAll(4, [], (w, j) => {
      const s = peerState(st.peers, j);
      const aliceChallenges = peerState(heard, j);
      const { responses, digest } = receiverRespond(
        this.otSession(j, this.index).sid,
        s.keys,
        s.choices,
        aliceChallenges,
      );
      for (const c of responses) w.fixed(c);
      w.fixed(digest);
      peers.set(j, { ...s, aliceChallenges });
    });
    this.st = { step: 4, shamir: st.shamir, peers };
    return out;
  }

  /** Round 5: as Bob, check Alice's responses; send the openings. */
  private round4(st: Responded, from: Map<number, Reader>): Msg[] {
    const heard = this.receiveAll(from, (j, r) => {
      const s = peerState(st.peers, j);
      const responses = Array.from({ length: KAPPA }, () => r.fixed(32));
      const digest = r.fixed(32);
      const verified = senderVerify(this.otSession(this.index, j).sid, s.rho0, s.rho1, s.challenges, responses, digest);
      check(verified.verdict !== "receiver", j, "base OT: receiver answered for the wrong key");
      return verified;
    });
    const peers = new Map<number, PeerOpened>();
    const out = this.sendAll(5, [], (w, j) => {
      const { challenges: _, ...s } = peerState(st.peers, j);
      const { verdict, openings } = peerState(heard, j);
      for (const [o0, o1] of openings) {
        w.fixed(o0);
        w.fixed(o1);
      }
      peers.set(j, { ...s, responsesOk: verdict === "ok" });
    });
    this.st = { step: 5, shamir: st.shamir, peers };
    return out;
  }

  /** Output: as Alice, check Bob's openings; then, as Bob, end a run whose responses failed. */
  private round5(st: Opened, from: Map<number, Reader>): Msg[] {
    this.receiveAll(from, (j, r) => {
      const s = peerState(st.peers, j);
      const openings = Array.from({ length: KAPPA }, () => [r.fixed(32), r.fixed(32)] as [Uint8Array, Uint8Array]);
      check(
        receiverVerify(this.otSession(j, this.index).sid, s.keys, s.choices, s.aliceChallenges, openings),
        j,
        "base OT: sender's openings do not match",
      );
    });
    // Only now, after checking the openings received (a failure there names its sender first).
    for (const j of this.peers) {
      check(
        peerState(st.peers, j).responsesOk,
        null,
        "base OT: a receiver's responses failed on challenges other than those sent",
      );
    }
    const shamir = st.shamir;
    const pairs = new Map<number, PairSetup>();
    for (const j of this.peers) {
      const s = peerState(st.peers, j);
      const halves = this.index < j ? [s.seedHalf, s.peerSeedHalf] : [s.peerSeedHalf, s.seedHalf];
      const w = new Writer();
      w.string("keyshard/dkls23/zero-seed/v1");
      for (const h of halves) w.fixed(h);
      pairs.set(this.newIndex(j), {
        zeroSeed: sha256(w.finish()),
        asBob: { seeds0: s.rho0, seeds1: s.rho1 },
        asAlice: { delta: Uint8Array.from(s.choices), seeds: s.keys },
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
    this.st = { step: FINISHED, share };
    this.finish(share);
    return [];
  }

  protected saveState(w: Writer): void {
    savedSetup.write(w, {
      version: STATE_VERSION,
      plan: this.plan,
      shamirRun: this.shamir?.save(),
      state: this.st,
    });
  }

  static restore(bytes: Uint8Array, share: DklsShare | null = null): DklsSetupParty {
    return decodeLocal("DKLs23 set-up state", () => {
      const { run, body } = openSaved(bytes);
      const r: Reader = new Reader(body, null);
      const saved = decodeAll(savedSetup, r);
      // A reshare's dealer share is not in the state (nor needed: it is used only in round 1,
      // before any save).
      const plan: Plan = saved.plan.kind === "reshare" ? { ...saved.plan, share } : saved.plan;
      const st = saved.state;
      const curveOf = () => CURVES.secp256k1;
      const inner = saved.shamirRun
        ? plan.kind === "keygen"
          ? KeygenParty.restore(curveOf, saved.shamirRun)
          : ReshareParty.restore(curveOf, saved.shamirRun)
        : null;
      const party = new DklsSetupParty(plan, st, inner);
      if ("peers" in st && !sameKeys(st.peers, party.peers)) r.fail("inconsistent state");
      party.restoreRun(run, st.step > 0, st.step === FINISHED ? { value: st.share ?? null } : undefined);
      return party;
    });
  }
}

/** The entry for peer `j`: every peer of the new key has one from round 1 on. */
function peerState<T>(peers: Map<number, T>, j: number): T {
  const s = peers.get(j);
  if (s === undefined) throw new ProtocolAbort(null, "no set-up state for this peer");
  return s;
}

/** Whether `map` has an entry for each of `keys` and no other. */
function sameKeys(map: Map<number, unknown>, keys: readonly number[]): boolean {
  return map.size === keys.length && keys.every((k) => map.has(k));
}

// Saved-state layout: each state's fields, declared once for save and restore.

/** The plan a state was saved under, without a reshare's dealer share (restore puts it back). */
const plan: Codec<Plan> = {
  write: (w, p) => {
    w.string(p.kind);
    if (p.kind === "keygen") {
      const o = p.options;
      w.fixed(o.sid);
      w.u8(o.index);
      w.u8(o.n);
      w.u8(o.t);
    } else {
      writeReshareOptions(w, p.options);
    }
  },
  read: (r) => {
    const kind = r.string(16);
    if (kind === "keygen") return { kind, options: { sid: r.fixed(32), index: r.u8(), n: r.u8(), t: r.u8() } };
    if (kind === "reshare") return { kind, options: readReshareOptions(r), share: null };
    return r.fail("unknown set-up kind");
  },
};

/** As Bob: the sender key with its secret b, which must match B. */
const bobKey: Codec<SenderKey> = {
  write: (w, key) => {
    w.scalar(key.b);
    writeSenderKey(w, key);
  },
  read: (r) => {
    const b = r.scalar();
    const key = { b, ...readSenderKey(r) };
    if (!key.B.equals(mulBase(b))) r.fail("inconsistent state");
    return key;
  },
};

/** As Alice: one secret choice bit per base OT. */
const choices: Codec<number[]> = {
  write: (w, bits) => w.fixed(Uint8Array.from(bits)),
  read: (r) => {
    const bits = Array.from(r.fixed(KAPPA));
    if (bits.some((c) => c > 1)) r.fail("inconsistent state");
    return bits;
  },
};

const bytes32 = fixed(32);
const keyList = list(bytes32, 2 * KAPPA);
const frostShare: Codec<FrostShare> = {
  write: (w, share) => w.bytes(share.toBytes()),
  read: (r) => FrostShare.fromBytes(r.bytes(1 << 16)),
};
const dklsShare: Codec<DklsShare> = {
  write: (w, share) => w.bytes(share.toBytes()),
  read: (r) => DklsShare.fromBytes(r.bytes(1 << 22)),
};

function peers<T>(peer: Codec<T>): Codec<Map<number, T>> {
  return map(u8, peer, MAX_PARTIES);
}

const setupState = union<SetupState, "step">("step", {
  0: record<Unstarted>({ step: literal(0) }),
  1: record<Committed>({
    step: literal(1),
    peers: peers(
      record<PeerCommitted>({ bob: bobKey, choices, seedHalf: bytes32, seedNonce: bytes32, seedCommitment: bytes32 }),
    ),
  }),
  2: record<Chosen>({
    step: literal(2),
    peers: peers(
      record<PeerChosen>({ bob: bobKey, choices, keys: keyList, seedHalf: bytes32, peerSeedCommitment: bytes32 }),
    ),
  }),
  3: record<Challenged>({
    step: literal(3),
    shamir: frostShare,
    peers: peers(
      record<PeerChallenged>({
        rho0: keyList,
        rho1: keyList,
        challenges: keyList,
        choices,
        keys: keyList,
        seedHalf: bytes32,
        peerSeedHalf: bytes32,
      }),
    ),
  }),
  4: record<Responded>({
    step: literal(4),
    shamir: frostShare,
    peers: peers(
      record<PeerResponded>({
        rho0: keyList,
        rho1: keyList,
        challenges: keyList,
        choices,
        keys: keyList,
        aliceChallenges: keyList,
        seedHalf: bytes32,
        peerSeedHalf: bytes32,
      }),
    ),
  }),
  5: record<Opened>({
    step: literal(5),
    shamir: frostShare,
    peers: peers(
      record<PeerOpened>({
        rho0: keyList,
        rho1: keyList,
        choices,
        keys: keyList,
        aliceChallenges: keyList,
        responsesOk: bool,
        seedHalf: bytes32,
        peerSeedHalf: bytes32,
      }),
    ),
  }),
  [FINISHED]: record<Finished>({ step: literal(FINISHED), share: optional(dklsShare) }),
});

const savedSetup = record<{
  version: number;
  plan: Plan;
  /** The Shamir protocol's own saved state, while it runs. */
  shamirRun: Uint8Array | undefined;
  state: SetupState;
}>({
  version: version(STATE_VERSION),
  plan,
  shamirRun: optional(bytesUpTo(1 << 20)),
  state: setupState,
});
