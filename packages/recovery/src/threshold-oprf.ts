/**
 * The face OPRF's key split among recovery operators: t-of-n Shamir shares of the per-enrollment
 * OPRF key k over ristretto255, with Feldman commitments, so that no operator — the provider
 * included, when it runs one — can evaluate the OPRF, and so none can test a face-secret guess
 * offline. Every guess is an online request to t operators, each of which counts and mails it.
 *
 *   - The enrolling device deals k (`dealOprfKey`): it draws k, splits it, seals share i to
 *     operator i and forgets k. It holds the face secret and the recovery key at that moment
 *     anyway; dealing per enrollment keeps a guess counted against one enrollment from being
 *     spent on another (an operator cannot see which enrollment a blinded element belongs to).
 *   - Operator i answers a blinded element B with Z_i = k_i·B and an RFC 9497 DLEQ proof that
 *     log_G(K_i) = log_B(Z_i), where K_i = Σ_j C_j·i^j comes from the enrollment's commitments
 *     (`evaluatePartial`, `verifyPartial`). A bad answer names its operator.
 *   - The device combines t verified answers with Lagrange coefficients at 0 (`combinePartials`):
 *     Σ λ_i·Z_i = k·B, which RFC 9497 `finalize` turns into exactly the single-key OPRF output.
 *   - Reshare moves the same k to a new set of operators or threshold: t old operators each deal
 *     a sharing of λ_i·k_i (`dealReshare`), each new operator checks every dealing against the old
 *     commitments and sums (`acceptReshare`). The commitments' C_0 = K never changes.
 *
 * Scalars are 32 little-endian bytes in 1..ℓ−1; elements are canonical ristretto255 encodings,
 * never the identity; indices are distinct integers 1..255. Anything else is refused.
 */
import {
  Fn,
  generateDleqProof,
  Point,
  randomScalar,
  readElement,
  readScalar,
  scalarBytes,
  verifyDleqProof,
} from "./dleq.js";

export class ThresholdOprfError extends Error {
  override readonly name = "ThresholdOprfError";
  /** The index of the party at fault, when known. */
  readonly party?: number;
  constructor(message: string, party?: number) {
    super(party === undefined ? message : `${message} (party ${party})`);
    if (party !== undefined) this.party = party;
  }
}

export interface OprfKeySharing {
  threshold: number;
  /** K = k·G = commitments[0]: the enrollment's OPRF public key. */
  publicKey: Uint8Array;
  /** Feldman commitments C_0 … C_{t−1} to the sharing polynomial's coefficients. */
  commitments: Uint8Array[];
  shares: { index: number; share: Uint8Array }[];
}

export interface PartialEvaluation {
  index: number;
  /** Z_i = k_i·B. */
  evaluated: Uint8Array;
  /** RFC 9497 DLEQ proof (c ‖ s) that log_G(K_i) = log_B(Z_i). */
  proof: Uint8Array;
}

export interface ReshareDealing {
  from: number;
  /** Commitments D_0 … D_{t'−1} to the dealer's polynomial; D_0 = λ_from·K_from. */
  commitments: Uint8Array[];
  subshares: { index: number; subshare: Uint8Array }[];
}

/** The context operator `index`'s share of enrollment `enrollmentId` is sealed under. */
export const operatorShareContext = (enrollmentId: string, index: number) =>
  `keyshard oprf share of enrollment ${enrollmentId} for operator ${index}`;

/** The context old operator `from`'s subshare for new operator `to` is sealed under in a reshare. */
export const reshareContext = (enrollmentId: string, from: number, to: number) =>
  `keyshard oprf reshare of enrollment ${enrollmentId} from ${from} to ${to}`;

const MAX_INDEX = 255;
const G = Point.BASE;

// ── strict reading ─────────────────────────────────────────────────────────────────────────────

function checkIndex(index: unknown): asserts index is number {
  if (!Number.isInteger(index) || (index as number) < 1 || (index as number) > MAX_INDEX)
    throw new ThresholdOprfError("an operator index is an integer from 1 to 255");
}

