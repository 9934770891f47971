/**
 * The key a signature is made under, as a noble key package.
 *
 * Ed25519: the group key itself. RFC 8032 keys have no non-hardened derivation (SLIP-10 defines
 * hardened children only, which need the whole secret), so a path is refused.
 *
 * Taproot (BIP340/341): BIP32 public derivation of the internal key along a non-hardened path,
 * then BIP341's tweak of the even-Y internal key P: Q = P + H_TapTweak(x(P) ‖ merkle root)·G,
 * with an empty merkle root for a key-path-only output (as BIP86). Each step moves every party's
 * share by the same public scalar, which keeps a valid Shamir sharing because Lagrange
 * coefficients sum to one.
 */
import { schnorr, secp256k1 } from "@noble/curves/secp256k1.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { bytesToBigint, CURVE_ORDER } from "../codec/codec.js";
import { DerivationError, derive, parsePath } from "../hd/derive.js";
import { identifierHex } from "./polynomial.js";
import type { FrostShare } from "./share.js";

/** noble's key packages (FrostSecret, FrostPublic), as keyshard's byte arrays. */
export interface KeyPackageSecret {
  identifier: string;
  signingShare: Uint8Array;
}
export interface KeyPackagePublic {
  signers: { min: number; max: number };
  commitments: Uint8Array[];
  verifyingShares: Record<string, Uint8Array>;
}

export interface SigningKey {
  /** This party's key package, tweaked like the public one. */
  secret: KeyPackageSecret;
  public: KeyPackagePublic;
  /** What the finished signature verifies under: the Ed25519 key or the x-only output key. */
  publicKey: Uint8Array;
}

export interface KeyOptions {
  path?: string | undefined;
  /** Taproot script-tree root (32 bytes); absent for a key-path-only output. */
  merkleRoot?: Uint8Array | undefined;
}

/** What a key's public identity is made of (a share, or the public state a dealer sends). */
export type KeyMaterial = Pick<FrostShare, "curve" | "groupKey" | "chainCode">;

type K1Point = InstanceType<typeof secp256k1.Point>;
const G = secp256k1.Point.BASE;
const Fn = secp256k1.Point.Fn;

function checkOptions(share: KeyMaterial, options: KeyOptions): void {
  if (share.curve.taproot) {
    if (options.path !== undefined) parsePath(options.path);
    if (options.merkleRoot !== undefined && options.merkleRoot.length !== 32) {
      throw new RangeError("merkleRoot must be 32 bytes");
    }
    return;
  }
  if (options.path !== undefined) {
    throw new DerivationError(
      `${share.curve.name} keys cannot be derived along a path: only hardened derivation exists for them, which a shared key cannot do`,
    );
  }
  if (options.merkleRoot !== undefined) throw new RangeError("merkleRoot applies to Taproot keys only");
}

/** BIP341 taproot_tweak_pubkey's t: the tagged hash of the internal key and the merkle root. */
function tapTweak(internal: K1Point, merkleRoot: Uint8Array): bigint {
  const t = bytesToBigint(schnorr.utils.taggedHash("TapTweak", internal.toBytes(true).subarray(1), merkleRoot));
  if (t >= CURVE_ORDER) throw new DerivationError("Taproot tweak out of range; use another key or path");
  return t;
}

interface TaprootTweak {
  /** The even-Y internal key after derivation. */
  internal: K1Point;
  output: K1Point;
  /** Maps a share, or a verifying share, of the group key to one of the output key, negated if
   *  need be so that the output key has even Y as BIP340 signs (noble then leaves it as is). */
  share: (s: bigint) => bigint;
  point: (y: K1Point) => K1Point;
}

