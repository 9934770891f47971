/**
 * FROST signing (RFC 9591 §5) among the signers S (t ≤ |S| ≤ n), every signer acting as its own
 * coordinator:
 *
 *   round 1  each → all  context digest; nonce commitments (Dᵢ, Eᵢ)               commit()
 *   round 2  each → all  signature share zᵢ                                       sign()
 *   output               aggregate; if the signature fails, name the signers whose shares fail
 *
 * noble computes the nonces, binding factors, shares and aggregate, and its aggregate verifies
 * the signature before returning it, so an honest party never outputs an invalid one; when it
 * fails, the signers whose shares fail are named. The context digest covers the session, group
 * key, signer set, message, path and merkle root, so parties asked to sign different things — or
 * a commitment replayed from another session — stop before any share is released.
 *
 * Nonces are used once. Round 2 consumes them (noble zeroes them, the state drops them), and the
 * process remembers every nonce commitment it has signed with, so a saved round-1 state restored
 * twice in one process cannot give a second signature share — three would give the key share.
 * Across processes, storage must consume saved states atomically (see Party.save).
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { decodeLocal, Reader, Writer } from "../codec/codec.js";
import {
  bytesUpTo,
  type Codec,
  decodeAll,
  fixed,
  list,
  literal,
  optional,
  record,
  string,
  u8,
  union,
  version,
} from "../codec/schema.js";
import { MAX_PATH_LENGTH } from "../hd/derive.js";
import { checkSid, equalBytes } from "../session/envelope.js";
import { checkSignerSet, MultiPartyRoundParty } from "../session/multi-party.js";
import { check, type Msg, ProtocolAbort } from "../session/party.js";
import { openSaved, stateAt } from "../session/round-party.js";
import { type FrostCurve, type RunCurve, readElement, readScalar } from "./curve.js";
import { identifierHex } from "./polynomial.js";
import { type FrostShare, MAX_PARTIES } from "./share.js";
import { type SigningKey, signingKey } from "./signing-key.js";

/** The saved state's format, typed by step: a state saved in another format is refused on restore. */
const STATE_VERSION = 2;
const MAX_MESSAGE_BYTES = 1 << 20;

export interface SignOptions {
  sid: Uint8Array;
  message: Uint8Array;
  /** Indices of the signing parties (this one included), at least the threshold. */
  signers: number[];
  /** Non-hardened BIP32 path (Taproot only). */
  path?: string;
  /** Taproot script-tree root, 32 bytes; absent for a key-path-only output. */
  merkleRoot?: Uint8Array;
}

interface Nonces {
  hiding: Uint8Array;
  binding: Uint8Array;
}
interface NonceCommitments extends Nonces {
  identifier: string;
}

/** Before round 1. */
interface Unstarted {
  step: 0;
}
/** After round 1: this party's nonces and their commitments are out. */
interface Committed {
  step: 1;
  nonces: Nonces;
  own: NonceCommitments;
}
/** After round 2: every signer's commitments, in signer order, and this party's share are out. */
interface Shared {
  step: 2;
  commitments: NonceCommitments[];
  ownShare: Uint8Array;
}
/** The signature is made and verified. */
interface Signed {
  step: 3;
  signature: Uint8Array;
}
type SignState = Unstarted | Committed | Shared | Signed;

/** Source of nonce randomness; only the RFC 9591 vector tests replace it. */
export type NonceRandomness = ((bytes?: number) => Uint8Array<ArrayBuffer>) | undefined;

export class SignParty extends MultiPartyRoundParty<Uint8Array> {
  private readonly signers: number[];
  private readonly curve: RunCurve;
  private readonly key: SigningKey;
  private readonly context: Uint8Array;

