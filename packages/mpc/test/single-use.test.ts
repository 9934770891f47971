/**
 * Single use as part of the Party contract: every step of every protocol (start, then each round)
 * is taken at most once per saved state, and a party takes part in a session once — whatever the
 * caller does with saved states and sids. And the attack that makes this matter for ecdsa2p: party
 * 0's key-generation state resumed twice answers two Πprm challenges for one commitment, which
 * gives party 1 the trapdoor log_t s of the parameters its signing proofs are checked against.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { Reader } from "../src/codec/codec.js";
import { type DklsShare, dkls23 } from "../src/dkls23/index.js";
import { type Ecdsa2pShare, ecdsa2p } from "../src/ecdsa2p/index.js";
import { type FrostShare, frost } from "../src/frost/index.js";
import { modInv, modPow } from "../src/math/bigint.js";
import { open } from "../src/session/envelope.js";
import type { Msg, Party } from "../src/session/party.js";
import { asAnotherProcess, savedRun } from "../src/session/round-party.js";
import { runLocal } from "../src/session/run-local.js";
import { readBlumModulusProof } from "../src/zk/paillier-blum.js";
import { type RingPedersenParams, readRingPedersenResponse } from "../src/zk/ring-pedersen.js";
import { expectAbort, newSid, randomHash } from "./helpers.js";

const RESUMED = /resumed already/;
const SID_USED = /sid is used once/;

/**
 * Runs the parties to the end; before every step of every party it saves the party's state, and
 * after the live party has taken the step, a party restored from that state must be refused the
 * same step. Returns the results and how many steps were tried twice.
 */
function runResumingTwice<T>(
  parties: Party<T>[],
  indices: number[],
  restore: (position: number, bytes: Uint8Array) => Party<unknown>,
): { results: T[]; tried: number } {
  let tried = 0;
  const unstarted = parties.map((p) => p.save());
  let inFlight = parties.flatMap((p) => p.start());
  // Some engines refuse to restore a state that has not started at all; either way, no second start.
  unstarted.forEach((bytes, p) => {
    expectAbort(() => restore(p, bytes).start(), null);
    tried++;
  });
  while (!parties.every((p) => p.done)) {
    const pending = inFlight;
    inFlight = [];
    parties.forEach((party, p) => {
      const me = indices[p] as number;
      const mine = pending.filter((m) => m.from !== me && (m.to === me || m.to === null));
      if (party.done || mine.length === 0) return;
      const saved = party.save();
      inFlight.push(...party.handle(mine));
      expectAbort(() => restore(p, saved).handle(mine), null, RESUMED);
      tried++;
    });
  }
  return { results: parties.map((p) => p.result()), tried };
}

interface Case<S, T> {
  name: string;
  shares: () => S[];
  run: (shares: S[], sid: Uint8Array) => Party<T>[];
  restore: (shares: S[], position: number, bytes: Uint8Array) => Party<unknown>;
}

let ecdsaShares: Ecdsa2pShare[];
let dklsShares: DklsShare[];
let frostShares: FrostShare[];

beforeAll(() => {
  const sid = newSid();
  ecdsaShares = runLocal([ecdsa2p.keygen({ sid, index: 0 }), ecdsa2p.keygen({ sid, index: 1 })]);
  dklsShares = runLocal([0, 1].map((index) => dkls23.keygen({ sid, index, n: 2, t: 2 })));
  frostShares = runLocal([0, 1].map((index) => frost.ed25519.keygen({ sid, index, n: 2, t: 2 })));
});

const none = () => [] as never[];
const messageHash = randomHash();

