/**
 * How good the face factor is, measured rather than claimed: each person is enrolled from some
 * of their pictures (every choice of them), recovery is tried with each of their other pictures
 * (genuine) and with every picture of everyone else (impostor), and the rates are counted.
 *
 * Only people nothing was tuned on say how the face factor does for a user: `HELD_OUT` names the
 * people of `shared/faces/people` kept out of the shipped mean and of the choice of model and
 * threshold, and `enrolled` restricts the genuine side to them (everyone else stays an impostor).
 * Without a fixed mean, an enrollment is centred on the mean of the other people of the set, so
 * it never contains the person enrolled.
 *
 * The offline-guessing cost is what the face alone is worth to someone holding the helper data
 * but no OPRF: the impostors' fractional Hamming distances to the enrolled bits are fitted by a
 * binomial with Daugman's degrees of freedom N = p(1 − p)/σ², and the cost is −log₂ of the
 * chance that a random other face falls within the accepted distance — never more than the 18
 * bits of the secret.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { bch } from "@keyshard/recovery";
import { captureFace } from "./capture.js";
import { meanEmbedding } from "./embedding.js";
import { enroll, MAX_ERRORS, noisyCodeword } from "./extractor.js";
import { readFrames } from "./image-files.js";

/**
 * The two people of `shared/faces/people` that nothing shipped is tuned on: not in the population
 * mean, not looked at when the model and the threshold were chosen.
 */
export const HELD_OUT: readonly string[] = ["leonard", "penny"];

/**
 * The pictures of the people tuned on, one list per person, under a copy of `shared/faces`: each
 * expression picture (one person each) and each person of `people` outside `HELD_OUT`.
 */
export function tuningPictures(faces: string): string[][] {
  const expressions = join(faces, "expressions");
  const people = join(faces, "people");
  return [
    ...readdirSync(expressions)
      .filter((f) => /\.(png|jpe?g)$/i.test(f))
      .sort()
      .map((f) => [join(expressions, f)]),
    ...readdirSync(people)
      .filter((person) => !HELD_OUT.includes(person))
      .sort()
      .map((person) => [join(people, person)]),
  ];
}

/** The mean of several people's embeddings, each person's pictures averaged first so that everyone weighs the same. */
export async function populationMean(people: readonly (readonly string[])[]): Promise<Float32Array> {
  const means: Float32Array[] = [];
  for (const pictures of people) means.push((await captureFace(readFrames(pictures))).embedding);
  return meanEmbedding(means);
}

export interface Evaluation {
  genuine_accept: number;
  false_accept: number;
  genuine_trials: number;
  impostor_trials: number;
  offline_guess_bits: number;
}

export interface EvaluationDetail extends Evaluation {
  /** Hamming distances (of 63 bits) of genuine and impostor probes to the enrolled bits. */
  genuineErrors: number[];
  impostorErrors: number[];
  degreesOfFreedom: number;
}

/** Every way to pick `k` of `n` items, as index lists. */
function choices(n: number, k: number): number[][] {
  if (k === 0) return [[]];
  if (n < k) return [];
  return [...choices(n - 1, k - 1).map((c) => [...c, n - 1]), ...choices(n - 1, k)];
}

export function evaluate(
  people: ReadonlyMap<string, readonly Float32Array[]>,
  /** `rounds`: each enrollment is repeated with fresh randomness (another rotation and secret). */
  options: {
    enrollImages?: number;
    rounds?: number;
    random?: (n: number) => Uint8Array;
    /** A fixed mean (the shipped one) instead of each person's leave-one-out mean. */
    mean?: Float32Array;
    /** The people enrolled (genuine side); everyone in `people` is an impostor to the others. All by default. */
    enrolled?: readonly string[];
  } = {},
): EvaluationDetail {
  const enrollImages = options.enrollImages ?? 3;
  const rounds = options.rounds ?? 1;
  const enrolled = options.enrolled ?? [...people.keys()];
  const unknown = enrolled.filter((name) => !people.has(name));
  if (unknown.length > 0 || enrolled.length === 0)
    throw new RangeError(`the people to enroll must be in the set: ${unknown.join(", ") || "none given"}`);
  const genuineErrors: number[] = [];
  const impostorErrors: number[] = [];
  for (const name of enrolled) {
    const pictures = people.get(name) as readonly Float32Array[];
    const others = [...people].filter(([other]) => other !== name);
    const mean = options.mean ?? meanEmbedding(others.map(([, p]) => meanEmbedding(p)));
    const enrollments = choices(pictures.length, Math.min(enrollImages, pictures.length - 1));
    for (const chosen of Array.from({ length: rounds }, () => enrollments).flat()) {
      const { helper, secret } = enroll(
        meanEmbedding(chosen.map((i) => pictures[i] as Float32Array)),
        mean,
        options.random,
      );
      const codeword = bch.encode(((secret[0] as number) << 16) | ((secret[1] as number) << 8) | (secret[2] as number));
      const errorsOf = (probe: Float32Array) => bch.weight(bch.xor(noisyCodeword(probe, mean, helper), codeword));
      for (const [i, probe] of pictures.entries()) if (!chosen.includes(i)) genuineErrors.push(errorsOf(probe));
      for (const [, theirs] of others) for (const probe of theirs) impostorErrors.push(errorsOf(probe));
    }
  }
  const accepted = (errors: number[]) => errors.filter((e) => e <= MAX_ERRORS).length;
  const fractions = impostorErrors.map((e) => e / bch.BCH_N);
  const p = fractions.reduce((s, f) => s + f, 0) / fractions.length;
  const variance = fractions.reduce((s, f) => s + (f - p) ** 2, 0) / fractions.length;
  const degreesOfFreedom = variance > 0 ? (p * (1 - p)) / variance : bch.BCH_N;
  return {
    genuine_accept: accepted(genuineErrors) / genuineErrors.length,
    false_accept: accepted(impostorErrors) / impostorErrors.length,
    genuine_trials: genuineErrors.length,
    impostor_trials: impostorErrors.length,
    offline_guess_bits: Math.min(bch.BCH_K, -Math.log2(binomialTail(degreesOfFreedom, p, MAX_ERRORS / bch.BCH_N))),
    genuineErrors,
    impostorErrors,
    degreesOfFreedom,
  };
}

/** P[X ≤ fraction·N] for X ~ Binomial(N, p), N rounded to a whole number of independent bits. */
function binomialTail(dof: number, p: number, fraction: number): number {
  const n = Math.max(1, Math.round(dof));
  const limit = Math.floor(fraction * n);
  let logChoose = 0;
  let total = 0;
  for (let k = 0; k <= limit; k++) {
    if (k > 0) logChoose += Math.log(n - k + 1) - Math.log(k);
    total += Math.exp(logChoose + k * Math.log(p) + (n - k) * Math.log(1 - p));
  }
  return total;
}