  constructor(
    private readonly share: FrostShare,
    private readonly options: SignOptions,
    private st: SignState = { step: 0 },
    private readonly randomness: NonceRandomness = undefined,
  ) {
    super(share.index, `frost-${share.curve.name}/sign`, options.sid);
    checkSid(options.sid);
    if (!(options.message instanceof Uint8Array) || options.message.length > MAX_MESSAGE_BYTES) {
      throw new RangeError("message must be bytes (at most 1 MiB)");
    }
    this.signers = checkSignerSet(share.index, share.n, share.t, options.signers);
    this.key = signingKey(share, this.signers, options);
    this.curve = share.curve.forRun();
    for (const y of [...this.key.public.commitments, ...Object.values(this.key.public.verifyingShares)]) {
      this.curve.trust(y);
    }
    this.context = this.contextDigest();
  }

  private contextDigest(): Uint8Array {
    const w = new Writer();
    w.string("keyshard/frost/sign-context/v1");
    w.fixed(this.options.sid);
    // The whole public state (curve, n, t, group key, verifying shares, chain code), so a party
    // holding a share from before a refresh stops here rather than blaming the others later.
    w.fixed(sha256(this.share.publicBytes()));
    w.list(this.signers, (w, s) => w.u8(s));
    w.bytes(this.options.message);
    w.optional(this.options.path, (p) => w.string(p));
    w.optional(this.options.merkleRoot, (m) => w.bytes(m));
    return sha256(w.finish());
  }

  protected get step(): number {
    return this.st.step;
  }

  protected speakers(): readonly number[] {
    return this.signers;
  }

  protected get handlers(): Record<number, (from: Map<number, Reader>) => Msg[]> {
    return {
      1: (m) => this.round2(stateAt(this.st, 1), m),
      2: (m) => this.finishSigning(stateAt(this.st, 2), m),
    };
  }

  protected onStart(): Msg[] {
    // Round 1: fresh nonces and their commitments.
    const { nonces, commitments } = this.curve.suite.commit(this.key.secret, this.randomness);
    this.trustOwn(commitments);
    this.st = { step: 1, nonces, own: commitments };
    return [
      this.broadcast(1, (w) => {
        w.fixed(this.context);
        w.fixed(commitments.hiding);
        w.fixed(commitments.binding);
      }),
    ];
  }

  /** This party's nonce commitments are multiples of the base point it computed itself. */
  private trustOwn(own: Nonces): void {
    this.curve.trust(own.hiding);
    this.curve.trust(own.binding);
  }

  private round2(st: Committed, from: Map<number, Reader>): Msg[] {
    const { curve } = this;
    const { nonces, own } = st;
    const received = new Map<number, NonceCommitments>();
    for (const [j, r] of from) {
      check(equalBytes(r.fixed(32), this.context), j, "signs a different message, key, path or signer set");
      const hiding = readElement(r, curve);
      const binding = readElement(r, curve);
      r.end();
      received.set(j, { identifier: identifierHex(curve, j), hiding, binding });
    }
    const commitments = this.signers.map((j) => (j === this.index ? own : (received.get(j) as NonceCommitments)));
    const z = curve.suite.signShare(this.key.secret, this.key.public, nonces, commitments, this.options.message);
    this.st = { step: 2, commitments, ownShare: z };
    return [this.broadcast(2, (w) => w.fixed(z))];
  }

  private finishSigning(st: Shared, from: Map<number, Reader>): Msg[] {
    const { curve } = this;
    const { commitments, ownShare } = st;
    const shares: Record<string, Uint8Array> = { [identifierHex(curve, this.index)]: ownShare };
    for (const [j, r] of from) {
      shares[identifierHex(curve, j)] = readScalar(r, curve, true);
      r.end();
    }
    let signature: Uint8Array;
    try {
      signature = curve.suite.aggregate(this.key.public, commitments, this.options.message, shares);
    } catch (e) {
      // noble verifies each share only when the aggregate fails, and reports the failing ones.
      const cheaters = (e as { cheaters?: string[] }).cheaters ?? [];
      const culprit = this.signers.find((j) => cheaters.includes(identifierHex(curve, j)));
      throw new ProtocolAbort(culprit ?? null, "signature share does not verify");
    }
    this.st = { step: 3, signature };
    this.finish(signature);
    return [];
  }

