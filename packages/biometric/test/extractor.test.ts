/**
 * The fuzzy extractor on the real faces of ../shared/faces/people: a person enrolled from three
 * chips gets the same secret back from their other chips and nobody else does; the helper data
 * holds no embedding and, altered, fails cleanly (a `bad-helper` error on the device); the measured
 * rates meet the target on the whole set and come near it on the held-out people with the shipped mean.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { HelperDataError } from "@keyshard/recovery";
import { sha256 } from "@noble/hashes/sha2.js";
import { beforeAll, describe, expect, it } from "vitest";
import { evaluate, HELD_OUT } from "../src/evaluation.js";
import { enroll, parseHelperData, reproduce } from "../src/extractor.js";
import { BiometricError, embedChip, type HelperData, meanEmbedding, POPULATION_MEAN, readImage } from "../src/index.js";

/**
 * Enrollment randomness from a fixed seed: a test sees the same rotations on every run (a
 * genuine probe fails about one time in thirty, which a test must not leave to chance).
 */
function seeded(tag: string): (n: number) => Uint8Array {
  let counter = 0;
  return (n) => sha256(new TextEncoder().encode(`${tag} ${counter++}`)).slice(0, n);
}

import { PEOPLE } from "./faces.js";

describe("fuzzy extractor on real faces", () => {
  const people = new Map<string, Float32Array[]>();
  beforeAll(async () => {
    for (const person of readdirSync(PEOPLE).sort())
      people.set(
        person,
        await Promise.all(
          readdirSync(join(PEOPLE, person))
            .sort()
            .map((f) => embedChip(readImage(join(PEOPLE, person, f)))),
        ),
      );
  });

  const amy = () => people.get("amy") as Float32Array[];
  /** The mean of everyone but amy, as the shipped mean is made of people who are not its users. */
  const mean = () => meanEmbedding([...people].filter(([p]) => p !== "amy").map(([, e]) => meanEmbedding(e)));

  it("amy, enrolled from three chips, gets her secret back from another; penny does not", () => {
    const [a, b, c, d] = amy() as [Float32Array, Float32Array, Float32Array, Float32Array];
    const { helper, secret } = enroll(meanEmbedding([a, b, c]), mean(), seeded("amy"));
    expect(reproduce(d, mean(), helper).secret).toEqual(secret);
    for (const probe of people.get("penny") as Float32Array[]) {
      const e = (() => {
        try {
          reproduce(probe, mean(), helper);
        } catch (e) {
          return e;
        }
      })();
      expect(e).toBeInstanceOf(BiometricError);
      expect((e as BiometricError).code).toBe("no-match");
    }
  });

  it("the helper data holds a seed, 63 indices and 63 bits of offset: no embedding", () => {
    const { helper } = enroll(meanEmbedding(amy().slice(0, 3)), mean());
    expect(Object.keys(helper).sort()).toEqual(["indices", "offset", "seed", "version"]);
    expect(helper.indices).toHaveLength(63);
    expect(helper.offset).toMatch(/^[0-9a-f]{16}$/);
    expect(JSON.stringify(helper).length).toBeLessThan(400);
  });

  it("altered helper data fails cleanly: refused when malformed, no match when its seed changed", () => {
    const { helper } = enroll(meanEmbedding(amy().slice(0, 3)), mean());
    const probe = amy()[4] as Float32Array;
    const altered: unknown[] = [
      { ...helper, version: 2 },
      { ...helper, seed: "zz" },
      { ...helper, indices: helper.indices.slice(1) },
      { ...helper, indices: [helper.indices[1], ...helper.indices.slice(1)] },
      { ...helper, indices: [128, ...helper.indices.slice(1)] },
      { ...helper, offset: "ffffffffffffffff" },
      { ...helper, extra: 1 },
      null,
      [],
    ];
    for (const bad of altered)
      expect(() => reproduce(probe, mean(), bad as HelperData)).toThrow(/helper data is not valid/);
    const reseeded = { ...helper, seed: helper.seed.replace(/^./, (c) => (c === "0" ? "1" : "0")) };
    expect(() => reproduce(probe, mean(), parseHelperData(reseeded))).toThrow(/does not match/);
  });

  // The target is 95 %. The shipped configuration measures about that on these two people (see the
  // README), so this guards against falling clearly below it, not the target itself.
  it("the shipped configuration on the people nothing was tuned on: genuine accept ≥ 90 %, no false accept", () => {
    const result = evaluate(people, {
      rounds: 5,
      random: seeded("held out"),
      mean: POPULATION_MEAN,
      enrolled: HELD_OUT,
    });
    expect(result.genuine_trials).toBe(200);
    expect(result.impostor_trials).toBe(2000);
    expect(result.false_accept).toBe(0);
    expect(result.genuine_accept).toBeGreaterThanOrEqual(0.9);
    expect(result.offline_guess_bits).toBeGreaterThan(8);
  });

  it("refuses to enroll people who are not in the set", () => {
    expect(() => evaluate(people, { enrolled: ["amy", "nobody"] })).toThrow(/must be in the set: nobody/);
    expect(() => evaluate(people, { enrolled: [] })).toThrow(/must be in the set/);
  });

  it("over every enrollment of three chips: genuine accept ≥ 95 %, no false accept", () => {
    const result = evaluate(people, { rounds: 5, random: seeded("rates") });
    expect(result.genuine_trials).toBe(500);
    expect(result.impostor_trials).toBe(5000);
    expect(result.false_accept).toBe(0);
    expect(result.genuine_accept).toBeGreaterThanOrEqual(0.95);
    expect(result.offline_guess_bits).toBeGreaterThan(8);
    expect(result.offline_guess_bits).toBeLessThanOrEqual(18);
  });
});

describe("helper data read on the device", () => {
  it("is refused as a bad-helper BiometricError that keeps the format's own error", () => {
    let thrown: unknown;
    try {
      parseHelperData({ version: 2 });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(BiometricError);
    expect((thrown as BiometricError).code).toBe("bad-helper");
    expect((thrown as BiometricError).cause).toBeInstanceOf(HelperDataError);
  });
});