const cases: Case<never, unknown>[] = [
  {
    name: "ecdsa2p refresh",
    shares: () => ecdsaShares as never[],
    run: (s, sid) => s.map((share: Ecdsa2pShare) => ecdsa2p.refresh(share, { sid })),
    restore: (s, p, b) => ecdsa2p.restoreRefresh(s[p] as unknown as Ecdsa2pShare, b),
  },
  {
    name: "ecdsa2p sign",
    shares: () => ecdsaShares as never[],
    run: (s, sid) => s.map((share: Ecdsa2pShare) => ecdsa2p.sign(share, { sid, messageHash })),
    restore: (s, p, b) => ecdsa2p.restoreSign(s[p] as unknown as Ecdsa2pShare, b),
  },
  {
    name: "dkls23 keygen",
    shares: none,
    run: (_, sid) => [0, 1].map((index) => dkls23.keygen({ sid, index, n: 2, t: 2 })),
    restore: (_, __, b) => dkls23.restoreKeygen(b),
  },
  {
    name: "dkls23 refresh (the reshare protocol)",
    shares: () => dklsShares as never[],
    run: (s, sid) => s.map((share: DklsShare) => dkls23.refresh(share, { sid })),
    restore: (_, __, b) => dkls23.restoreReshare(b),
  },
  {
    name: "dkls23 sign",
    shares: () => dklsShares as never[],
    run: (s, sid) => s.map((share: DklsShare) => dkls23.sign(share, { sid, messageHash, signers: [0, 1] })),
    restore: (s, p, b) => dkls23.restoreSign(s[p] as unknown as DklsShare, b),
  },
  {
    name: "dkls23 presign",
    shares: () => dklsShares as never[],
    run: (s, sid) => s.map((share: DklsShare) => dkls23.presign(share, { sid, signers: [0, 1] })),
    restore: (s, p, b) => dkls23.restorePresign(s[p] as unknown as DklsShare, b),
  },
  {
    name: "frost keygen",
    shares: none,
    run: (_, sid) => [0, 1].map((index) => frost.ed25519.keygen({ sid, index, n: 2, t: 2 })),
    restore: (_, __, b) => frost.ed25519.restoreKeygen(b),
  },
  {
    name: "frost refresh (the reshare protocol)",
    shares: () => frostShares as never[],
    run: (s, sid) => s.map((share: FrostShare) => frost.ed25519.refresh(share, { sid })),
    restore: (_, __, b) => frost.ed25519.restoreReshare(b),
  },
  {
    name: "frost sign",
    shares: () => frostShares as never[],
    run: (s, sid) =>
      s.map((share: FrostShare) => frost.ed25519.sign(share, { sid, message: messageHash, signers: [0, 1] })),
    restore: (s, p, b) => frost.ed25519.restoreSign(s[p] as unknown as FrostShare, b),
  },
];

describe("every step of every protocol is taken once per saved state", () => {
  for (const c of cases) {
    it(`${c.name}: a state restored twice is refused its step; the run finishes`, () => {
      const shares = c.shares();
      const sid = newSid();
      const { results, tried } = runResumingTwice(c.run(shares, sid), [0, 1], (p, b) => c.restore(shares, p, b));
      expect(results).toHaveLength(2);
      expect(tried).toBeGreaterThanOrEqual(4);
      // A second run of the same party under the sid is refused before it sends anything.
      for (const party of c.run(shares, sid)) expectAbort(() => party.start(), null, SID_USED);
    });
  }

  it("a pre-signature's last round: each signer's state resumes once", () => {
    // (Its state before the round is the pre-signature itself, spent by the first start.)
    const sid = newSid();
    const pres = runLocal(dklsShares.map((share) => dkls23.presign(share, { sid, signers: [0, 1] })));
    const parties = dklsShares.map((share, p) => dkls23.signPresigned(share, pres[p] as never, messageHash));
    const { tried } = runResumingTwice(parties, [0, 1], (p, b) =>
      dkls23.restoreSignPresigned(dklsShares[p] as DklsShare, b),
    );
    expect(tried).toBe(4);
  });

  it("a saved state names its run and how far it has gone", () => {
    const sid = newSid();
    const [a, b] = frostShares.map((share) =>
      frost.ed25519.sign(share, { sid, message: messageHash, signers: [0, 1] }),
    ) as [Party<Uint8Array>, Party<Uint8Array>];
    const before = savedRun(a.save());
    const round1 = [...a.start(), ...b.start()];
    const after = savedRun(a.save());
    expect(after.id).toEqual(before.id);
    expect([before.steps, after.steps]).toEqual([0, 1]);
    a.handle(round1.filter((m) => m.from === 1));
    expect(savedRun(a.save()).steps).toBe(2);
    expect(savedRun(b.save()).id).not.toEqual(before.id);
  });
});