function checkIndices(indices: readonly unknown[], what: string): number[] {
  if (!Array.isArray(indices)) throw new ThresholdOprfError(`${what} are a list of indices`);
  for (const i of indices) checkIndex(i);
  if (new Set(indices).size !== indices.length) throw new ThresholdOprfError(`${what} repeat an index`);
  return indices as number[];
}

function checkThreshold(threshold: unknown, n: number): asserts threshold is number {
  if (!Number.isInteger(threshold) || (threshold as number) < 2 || (threshold as number) > n)
    throw new ThresholdOprfError(`a threshold is an integer from 2 to the number of operators (${n})`);
}

function scalar(bytes: unknown, what: string, party?: number): bigint {
  const n = readScalar(bytes);
  if (n === null) throw new ThresholdOprfError(`${what} is not a scalar (32 bytes, in 1..ℓ−1)`, party);
  return n;
}

function element(bytes: unknown, what: string, party?: number): Point {
  const p = readElement(bytes);
  if (p === null) throw new ThresholdOprfError(`${what} is not a ristretto255 element other than the identity`, party);
  return p;
}

function commitmentPoints(commitments: readonly unknown[], party?: number): Point[] {
  if (!Array.isArray(commitments) || commitments.length < 2 || commitments.length > MAX_INDEX)
    throw new ThresholdOprfError("commitments are a list of 2 to 255 elements", party);
  return commitments.map((c) => element(c, "a commitment", party));
}

// ── polynomials ────────────────────────────────────────────────────────────────────────────────

/** f(x) = Σ_j a_j·x^j over the scalars, by Horner's rule. */
const evalPolynomial = (coefficients: readonly bigint[], x: number): bigint =>
  coefficients.reduceRight((acc, a) => Fn.add(Fn.mul(acc, BigInt(x)), a), 0n);

/** Σ_j C_j·x^j: the commitment to f(x). */
const evalCommitments = (commitments: readonly Point[], x: number): Point =>
  commitments.reduceRight((acc, c) => acc.multiplyUnsafe(BigInt(x)).add(c), Point.ZERO);

/** λ_i = Π_{j≠i} j / (j − i): the weight of f(i) in f(0) for the points `indices`. */
function lagrangeAtZero(index: number, indices: readonly number[]): bigint {
  let num = 1n;
  let den = 1n;
  for (const j of indices) {
    if (j === index) continue;
    num = Fn.mul(num, BigInt(j));
    den = Fn.mul(den, Fn.create(BigInt(j - index)));
  }
  return Fn.div(num, den);
}

/** A random polynomial of degree t − 1 with f(0) = secret, its commitments and its values at `indices`. */
function sharePolynomial(secret: bigint, threshold: number, indices: readonly number[]) {
  const coefficients = [secret, ...Array.from({ length: threshold - 1 }, () => randomScalar())];
  return {
    commitments: coefficients.map((a) => G.multiply(a).toBytes()),
    values: indices.map((index) => ({ index, value: scalarBytes(evalPolynomial(coefficients, index)) })),
  };
}

// ── dealing and checking ───────────────────────────────────────────────────────────────────────

/** Draws an enrollment's OPRF key and splits it t-of-n among `indices`. Only the enrolling device calls it. */
export function dealOprfKey(threshold: number, indices: readonly number[]): OprfKeySharing & { key: Uint8Array } {
  const at = checkIndices(indices, "operator indices");
  checkThreshold(threshold, at.length);
  const k = randomScalar();
  const { commitments, values } = sharePolynomial(k, threshold, at);
  return {
    threshold,
    key: scalarBytes(k),
    publicKey: commitments[0] as Uint8Array,
    commitments,
    shares: values.map(({ index, value }) => ({ index, share: value })),
  };
}

