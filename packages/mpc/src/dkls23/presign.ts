/**
 * DKLs23's last round, apart: a pre-signature is what a signer holds after rounds 1–2 (which
 * need no message) — its shares uᵢ of r·φ and vᵢ of sk·φ, its mask φᵢ, the nonce point R and a
 * digest of every signer's Rⱼ and pkⱼ. With a message hash m it gives the final share
 * wᵢ = m·φᵢ + rₓ·vᵢ; the signature is Σw / Σu.
 *
 * A pre-signature is secret and single use: two messages signed with one nonce give the key. The
 * share records the sessions of the latest pre-signatures it signed with (persist the share after
 * signing, as after a ban), and the process refuses one twice whatever copy it comes from.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { CURVE_ORDER, decodeLocal, type Point, Reader, Writer } from "../codec/codec.js";
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
import { SingleUse } from "../session/single-use.js";
import type { DklsShare } from "./share.js";

const PRESIGNATURE_VERSION = 1;
/** The round the final shares travel in (after the two rounds of the pre-signature). */
export const FINAL_ROUND = 3;

export interface Presignature {
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

/** Pre-signatures finished in this process. */
const finished = new SingleUse();

export function writePresignature(w: Writer, p: Presignature): void {
  w.u8(PRESIGNATURE_VERSION);
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
  if (r.u8() !== PRESIGNATURE_VERSION) r.fail("unknown pre-signature version");
  const setupSid = r.fixed(32);
  const sid = r.fixed(32);
  const index = r.u8();
  const signers = r.list(16, (r) => r.u8());
  const path = r.optional(() => r.string(MAX_PATH_LENGTH));
  const p: Presignature = {
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
  private step_ = 0;

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

  protected get step(): number {
    return this.step_;
  }
  protected speakers(): readonly number[] {
    return this.pre.signers;
  }
  protected get handlers(): Record<number, (from: Map<number, Reader>) => Msg[]> {
    return { [FINAL_ROUND]: (m) => this.combine(m) };
  }

  protected onStart(): Msg[] {
    const fresh = finished.claim(new Uint8Array([...this.pre.sid, this.pre.index]));
    check(
      this.share.usePresignature(this.pre.sid) && fresh,
      null,
      "this pre-signature has been used; a nonce signs one message only",
    );
    const { pre } = this;
    const rx = mod(pre.R.toAffine().x, CURVE_ORDER);
    const w = mod(hashToScalar(this.messageHash) * pre.phi + rx * pre.v, CURVE_ORDER);
    this.step_ = FINAL_ROUND;
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
    this.step_ = FINAL_ROUND + 1;
    this.finish(signature);
    return [];
  }

  protected saveState(): Uint8Array {
    const w = new Writer();
    w.u8(PRESIGNATURE_VERSION);
    writePresignature(w, this.pre);
    w.fixed(this.messageHash);
    w.u8(this.step_);
    w.optional(this.done ? this.result() : undefined, (sig) => writeSignature(w, sig));
    return w.finish();
  }

  /** Rebuilds a saved final round (its share was sent already: restoring sends nothing new). */
  static restore(share: DklsShare, bytes: Uint8Array): DklsFinishParty {
    return decodeLocal("DKLs23 final-round state", () => {
      const r = new Reader(bytes, null);
      if (r.u8() !== PRESIGNATURE_VERSION) r.fail("unknown state version");
      const pre = readPresignature(r);
      const messageHash = r.fixed(32);
      const step = r.u8();
      const signature = r.optional(() => readSignature(r));
      r.end();
      if (step !== FINAL_ROUND && step !== FINAL_ROUND + 1) r.fail("final round not started");
      const party = new DklsFinishParty(share, pre, messageHash);
      party.step_ = step;
      party.restoreFlags(true, signature ? { value: signature } : undefined);
      return party;
    });
  }
}
