/**
 * `npm run bench [-- name-filter]`: one JSON line per benchmark,
 * `{"bench":"ecdsa2p.sign","parties":2,"threshold":2,"runs":50,"p50_ms":…,"p95_ms":…}`.
 * All parties run in this process, so the figures are compute only (no network), summed over
 * the parties.
 */
import type { FROST, FrostSecret, GenNonce } from "@noble/curves/abstract/frost.js";
import { ed25519, ed25519_FROST } from "@noble/curves/ed25519.js";
import { schnorr, schnorr_FROST } from "@noble/curves/secp256k1.js";
import { type DklsShare, dkls23, type Ecdsa2pShare, ecdsa2p, frost, type Party, runLocal } from "../src/index.js";

interface Result {
  bench: string;
  parties: number;
  threshold: number;
  runs: number;
  p50_ms: number;
  p95_ms: number;
}

const filter = process.argv[2];

function percentile(sorted: number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return Math.round((sorted[Math.max(0, i)] as number) * 100) / 100;
}

interface Shape {
  parties: number;
  threshold: number;
}

function bench(
  name: string,
  runs: number,
  body: () => void,
  setup: () => void = () => {},
  shape: Shape = { parties: 2, threshold: 2 },
): void {
  if (filter && !name.includes(filter)) return;
  const times: number[] = [];
  body(); // warm-up: JIT and lazily built tables
  for (let i = 0; i < runs; i++) {
    setup();
    const t = performance.now();
    body();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const r: Result = {
    bench: name,
    parties: shape.parties,
    threshold: shape.threshold,
    runs,
    p50_ms: percentile(times, 50),
    p95_ms: percentile(times, 95),
  };
  console.log(JSON.stringify(r));
}

const sid = () => crypto.getRandomValues(new Uint8Array(32));

/** Runs a group's set-up and benchmarks only when the filter can match one of its names. */
function group(prefix: string, fn: () => void): void {
  if (!filter || filter.startsWith(prefix) || prefix.startsWith(filter)) fn();
}

group("ecdsa2p", () => {
  const keygen = (): Ecdsa2pShare[] => {
    const s = sid();
    return runLocal([ecdsa2p.keygen({ sid: s, index: 0 }), ecdsa2p.keygen({ sid: s, index: 1 })]);
  };

  let shares: Ecdsa2pShare[] = [];
  bench("ecdsa2p.keygen", 20, () => {
    shares = keygen();
  });
  if (shares.length === 0) shares = keygen();

  // Offline: both parties' moduli (P0's Paillier key, P1's ring-Pedersen modulus).
  let prepared = [ecdsa2p.prepare(0), ecdsa2p.prepare(1)];
  bench("ecdsa2p.prepare", 5, () => {
    prepared = [ecdsa2p.prepare(0), ecdsa2p.prepare(1)];
  });
  bench(
    "ecdsa2p.keygen.prepared",
    20,
    () => {
      const s = sid();
      runLocal([
        ecdsa2p.keygen({ sid: s, index: 0, prepared: prepared[0] }),
        ecdsa2p.keygen({ sid: s, index: 1, prepared: prepared[1] }),
      ]);
    },
    () => {
      prepared = [ecdsa2p.prepare(0), ecdsa2p.prepare(1)];
    },
  );
  const [s0, s1] = shares as [Ecdsa2pShare, Ecdsa2pShare];

  bench("ecdsa2p.precompute", 20, () => {
    ecdsa2p.precompute(s1);
  });

  let pre = ecdsa2p.precompute(s1);
  bench(
    "ecdsa2p.sign",
    50,
    () => {
      const s = sid();
      const messageHash = crypto.getRandomValues(new Uint8Array(32));
      runLocal([
        ecdsa2p.sign(s0, { sid: s, messageHash }),
        ecdsa2p.sign(s1, { sid: s, messageHash, precomputed: pre }),
      ]);
    },
    () => {
      pre = ecdsa2p.precompute(s1);
    },
  );

  bench("ecdsa2p.sign.without-precompute", 20, () => {
    const s = sid();
    const messageHash = crypto.getRandomValues(new Uint8Array(32));
    runLocal([ecdsa2p.sign(s0, { sid: s, messageHash }), ecdsa2p.sign(s1, { sid: s, messageHash })]);
  });

  bench("ecdsa2p.refresh", 5, () => {
    const s = sid();
    runLocal([ecdsa2p.refresh(s0, { sid: s }), ecdsa2p.refresh(s1, { sid: s })]);
  });
});

/**
 * Key generation and signing of a t-of-n engine: keygen by all n parties, then signing by the
 * first t (both rounds of every signer and each one's output). Returns the keys.
 */
function thresholdBenches<S>(
  prefix: string,
  n: number,
  t: number,
  runs: { keygen: number; sign: number },
  keygen: (sid: Uint8Array, index: number) => Party<S>,
  sign: (share: S, sid: Uint8Array, message: Uint8Array, signers: number[]) => Party<unknown>,
): S[] {
  const shape = { parties: n, threshold: t };
  const dkg = (): S[] => {
    const s = sid();
    return runLocal(Array.from({ length: n }, (_, index) => keygen(s, index)));
  };
  let keys: S[] = [];
  bench(
    `${prefix}.keygen`,
    runs.keygen,
    () => {
      keys = dkg();
    },
    undefined,
    shape,
  );
  if (keys.length === 0) keys = dkg();
  const signers = Array.from({ length: t }, (_, i) => i);
  bench(
    `${prefix}.sign`,
    runs.sign,
    () => {
      const s = sid();
      const message = crypto.getRandomValues(new Uint8Array(32));
      runLocal(
        signers.map((i) => sign(keys[i] as S, s, message, signers)),
        { indices: signers },
      );
    },
    undefined,
    shape,
  );
  return keys;
}

group("frost", () => {
  for (const name of ["ed25519", "secp256k1tr"] as const) {
    const engine = frost[name];
    for (const [n, t] of [
      [3, 2],
      [5, 3],
    ] as const) {
      const keys = thresholdBenches(
        `frost.${name}`,
        n,
        t,
        { keygen: 20, sign: 100 },
        (s, index) => engine.keygen({ sid: s, index, n, t }),
        (share, s, message, signers) => engine.sign(share, { sid: s, message, signers }),
      );
      bench(
        `frost.${name}.refresh`,
        10,
        () => {
          const s = sid();
          runLocal(keys.map((k) => engine.refresh(k, { sid: s })));
        },
        undefined,
        { parties: n, threshold: t },
      );
    }
  }
});

group("dkls23", () => {
  for (const [n, t, keygenRuns] of [
    [2, 2, 5],
    [3, 2, 3],
    [5, 3, 2],
  ] as const) {
    thresholdBenches<DklsShare>(
      "dkls23",
      n,
      t,
      { keygen: keygenRuns, sign: 20 },
      (s, index) => dkls23.keygen({ sid: s, index, n, t }),
      (share, s, messageHash, signers) => dkls23.sign(share, { sid: s, messageHash, signers }),
    );
  }
});

group("single-key", () => {
  // The physical floor: one ordinary key signing (noble's schnorr.sign also verifies its output).
  const message = crypto.getRandomValues(new Uint8Array(32));
  const edKey = ed25519.utils.randomSecretKey();
  const edPublic = ed25519.getPublicKey(edKey);
  const single = { parties: 1, threshold: 1 };
  bench("single-key.ed25519.sign", 200, () => ed25519.sign(message, edKey), undefined, single);
  bench(
    "single-key.ed25519.sign+verify",
    200,
    () => ed25519.verify(ed25519.sign(message, edKey), message, edPublic),
    undefined,
    single,
  );
  const k1Key = schnorr.utils.randomSecretKey();
  bench("single-key.schnorr.sign", 200, () => schnorr.sign(message, k1Key), undefined, single);
});

group("reference", () => {
  // noble's FROST API called directly, as a coordinator-less deployment would: each of two
  // signers commits, signs and aggregates (2-of-3 dealer key). No strict decoding, no sessions.
  const nobleSign = (suite: FROST) => {
    const ids = [1, 2, 3].map((i) => suite.Identifier.fromNumber(i));
    const dealt = suite.trustedDealer({ min: 2, max: 3 }, ids);
    const signers = [ids[0], ids[2]] as string[];
    return () => {
      const message = crypto.getRandomValues(new Uint8Array(32));
      const commits = signers.map((id) => suite.commit(dealt.secretShares[id] as FrostSecret));
      const list = commits.map((c) => c.commitments);
      const shares = Object.fromEntries(
        signers.map((id, k) => [
          id,
          suite.signShare(
            dealt.secretShares[id] as FrostSecret,
            dealt.public,
            (commits[k] as GenNonce).nonces,
            list,
            message,
          ),
        ]),
      );
      for (const _ of signers) suite.aggregate(dealt.public, list, message, shares);
    };
  };
  const shape = { parties: 3, threshold: 2 };
  bench("reference.noble-frost.ed25519.sign", 50, nobleSign(ed25519_FROST), undefined, shape);
  bench("reference.noble-frost.secp256k1tr.sign", 50, nobleSign(schnorr_FROST), undefined, shape);
});
