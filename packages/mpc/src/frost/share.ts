/**
 * One party's FROST key share: its Shamir share of the group secret, the group's (internal,
 * untweaked) public key, every party's verifying share, and the chain code for BIP32 derivation
 * where the curve has it. Encoded with a version byte; decoding checks the share against its own
 * verifying share and that the verifying shares are a t-of-n sharing of the group key.
 */
import { decodeLocal, Reader, Writer } from "../codec/codec.js";
import { checkIndex, checkThreshold } from "../session/multi-party.js";
import { ProtocolAbort } from "../session/party.js";
import { type CurveName, curveByName, elementError, type FrostCurve, readScalar } from "./curve.js";
import { identifierOf, interpolate } from "./polynomial.js";

const SHARE_VERSION = 1;
export const MAX_PARTIES = 32;
export const CHAIN_CODE_BYTES = 32;

export interface FrostShareFields {
  curve: FrostCurve;
  index: number;
  n: number;
  t: number;
  signingShare: Uint8Array;
  groupKey: Uint8Array;
  verifyingShares: Uint8Array[];
  chainCode: Uint8Array;
}

export class FrostShare {
  readonly curve: FrostCurve;
  readonly index: number;
  readonly n: number;
  readonly t: number;
  readonly signingShare: Uint8Array;
  /** The group public key before any derivation or Taproot tweak. */
  readonly groupKey: Uint8Array;
  readonly verifyingShares: readonly Uint8Array[];
  readonly chainCode: Uint8Array;

  constructor(fields: FrostShareFields) {
    checkThreshold(fields.n, fields.t, MAX_PARTIES);
    checkIndex(fields.index, fields.n);
    if (fields.verifyingShares.length !== fields.n) throw new RangeError("one verifying share per party");
    if (fields.chainCode.length !== CHAIN_CODE_BYTES) throw new RangeError("chain code must be 32 bytes");
    this.curve = fields.curve;
    this.index = fields.index;
    this.n = fields.n;
    this.t = fields.t;
    this.signingShare = fields.signingShare;
    this.groupKey = fields.groupKey;
    this.verifyingShares = fields.verifyingShares;
    this.chainCode = fields.chainCode;
    this.checkConsistency();
  }

  get curveName(): CurveName {
    return this.curve.name;
  }

  /** Public state every party of the key holds identically (compared before refresh/reshare). */
  publicBytes(): Uint8Array {
    const w = new Writer();
    this.writePublic(w);
    return w.finish();
  }

  toBytes(): Uint8Array {
    const w = new Writer();
    w.u8(SHARE_VERSION);
    this.writePublic(w);
    w.u8(this.index);
    w.fixed(this.signingShare);
    return w.finish();
  }

  static fromBytes(bytes: Uint8Array): FrostShare {
    return decodeLocal("FROST share", () => {
      const r = new Reader(bytes, null);
      if (r.u8() !== SHARE_VERSION) r.fail("unknown share version");
      const pub = readPublicState(r);
      const index = r.u8();
      const signingShare = readScalar(r, pub.curve);
      r.end();
      if (index >= pub.n) r.fail("index out of range");
      return new FrostShare({ ...pub, index, signingShare });
    });
  }

  private writePublic(w: Writer): void {
    w.string(this.curve.name);
    w.u8(this.n);
    w.u8(this.t);
    w.fixed(this.groupKey);
    for (const y of this.verifyingShares) w.fixed(y);
    w.fixed(this.chainCode);
  }

  private checkConsistency(): void {
    const { curve } = this;
    checkPublicState(this, null);
    const own = curve.BASE.multiplyUnsafe(curve.Fn.fromBytes(this.signingShare));
    if (!own.equals(curve.point(this.verifyingShares[this.index] as Uint8Array))) {
      throw new ProtocolAbort(null, "share does not match its verifying share");
    }
  }
}

/**
 * Checks a key's public state: every point a valid group element, and the verifying shares a
 * t-of-n sharing of the group key. A failure is a ProtocolAbort naming `culprit`.
 */
export function checkPublicState(
  pub: Pick<FrostShare, "curve" | "t" | "groupKey" | "verifyingShares">,
  culprit: number | null,
): void {
  for (const y of [pub.groupKey, ...pub.verifyingShares]) {
    const error = elementError(pub.curve, y);
    if (error) throw new ProtocolAbort(culprit, `invalid key state: ${error}`);
  }
  if (!sharesGroupKey(pub)) throw new ProtocolAbort(culprit, "verifying shares are not a sharing of the group key");
}

/** Whether the verifying shares lie on one polynomial of degree t − 1 whose value at zero is the
 *  group key (each beyond the first t is interpolated from the first t). */
function sharesGroupKey(pub: Pick<FrostShare, "curve" | "t" | "groupKey" | "verifyingShares">): boolean {
  const { curve, t } = pub;
  const ys = pub.verifyingShares.map((y) => curve.point(y));
  const first = new Map(ys.slice(0, t).map((y, i) => [i, y]));
  if (!interpolate(curve, first).equals(curve.point(pub.groupKey))) return false;
  return ys.slice(t).every((y, k) => interpolate(curve, first, identifierOf(t + k)).equals(y));
}

export type PublicState = Omit<FrostShareFields, "index" | "signingShare">;

/** The public part of a share, as `publicBytes()` writes it, unchecked (see checkPublicState). */
function readPublicState(r: Reader): PublicState {
  const curve = curveByName(r.string(16));
  if (!curve) return r.fail("unknown curve");
  const n = r.u8();
  const t = r.u8();
  if (t < 2 || t > n || n > MAX_PARTIES) r.fail("invalid threshold");
  const groupKey = r.fixed(curve.pointBytes);
  const verifyingShares = Array.from({ length: n }, () => r.fixed(curve.pointBytes));
  const chainCode = r.fixed(CHAIN_CODE_BYTES);
  return { curve, n, t, groupKey, verifyingShares, chainCode };
}

/** A public state from `sender` (null: local data), decoded strictly and checked. */
export function parsePublicState(bytes: Uint8Array, sender: number | null): PublicState {
  const r = new Reader(bytes, sender);
  const pub = readPublicState(r);
  r.end();
  checkPublicState(pub, sender);
  return pub;
}
