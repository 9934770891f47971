/**
 * Resharing a FROST key to a new set of parties and/or a new threshold, same group key
 * (Desmedt–Jajodia / Wong–Wang–Wing redistribution with Feldman commitments). Refresh is the
 * special case "same parties, same threshold".
 *
 *   round 1  dealer i → receiver j   the key's public state; Cᵢ, commitments to a fresh polynomial
 *                                    fᵢ of degree t′−1 with fᵢ(0) = sᵢ; fᵢ(j′)
 *   round 2  receiver → all          digest of the public state, the run's parameters and every Cᵢ
 *   output                           sⱼ′ = Σ λᵢ·fᵢ(j′), public parts by the same combination
 *
 * A dealer is any old party (at least the old threshold of them deal, and λᵢ interpolates over
 * exactly the dealers); a receiver is any party of the new set. Each receiver checks, naming the
 * dealer on failure, that Cᵢ,₀ is the dealer's own verifying share (so the group key is kept) and
 * that fᵢ(j′) matches Cᵢ (noble's VSS check). The digests make every receiver combine the same
 * commitments. The new polynomial is fresh, so old shares do not combine with new ones, and a
 * party left out of the new set holds nothing that signs.
 *
 * The noble dealer function (`trustedDealer`) does each dealer's sharing, with the dealer's own
 * share as the secret.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { decodeLocal, MAX_FIELD, Reader, Writer } from "../codec/codec.js";
import {
  bytesUpTo,
  type Codec,
  decodeAll,
  fixed,
  list,
  literal,
  map,
  optional,
  record,
  string,
  u8,
  union,
  version,
} from "../codec/schema.js";
import { checkSid, equalBytes } from "../session/envelope.js";
import { checkIndex, checkThreshold, MultiPartyRoundParty } from "../session/multi-party.js";
import { check, type Msg, ProtocolAbort } from "../session/party.js";
import { openSaved, stateAt } from "../session/round-party.js";
import { type FrostCurve, type GroupPoint, type RunCurve, readElement, readScalar } from "./curve.js";
import { evaluateCommitment, identifierHex, identifierOf, lagrangeAt } from "./polynomial.js";
import { FrostShare, MAX_PARTIES, type PublicState, parsePublicState } from "./share.js";
import { outputKey } from "./signing-key.js";

/** The saved state's format, typed by step: a state saved in another format is refused on restore. */
const STATE_VERSION = 2;

/** One participant of a reshare: its index in the old key (if any) and in the new one (if any). */
export interface ReshareMember {
  old: number | null;
  new: number | null;
}

export interface ReshareOptions {
  sid: Uint8Array;
  /** Every participant, in an order all of them agree on; a party's position is its index in this run. */
  members: ReshareMember[];
  /** This party's position in `members`. */
  index: number;
  /** The new threshold. */
  threshold: number;
  /** A newcomer's expectation of the key it joins, as `publicKey(share)` returns it. */
  publicKey?: Uint8Array;
}

interface Dealing {
  commitment: Uint8Array[];
  value: Uint8Array;
}

/** Before round 1 (never restored: such a run is created anew). */
interface Unstarted {
  step: 0;
}
/** After round 1: a dealer has dealt (and kept its own dealing); a newcomer waits. */
interface Dealt {
  step: 1;
  /** The old key's public state: a dealer's own; a newcomer has none yet. */
  oldState: Uint8Array | undefined;
  /** Dealings so far (a receiving dealer's own), by member position. */
  dealings: Map<number, Dealing>;
}
/** After round 2: every dealing is checked; their digest is out. */
interface Received {
  step: 2;
  /** The old key's public state, as every dealer stated it. */
  oldState: Uint8Array;
  dealings: Map<number, Dealing>;
  digest: Uint8Array;
}
/** Finished: a share of the new key, or none (a dealer leaving the key). */
interface Finished {
  step: 3;
  share: FrostShare | undefined;
}
type ReshareState = Unstarted | Dealt | Received | Finished;

export class ReshareParty extends MultiPartyRoundParty<FrostShare | null> {
  readonly dealers: number[];
  private readonly receivers: number[];
  private readonly newN: number;
  private readonly me: ReshareMember;
  private readonly run: RunCurve;

