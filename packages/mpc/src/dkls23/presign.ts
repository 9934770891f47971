/**
 * DKLs23's last round, apart: a pre-signature is what a signer holds after rounds 1–2 (which
 * need no message) — its shares uᵢ of r·φ and vᵢ of sk·φ, its mask φᵢ, the nonce point R and a
 * digest of every signer's Rⱼ and pkⱼ. With a message hash m it gives the final share
 * wᵢ = m·φᵢ + rₓ·vᵢ; the signature is Σw / Σu.
 *
 * A pre-signature is secret and single use: two messages signed with one nonce give the key. It
 * carries a random id drawn when it is made, and the share lists the ids it has issued and not
 * used: a pre-signature signs only while listed, and signing takes it off the list. Persist the
 * share after presigning (else the pre-signature cannot sign) and after signing, before sending
 * (else it could sign again), as after a ban. No bound lets a used one back in: the share refuses
 * to issue more than MAX_OUTSTANDING_PRESIGNATURES rather than forget any. The process also
 * refuses a signing session twice, whatever copy of the share or pre-signature it comes from.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { randomBytes } from "@noble/hashes/utils.js";
import { CURVE_ORDER, decodeLocal, type Point, Reader, Writer } from "../codec/codec.js";
import { decodeAll, fixed, literal, record, union, version } from "../codec/schema.js";
import {
  finishSignature,
  hashToScalar,
  readSignature,
  type Signature,
  verifySignature,
  writeSignature,
} from "../ecdsa/signature.js";
import { derive, MAX_PATH_LENGTH } from "../hd/derive.js";
import { mod, modInv } from "../math/bigint.js";
import { checkSid, equalBytes } from "../session/envelope.js";
import { checkSignerSet, MultiPartyRoundParty } from "../session/multi-party.js";
import { check, type Msg } from "../session/party.js";
import { openSaved } from "../session/round-party.js";
import { SingleUse } from "../session/single-use.js";
import { type DklsShare, PRESIGNATURE_ID_BYTES } from "./share.js";

/** Version 2 carries the id the share lists the pre-signature under; version 1 had none. */
const PRESIGNATURE_VERSION = 2;
/** The round the final shares travel in (after the two rounds of the pre-signature). */
export const FINAL_ROUND = 3;
/** A finished run's step: the final round handled. */
const SIGNED = 4;
/** The saved state's format, typed by step: a state saved in another format is refused on restore. */
const STATE_VERSION = 3;

export interface Presignature {
  /** Drawn by the share that issued it, which lists it until it signs. */
  id: Uint8Array;
  /** The key set-up it belongs to: a refresh or reshare makes it void. */
  setupSid: Uint8Array;
  sid: Uint8Array;
  index: number;
  signers: number[];
  path?: string;
  /** This signer's mask φᵢ and shares uᵢ (of r·φ), vᵢ (of sk·φ). */
  phi: bigint;
  u: bigint;
  v: bigint;
  /** The nonce point R = Σ Rⱼ. */
  R: Point;
  /** Digest of every signer's nonce point and key share, in signer order. */
  view: Uint8Array;
}

/**
 * Signing sessions finished from a pre-signature in this process, as (sid, index): besides the
 * share's list, it stops two pre-signatures of one nonce under different ids (a signing state
 * restored twice) and two copies of the share each listing the same one.
 */
const finished = new SingleUse();

export function writePresignature(w: Writer, p: Presignature): void {
  w.u8(PRESIGNATURE_VERSION);
  w.fixed(p.id);
  w.fixed(p.setupSid);
  w.fixed(p.sid);
  w.u8(p.index);
  w.list(p.signers, (w, s) => w.u8(s));
  w.optional(p.path, (s) => w.string(s));
  w.scalar(p.phi);
  w.scalar(p.u);
  w.scalar(p.v);
  w.point(p.R);
  w.fixed(p.view);
}