/** P0's two Πprm answers for s, from its round-3 message (seed₀, Πmod, then Πprm's responses). */
function prmAnswers(msg: Msg, sid: Uint8Array, params: RingPedersenParams): bigint[] {
  const r: Reader = open(msg, "ecdsa2p/keygen", sid, 3);
  r.fixed(32);
  readBlumModulusProof(r, params.n);
  return readRingPedersenResponse(r, params);
}

const powSigned = (b: bigint, e: bigint, n: bigint) => (e >= 0n ? modPow(b, e, n) : modInv(modPow(b, -e, n), n));

/** log_t s from two answers to one Πprm commitment under different challenges, if they give it:
 *  where the challenge bits differ, the answers differ by ±λ. */
function logFromTwoAnswers(z: bigint[], z2: bigint[], { n, s, t }: RingPedersenParams): bigint | undefined {
  for (let i = 0; i < z.length; i++) {
    const d = (z2[i] as bigint) - (z[i] as bigint);
    if (d !== 0n && powSigned(t, d, n) === s) return d;
    if (d !== 0n && powSigned(t, -d, n) === s) return -d;
  }
  return undefined;
}

describe("ecdsa2p key generation: party 0 answers its Πprm challenge once", () => {
  it("a round-2 message handled twice is refused; resumed in another process it would give log_t s", () => {
    const sid = newSid();
    const p0 = ecdsa2p.keygen({ sid, index: 0 });
    const p1 = ecdsa2p.keygen({ sid, index: 1 });
    const round1 = [...p0.start(), ...p1.start()];
    const waiting = p0.save();
    const round2 = p1.handle(round1) as [Msg];
    // Party 1, dishonest, asks again with another seed for the challenges (seed₁ leads the body).
    const again = { ...round2[0], payload: round2[0].payload.slice() };
    const seedAt = 1 + 4 + "ecdsa2p/keygen".length + 32 + 1; // after the envelope
    again.payload.set(crypto.getRandomValues(new Uint8Array(32)), seedAt);

    const honest = ecdsa2p.restoreKeygen(waiting);
    const round3 = honest.handle(round2) as [Msg];
    expectAbort(() => ecdsa2p.restoreKeygen(waiting).handle([again]), null, RESUMED);
    expectAbort(() => p0.handle([again]), null, RESUMED);

    // The honest run goes on to working shares.
    const round4 = p1.handle(round3);
    const round5 = honest.handle(round4);
    const round6 = p1.handle(round5);
    honest.handle(round6);
    const shares = [honest.result(), p1.result()];
    expect(shares[0]?.publicKey.equals(shares[1]?.publicKey as never)).toBe(true);

    // Why: without storage that consumes each state once, a second process answers the other seed,
    // and the two answers give the trapdoor party 1's Πaff proofs are checked with.
    const params = (shares[1] as Ecdsa2pShare).ringPedersen;
    const round3b = asAnotherProcess(() => ecdsa2p.restoreKeygen(waiting).handle([again])) as [Msg];
    const lambda = logFromTwoAnswers(prmAnswers(round3[0], sid, params), prmAnswers(round3b[0], sid, params), params);
    expect(lambda).toBeDefined();
    expect(powSigned(params.t, lambda as bigint, params.n)).toBe(params.s);
  });
});
