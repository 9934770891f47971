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
import { MAX_PATH_LENGTH } from "../hd/derive.js";
import { checkSid, equalBytes } from "../session/envelope.js";
import { checkSignerSet, MultiPartyRoundParty } from "../session/multi-party.js";
import { check, type Msg, ProtocolAbort } from "../session/party.js";
import { openSaved } from "../session/round-party.js";
import { type RunCurve, readElement, readScalar } from "./curve.js";
import { identifierHex } from "./polynomial.js";
import type { FrostShare } from "./share.js";
import { type SigningKey, signingKey } from "./signing-key.js";

const STATE_VERSION = 1;
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

interface SignState {
  step: number;
  nonces?: Nonces;
  own?: NonceCommitments;
  commitments?: NonceCommitments[];
  ownShare?: Uint8Array;
}

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
    return { 1: (m) => this.round2(m), 2: (m) => this.finishSigning(m) };
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

  private round2(from: Map<number, Reader>): Msg[] {
    const { curve } = this;
    const { nonces, own } = this.st;
    if (!nonces || !own) throw new ProtocolAbort(null, "signing state has no nonces");
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

  private finishSigning(from: Map<number, Reader>): Msg[] {
    const { curve } = this;
    const { commitments, ownShare } = this.st as Required<SignState>;
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
    this.st = { step: 3 };
    this.finish(signature);
    return [];
  }

  protected saveState(): Uint8Array {
    const w = new Writer();
    w.u8(STATE_VERSION);
    w.fixed(sha256(this.share.publicBytes()));
    w.u8(this.index);
    w.fixed(this.options.sid);
    w.bytes(this.options.message);
    w.list(this.signers, (w, s) => w.u8(s));
    w.optional(this.options.path, (p) => w.string(p));
    w.optional(this.options.merkleRoot, (m) => w.fixed(m));
    w.u8(this.st.step);
    w.bool(this.done);
    w.optional(this.st.nonces, (n) => {
      w.fixed(n.hiding);
      w.fixed(n.binding);
    });
    w.optional(this.st.own, (c) => {
      w.fixed(c.hiding);
      w.fixed(c.binding);
    });
    w.optional(this.st.commitments, (list) =>
      w.list(list, (w, c) => {
        w.fixed(c.hiding);
        w.fixed(c.binding);
      }),
    );
    w.optional(this.st.ownShare, (z) => w.fixed(z));
    w.optional(this.done ? this.result() : undefined, (sig) => w.bytes(sig));
    return w.finish();
  }

  static restore(share: FrostShare, bytes: Uint8Array): SignParty {
    return decodeLocal("FROST signing state", () => {
      const { curve } = share;
      const { run, body } = openSaved(bytes);
      const r = new Reader(body, null);
      if (r.u8() !== STATE_VERSION) r.fail("unknown state version");
      if (!equalBytes(r.fixed(32), sha256(share.publicBytes()))) r.fail("state belongs to another key");
      if (r.u8() !== share.index) r.fail("state belongs to another party");
      const sid = r.fixed(32);
      const message = r.bytes(MAX_MESSAGE_BYTES);
      const signers = r.list(share.n, (r) => r.u8());
      const path = r.optional(() => r.string(MAX_PATH_LENGTH));
      const merkleRoot = r.optional(() => r.fixed(32));
      const step = r.u8();
      const done = r.bool();
      const nonces = r.optional(() => ({ hiding: readScalar(r, curve), binding: readScalar(r, curve) }));
      const own = r.optional(() => ({
        identifier: identifierHex(curve, share.index),
        hiding: readElement(r, curve),
        binding: readElement(r, curve),
      }));
      const points = r.optional(() =>
        r.list(share.n, (r) => ({ hiding: readElement(r, curve), binding: readElement(r, curve) })),
      );
      const ownShare = r.optional(() => readScalar(r, curve, true));
      const signature = r.optional(() => r.bytes(64));
      r.end();
      const options: SignOptions = { sid, message, signers };
      if (path !== undefined) options.path = path;
      if (merkleRoot !== undefined) options.merkleRoot = merkleRoot;
      const st: SignState = { step };
      if (nonces) st.nonces = nonces;
      if (own) st.own = own;
      if (ownShare) st.ownShare = ownShare;
      const party = new SignParty(share, options, st);
      if (own) party.trustOwn(own);
      if (points) {
        if (points.length !== party.signers.length) r.fail("commitment list does not match the signers");
        st.commitments = points.map((p, i) => ({ ...p, identifier: identifierHex(curve, party.signers[i] as number) }));
      }
      const wellFormed =
        step === 0 ||
        (step === 1 && nonces !== undefined && own !== undefined) ||
        (step === 2 && points !== undefined && ownShare !== undefined) ||
        (step === 3 && done && signature !== undefined);
      if (!wellFormed) r.fail("inconsistent signing state");
      party.restoreRun(run, step > 0, done && signature ? { value: signature } : undefined);
      return party;
    });
  }
}
