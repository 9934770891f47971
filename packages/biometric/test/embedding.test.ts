/**
 * Embeddings of the real face chips in ../shared/faces/people: every pair of one person's chips
 * is closer than any pair of two people's; bad images are refused with a typed error.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { BiometricError, decodeImage, distance, embedChip, readImage } from "../src/index.js";

import { PEOPLE } from "./faces.js";

describe("face embeddings", () => {
  const embeddings: { person: string; embedding: Float32Array }[] = [];
  beforeAll(async () => {
    for (const person of readdirSync(PEOPLE).sort())
      for (const file of readdirSync(join(PEOPLE, person)).sort())
        embeddings.push({ person, embedding: await embedChip(readImage(join(PEOPLE, person, file))) });
  });

  it("one person's chips are closer to each other than to anyone else's", () => {
    expect(embeddings).toHaveLength(25);
    let genuine = 0;
    let impostor = Number.POSITIVE_INFINITY;
    for (const [i, a] of embeddings.entries())
      for (const b of embeddings.slice(i + 1)) {
        const d = distance(a.embedding, b.embedding);
        if (a.person === b.person) genuine = Math.max(genuine, d);
        else impostor = Math.min(impostor, d);
      }
    expect(genuine).toBeLessThan(impostor);
  });

  it("refuses what is not an image, and too small an image", () => {
    for (const bytes of [
      new Uint8Array(0),
      new TextEncoder().encode("not an image"),
      Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 1, 2),
    ])
      expect(() => decodeImage(bytes)).toThrow(BiometricError);
    expect(() => readImage("/nonexistent.png")).toThrow(/cannot read/);
  });
});
