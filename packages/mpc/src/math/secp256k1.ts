/**
 * secp256k1 scalar multiplication through libsecp256k1, in tiny-secp256k1's WebAssembly build.
 *
 * @noble/curves' "constant-time" multiplication runs on JavaScript BigInt, whose arithmetic is not
 * constant-time underneath, and costs ≈ 2.5 ms for k·P on the project's machine. libsecp256k1's
 * `ecmult_const` (k·P) and `ecmult_gen` (k·G, with a blinded context) are constant-time by
 * construction, the most reviewed code for this curve, and take ≈ 0.3 and ≈ 0.1 ms here as
 * WebAssembly. The engines keep @noble/curves' `Point` everywhere else: a point crosses into
 * WebAssembly uncompressed (so neither side takes a square root) and comes back through
 * `Point.fromBytes`, which checks it is on the curve.
 */
import { pointAddScalar, pointFromScalar, pointMultiply } from "tiny-secp256k1";
import { bigintToBytes, CURVE_ORDER, Point } from "../codec/codec.js";

function scalarBytes(k: bigint, allowZero: boolean): Uint8Array {
  if (k >= CURVE_ORDER || k < 0n || (k === 0n && !allowZero)) throw new RangeError("scalar out of range");
  return bigintToBytes(k, 32);
}

const fromWasm = (bytes: Uint8Array | null): Point => (bytes === null ? Point.ZERO : Point.fromBytes(bytes));

/** k·G for a secret 0 < k < n, in constant time. */
export function mulBase(k: bigint): Point {
  return fromWasm(pointFromScalar(scalarBytes(k, false), false));
}

/** k·P for a secret 0 < k < n, in constant time (0·P never arises: k ≠ 0 and the order is prime). */
export function mul(P: Point, k: bigint): Point {
  const scalar = scalarBytes(k, false);
  return P.is0() ? Point.ZERO : fromWasm(pointMultiply(P.toBytes(false), scalar, false));
}

/** a·G + b·P for 0 ≤ a, b < n, as verifiers need it; the infinity point where the sum is one. */
export function mulBaseAdd(a: bigint, P: Point, b: bigint): Point {
  const aBytes = scalarBytes(a, true);
  const bP = b === 0n ? Point.ZERO : mul(P, b);
  if (bP.is0()) return a === 0n ? Point.ZERO : mulBase(a);
  return fromWasm(pointAddScalar(bP.toBytes(false), aBytes, false));
}