  constructor(
    private readonly curve: FrostCurve,
    /** The share being reshared (dealers, before round 1 only). */
    private readonly share: FrostShare | null,
    private readonly options: ReshareOptions,
    private st: ReshareState = { step: 0 },
  ) {
    super(options.index, `frost-${curve.name}/reshare`, options.sid);
    checkSid(options.sid);
    const { members, index, threshold } = options;
    if (!Array.isArray(members) || members.length > 2 * MAX_PARTIES) throw new RangeError("invalid member list");
    this.dealers = positions(members, (m) => m.old !== null);
    this.receivers = positions(members, (m) => m.new !== null);
    this.newN = this.receivers.length;
    checkThreshold(this.newN, threshold, MAX_PARTIES);
    checkIndices(
      members.map((m) => m.old).filter((i) => i !== null),
      MAX_PARTIES,
      false,
    );
    checkIndices(
      members.map((m) => m.new).filter((i) => i !== null),
      this.newN,
      true,
    );
    checkIndex(index, members.length);
    this.me = members[index] as ReshareMember;
    this.run = curve.forRun();
    if (st.step === 0) {
      if (this.me.old !== null) {
        if (!share || share.index !== this.me.old || share.curve !== curve) {
          throw new RangeError("a dealer needs its share, at the index its member entry names");
        }
        if (this.dealers.length < share.t) throw new RangeError(`at least ${share.t} old parties must deal`);
      } else if (
        !(options.publicKey instanceof Uint8Array) ||
        options.publicKey.length !== (curve.taproot || curve.name === "ed25519" ? 32 : curve.pointBytes)
      ) {
        throw new RangeError("a newcomer must give the public key it expects to join, as publicKey(share) gives it");
      }
    }
  }

  protected get step(): number {
    return this.st.step;
  }
  protected speakers(round: number): readonly number[] {
    return round === 1 ? this.dealers : this.receivers;
  }
  protected get handlers(): Record<number, (from: Map<number, Reader>) => Msg[]> {
    return {
      1: (m) => this.round2(stateAt(this.st, 1), m),
      2: (m) => this.finishReshare(stateAt(this.st, 2), m),
    };
  }

  private newIndexOf(position: number): number {
    return (this.options.members[position] as ReshareMember).new as number;
  }

  protected onStart(): Msg[] {
    this.st = { step: 1, oldState: undefined, dealings: new Map() };
    if (this.me.old === null) return [];
    // Round 1 (dealers): share sᵢ afresh among the new parties.
    const share = this.share as FrostShare;
    const ids = Array.from({ length: this.newN }, (_, j) => identifierHex(this.curve, j));
    const dealt = this.curve.suite.trustedDealer(
      { min: this.options.threshold, max: this.newN },
      ids,
      share.signingShare as Uint8Array<ArrayBuffer>,
    );
    const commitment = dealt.public.commitments as Uint8Array[];
    const valueFor = (p: number) =>
      (dealt.secretShares[ids[this.newIndexOf(p)] as string] as { signingShare: Uint8Array }).signingShare;
    const oldState = share.publicBytes();
    const out: Msg[] = [];
    for (const p of this.receivers) {
      if (p === this.index) continue;
      out.push(
        this.sendTo(p, 1, (w) => {
          w.bytes(oldState);
          for (const c of commitment) w.fixed(c);
          w.fixed(valueFor(p));
        }),
      );
    }
    if (this.me.new === null) {
      this.st = { step: 3, share: undefined };
      this.finish(null);
    } else {
      this.st = { step: 1, oldState, dealings: new Map([[this.index, { commitment, value: valueFor(this.index) }]]) };
    }
    return out;
  }

  private round2(st: Dealt, from: Map<number, Reader>): Msg[] {
    const { curve } = this;
    const dealings = st.dealings;
    const stated = new Map<number, Uint8Array>();
    for (const [p, r] of from) {
      stated.set(p, r.bytes(64 * 1024));
      const commitment = Array.from({ length: this.options.threshold }, () => readElement(r, this.run));
      dealings.set(p, { commitment, value: readScalar(r, curve) });
      r.end();
    }
    // Each dealing is checked against the state its own dealer stated, so a bad one names its
    // dealer; a dealer checks the others' states against its own, a newcomer against its
    // expected key (and then that all dealers stated the same).
    const own = st.oldState;
    const ownState = own ? parsePublicState(own, null) : undefined;
    for (const [p, s] of stated) {
      let pub: PublicState;
      if (own && ownState) {
        check(equalBytes(s, own), p, "reshares a different key");
        pub = ownState;
      } else {
        pub = parsePublicState(s, p);
        check(pub.curve === curve, p, "reshares a key on another curve");
        check(
          equalBytes(outputKey(pub), this.options.publicKey as Uint8Array),
          p,
          "reshares a key other than the expected one",
        );
      }
      this.checkDealing(p, pub, dealingOf(dealings, p));
    }
    const oldState = own ?? (stated.values().next().value as Uint8Array);
    for (const s of stated.values()) check(equalBytes(s, oldState), null, "dealers disagree on the key's public state");
    const old = ownState ?? parsePublicState(oldState, null);
    check(this.dealers.length >= old.t, null, "fewer dealers than the old threshold");
    const digest = this.digest(oldState, dealings);
    this.st = { step: 2, oldState, dealings, digest };
    return [this.broadcast(2, (w) => w.fixed(digest))];
  }

