/**
 * The precomputation threads themselves: a worker started from this checkout's sources loads its
 * code and hands back a precomputation for the key it was given. The signing tests count
 * precomputations made ahead, which a provider also makes without threads, so they cannot tell a
 * worker that never starts from one that works.
 */
import { type Ecdsa2pShare, ecdsa2p, runLocal } from "@keyshard/mpc";
import { afterAll, describe, expect, it } from "vitest";
import { PrecomputeThreads } from "../src/sessions/precompute-threads.js";

describe("precomputation threads", () => {
  const threads = new PrecomputeThreads(1);
  afterAll(() => threads.close());

  it("a worker makes a precomputation for the key it is given, usable once", async () => {
    const sid = crypto.getRandomValues(new Uint8Array(32));
    const share = runLocal([ecdsa2p.keygen({ sid, index: 0 }), ecdsa2p.keygen({ sid, index: 1 })])[1] as Ecdsa2pShare;
    const made = await threads.make(ecdsa2p.precomputationKey(share));
    expect(made.n).toBe(share.paillierPublic.n);
    made.take(share.paillierPublic.n);
    expect(() => made.take(share.paillierPublic.n)).toThrow("already used");
    expect(threads.enabled).toBe(true);
  });
});
