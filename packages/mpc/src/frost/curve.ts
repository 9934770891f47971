/**
 * The FROST ciphersuites keyshard signs with, as thin adapters around @noble/curves' RFC 9591
 * implementation (which does all of FROST's own arithmetic): which noble suite signs, how points
 * and scalars travel on the wire (decoded strictly, RFC 9591 §3.1), the key-generation suite bound
 * to one session.
 *
 * `secp256k1` (the plain RFC suite, untweaked) is not exported by the package; it exists so the
 * RFC 9591 secp256k1 test vectors can run through the same signing code as Taproot.
 */
import { createFROST, type FROST } from "@noble/curves/abstract/frost.js";
import type { IField } from "@noble/curves/abstract/modular.js";
import { ed25519, ed25519_FROST } from "@noble/curves/ed25519.js";
import { schnorr_FROST, secp256k1, secp256k1_FROST, secp256k1_hasher } from "@noble/curves/secp256k1.js";
import { sha256, sha512 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import type { Reader } from "../codec/codec.js";
import { equalBytes } from "../session/envelope.js";

export type CurveName = "ed25519" | "secp256k1tr" | "secp256k1";

/** The group operations keyshard itself needs (public values only: resharing, share checks). */
export interface GroupPoint {
  add(other: GroupPoint): GroupPoint;
  negate(): GroupPoint;
  multiplyUnsafe(k: bigint): GroupPoint;
  equals(other: GroupPoint): boolean;
  is0(): boolean;
  isTorsionFree(): boolean;
  assertValidity(): void;
  toBytes(): Uint8Array;
}

export interface FrostCurve {
  readonly name: CurveName;
  /** noble's RFC 9591 suite: nonces, signature shares, share verification, aggregation. */
  readonly suite: FROST;
  readonly Fn: IField<bigint>;
  readonly BASE: GroupPoint;
  readonly pointBytes: number;
  readonly scalarBytes: number;
  /** Whether keys derive along non-hardened BIP32 paths and take a Taproot tweak. */
  readonly taproot: boolean;
  /** Parses a point this party holds (throws on an invalid one). */
  point(bytes: Uint8Array): GroupPoint;
  /**
   * This curve for one party's run: a suite whose point parsing remembers the encodings known
   * to be valid (see `subgroupMemo`). For key generation, pass the session: the suite is then
   * the plain (untweaked) one with the session in its proof-of-knowledge hash.
   */
  forRun(keygenSession?: Uint8Array): RunCurve;
}

export interface RunCurve extends FrostCurve {
  /** Records an encoding this party knows to be a valid subgroup element (it made or stored it). */
  trust(bytes: Uint8Array): void;
}

interface SuiteOptions {
  name: string;
  Point: typeof ed25519.Point | typeof secp256k1.Point;
  hash: (m: Uint8Array) => Uint8Array;
  hashToScalar?: typeof secp256k1_hasher.hashToScalar;
  H2?: string;
}

type PointClass = {
  BASE: GroupPoint;
  fromBytes(b: Uint8Array): GroupPoint;
};

/**
 * noble's FROST re-validates a point every time it parses one (RFC 9591 §3.1 DeserializeElement),
 * and on Ed25519 the subgroup check is a full scalar multiplication: one signing run would check
 * each nonce commitment half a dozen times. This Point class remembers, for one run, the
 * encodings already decoded and checked (or made by this party), so each costs one check.
 * Subgroup membership is a fixed property of an encoding, so the memo never changes an answer.
 * noble's MSM accepts only instances of the suite's Point class; signing and share checks give it
 * parsed points only (MemoPoints), and a change there fails every Ed25519 signing test loudly.
 */
function subgroupMemo(): { Point: typeof ed25519.Point; trust(bytes: Uint8Array): void } {
  const known = new Set<string>();
  const encodings = new WeakMap<object, string>();
  // Decoding (a square root) is remembered too: points are immutable, so one object can serve.
  const decoded = new Map<string, MemoPoint>();
  class MemoPoint extends ed25519.Point {
    static override fromBytes(bytes: Uint8Array, zip215?: boolean): MemoPoint {
      const hex = bytesToHex(bytes);
      const seen = zip215 ? undefined : decoded.get(hex);
      if (seen) return seen;
      const p = ed25519.Point.fromBytes(bytes, zip215);
      const m = new MemoPoint(p.X, p.Y, p.Z, p.T);
      encodings.set(m, hex);
      if (!zip215) decoded.set(hex, m);
      return m;
    }
    override isTorsionFree(): boolean {
      const encoding = encodings.get(this);
      if (encoding !== undefined && known.has(encoding)) return true;
      const ok = super.isTorsionFree();
      if (ok && encoding !== undefined) known.add(encoding);
      return ok;
    }
  }
  return { Point: MemoPoint, trust: (bytes) => known.add(bytesToHex(bytes)) };
}

function makeCurve(name: CurveName, suite: FROST, options: SuiteOptions, pointBytes: number): FrostCurve {
  const P = options.Point as unknown as PointClass;
  const curve: FrostCurve = {
    name,
    suite,
    Fn: suite.utils.Fn,
    BASE: P.BASE,
    pointBytes,
    scalarBytes: suite.utils.Fn.BYTES,
    taproot: name === "secp256k1tr",
    point(bytes) {
      const p = P.fromBytes(bytes);
      p.assertValidity();
      return p;
    },
    forRun(keygenSession) {
      // FROST's key generation (Komlo–Goldberg) puts a context string into each proof of
      // knowledge so that a commitment from another run does not verify; noble's DKG hash takes
      // its domain from the suite, so the session goes there. Only Ed25519's subgroup check is
      // costly (secp256k1 has cofactor 1), so only Ed25519 gets the memo — and not for key
      // generation, whose final MSM mixes parsed and computed points, which noble requires to be
      // of one Point class.
      const memo = name === "ed25519" && !keygenSession ? subgroupMemo() : undefined;
      const runOptions = {
        ...(options as Parameters<typeof createFROST>[0]),
        ...(memo ? { Point: memo.Point } : {}),
        ...(keygenSession ? { HDKG: `${options.name}dkg/keyshard/${bytesToHex(keygenSession)}` } : {}),
      };
      const RunPoint = (memo?.Point ?? options.Point) as unknown as PointClass;
      return {
        ...curve,
        suite: memo || keygenSession ? createFROST(runOptions) : suite,
        point(bytes) {
          const p = RunPoint.fromBytes(bytes);
          p.assertValidity();
          return p;
        },
        trust: memo ? memo.trust : () => {},
      };
    },
  };
  return curve;
}

const ED25519_OPTIONS: SuiteOptions = { name: "FROST-ED25519-SHA512-v1", Point: ed25519.Point, hash: sha512, H2: "" };
const SECP256K1_TR_OPTIONS: SuiteOptions = {
  name: "FROST-secp256k1-SHA256-TR-v1",
  Point: secp256k1.Point,
  hash: sha256,
  hashToScalar: secp256k1_hasher.hashToScalar,
};
const SECP256K1_OPTIONS: SuiteOptions = { ...SECP256K1_TR_OPTIONS, name: "FROST-secp256k1-SHA256-v1" };

export const CURVES: Record<CurveName, FrostCurve> = {
  ed25519: makeCurve("ed25519", ed25519_FROST, ED25519_OPTIONS, 32),
  secp256k1tr: makeCurve("secp256k1tr", schnorr_FROST, SECP256K1_TR_OPTIONS, 33),
  secp256k1: makeCurve("secp256k1", secp256k1_FROST, SECP256K1_OPTIONS, 33),
};

export function curveByName(name: string): FrostCurve | undefined {
  return Object.hasOwn(CURVES, name) ? CURVES[name as CurveName] : undefined;
}

/** What RFC 9591 §3.1 DeserializeElement finds wrong with an encoding (canonical, on the curve,
 *  not the identity, in the prime-order subgroup), or undefined for a valid element. */
export function elementError(curve: FrostCurve, bytes: Uint8Array): string | undefined {
  if (bytes.length !== curve.pointBytes) return "point of the wrong length";
  let p: GroupPoint;
  try {
    p = curve.point(bytes);
  } catch {
    return "point not on the curve";
  }
  if (p.is0()) return "point is the identity";
  if (!p.isTorsionFree()) return "point outside the prime-order subgroup";
  if (!equalBytes(p.toBytes(), bytes)) return "non-canonical point encoding";
  return undefined;
}

/** Reads a group element, checked as `elementError` says; a failure names the sender. */
export function readElement(r: Reader, curve: FrostCurve): Uint8Array {
  const bytes = r.fixed(curve.pointBytes);
  const error = elementError(curve, bytes);
  if (error) r.fail(error);
  return bytes;
}

/** Reads a scalar in its canonical encoding (below the group order; zero only if allowed). */
export function readScalar(r: Reader, curve: FrostCurve, allowZero = false): Uint8Array {
  const bytes = r.fixed(curve.scalarBytes);
  let x: bigint;
  try {
    x = curve.Fn.fromBytes(bytes);
  } catch {
    return r.fail("scalar not below the group order");
  }
  if (x === 0n && !allowZero) r.fail("zero scalar");
  return bytes;
}
