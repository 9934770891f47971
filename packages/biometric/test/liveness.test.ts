/**
 * Liveness on ../shared/faces: an expression challenge needs a frame without the expression and
 * one with it, so a still photo fails every one, and a neutral picture followed by an expression
 * picture answers that expression's challenge only; a head turn needs a frame facing the camera
 * and a frame turned the asked way, which a single still cannot give. (Drawing and reading the
 * challenges is tested in `recovery/test/liveness-challenge.test.ts`.)
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { checkLiveness, type DetectedFace, detectFace, EXPRESSIONS, mirror, readImage } from "../src/index.js";

import { FACES } from "./faces.js";

describe("liveness", () => {
  const expressions = new Map<string, DetectedFace>();
  let turned: DetectedFace;
  let turnedMirrored: DetectedFace;
  let frontal: DetectedFace;
  beforeAll(async () => {
    for (const file of readdirSync(join(FACES, "expressions")))
      expressions.set(file.replace(/\.jpg$/, ""), await detectFace(readImage(join(FACES, "expressions", file))));
    const scene = readImage(join(FACES, "scenes", "bbt2.jpg"));
    turned = await detectFace(scene);
    turnedMirrored = await detectFace(mirror(scene));
    frontal = await detectFace(readImage(join(FACES, "scenes", "bbt1.jpg")));
  });

  it("an expression needs a frame without it and a frame with it: a still photo passes none", () => {
    expect([...expressions.keys()].sort()).toEqual([...EXPRESSIONS].sort());
    const neutral = expressions.get("neutral") as DetectedFace;
    for (const [name, face] of expressions)
      for (const expression of EXPRESSIONS.filter((e) => e !== "neutral")) {
        const challenge = { kind: "expression", expression } as const;
        expect(checkLiveness([face], challenge).live, `${name} alone asked ${expression}`).toBe(false);
        expect(checkLiveness([face, face], challenge).live, `${name} twice asked ${expression}`).toBe(false);
        expect(checkLiveness([neutral, face], challenge).live, `neutral then ${name} asked ${expression}`).toBe(
          name === expression,
        );
      }
  });

  it("a head turn needs a frontal frame and a frame turned the asked way", () => {
    expect(checkLiveness([frontal, turned], { kind: "turn", direction: "left" }).live).toBe(true);
    expect(checkLiveness([frontal, turned], { kind: "turn", direction: "right" }).live).toBe(false);
    expect(checkLiveness([frontal, turnedMirrored], { kind: "turn", direction: "right" }).live).toBe(true);
    expect(checkLiveness([turned], { kind: "turn", direction: "left" })).toMatchObject({ live: false });
    expect(checkLiveness([frontal], { kind: "turn", direction: "left" }).live).toBe(false);
    expect(checkLiveness([], { kind: "turn", direction: "left" }).live).toBe(false);
  });
});
