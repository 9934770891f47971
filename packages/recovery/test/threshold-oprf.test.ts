/**
 * The threshold OPRF: every quorum of operators gives exactly the single-key OPRF output, fewer
 * or forged answers give nothing, shares and dealings off their commitments are named, reshare
 * keeps the key, and no single share evaluates the function.
 */
import { ristretto255, ristretto255_oprf } from "@noble/curves/ed25519.js";
import { numberToBytesLE } from "@noble/curves/utils.js";
import { randomBytes } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import {
  acceptReshare,
  checkShare,
  combinePartials,
  dealOprfKey,
  dealReshare,
  evaluatePartial,
  evaluateWithKey,
  type PartialEvaluation,
  publicShare,
  type ReshareDealing,
  ThresholdOprfError,
  verifyPartial,
} from "../src/index.js";

const oprf = ristretto255_oprf.oprf;
const { Point } = ristretto255;
const { Fn } = Point;
const ORDER = Fn.ORDER;

/** All k-subsets of `items`. */
function subsets<T>(items: readonly T[], k: number): T[][] {
  if (k === 0) return [[]];
  return items.flatMap((item, i) => subsets(items.slice(i + 1), k - 1).map((rest) => [item, ...rest]));
}

function shareOf(sharing: { shares: { index: number; share: Uint8Array }[] }, index: number): Uint8Array {
  const found = sharing.shares.find((s) => s.index === index);
  if (!found) throw new Error(`no share ${index}`);
  return found.share;
}

/** The party a call blames, or a failure when it does not throw a ThresholdOprfError. */
function blamed(call: () => unknown): number | undefined {
  try {
    call();
  } catch (e) {
    expect(e).toBeInstanceOf(ThresholdOprfError);
    return (e as ThresholdOprfError).party;
  }
  throw new Error("expected a ThresholdOprfError");
}

const scalarAdd = (a: Uint8Array, b: bigint) => numberToBytesLE(Fn.add(Fn.fromBytes(a), b), 32);
const lagrange = (i: number, indices: number[]) =>
  indices.filter((j) => j !== i).reduce((acc, j) => Fn.mul(acc, Fn.div(BigInt(j), Fn.create(BigInt(j - i)))), 1n);

