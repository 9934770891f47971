/**
 * The shipped population mean is the one `bench/population-mean.ts` makes from the people tuned
 * on, and none of the held-out people is among them: `bio:eval`'s held-out figures measure people
 * the shipped configuration never saw.
 */
import { describe, expect, it } from "vitest";
import { HELD_OUT, populationMean, tuningPictures } from "../src/evaluation.js";
import { POPULATION_MEAN } from "../src/index.js";
import { FACES } from "./faces.js";

describe("the shipped population mean", () => {
  it("is made of the people tuned on, without the held-out people", async () => {
    const people = tuningPictures(FACES);
    expect(people).toHaveLength(10);
    for (const name of HELD_OUT) expect(people.flat().some((path) => path.includes(`/${name}`))).toBe(false);
    const mean = await populationMean(people);
    for (const [i, v] of POPULATION_MEAN.entries()) expect(v).toBeCloseTo(mean[i] as number, 5);
  });
});
