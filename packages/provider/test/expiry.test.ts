import { describe, expect, it } from "vitest";
import { eachStale } from "../src/sessions/expiry.js";

describe("the sweep of abandoned runs", () => {
  it("tries every stale row although one throws, counts those expired, then throws the first error", async () => {
    const tried: number[] = [];
    const sweep = eachStale([1, 2, 3, 4], async (row) => {
      tried.push(row);
      if (row === 2) throw new Error("row 2 is broken");
      return row !== 4; // row 4 was advanced meanwhile
    });
    await expect(sweep).rejects.toThrow("row 2 is broken");
    expect(tried).toEqual([1, 2, 3, 4]);
    expect(await eachStale([1, 2, 3], async (row) => row !== 2)).toBe(2);
  });
});