  /** Dealer p's dealing shares p's own key share (Cₚ,₀ = Yₚ) and gives this party fₚ(j′). */
  private checkDealing(p: number, old: PublicState, d: Dealing): void {
    const oldIndex = (this.options.members[p] as ReshareMember).old as number;
    check(oldIndex < old.n, p, "dealer is not a party of the old key");
    check(
      equalBytes(d.commitment[0] as Uint8Array, old.verifyingShares[oldIndex] as Uint8Array),
      p,
      "dealing does not share the dealer's own key share",
    );
    try {
      this.run.suite.validateSecret(
        { identifier: identifierHex(this.curve, this.newIndexOf(this.index)), signingShare: d.value },
        { signers: { min: this.options.threshold, max: this.newN }, commitments: d.commitment, verifyingShares: {} },
      );
    } catch {
      throw new ProtocolAbort(p, "dealt share does not match its commitments");
    }
  }

  private digest(oldState: Uint8Array, dealings: Map<number, Dealing>): Uint8Array {
    const w = new Writer();
    w.string("keyshard/frost/reshare-round1/v1");
    w.bytes(oldState);
    writeMembers(w, this.options.members);
    w.u8(this.options.threshold);
    for (const p of this.dealers) for (const c of dealingOf(dealings, p).commitment) w.fixed(c);
    return sha256(w.finish());
  }

  private finishReshare(st: Received, from: Map<number, Reader>): Msg[] {
    const { curve } = this;
    const { Fn } = curve;
    for (const [p, r] of from) {
      const digest = r.fixed(32);
      r.end();
      check(equalBytes(digest, st.digest), null, `party ${p} received different dealings`);
    }
    const old = parsePublicState(st.oldState, null);
    const oldIndices = this.dealers.map((p) => (this.options.members[p] as ReshareMember).old as number);
    let value = Fn.ZERO;
    const combined: GroupPoint[] = [];
    this.dealers.forEach((p, k) => {
      const d = dealingOf(st.dealings, p);
      const lambda = lagrangeAt(curve, oldIndices, oldIndices[k] as number);
      value = Fn.add(value, Fn.mul(lambda, Fn.fromBytes(d.value)));
      d.commitment.forEach((c, i) => {
        const term = curve.point(c).multiplyUnsafe(lambda);
        combined[i] = combined[i] ? (combined[i] as GroupPoint).add(term) : term;
      });
    });
    check(
      equalBytes((combined[0] as GroupPoint).toBytes(), old.groupKey),
      null,
      "reshared commitments do not give the group key",
    );
    const share = new FrostShare({
      curve,
      index: this.newIndexOf(this.index),
      n: this.newN,
      t: this.options.threshold,
      signingShare: Fn.toBytes(value),
      groupKey: old.groupKey,
      verifyingShares: Array.from({ length: this.newN }, (_, j) =>
        evaluateCommitment(combined, identifierOf(j)).toBytes(),
      ),
      chainCode: old.chainCode,
    });
    this.st = { step: 3, share };
    this.finish(share);
    return [];
  }

  protected saveState(w: Writer): void {
    reshareLayout(this.curve).write(w, {
      version: STATE_VERSION,
      curve: this.curve.name,
      options: this.options,
      state: this.st,
    });
  }