describe("threshold OPRF", () => {
  for (const [t, indices] of [
    [2, [1, 2, 3]],
    [3, [1, 2, 3, 4, 5]],
  ] as const) {
    it(`${t}-of-${indices.length}: every quorum gives the single-key OPRF output`, () => {
      const sharing = dealOprfKey(t, indices);
      expect(sharing.commitments).toHaveLength(t);
      expect(sharing.publicKey).toEqual(sharing.commitments[0]);
      expect(sharing.publicKey).toEqual(Point.BASE.multiply(Fn.fromBytes(sharing.key)).toBytes());
      const input = randomBytes(20);
      const { blind, blinded } = oprf.blind(input);
      const expected = oprf.finalize(input, blind, oprf.blindEvaluate(sharing.key, blinded));
      expect(evaluateWithKey(sharing.key, blinded)).toEqual(oprf.blindEvaluate(sharing.key, blinded));

      const partials = indices.map((index) => {
        checkShare(sharing.commitments, index, shareOf(sharing, index));
        const partial = evaluatePartial(shareOf(sharing, index), index, blinded);
        expect(verifyPartial(sharing.commitments, blinded, partial)).toBe(true);
        return partial;
      });
      for (const quorum of subsets(partials, t)) {
        const combined = combinePartials(t, quorum);
        expect(combined).toEqual(evaluateWithKey(sharing.key, blinded));
        expect(oprf.finalize(input, blind, combined)).toEqual(expected);
        // Order does not matter.
        expect(combinePartials(t, [...quorum].reverse())).toEqual(combined);
      }
    });
  }

  it("refuses fewer or more partials than the threshold, and repeated indices", () => {
    const sharing = dealOprfKey(3, [1, 2, 3, 4, 5]);
    const { blinded } = oprf.blind(randomBytes(8));
    const partials = [1, 2, 3, 4].map((i) => evaluatePartial(shareOf(sharing, i), i, blinded));
    expect(() => combinePartials(3, partials.slice(0, 2))).toThrow(ThresholdOprfError);
    expect(() => combinePartials(3, partials)).toThrow(ThresholdOprfError);
    expect(blamed(() => combinePartials(3, [partials[0], partials[1], partials[0]] as PartialEvaluation[]))).toBe(1);
    expect(() => combinePartials(1, partials.slice(0, 1))).toThrow(ThresholdOprfError);
    const identity: PartialEvaluation = { ...(partials[2] as PartialEvaluation), evaluated: new Uint8Array(32) };
    expect(blamed(() => combinePartials(3, [partials[0], partials[1], identity] as PartialEvaluation[]))).toBe(3);
    // Unverified partials that cancel out (λ_1 = 2, λ_2 = −1 over {1, 2}) give no element at all.
    const Z = Point.fromBytes(blinded);
    const cancelling = [
      { index: 1, evaluated: Z.toBytes(), proof: new Uint8Array(64) },
      { index: 2, evaluated: Z.double().toBytes(), proof: new Uint8Array(64) },
    ];
    expect(() => combinePartials(2, cancelling)).toThrow(ThresholdOprfError);
  });

  it("refuses forged partials: a wrong share, a wrong element, another index's proof", () => {
    const sharing = dealOprfKey(2, [1, 2, 3]);
    const { blinded } = oprf.blind(randomBytes(8));
    const good = evaluatePartial(shareOf(sharing, 2), 2, blinded);
    expect(verifyPartial(sharing.commitments, blinded, good)).toBe(true);
    // An operator that answers with another share proves the wrong statement.
    const wrongShare = evaluatePartial(scalarAdd(shareOf(sharing, 2), 1n), 2, blinded);
    expect(verifyPartial(sharing.commitments, blinded, wrongShare)).toBe(false);
    // A right proof beside another element.
    const other = evaluatePartial(shareOf(sharing, 2), 2, oprf.blind(randomBytes(8)).blinded);
    expect(verifyPartial(sharing.commitments, blinded, { ...good, evaluated: other.evaluated })).toBe(false);
    // Operator 3's honest answer relabelled as operator 2's.
    const third = evaluatePartial(shareOf(sharing, 3), 3, blinded);
    expect(verifyPartial(sharing.commitments, blinded, { ...third, index: 2 })).toBe(false);
    // Another blinded element, or another enrollment's commitments.
    expect(verifyPartial(sharing.commitments, oprf.blind(randomBytes(8)).blinded, good)).toBe(false);
    expect(verifyPartial(dealOprfKey(2, [1, 2, 3]).commitments, blinded, good)).toBe(false);
    // Malformed partials are false, not a throw.
    for (const bad of [
      { ...good, index: 0 },
      { ...good, index: 256 },
      { ...good, index: 1.5 },
      { ...good, evaluated: new Uint8Array(32) },
      { ...good, evaluated: good.evaluated.subarray(1) },
      { ...good, proof: good.proof.subarray(1) },
      null as unknown as PartialEvaluation,
    ])
      expect(verifyPartial(sharing.commitments, blinded, bad)).toBe(false);
    // A forged partial that got past a caller who skipped verification spoils the output.
    const combined = combinePartials(2, [evaluatePartial(shareOf(sharing, 1), 1, blinded), wrongShare]);
    expect(combined).not.toEqual(evaluateWithKey(sharing.key, blinded));
  });

  it("checks a share against the commitments and names its operator", () => {
    const sharing = dealOprfKey(2, [1, 2, 3]);
    expect(publicShare(sharing.commitments, 2)).toEqual(
      Point.BASE.multiply(Fn.fromBytes(shareOf(sharing, 2))).toBytes(),
    );
    expect(blamed(() => checkShare(sharing.commitments, 2, scalarAdd(shareOf(sharing, 2), 1n)))).toBe(2);
    expect(blamed(() => checkShare(sharing.commitments, 3, shareOf(sharing, 2)))).toBe(3);
    expect(blamed(() => checkShare(dealOprfKey(2, [1, 2, 3]).commitments, 1, shareOf(sharing, 1)))).toBe(1);
  });

  it("decodes strictly: scalars, elements, indices, thresholds", () => {
    const sharing = dealOprfKey(2, [1, 2, 3]);
    const share = shareOf(sharing, 1);
    const { blinded } = oprf.blind(randomBytes(8));
    // share + ℓ (< 2^253, so it fits in 32 bytes) is the same residue, not its canonical encoding.
    const nonCanonical = numberToBytesLE(Fn.fromBytes(share) + ORDER, 32);
    expect(blamed(() => checkShare(sharing.commitments, 1, nonCanonical))).toBe(1);
    expect(() => evaluatePartial(nonCanonical, 1, blinded)).toThrow(ThresholdOprfError);
    expect(() => evaluateWithKey(numberToBytesLE(Fn.fromBytes(sharing.key) + ORDER, 32), blinded)).toThrow(
      ThresholdOprfError,
    );
    expect(() => evaluatePartial(new Uint8Array(32), 1, blinded)).toThrow(ThresholdOprfError);
    expect(() => evaluatePartial(share.subarray(1), 1, blinded)).toThrow(ThresholdOprfError);
    expect(() => evaluatePartial(share, 1, new Uint8Array(32))).toThrow(ThresholdOprfError);
    expect(() => evaluatePartial(share, 1, new Uint8Array(32).fill(0xff))).toThrow(ThresholdOprfError);
    expect(() => evaluatePartial(share, 1, blinded.subarray(1))).toThrow(ThresholdOprfError);
    expect(() => evaluateWithKey(sharing.key, new Uint8Array(32))).toThrow(ThresholdOprfError);
    for (const index of [0, 256, -1, 1.5, Number.NaN]) {
      expect(() => evaluatePartial(share, index, blinded)).toThrow(ThresholdOprfError);
      expect(() => publicShare(sharing.commitments, index)).toThrow(ThresholdOprfError);
    }
    expect(() => publicShare([sharing.commitments[0] as Uint8Array, new Uint8Array(32)], 1)).toThrow(
      ThresholdOprfError,
    );
    expect(() => publicShare([sharing.commitments[0] as Uint8Array], 1)).toThrow(ThresholdOprfError);
    // Commitments crafted so that C_0 + 3·C_1 is the identity give operator 3 no public share.
    const C0 = Point.fromBytes(sharing.publicKey);
    const crafted = [C0.toBytes(), C0.negate().multiply(Fn.inv(3n)).toBytes()];
    expect(blamed(() => publicShare(crafted, 3))).toBe(3);
    expect(() => dealOprfKey(2, [0, 1, 2])).toThrow(ThresholdOprfError);
    expect(() => dealOprfKey(2, [1, 2, 256])).toThrow(ThresholdOprfError);
    expect(() => dealOprfKey(2, [1, 2, 2])).toThrow(ThresholdOprfError);
    expect(() => dealOprfKey(1, [1, 2, 3])).toThrow(ThresholdOprfError);
    expect(() => dealOprfKey(4, [1, 2, 3])).toThrow(ThresholdOprfError);
    expect(() => dealOprfKey(2.5, [1, 2, 3])).toThrow(ThresholdOprfError);
    expect(dealOprfKey(3, [7, 200, 255]).shares.map((s) => s.index)).toEqual([7, 200, 255]);
  });

  it("gives no single operator the OPRF: one share, weighted or not, never gives the output", () => {
    const indices = [1, 2, 3];
    const sharing = dealOprfKey(2, indices);
    const input = randomBytes(20);
    const { blind, blinded } = oprf.blind(input);
    const truth = oprf.finalize(input, blind, evaluateWithKey(sharing.key, blinded));
    for (const { index, share } of sharing.shares) {
      expect(oprf.finalize(input, blind, evaluateWithKey(share, blinded))).not.toEqual(truth);
      for (const quorum of subsets(indices, 2).filter((q) => q.includes(index))) {
        const weighted = numberToBytesLE(Fn.mul(lagrange(index, quorum), Fn.fromBytes(share)), 32);
        expect(oprf.finalize(input, blind, evaluateWithKey(weighted, blinded))).not.toEqual(truth);
      }
      // Its own partial counted twice is refused, not combined.
      const partial = evaluatePartial(share, index, blinded);
      expect(() => combinePartials(2, [partial, partial])).toThrow(ThresholdOprfError);
    }
  });
});