  protected saveState(w: Writer): void {
    signLayout(this.share.curve).write(w, {
      version: STATE_VERSION,
      keyDigest: sha256(this.share.publicBytes()),
      index: this.index,
      sid: this.options.sid,
      message: this.options.message,
      signers: this.signers,
      path: this.options.path,
      merkleRoot: this.options.merkleRoot,
      state: this.st,
    });
  }

  static restore(share: FrostShare, bytes: Uint8Array): SignParty {
    return decodeLocal("FROST signing state", () => {
      const { curve } = share;
      const { run, body } = openSaved(bytes);
      const r: Reader = new Reader(body, null);
      const saved = decodeAll(signLayout(curve), r);
      if (!equalBytes(saved.keyDigest, sha256(share.publicBytes()))) r.fail("state belongs to another key");
      if (saved.index !== share.index) r.fail("state belongs to another party");
      const options: SignOptions = { sid: saved.sid, message: saved.message, signers: saved.signers };
      if (saved.path !== undefined) options.path = saved.path;
      if (saved.merkleRoot !== undefined) options.merkleRoot = saved.merkleRoot;
      const st = saved.state;
      const party = new SignParty(share, options, st);
      const wellFormed =
        st.step === 1
          ? st.own.identifier === identifierHex(curve, share.index)
          : st.step !== 2 ||
            (st.commitments.length === party.signers.length &&
              st.commitments.every((c, i) => c.identifier === identifierHex(curve, party.signers[i] as number)));
      if (!wellFormed) r.fail("inconsistent signing state");
      if (st.step === 1) party.trustOwn(st.own);
      party.restoreRun(run, st.step > 0, st.step === 3 ? { value: st.signature } : undefined);
      return party;
    });
  }
}

// Saved-state layout: each state's fields, declared once for save and restore. Scalars and
// elements are the curve's, so there is one layout per curve, made when first used.

interface SavedSign {
  version: number;
  /** Digest of the key's public state. */
  keyDigest: Uint8Array;
  index: number;
  sid: Uint8Array;
  message: Uint8Array;
  signers: number[];
  path: string | undefined;
  merkleRoot: Uint8Array | undefined;
  state: SignState;
}

const signLayouts = new Map<string, Codec<SavedSign>>();

function signLayout(curve: FrostCurve): Codec<SavedSign> {
  const known = signLayouts.get(curve.name);
  if (known) return known;
  const element: Codec<Uint8Array> = { write: (w, e) => w.fixed(e), read: (r) => readElement(r, curve) };
  const nonce: Codec<Uint8Array> = { write: (w, x) => w.fixed(x), read: (r) => readScalar(r, curve) };
  const commitments = record<NonceCommitments>({
    identifier: string(2 * curve.scalarBytes),
    hiding: element,
    binding: element,
  });
  const layout = record<SavedSign>({
    version: version(STATE_VERSION),
    keyDigest: fixed(32),
    index: u8,
    sid: fixed(32),
    message: bytesUpTo(MAX_MESSAGE_BYTES),
    signers: list(u8, MAX_PARTIES),
    path: optional(string(MAX_PATH_LENGTH)),
    merkleRoot: optional(fixed(32)),
    state: union<SignState, "step">("step", {
      0: record<Unstarted>({ step: literal(0) }),
      1: record<Committed>({
        step: literal(1),
        nonces: record<Nonces>({ hiding: nonce, binding: nonce }),
        own: commitments,
      }),
      2: record<Shared>({
        step: literal(2),
        commitments: list(commitments, MAX_PARTIES),
        ownShare: { write: (w, z) => w.fixed(z), read: (r) => readScalar(r, curve, true) },
      }),
      3: record<Signed>({ step: literal(3), signature: bytesUpTo(64) }),
    }),
  });
  signLayouts.set(curve.name, layout);
  return layout;
}
