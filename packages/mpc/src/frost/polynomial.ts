/**
 * Shamir-sharing arithmetic that keyshard needs around noble's FROST: party identifiers,
 * Lagrange coefficients at zero, and evaluation of Feldman commitments — for resharing and for
 * checking a stored share, which noble does not do. Everything here works on public values or on
 * one party's own share; it is variable-time.
 */
import type { FrostCurve, GroupPoint } from "./curve.js";

/** RFC 9591 identifiers are non-zero scalars; party i (0-based) is identifier i + 1. */
export function identifierOf(index: number): bigint {
  return BigInt(index + 1);
}

export function identifierHex(curve: FrostCurve, index: number): string {
  return curve.suite.Identifier.fromNumber(index + 1);
}

/** λᵢ(x) for interpolating at x from the parties `indices` (at zero: RFC 9591 §4.2). */
export function lagrangeAt(curve: FrostCurve, indices: readonly number[], i: number, x = 0n): bigint {
  const { Fn } = curve;
  const xi = identifierOf(i);
  let num = Fn.ONE;
  let den = Fn.ONE;
  for (const j of indices) {
    if (j === i) continue;
    const xj = identifierOf(j);
    num = Fn.mul(num, Fn.sub(xj, x));
    den = Fn.mul(den, Fn.sub(xj, xi));
  }
  return Fn.div(num, den);
}

/** Σₖ xᵏ·Cₖ: the public image f(x)·G of a polynomial committed to as C₀…C_{t−1}. */
export function evaluateCommitment(commitment: readonly GroupPoint[], x: bigint): GroupPoint {
  let acc = commitment[commitment.length - 1] as GroupPoint;
  for (let k = commitment.length - 2; k >= 0; k--) acc = acc.multiplyUnsafe(x).add(commitment[k] as GroupPoint);
  return acc;
}

/** Σᵢ λᵢ(x)·Pᵢ over the given parties: the value at x of the points' polynomial. */
export function interpolate(curve: FrostCurve, points: ReadonlyMap<number, GroupPoint>, x = 0n): GroupPoint {
  const indices = [...points.keys()];
  let acc: GroupPoint | undefined;
  for (const [i, p] of points) {
    const term = p.multiplyUnsafe(lagrangeAt(curve, indices, i, x));
    acc = acc ? acc.add(term) : term;
  }
  if (!acc) throw new RangeError("nothing to interpolate");
  return acc;
}