function taprootTweak(share: KeyMaterial, options: KeyOptions): TaprootTweak {
  const derived = derive(secp256k1.Point.fromBytes(share.groupKey), share.chainCode, options.path);
  const d = derived.tweak;
  const oddInternal = derived.publicKey.toBytes(true)[0] === 3;
  const internal = oddInternal ? derived.publicKey.negate() : derived.publicKey;
  const t = tapTweak(internal, options.merkleRoot ?? new Uint8Array(0));
  const dG = d === 0n ? secp256k1.Point.ZERO : G.multiplyUnsafe(d);
  const tG = t === 0n ? secp256k1.Point.ZERO : G.multiplyUnsafe(t);
  const output = internal.add(tG);
  if (output.is0()) throw new DerivationError("Taproot output key is the identity; use another path");
  const oddOutput = output.toBytes(true)[0] === 3;
  const sign = (negate: boolean, x: bigint) => (negate ? Fn.neg(x) : x);
  const signPoint = (negate: boolean, p: K1Point) => (negate ? p.negate() : p);
  return {
    internal,
    output: signPoint(oddOutput, output),
    share: (s) => sign(oddOutput, Fn.add(sign(oddInternal, Fn.add(s, d)), t)),
    point: (y) => signPoint(oddOutput, signPoint(oddInternal, y.add(dG)).add(tG)),
  };
}

/** A key package with every party's verifying share, before choosing the signers. */
interface FullKey {
  signingShare: Uint8Array;
  commitment: Uint8Array;
  verifyingShares: Uint8Array[];
  publicKey: Uint8Array;
}

/** Tweaked keys per share, by path and merkle root: a wallet signs at few keys, repeatedly. */
const tweaked = new WeakMap<FrostShare, Map<string, FullKey>>();
const TWEAKED_PER_SHARE = 64;

function fullKey(share: FrostShare, options: KeyOptions): FullKey {
  if (!share.curve.taproot) {
    return {
      signingShare: share.signingShare,
      commitment: share.groupKey,
      verifyingShares: [...share.verifyingShares],
      publicKey: share.groupKey,
    };
  }
  const key = `${options.path === undefined ? "-" : `p${options.path}`}/${options.merkleRoot ? bytesToHex(options.merkleRoot) : "-"}`;
  let byKey = tweaked.get(share);
  const known = byKey?.get(key);
  if (known) return known;
  const tweak = taprootTweak(share, options);
  const full: FullKey = {
    signingShare: Fn.toBytes(tweak.share(Fn.fromBytes(share.signingShare))),
    commitment: tweak.output.toBytes(true),
    verifyingShares: share.verifyingShares.map((y) => tweak.point(secp256k1.Point.fromBytes(y)).toBytes(true)),
    publicKey: tweak.output.toBytes(true).subarray(1),
  };
  if (!byKey) tweaked.set(share, (byKey = new Map()));
  if (byKey.size >= TWEAKED_PER_SHARE) byKey.delete(byKey.keys().next().value as string);
  byKey.set(key, full);
  return full;
}

/** The key package for signing among `signers` (their verifying shares only). */
export function signingKey(share: FrostShare, signers: readonly number[], options: KeyOptions = {}): SigningKey {
  checkOptions(share, options);
  const id = (i: number) => identifierHex(share.curve, i);
  const key = fullKey(share, options);
  return {
    secret: { identifier: id(share.index), signingShare: key.signingShare },
    public: {
      signers: { min: share.t, max: share.n },
      commitments: [key.commitment],
      verifyingShares: Object.fromEntries(signers.map((i) => [id(i), key.verifyingShares[i] as Uint8Array])),
    },
    publicKey: key.publicKey,
  };
}

/** The 32-byte key signatures verify under (Ed25519 key, or x-only Taproot output key). */
export function outputKey(share: KeyMaterial, options: KeyOptions = {}): Uint8Array {
  checkOptions(share, options);
  return share.curve.taproot ? taprootTweak(share, options).output.toBytes(true).subarray(1) : share.groupKey;
}

/** Taproot only: the x-only internal key (BIP341 P, PSBT's tap_internal_key) at `path`. */
export function internalKey(share: KeyMaterial, path?: string): Uint8Array {
  if (!share.curve.taproot) throw new RangeError("internal keys exist for Taproot keys only");
  return taprootTweak(share, { path }).internal.toBytes(true).subarray(1);
}
