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
import { decodeLocal, Reader, Writer } from "../codec/codec.js";
import { checkSid, equalBytes } from "../session/envelope.js";
import { checkIndex, checkThreshold, MultiPartyRoundParty } from "../session/multi-party.js";
import { check, type Msg, ProtocolAbort } from "../session/party.js";
import { openSaved } from "../session/round-party.js";
import { commit, verifyOpening } from "../zk/commitment.js";
import { type FrostCurve, type RunCurve, readElement, readScalar } from "./curve.js";
import { identifierHex, identifierOf } from "./polynomial.js";
import { CHAIN_CODE_BYTES, FrostShare, MAX_PARTIES } from "./share.js";

const STATE_VERSION = 1;

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

interface KeygenState {
  step: number;
  coefficients?: bigint[];
  chainHalf?: Uint8Array;
  chainNonce?: Uint8Array;
  /** Every party's round-1 message, this party's included. */
  round1?: Map<number, Round1>;
  digest?: Uint8Array;
}

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
    return { 1: (m) => this.round2(m), 2: (m) => this.finishKeygen(m) };
  }

  private get signers() {
    return { min: this.options.t, max: this.options.n };
  }

  /** noble's round state, rebuilt from ours (it is plain data). */
  private dkgSecret(): DKG_Secret {
    const own = this.st.round1?.get(this.index);
    const secret = {
      identifier: identifierOf(this.index),
      coefficients: [...(this.st.coefficients as bigint[])],
      commitment: own?.commitment ?? [],
      signers: this.signers,
      step: this.st.step,
    } as unknown as DKG_Secret;
    if (this.st.step === 2) secret.round1Cache = this.othersPackages();
    return secret;
  }

  private package(j: number, m: Round1): DKG_Round1 {
    return {
      identifier: identifierHex(this.curve, j),
      commitment: m.commitment,
      proofOfKnowledge: m.proof,
    } as DKG_Round1;
  }

  private othersPackages(): DKG_Round1[] {
    const round1 = this.st.round1 as Map<number, Round1>;
    return this.parties.filter((j) => j !== this.index).map((j) => this.package(j, round1.get(j) as Round1));
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

  private round2(from: Map<number, Reader>): Msg[] {
    const round1 = this.st.round1 as Map<number, Round1>;
    for (const [j, r] of from) {
      round1.set(j, readRound1(r, this.run, this.options.t));
      r.end();
    }
    const secret = this.dkgSecret();
    let shares: Record<string, { signingShare: Uint8Array }>;
    try {
      shares = this.run.suite.DKG.round2(secret, this.othersPackages());
    } catch {
      throw new ProtocolAbort(this.findBadProof(), "proof of knowledge of the secret coefficient failed");
    }
    const digest = this.round1Digest();
    this.st = { ...this.st, step: 2, digest };
    const { chainNonce, chainHalf } = this.st as Required<KeygenState>;
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
  private findBadProof(): number | null {
    const t = this.options.t;
    const signers = { min: t, max: t };
    const fresh = (k: number) => this.run.suite.DKG.round1(identifierHex(this.curve, this.options.n + k), signers);
    const round1 = this.st.round1 as Map<number, Round1>;
    for (const j of this.parties) {
      if (j === this.index) continue;
      const fillers = Array.from({ length: t - 2 }, (_, k) => fresh(k + 1).public);
      try {
        this.run.suite.DKG.round2(fresh(0).secret, [this.package(j, round1.get(j) as Round1), ...fillers]);
      } catch {
        return j;
      }
    }
    return null;
  }

  private round1Digest(): Uint8Array {
    const w = new Writer();
    w.string("keyshard/frost/keygen-round1/v1");
    for (const j of this.parties) writeRound1(w, (this.st.round1 as Map<number, Round1>).get(j) as Round1);
    return sha256(w.finish());
  }

  private finishKeygen(from: Map<number, Reader>): Msg[] {
    const { curve } = this;
    const st = this.st as Required<KeygenState>;
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
      const sent = st.round1.get(j) as Round1;
      check(
        verifyOpening(this.sid, j, sent.chainCommitment, { nonce, message: half }),
        j,
        "chain-code opening does not match",
      );
      try {
        this.run.suite.validateSecret(
          { identifier: ownId, signingShare },
          { signers: this.signers, commitments: sent.commitment, verifyingShares: {} },
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
    const key = this.run.suite.DKG.round3(this.dkgSecret(), this.othersPackages(), round2 as never);
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
    this.st = { step: 3 };
    this.finish(share);
    return [];
  }

  protected saveState(): Uint8Array {
    const w = new Writer();
    const st = this.st;
    w.u8(STATE_VERSION);
    w.string(this.curve.name);
    w.fixed(this.sid);
    w.u8(this.options.n);
    w.u8(this.options.t);
    w.u8(this.index);
    w.u8(st.step);
    w.optional(this.done ? this.result().toBytes() : undefined, (b) => w.bytes(b));
    w.optional(st.coefficients, (cs) => w.list(cs, (w, c) => w.fixed(this.curve.Fn.toBytes(c))));
    w.optional(st.chainHalf, (b) => w.fixed(b));
    w.optional(st.chainNonce, (b) => w.fixed(b));
    w.optional(st.round1, (m) =>
      w.list([...m], (w, [j, msg]) => {
        w.u8(j);
        writeRound1(w, msg);
      }),
    );
    w.optional(st.digest, (b) => w.fixed(b));
    return w.finish();
  }

  static restore(curveOf: (name: string) => FrostCurve | undefined, bytes: Uint8Array): KeygenParty {
    return decodeLocal("FROST keygen state", () => {
      const { run, body } = openSaved(bytes);
      const r = new Reader(body, null);
      if (r.u8() !== STATE_VERSION) r.fail("unknown state version");
      const curve = curveOf(r.string(16));
      if (!curve) return r.fail("state belongs to another curve");
      const sid = r.fixed(32);
      const n = r.u8();
      const t = r.u8();
      const index = r.u8();
      const step = r.u8();
      const result = r.optional(() => FrostShare.fromBytes(r.bytes()));
      const st: KeygenState = { step };
      const coefficients = r.optional(() => r.list(t, () => readScalar(r, curve)));
      if (coefficients) st.coefficients = coefficients.map((c) => curve.Fn.fromBytes(c));
      const chainHalf = r.optional(() => r.fixed(CHAIN_CODE_BYTES));
      if (chainHalf) st.chainHalf = chainHalf;
      const chainNonce = r.optional(() => r.fixed(32));
      if (chainNonce) st.chainNonce = chainNonce;
      const round1 = r.optional(() => r.list(n, (r) => [r.u8(), readRound1(r, curve, t)] as const));
      if (round1) st.round1 = new Map(round1);
      const digest = r.optional(() => r.fixed(32));
      if (digest) st.digest = digest;
      r.end();
      const senders = round1?.map(([j]) => j) ?? [];
      const wellFormed =
        step === 3
          ? result !== undefined
          : step === 0 ||
            (coefficients !== undefined &&
              chainHalf !== undefined &&
              chainNonce !== undefined &&
              new Set(senders).size === senders.length &&
              senders.every((j) => j < n) &&
              senders.includes(index) &&
              (step === 1 || (step === 2 && digest !== undefined && senders.length === n)));
      if (!wellFormed) r.fail("inconsistent keygen state");
      const party = new KeygenParty(curve, { sid, index, n, t }, st);
      party.restoreRun(run, step > 0, result ? { value: result } : undefined);
      return party;
    });
  }
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
