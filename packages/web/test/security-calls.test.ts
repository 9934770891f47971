/**
 * The reader of this device's own audit-chain verdict as the page takes it from the engine: one of
 * its three shapes exactly, and the entry it names within the chain it speaks of.
 */
import { describe, expect, it } from "vitest";
import { SECURITY_METHODS } from "../src/engine/calls/security.js";
import { ProtocolError } from "../src/engine/readers.js";

const read = (value: unknown) => SECURITY_METHODS.auditCheck.result(value, "result");

describe("this device's audit check", () => {
  it("is taken in each of its shapes", () => {
    for (const check of [
      { status: "intact", entries: 4, extendsSeen: null },
      { status: "intact", entries: 4, extendsSeen: 4 },
      { status: "intact", entries: 0, extendsSeen: null },
      { status: "broken", entries: 4, at: 4 },
      { status: "diverged", entries: 4, at: 2 },
      // A cut chain: the entry this device saw is past its end.
      { status: "diverged", entries: 2, at: 4 },
    ])
      expect(read(check)).toEqual(check);
  });

  it("is refused in another shape", () => {
    for (const check of [
      null,
      { status: "ok", entries: 4, at: 1 },
      { entries: 4, at: 1 },
      { status: "intact", entries: 4 },
      { status: "intact", entries: 4, extendsSeen: null, head: "ab".repeat(32) },
      { status: "intact", entries: 4, at: 1 },
      { status: "broken", entries: 4, extendsSeen: null },
      { status: "broken", entries: "4", at: 1 },
      { status: "diverged", entries: 4, at: 1.5 },
    ])
      expect(() => read(check)).toThrow(ProtocolError);
  });

  it("is refused when it names an entry the chain does not have", () => {
    expect(() => read({ status: "intact", entries: 4, extendsSeen: 5 })).toThrow(
      "result extends an entry the chain does not have",
    );
    expect(() => read({ status: "intact", entries: 4, extendsSeen: 0 })).toThrow(
      "result extends an entry the chain does not have",
    );
    expect(() => read({ status: "broken", entries: 4, at: 5 })).toThrow(
      "result names an entry the chain does not have",
    );
    expect(() => read({ status: "broken", entries: 4, at: 0 })).toThrow(
      "result names an entry the chain does not have",
    );
    expect(() => read({ status: "diverged", entries: 4, at: 0 })).toThrow(
      "result names an entry the chain does not have",
    );
  });
});