export function readPresignature(r: Reader): Presignature {
  const version = r.u8();
  if (version === 1) r.fail("pre-signature of version 1, which its share does not list: it cannot sign");
  if (version !== PRESIGNATURE_VERSION) r.fail("unknown pre-signature version");
  const id = r.fixed(PRESIGNATURE_ID_BYTES);
  const setupSid = r.fixed(32);
  const sid = r.fixed(32);
  const index = r.u8();
  const signers = r.list(16, (r) => r.u8());
  const path = r.optional(() => r.string(MAX_PATH_LENGTH));
  const p: Presignature = {
    id,
    setupSid,
    sid,
    index,
    signers,
    phi: r.scalar(),
    u: r.scalar(true),
    v: r.scalar(true),
    R: r.point(),
    view: r.fixed(32),
  };
  if (path !== undefined) p.path = path;
  return p;
}

export function presignatureToBytes(p: Presignature): Uint8Array {
  const w = new Writer();
  writePresignature(w, p);
  return w.finish();
}

export function presignatureFromBytes(bytes: Uint8Array): Presignature {
  return decodeLocal("DKLs23 pre-signature", () => {
    const r = new Reader(bytes, null);
    const p = readPresignature(r);
    r.end();
    return p;
  });
}

/** What every signer must agree on in the final round: the message and the pre-signing view. */
function finalDigest(p: Presignature, messageHash: Uint8Array): Uint8Array {
  const w = new Writer();
  w.string("keyshard/dkls23/final/v1");
  w.fixed(messageHash);
  w.fixed(p.view);
  return sha256(w.finish());
}

/** The final round of a signing run, from a pre-signature: broadcast (uᵢ, wᵢ), then combine. */
export class DklsFinishParty extends MultiPartyRoundParty<Signature> {
  private readonly childKey: Point;
  private st: FinishState = { step: 0 };
  /** Whether the share must list the pre-signature: all but a full signing run's own. */
  private issued = true;

  constructor(
    private readonly share: DklsShare,
    private readonly pre: Presignature,
    private readonly messageHash: Uint8Array,
  ) {
    super(pre.index, "dkls23/sign", pre.sid);
    checkSid(pre.sid);
    hashToScalar(messageHash);
    if (pre.index !== share.index) throw new RangeError("pre-signature of another party");
    // A refresh or reshare voids outstanding pre-signatures (the new share's record starts empty).
    if (!equalBytes(pre.setupSid, share.setupSid)) throw new RangeError("pre-signature of another key set-up");
    checkSignerSet(share.index, share.n, share.t, pre.signers);
    this.childKey = derive(share.publicKey, share.chainCode, pre.path).publicKey;
  }

  /**
   * The last round of a full signing run, with the pre-signature that run has just made. That one
   * never reaches the caller, so the share does not list it (nor count it against the cap); its
   * id is drawn here and listed nowhere, so no copy of it taken from a saved state can sign.
   */
  static inRun(share: DklsShare, pre: Omit<Presignature, "id">, messageHash: Uint8Array): DklsFinishParty {
    const party = new DklsFinishParty(share, { ...pre, id: randomBytes(PRESIGNATURE_ID_BYTES) }, messageHash);
    party.issued = false;
    return party;
  }

  protected get step(): number {
    return this.st.step;
  }
  /** The session was claimed by the run that made the pre-signature; the pre-signature itself is
   *  what this run spends. */
  protected override get claimsSession(): boolean {
    return false;
  }
  protected speakers(): readonly number[] {
    return this.pre.signers;
  }
  protected get handlers(): Record<number, (from: Map<number, Reader>) => Msg[]> {
    return { [FINAL_ROUND]: (m) => this.combine(m) };
  }