  static restore(curveOf: (name: string) => FrostCurve | undefined, bytes: Uint8Array): ReshareParty {
    return decodeLocal("FROST reshare state", () => {
      const { run, body } = openSaved(bytes);
      const r: Reader = new Reader(body, null);
      if (r.u8() !== STATE_VERSION) r.fail("unknown state version");
      const curve = curveOf(r.string(16));
      if (!curve) return r.fail("state belongs to another curve");
      const { options, state: st } = decodeAll(reshareLayout(curve), new Reader(body, null));
      if (st.step === 0) r.fail("a reshare that has not started is not restored; create it anew");
      const party = new ReshareParty(curve, null, options, st);
      if (st.step !== 3) {
        const dealt = [...st.dealings.keys()];
        const wellFormed =
          dealt.every(
            (p) => party.dealers.includes(p) && dealingOf(st.dealings, p).commitment.length === options.threshold,
          ) &&
          (st.step === 1 || dealt.length === party.dealers.length);
        if (!wellFormed) r.fail("inconsistent reshare state");
      }
      party.restoreRun(run, true, st.step === 3 ? { value: st.share ?? null } : undefined);
      return party;
    });
  }
}

/** Dealer p's dealing, which every state from round 2 on holds for every dealer. */
function dealingOf(dealings: Map<number, Dealing>, p: number): Dealing {
  const d = dealings.get(p);
  if (!d) throw new ProtocolAbort(null, "no dealing of this dealer");
  return d;
}

function positions(members: ReshareMember[], pick: (m: ReshareMember) => boolean): number[] {
  return members.flatMap((m, p) => (pick(m) ? [p] : []));
}

/** Distinct integers below `bound`; with `complete`, exactly 0 … bound−1. */
function checkIndices(indices: (number | null)[], bound: number, complete: boolean): void {
  const seen = new Set<number>();
  for (const i of indices) {
    if (!Number.isInteger(i) || (i as number) < 0 || (i as number) >= bound || seen.has(i as number)) {
      throw new RangeError("member indices must be distinct, and the new ones exactly 0 … n′−1");
    }
    seen.add(i as number);
  }
  if (complete && seen.size !== bound) throw new RangeError("new indices must be exactly 0 … n′−1");
}

function writeMembers(w: Writer, members: ReshareMember[]): void {
  w.list(members, (w, m) => {
    w.optional(m.old ?? undefined, (i) => w.u8(i));
    w.optional(m.new ?? undefined, (i) => w.u8(i));
  });
}

export function writeReshareOptions(w: Writer, o: ReshareOptions): void {
  w.fixed(o.sid);
  writeMembers(w, o.members);
  w.u8(o.index);
  w.u8(o.threshold);
  w.optional(o.publicKey, (k) => w.bytes(k));
}

export function readReshareOptions(r: Reader): ReshareOptions {
  const sid = r.fixed(32);
  const members = r.list(2 * MAX_PARTIES, (r) => ({
    old: r.optional(() => r.u8()) ?? null,
    new: r.optional(() => r.u8()) ?? null,
  }));
  const index = r.u8();
  const threshold = r.u8();
  const publicKey = r.optional(() => r.bytes(64));
  const options: ReshareOptions = { sid, members, index, threshold };
  if (publicKey) options.publicKey = publicKey;
  return options;
}

// Saved-state layout: each state's fields, declared once for save and restore. Scalars and
// elements are the curve's, so there is one layout per curve, made when first used.

interface SavedReshare {
  version: number;
  curve: string;
  options: ReshareOptions;
  state: ReshareState;
}

const reshareLayouts = new Map<string, Codec<SavedReshare>>();

function reshareLayout(curve: FrostCurve): Codec<SavedReshare> {
  const known = reshareLayouts.get(curve.name);
  if (known) return known;
  const element: Codec<Uint8Array> = { write: (w, e) => w.fixed(e), read: (r) => readElement(r, curve) };
  const dealings = map(
    u8,
    record<Dealing>({
      commitment: list(element, MAX_PARTIES),
      value: { write: (w, v) => w.fixed(v), read: (r) => readScalar(r, curve) },
    }),
    2 * MAX_PARTIES,
  );
  const oldState = bytesUpTo(64 * 1024);
  const layout = record<SavedReshare>({
    version: version(STATE_VERSION),
    curve: string(16),
    options: { write: writeReshareOptions, read: (r) => readReshareOptions(r) },
    state: union<ReshareState, "step">("step", {
      0: record<Unstarted>({ step: literal(0) }),
      1: record<Dealt>({ step: literal(1), oldState: optional(oldState), dealings }),
      2: record<Received>({ step: literal(2), oldState, dealings, digest: fixed(32) }),
      3: record<Finished>({
        step: literal(3),
        share: optional({
          write: (w, share) => w.bytes(share.toBytes()),
          read: (r) => FrostShare.fromBytes(r.bytes(MAX_FIELD)),
        }),
      }),
    }),
  });
  reshareLayouts.set(curve.name, layout);
  return layout;
}
