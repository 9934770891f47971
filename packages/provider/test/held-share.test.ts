/**
 * A run restored from its sealed state needs the provider's share. A wallet taken into
 * self-custody while a session of it was running has none: the device's next round is a
 * conflict it is told about, never a fault of the server.
 */
import { describe, expect, it } from "vitest";
import { ProviderError } from "../src/errors.js";
import { heldShare } from "../src/sessions/share-cache.js";

describe("heldShare", () => {
  it("is a conflict when the provider holds no share of the wallet", () => {
    let thrown: unknown;
    try {
      heldShare(null);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ProviderError);
    expect(thrown).toMatchObject({ kind: "conflict", code: "conflict" });
    expect((thrown as Error).message).toBe("the provider holds no share of this wallet");
  });
});