/** K_i = Σ_j C_j·i^j: operator `index`'s public share, from the enrollment's commitments. */
export function publicShare(commitments: readonly Uint8Array[], index: number): Uint8Array {
  checkIndex(index);
  return publicSharePoint(commitmentPoints(commitments), index).toBytes();
}

function publicSharePoint(commitments: readonly Point[], index: number): Point {
  const point = evalCommitments(commitments, index);
  if (point.is0()) throw new ThresholdOprfError("the commitments give this operator no public share", index);
  return point;
}

/** Throws `ThresholdOprfError` naming `index` unless share·G = K_index. */
export function checkShare(commitments: readonly Uint8Array[], index: number, share: Uint8Array): void {
  checkIndex(index);
  const expected = publicSharePoint(commitmentPoints(commitments), index);
  if (!G.multiply(scalar(share, "the share", index)).equals(expected))
    throw new ThresholdOprfError("the share does not match the commitments", index);
}

// ── evaluating ─────────────────────────────────────────────────────────────────────────────────

/** Operator `index`'s answer to a blinded element: k_i·B with its DLEQ proof against K_i = k_i·G. */
export function evaluatePartial(share: Uint8Array, index: number, blinded: Uint8Array): PartialEvaluation {
  checkIndex(index);
  const k = scalar(share, "the share");
  const B = element(blinded, "the blinded element");
  const evaluated = B.multiply(k).toBytes();
  const proof = generateDleqProof(share, G.toBytes(), G.multiply(k).toBytes(), B.toBytes(), evaluated);
  return { index, evaluated, proof };
}

/**
 * Whether `partial` is k_index·B for the share the commitments fix. False for any malformed
 * partial; a malformed blinded element (the caller's own) throws.
 */
export function verifyPartial(
  commitments: readonly Uint8Array[],
  blinded: Uint8Array,
  partial: PartialEvaluation,
): boolean {
  const B = element(blinded, "the blinded element").toBytes();
  try {
    checkIndex(partial?.index);
    const K = publicSharePoint(commitmentPoints(commitments), partial.index);
    return verifyDleqProof(G.toBytes(), K.toBytes(), B, partial.evaluated, partial.proof);
  } catch {
    return false;
  }
}

/**
 * k·B from exactly `threshold` partial evaluations with distinct indices. It cannot check the
 * proofs (it has neither commitments nor blinded element): pass only partials `verifyPartial`
 * accepted.
 */
export function combinePartials(threshold: number, partials: readonly PartialEvaluation[]): Uint8Array {
  if (!Array.isArray(partials)) throw new ThresholdOprfError("partial evaluations are a list");
  checkThreshold(threshold, MAX_INDEX);
  if (partials.length !== threshold)
    throw new ThresholdOprfError(`${threshold} partial evaluations are needed, not ${partials.length}`);
  const indices: number[] = [];
  for (const p of partials) {
    checkIndex(p?.index);
    if (indices.includes(p.index)) throw new ThresholdOprfError("two partial evaluations share an index", p.index);
    indices.push(p.index);
  }
  const sum = partials.reduce(
    (acc, p) =>
      acc.add(element(p.evaluated, "the evaluated element", p.index).multiplyUnsafe(lagrangeAtZero(p.index, indices))),
    Point.ZERO,
  );
  if (sum.is0()) throw new ThresholdOprfError("the partial evaluations combine to the identity");
  return sum.toBytes();
}

/** k·B with the whole key: the enrolling device's own evaluation, once, before it forgets k. */
export function evaluateWithKey(key: Uint8Array, blinded: Uint8Array): Uint8Array {
  return element(blinded, "the blinded element").multiply(scalar(key, "the OPRF key")).toBytes();
}

// ── reshare ────────────────────────────────────────────────────────────────────────────────────

/**
 * Old operator `from`'s part of a reshare among `helpers` (exactly the old threshold of old
 * indices, `from` among them): a fresh sharing of λ_from·k_from, t'-of-n' among `newIndices`.
 */
