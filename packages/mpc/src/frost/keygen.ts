/**
 * FROST distributed key generation (Komlo–Goldberg's Pedersen DKG with proofs of knowledge, in
 * the rounds frost-rs uses; RFC 9591 leaves DKG out of scope), computed by noble's
 * DKG.round1/round2/round3:
 *
 *   round 1  each → all  Feldman commitments Cᵢ = (aᵢ₀·G … aᵢ,t−1·G); proof of knowledge of aᵢ₀,
 *                        bound to this session; hash commitment to a chain-code contribution
 *   round 2  each → j    fᵢ(j); opening of the chain-code contribution; digest of every round-1
 *                        message this party received
 *   output               check every fⱼ(i) against Cⱼ, the openings and the digests; round3
 *
 * The digest makes round 1 a consistent broadcast: if a party sent different commitments to
 * different parties, digests differ and the parties that see it stop. Who equivocated cannot be
 * told without signatures, so that abort names nobody, and it comes after every check that
 * names a sender. Finishing is not agreed: a party that aborts cannot stop the others from
 * finishing, so a key is in use only once every party has reported success.
 */
import type { DKG_Round1, DKG_Secret } from "@noble/curves/abstract/frost.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { randomBytes } from "@noble/hashes/utils.js";
import { decodeLocal, MAX_FIELD, Reader, Writer } from "../codec/codec.js";
import {
  type Codec,
  decodeAll,
  fixed,
  list,
  literal,
  map,
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
import { commit, verifyOpening } from "../zk/commitment.js";
import { type FrostCurve, type RunCurve, readElement, readScalar } from "./curve.js";
import { identifierHex, identifierOf } from "./polynomial.js";
import { CHAIN_CODE_BYTES, FrostShare, MAX_PARTIES } from "./share.js";

/** The saved state's format, typed by step: a state saved in another format is refused on restore. */
const STATE_VERSION = 2;

export interface KeygenOptions {
  sid: Uint8Array;
  index: number;
  n: number;
  t: number;
}

/** One party's round-1 broadcast. */
interface Round1 {
  commitment: Uint8Array[];
  proof: Uint8Array;
  chainCommitment: Uint8Array;
}

/** Before round 1. */
interface Unstarted {
  step: 0;
}
/** After round 1: this party's polynomial and chain-code half; the round-1 messages so far. */
interface Dealt {
  step: 1;
  coefficients: bigint[];
  chainHalf: Uint8Array;
  chainNonce: Uint8Array;
  /** Every party's round-1 message received so far, this party's included. */
  round1: Map<number, Round1>;
}
/** After round 2: every round-1 message, and their digest this party sent. */
interface Shared {
  step: 2;
  coefficients: bigint[];
  chainHalf: Uint8Array;
  chainNonce: Uint8Array;
  round1: Map<number, Round1>;
  digest: Uint8Array;
}
/** The share is made. */
interface Finished {
  step: 3;
  share: FrostShare;
}
type KeygenState = Unstarted | Dealt | Shared | Finished;

export class KeygenParty extends MultiPartyRoundParty<FrostShare> {
  /** The curve for this run, its suite bound to the session. */
  private readonly run: RunCurve;
  private readonly parties: number[];

  constructor(
    private readonly curve: FrostCurve,
    private readonly options: KeygenOptions,
    private st: KeygenState = { step: 0 },
  ) {
    super(options.index, `frost-${curve.name}/keygen`, options.sid);
    checkSid(options.sid);
    checkThreshold(options.n, options.t, MAX_PARTIES);
    checkIndex(options.index, options.n);
    this.parties = Array.from({ length: options.n }, (_, i) => i);
    const context = new Writer();
    context.string(this.protocol);
    context.fixed(options.sid);
    context.u8(options.n);
    context.u8(options.t);
    this.run = curve.forRun(sha256(context.finish()));
  }

  protected get step(): number {
    return this.st.step;
  }
  protected speakers(): readonly number[] {
    return this.parties;
  }
  protected get handlers(): Record<number, (from: Map<number, Reader>) => Msg[]> {
    return {
      1: (m) => this.round2(stateAt(this.st, 1), m),
      2: (m) => this.finishKeygen(stateAt(this.st, 2), m),
    };
  }

  private get signers() {
    return { min: this.options.t, max: this.options.n };
  }

  /** noble's round state, rebuilt from ours (it is plain data). */
  private dkgSecret(st: Dealt | Shared): DKG_Secret {
    const own = st.round1.get(this.index);
    const secret = {
      identifier: identifierOf(this.index),
      coefficients: [...st.coefficients],
      commitment: own?.commitment ?? [],
      signers: this.signers,
      step: st.step,
    } as unknown as DKG_Secret;
    if (st.step === 2) secret.round1Cache = this.othersPackages(st.round1);
    return secret;
  }

  private package(j: number, m: Round1): DKG_Round1 {
    return {
      identifier: identifierHex(this.curve, j),
      commitment: m.commitment,
      proofOfKnowledge: m.proof,
    } as DKG_Round1;
  }

  private othersPackages(round1: Map<number, Round1>): DKG_Round1[] {
    return this.parties.filter((j) => j !== this.index).map((j) => this.package(j, sent(round1, j)));
  }

  protected onStart(): Msg[] {
    // Round 1: a random polynomial, its commitments and proof of knowledge; a chain-code share.
    const { public: pub, secret } = this.run.suite.DKG.round1(identifierHex(this.curve, this.index), this.signers);
    for (const c of pub.commitment) this.run.trust(c);
    const chainHalf = randomBytes(CHAIN_CODE_BYTES);
    const { commitment: chainCommitment, opening } = commit(this.sid, this.index, chainHalf);
    const own: Round1 = { commitment: pub.commitment, proof: pub.proofOfKnowledge, chainCommitment };
    this.st = {
      step: 1,
      coefficients: secret.coefficients as bigint[],
      chainHalf,
      chainNonce: opening.nonce,
      round1: new Map([[this.index, own]]),
    };
    return [this.broadcast(1, (w) => writeRound1(w, own))];
  }

  private round2(st: Dealt, from: Map<number, Reader>): Msg[] {
    const round1 = st.round1;
    for (const [j, r] of from) {
      round1.set(j, readRound1(r, this.run, this.options.t));
      r.end();
    }
    const secret = this.dkgSecret(st);
    let shares: Record<string, { signingShare: Uint8Array }>;
    try {
      shares = this.run.suite.DKG.round2(secret, this.othersPackages(round1));
    } catch {
      throw new ProtocolAbort(this.findBadProof(round1), "proof of knowledge of the secret coefficient failed");
    }
    const digest = this.round1Digest(round1);
    const { chainNonce, chainHalf } = st;
    this.st = { ...st, step: 2, digest };
    return this.parties
      .filter((j) => j !== this.index)
      .map((j) =>
        this.sendTo(j, 2, (w) => {
          w.fixed((shares[identifierHex(this.curve, j)] as { signingShare: Uint8Array }).signingShare);
          w.fixed(chainNonce);
          w.fixed(chainHalf);
          w.fixed(digest);
        }),
      );
  }

  /**
   * noble checks the round-1 packages as a batch and its error does not say whose proof failed:
   * check each package alone, beside throwaway packages under unused identifiers, to name it.
   */
  private findBadProof(round1: Map<number, Round1>): number | null {
    const t = this.options.t;
    const signers = { min: t, max: t };
    const fresh = (k: number) => this.run.suite.DKG.round1(identifierHex(this.curve, this.options.n + k), signers);
    for (const j of this.parties) {
      if (j === this.index) continue;
      const fillers = Array.from({ length: t - 2 }, (_, k) => fresh(k + 1).public);
      try {
        this.run.suite.DKG.round2(fresh(0).secret, [this.package(j, sent(round1, j)), ...fillers]);
      } catch {
        return j;
      }
    }
    return null;
  }

  private round1Digest(round1: Map<number, Round1>): Uint8Array {
    const w = new Writer();
    w.string("keyshard/frost/keygen-round1/v1");
    for (const j of this.parties) writeRound1(w, sent(round1, j));
    return sha256(w.finish());
  }

  private finishKeygen(st: Shared, from: Map<number, Reader>): Msg[] {
    const { curve } = this;
    const ownId = identifierHex(curve, this.index);
    const round2: { identifier: string; signingShare: Uint8Array }[] = [];
    const halves = new Map<number, Uint8Array>([[this.index, st.chainHalf]]);
    const digests = new Map<number, Uint8Array>();
    for (const [j, r] of from) {
      const signingShare = readScalar(r, curve);
      const nonce = r.fixed(32);
      const half = r.fixed(CHAIN_CODE_BYTES);
      digests.set(j, r.fixed(32));
      r.end();
      const theirs = sent(st.round1, j);
      check(
        verifyOpening(this.sid, j, theirs.chainCommitment, { nonce, message: half }),
        j,
        "chain-code opening does not match",
      );
      try {
        this.run.suite.validateSecret(
          { identifier: ownId, signingShare },
          { signers: this.signers, commitments: theirs.commitment, verifyingShares: {} },
        );
      } catch {
        throw new ProtocolAbort(j, "secret share does not match its commitments");
      }
      halves.set(j, half);
      round2.push({ identifier: identifierHex(curve, j), signingShare });
    }
    // Last, as it names nobody: a message altered in round 1 fails the attributable checks above.
    for (const digest of digests.values()) {
      check(equalBytes(digest, st.digest), null, "parties received different round-1 messages");
    }
    const key = this.run.suite.DKG.round3(this.dkgSecret(st), this.othersPackages(st.round1), round2 as never);
    const chain = new Writer();
    chain.string("keyshard/frost/chain-code/v1");
    for (const j of this.parties) chain.fixed(halves.get(j) as Uint8Array);
    const share = new FrostShare({
      curve,
      index: this.index,
      n: this.options.n,
      t: this.options.t,
      signingShare: key.secret.signingShare,
      groupKey: key.public.commitments[0] as Uint8Array,
      verifyingShares: this.parties.map((j) => key.public.verifyingShares[identifierHex(curve, j)] as Uint8Array),
      chainCode: sha256(chain.finish()),
    });
    this.st = { step: 3, share };
    this.finish(share);
    return [];
  }

  protected saveState(w: Writer): void {
    keygenLayout(this.curve).write(w, {
      version: STATE_VERSION,
      curve: this.curve.name,
      sid: this.sid,
      n: this.options.n,
      t: this.options.t,
      index: this.index,
      state: this.st,
    });
  }

  static restore(curveOf: (name: string) => FrostCurve | undefined, bytes: Uint8Array): KeygenParty {
    return decodeLocal("FROST keygen state", () => {
      const { run, body } = openSaved(bytes);
      const r: Reader = new Reader(body, null);
      if (r.u8() !== STATE_VERSION) r.fail("unknown state version");
      const curve = curveOf(r.string(16));
      if (!curve) return r.fail("state belongs to another curve");
      const saved = decodeAll(keygenLayout(curve), new Reader(body, null));
      const { n, t, index, state: st } = saved;
      if (st.step === 1 || st.step === 2) {
        const senders = [...st.round1.keys()];
        const wellFormed =
          st.coefficients.length <= t &&
          senders.every((j) => j < n && sent(st.round1, j).commitment.length === t) &&
          senders.includes(index) &&
          (st.step === 1 || senders.length === n);
        if (!wellFormed) r.fail("inconsistent keygen state");
      }
      const party = new KeygenParty(curve, { sid: saved.sid, index, n, t }, st);
      party.restoreRun(run, st.step > 0, st.step === 3 ? { value: st.share } : undefined);
      return party;
    });
  }
}

/** Party j's round-1 message, which every state from round 1 on holds for the parties it lists. */
function sent(round1: Map<number, Round1>, j: number): Round1 {
  const m = round1.get(j);
  if (!m) throw new ProtocolAbort(null, "no round-1 message of this party");
  return m;
}

function writeRound1(w: Writer, m: Round1): void {
  for (const c of m.commitment) w.fixed(c);
  w.fixed(m.proof);
  w.fixed(m.chainCommitment);
}

function readRound1(r: Reader, curve: FrostCurve, t: number): Round1 {
  const commitment = Array.from({ length: t }, () => readElement(r, curve));
  // The proof is a Schnorr signature (R, z) in the suite's encoding.
  const proofR = readElement(r, curve);
  const proofZ = readScalar(r, curve, true);
  const chainCommitment = r.fixed(32);
  return { commitment, proof: new Uint8Array([...proofR, ...proofZ]), chainCommitment };
}

// Saved-state layout: each state's fields, declared once for save and restore. Scalars and
// elements are the curve's, so there is one layout per curve, made when first used.

interface SavedKeygen {
  version: number;
  curve: string;
  sid: Uint8Array;
  n: number;
  t: number;
  index: number;
  state: KeygenState;
}

const keygenLayouts = new Map<string, Codec<SavedKeygen>>();

function keygenLayout(curve: FrostCurve): Codec<SavedKeygen> {
  const known = keygenLayouts.get(curve.name);
  if (known) return known;
  const coefficient: Codec<bigint> = {
    write: (w, c) => w.fixed(curve.Fn.toBytes(c)),
    read: (r) => curve.Fn.fromBytes(readScalar(r, curve)),
  };
  const element: Codec<Uint8Array> = { write: (w, e) => w.fixed(e), read: (r) => readElement(r, curve) };
  const round1 = record<Round1>({
    commitment: list(element, MAX_PARTIES),
    // The proof is a Schnorr signature (R, z) in the suite's encoding.
    proof: {
      write: (w, proof) => w.fixed(proof),
      read: (r) => new Uint8Array([...readElement(r, curve), ...readScalar(r, curve, true)]),
    },
    chainCommitment: fixed(32),
  });
  const dealt = {
    coefficients: list(coefficient, MAX_PARTIES),
    chainHalf: fixed(CHAIN_CODE_BYTES),
    chainNonce: fixed(32),
    round1: map(u8, round1, MAX_PARTIES),
  };
  const layout = record<SavedKeygen>({
    version: version(STATE_VERSION),
    curve: string(16),
    sid: fixed(32),
    n: u8,
    t: u8,
    index: u8,
    state: union<KeygenState, "step">("step", {
      0: record<Unstarted>({ step: literal(0) }),
      1: record<Dealt>({ step: literal(1), ...dealt }),
      2: record<Shared>({ step: literal(2), ...dealt, digest: fixed(32) }),
      3: record<Finished>({
        step: literal(3),
        share: { write: (w, share) => w.bytes(share.toBytes()), read: (r) => FrostShare.fromBytes(r.bytes(MAX_FIELD)) },
      }),
    }),
  });
  keygenLayouts.set(curve.name, layout);
  return layout;
}