describe("threshold OPRF reshare", () => {
  /** 2-of-3 on {1,2,3} → 2-of-3 on {1,2,4}: operator 3 leaves, operator 4 joins; 1 and 2 deal. */
  function reshare() {
    const sharing = dealOprfKey(2, [1, 2, 3]);
    const helpers = [1, 2];
    const newIndices = [1, 2, 4];
    const dealings = helpers.map((from) => dealReshare(shareOf(sharing, from), from, helpers, 2, newIndices));
    const received = (dealt: ReshareDealing[], index: number) =>
      dealt.map((d) => ({
        from: d.from,
        commitments: d.commitments,
        subshare: d.subshares.find((s) => s.index === index)?.subshare as Uint8Array,
      }));
    return { sharing, helpers, newIndices, dealings, received };
  }

  it("keeps the key: the new shares combine to the same k·B, old and new shares together do not", () => {
    const { sharing, helpers, newIndices, dealings, received } = reshare();
    const fresh = newIndices.map((index) => ({
      index,
      ...acceptReshare(sharing.commitments, helpers, index, received(dealings, index)),
    }));
    const commitments = fresh[0]?.commitments as Uint8Array[];
    expect(commitments[0]).toEqual(sharing.publicKey);
    for (const f of fresh) {
      expect(f.commitments).toEqual(commitments);
      checkShare(commitments, f.index, f.share);
    }
    const { blinded } = oprf.blind(randomBytes(8));
    const truth = evaluateWithKey(sharing.key, blinded);
    const partials = fresh.map((f) => evaluatePartial(f.share, f.index, blinded));
    for (const p of partials) expect(verifyPartial(commitments, blinded, p)).toBe(true);
    for (const quorum of subsets(partials, 2)) expect(combinePartials(2, quorum)).toEqual(truth);
    // The leaver's old share does not combine with a new one, nor verify against the new commitments.
    const leaver = evaluatePartial(shareOf(sharing, 3), 3, blinded);
    expect(combinePartials(2, [partials[2] as PartialEvaluation, leaver])).not.toEqual(truth);
    expect(verifyPartial(commitments, blinded, leaver)).toBe(false);
    // Nor does an old share of a staying operator with a new share of the other.
    const oldOne = evaluatePartial(shareOf(sharing, 1), 1, blinded);
    expect(combinePartials(2, [oldOne, partials[1] as PartialEvaluation])).not.toEqual(truth);
  });

  it("can raise the threshold: 2-of-3 → 3-of-4 with the same key", () => {
    const sharing = dealOprfKey(2, [1, 2, 3]);
    const dealings = [2, 3].map((from) => dealReshare(shareOf(sharing, from), from, [2, 3], 3, [1, 2, 3, 4]));
    const fresh = [1, 2, 3, 4].map((index) => ({
      index,
      ...acceptReshare(
        sharing.commitments,
        [2, 3],
        index,
        dealings.map((d) => ({
          from: d.from,
          commitments: d.commitments,
          subshare: d.subshares.find((s) => s.index === index)?.subshare as Uint8Array,
        })),
      ),
    }));
    const { blinded } = oprf.blind(randomBytes(8));
    const partials = fresh.map((f) => evaluatePartial(f.share, f.index, blinded));
    expect(fresh[0]?.commitments).toHaveLength(3);
    for (const quorum of subsets(partials, 3))
      expect(combinePartials(3, quorum)).toEqual(evaluateWithKey(sharing.key, blinded));
  });

  it("names a dealer that cheats", () => {
    const { sharing, helpers, newIndices, dealings, received } = reshare();
    // Dealer 2 weights its share with a wrong Lagrange coefficient (one for another helper set).
    const unweighted = dealReshare(shareOf(sharing, 2), 2, [2, 9], 2, newIndices);
    expect(
      blamed(() =>
        acceptReshare(sharing.commitments, helpers, 4, received([dealings[0] as ReshareDealing, unweighted], 4)),
      ),
    ).toBe(2);
    // Dealer 1 shares something other than its part of k, with consistent commitments.
    const stranger = dealReshare(scalarAdd(shareOf(sharing, 1), 1n), 1, helpers, 2, newIndices);
    expect(
      blamed(() =>
        acceptReshare(sharing.commitments, helpers, 4, received([stranger, dealings[1] as ReshareDealing], 4)),
      ),
    ).toBe(1);
    // Dealer 2 sends operator 4 a subshare off its own commitments.
    const offCommitments = received(dealings, 4).map((r) =>
      r.from === 2 ? { ...r, subshare: scalarAdd(r.subshare, 1n) } : r,
    );
    expect(blamed(() => acceptReshare(sharing.commitments, helpers, 4, offCommitments))).toBe(2);
    // Dealer 1 sends operator 4 the subshare meant for operator 2.
    const misaddressed = received(dealings, 4).map((r) =>
      r.from === 1 ? { ...r, subshare: received(dealings, 2)[0]?.subshare as Uint8Array } : r,
    );
    expect(blamed(() => acceptReshare(sharing.commitments, helpers, 4, misaddressed))).toBe(1);
    // An outsider's dealing beside the helpers', built to pass its own checks (D_0 = λ_3·K_3 with
    // λ_3 = 1 over {1, 2}, a subshare on its commitments), is refused and its dealer named.
    const subshare = randomBytes(32);
    subshare[31] = 0;
    const D0 = Point.fromBytes(publicShare(sharing.commitments, 3));
    const D1 = Point.BASE.multiply(Fn.fromBytes(subshare)).subtract(D0).multiply(Fn.inv(4n));
    const outsider = { from: 3, commitments: [D0.toBytes(), D1.toBytes()], subshare };
    expect(blamed(() => acceptReshare(sharing.commitments, helpers, 4, [...received(dealings, 4), outsider]))).toBe(3);
    expect(() => acceptReshare(sharing.commitments, helpers, 4, [...received(dealings, 4), outsider])).toThrow(
      /not among the helpers/,
    );
    // A dealing under other old commitments (another enrollment's) is refused.
    expect(() => acceptReshare(dealOprfKey(2, [1, 2, 3]).commitments, helpers, 4, received(dealings, 4))).toThrow(
      ThresholdOprfError,
    );
  });

  it("refuses a reshare that would hand every new operator the whole key, or one a zero share", () => {
    // Helpers 1 and 2 together know k anyway; still, the acceptor does not install a sharing whose
    // higher coefficients cancel (C'_1 = identity), in which every new share would equal k.
    const sharing = dealOprfKey(2, [1, 2, 3]);
    const helpers = [1, 2];
    const weighted = helpers.map((from) => Fn.mul(lagrange(from, helpers), Fn.fromBytes(shareOf(sharing, from))));
    const deal = (slopes: [bigint, bigint]) =>
      helpers.map((from, i) => {
        const a0 = weighted[i] as bigint;
        const a1 = slopes[i] as bigint;
        return {
          from,
          commitments: [Point.BASE.multiply(a0).toBytes(), Point.BASE.multiply(a1).toBytes()],
          subshare: numberToBytesLE(Fn.add(a0, Fn.mul(a1, 4n)), 32),
        };
      });
    const slope = Fn.fromBytes(randomBytes(32).fill(0, 31));
    expect(() => acceptReshare(sharing.commitments, helpers, 4, deal([slope, Fn.neg(slope)]))).toThrow(
      ThresholdOprfError,
    );
    // Likewise a sharing that gives operator 4 the share 0 (slopes summing to −k/4).
    const zeroAt4 = Fn.sub(Fn.neg(Fn.div(Fn.fromBytes(sharing.key), 4n)), slope);
    expect(() => acceptReshare(sharing.commitments, helpers, 4, deal([slope, zeroAt4]))).toThrow(ThresholdOprfError);
  });

  it("refuses malformed reshares", () => {
    const { sharing, helpers, newIndices, dealings, received } = reshare();
    const mine = received(dealings, 4);
    // Missing, repeated or extra dealers; helpers that are not the old threshold of them.
    expect(blamed(() => acceptReshare(sharing.commitments, helpers, 4, mine.slice(0, 1)))).toBe(2);
    expect(blamed(() => acceptReshare(sharing.commitments, helpers, 4, [mine[0], mine[0]] as typeof mine))).toBe(1);
    expect(() =>
      acceptReshare(sharing.commitments, helpers, 4, [...mine, { ...(mine[0] as (typeof mine)[0]), from: 3 }]),
    ).toThrow(ThresholdOprfError);
    expect(() => acceptReshare(sharing.commitments, [1, 2, 3], 4, mine)).toThrow(ThresholdOprfError);
    // All three old operators dealing is still a valid interpolation, but not the reshare asked for.
    const all = [1, 2, 3].map((from) => dealReshare(shareOf(sharing, from), from, [1, 2, 3], 2, newIndices));
    expect(() => acceptReshare(sharing.commitments, [1, 2, 3], 4, received(all, 4))).toThrow(ThresholdOprfError);
    expect(() => acceptReshare(sharing.commitments, [1, 1], 4, mine)).toThrow(ThresholdOprfError);
    // Dealers that disagree on the new threshold.
    const wider = dealReshare(shareOf(sharing, 2), 2, helpers, 3, newIndices);
    expect(
      blamed(() => acceptReshare(sharing.commitments, helpers, 4, received([dealings[0] as ReshareDealing, wider], 4))),
    ).toBe(2);
    // Something other than a dealing beside the helpers' dealings.
    expect(() =>
      acceptReshare(sharing.commitments, helpers, 4, [...mine, null as unknown as (typeof mine)[0]]),
    ).toThrow(ThresholdOprfError);
    // Non-canonical subshare, identity commitment.
    const nonCanonical = mine.map((r) =>
      r.from === 1 ? { ...r, subshare: numberToBytesLE(Fn.fromBytes(r.subshare) + ORDER, 32) } : r,
    );
    expect(blamed(() => acceptReshare(sharing.commitments, helpers, 4, nonCanonical))).toBe(1);
    const identity = mine.map((r) =>
      r.from === 2 ? { ...r, commitments: [r.commitments[0] as Uint8Array, new Uint8Array(32)] } : r,
    );
    expect(blamed(() => acceptReshare(sharing.commitments, helpers, 4, identity))).toBe(2);
    // Dealing: the dealer among the helpers, sensible new indices and threshold.
    expect(() => dealReshare(shareOf(sharing, 3), 3, helpers, 2, newIndices)).toThrow(ThresholdOprfError);
    expect(() => dealReshare(shareOf(sharing, 1), 1, helpers, 4, newIndices)).toThrow(ThresholdOprfError);
    expect(() => dealReshare(shareOf(sharing, 1), 1, helpers, 2, [1, 1, 4])).toThrow(ThresholdOprfError);
  });
});