export function dealReshare(
  share: Uint8Array,
  from: number,
  helpers: readonly number[],
  newThreshold: number,
  newIndices: readonly number[],
): ReshareDealing {
  const old = checkIndices(helpers, "reshare helpers");
  checkIndex(from);
  if (!old.includes(from)) throw new ThresholdOprfError("a reshare dealer is one of the helpers", from);
  const to = checkIndices(newIndices, "new operator indices");
  checkThreshold(newThreshold, to.length);
  const weighted = Fn.mul(lagrangeAtZero(from, old), scalar(share, "the share"));
  const { commitments, values } = sharePolynomial(weighted, newThreshold, to);
  return { from, commitments, subshares: values.map(({ index, value }) => ({ index, subshare: value })) };
}

/**
 * New operator `index`'s share after a reshare: checks every helper's dealing — its subshare
 * against its commitments, and D_0 = λ_from·K_from against the old commitments — and sums them.
 * A dealing that fails names its dealer in `party`. The new commitments keep C'_0 = K.
 */
export function acceptReshare(
  oldCommitments: readonly Uint8Array[],
  helpers: readonly number[],
  index: number,
  received: readonly { from: number; commitments: readonly Uint8Array[]; subshare: Uint8Array }[],
): { share: Uint8Array; commitments: Uint8Array[] } {
  const old = commitmentPoints(oldCommitments);
  const dealers = checkIndices(helpers, "reshare helpers");
  if (dealers.length !== old.length)
    throw new ThresholdOprfError(`a reshare needs exactly the old threshold (${old.length}) of helpers`);
  checkIndex(index);
  if (!Array.isArray(received)) throw new ThresholdOprfError("reshare dealings are a list");
  for (const from of dealers)
    if (received.filter((r) => r?.from === from).length !== 1)
      throw new ThresholdOprfError("a reshare needs exactly one dealing from each helper", from);
  // Refused by name, not left to the final C'_0 = K check: an outsider can build a dealing that
  // passes its own D_0 and subshare checks, and the acceptor should know whom to blame.
  for (const dealing of received) {
    if (typeof dealing !== "object" || dealing === null) throw new ThresholdOprfError("a reshare dealing is an object");
    if (!dealers.includes(dealing.from))
      throw new ThresholdOprfError(
        "a reshare dealing comes from an operator that is not among the helpers",
        Number.isInteger(dealing.from) ? dealing.from : undefined,
      );
  }

  let newThreshold: number | undefined;
  let shareSum = 0n;
  let commitmentSum: Point[] = [];
  for (const { from, commitments, subshare } of received) {
    const D = commitmentPoints(commitments, from);
    newThreshold ??= D.length;
    if (D.length !== newThreshold) throw new ThresholdOprfError("the dealers disagree on the new threshold", from);
    const expectedD0 = publicSharePoint(old, from).multiplyUnsafe(lagrangeAtZero(from, dealers));
    if (!(D[0] as Point).equals(expectedD0))
      throw new ThresholdOprfError("the dealing does not share this dealer's part of the key", from);
    const s = scalar(subshare, "the subshare", from);
    if (!G.multiply(s).equals(evalCommitments(D, index)))
      throw new ThresholdOprfError("the subshare does not match its dealer's commitments", from);
    shareSum = Fn.add(shareSum, s);
    commitmentSum = D.map((d, j) => (commitmentSum[j] ? (commitmentSum[j] as Point).add(d) : d));
  }
  // Σ λ_from·K_from = K by interpolation in the exponent: this holds whenever every D_0 checked out.
  if (!(commitmentSum[0] as Point).equals(old[0] as Point))
    throw new ThresholdOprfError("the reshared commitments do not keep the OPRF public key");
  if (commitmentSum.some((c) => c.is0()) || shareSum === 0n)
    throw new ThresholdOprfError("the reshare produced a degenerate sharing");
  return { share: scalarBytes(shareSum), commitments: commitmentSum.map((c) => c.toBytes()) };
}
