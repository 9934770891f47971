/**
 * Faces from pictures and frames, as enrollment and recovery read them: centred on the shipped
 * population mean (made of people outside the enrolled set), amy's enrollment from three chips
 * comes back from her other two, nobody else's frames open it, and frames of two people are
 * refused as one face.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { sha256 } from "@noble/hashes/sha2.js";
import { describe, expect, it } from "vitest";
import { BiometricError, captureFace, enrollFace, readFrames, reproduceFace } from "../src/index.js";
import { FACES, PEOPLE } from "./faces.js";

const chips = (person: string, numbers: number[]) =>
  readFrames(numbers.map((n) => join(PEOPLE, person, `${person}${n}.png`)));

describe("capture", () => {
  it("enrolls from pictures and recovers from other frames of the same person only", async () => {
    const enrolled = await captureFace(chips("amy", [1, 2, 3]));
    const probe = await captureFace(chips("amy", [4, 5]));
    const others = await Promise.all(
      readdirSync(PEOPLE)
        .filter((p) => p !== "amy")
        .map((person) => captureFace(chips(person, [1, 2]))),
    );
    let counter = 0;
    const random = (n: number) => sha256(new TextEncoder().encode(`capture ${counter++}`)).slice(0, n);
    for (let round = 0; round < 20; round++) {
      const { helper, secret } = enrollFace(enrolled, random);
      expect(reproduceFace(probe, helper).secret).toEqual(secret);
      for (const other of others) expect(() => reproduceFace(other, helper)).toThrow(BiometricError);
    }
  });

  it("reads a folder's pictures in order and refuses frames of two people", async () => {
    expect(readFrames([join(PEOPLE, "amy")])).toHaveLength(5);
    await expect(
      captureFace(readFrames([join(PEOPLE, "amy", "amy1.png"), join(PEOPLE, "penny", "penny1.png")])),
    ).rejects.toThrow(/someone other/);
    expect(() => readFrames([join(FACES, "missing.png")])).toThrow(BiometricError);
    await expect(captureFace([])).rejects.toThrow(BiometricError);
  });
});