  protected onStart(): Msg[] {
    // Both are spent before either is checked: a pre-signature one of them refuses is void.
    const fresh = finished.claim(new Uint8Array([...this.pre.sid, this.pre.index]));
    const listed = !this.issued || this.share.usePresignature(this.pre.id);
    check(
      listed,
      null,
      "this pre-signature is not outstanding in this share: it has been used, or the share as persisted " +
        "never issued it; a nonce signs one message only",
    );
    check(fresh, null, "this pre-signature has been used in this process; a nonce signs one message only");
    const { pre } = this;
    const rx = mod(pre.R.toAffine().x, CURVE_ORDER);
    const w = mod(hashToScalar(this.messageHash) * pre.phi + rx * pre.v, CURVE_ORDER);
    this.st = { step: FINAL_ROUND };
    return [
      this.broadcast(FINAL_ROUND, (wr) => {
        wr.scalar(pre.u);
        wr.scalar(w);
        wr.fixed(finalDigest(pre, this.messageHash));
      }),
    ];
  }

  private combine(from: Map<number, Reader>): Msg[] {
    const { pre } = this;
    const rx = mod(pre.R.toAffine().x, CURVE_ORDER);
    let u = pre.u;
    let w = mod(hashToScalar(this.messageHash) * pre.phi + rx * pre.v, CURVE_ORDER);
    const digest = finalDigest(pre, this.messageHash);
    for (const [, rd] of from) {
      u += rd.scalar(true);
      w += rd.scalar(true);
      const theirs = rd.fixed(32);
      rd.end();
      check(equalBytes(theirs, digest), null, "signers saw different nonces, key shares or messages");
    }
    u = mod(u, CURVE_ORDER);
    check(u !== 0n, null, "degenerate signature (u = 0)");
    const s = mod(mod(w, CURVE_ORDER) * modInv(u, CURVE_ORDER), CURVE_ORDER);
    check(s !== 0n, null, "degenerate signature (s = 0)");
    const signature = finishSignature(pre.R, s);
    check(
      verifySignature(signature, this.messageHash, this.childKey),
      null,
      "signature does not verify: a signer sent a bad final share",
    );
    this.st = { step: SIGNED, signature };
    this.finish(signature);
    return [];
  }

  protected saveState(w: Writer): void {
    savedFinish.write(w, { version: STATE_VERSION, pre: this.pre, messageHash: this.messageHash, state: this.st });
  }

  /** Rebuilds a saved final round (its share was sent already: restoring sends nothing new). */
  static restore(share: DklsShare, bytes: Uint8Array): DklsFinishParty {
    return decodeLocal("DKLs23 final-round state", () => {
      const { run, body } = openSaved(bytes);
      const r: Reader = new Reader(body, null);
      const saved = decodeAll(savedFinish, r);
      const st = saved.state;
      if (st.step === 0) r.fail("final round not started");
      const party = new DklsFinishParty(share, saved.pre, saved.messageHash);
      party.st = st;
      party.restoreRun(run, true, st.step === SIGNED ? { value: st.signature } : undefined);
      return party;
    });
  }
}

/** Before the final round. */
interface Unstarted {
  step: 0;
}
/** This signer's final share is out; waiting for the others'. */
interface Sent {
  step: typeof FINAL_ROUND;
}
/** The signature is made and verified. */
interface Signed {
  step: typeof SIGNED;
  signature: Signature;
}
type FinishState = Unstarted | Sent | Signed;

// Saved-state layout: declared once for save and restore.
const savedFinish = record<{ version: number; pre: Presignature; messageHash: Uint8Array; state: FinishState }>({
  version: version(STATE_VERSION),
  pre: { write: writePresignature, read: (r) => readPresignature(r) },
  messageHash: fixed(32),
  state: union<FinishState, "step">("step", {
    0: record<Unstarted>({ step: literal(0) }),
    [FINAL_ROUND]: record<Sent>({ step: literal(FINAL_ROUND) }),
    [SIGNED]: record<Signed>({
      step: literal(SIGNED),
      signature: { write: writeSignature, read: (r) => readSignature(r) },
    }),
  }),
});
