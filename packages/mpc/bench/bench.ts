/**
 * `npm run bench [-- name-filter]`: one JSON line per benchmark, as DESIGN.md specifies.
 * Both parties run in this process, so the figures are compute only (no network).
 */
import { type Ecdsa2pShare, ecdsa2p, runLocal } from "../src/index.js";

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

function bench(name: string, runs: number, body: () => void, setup: () => void = () => {}): void {
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
    parties: 2,
    threshold: 2,
    runs,
    p50_ms: percentile(times, 50),
    p95_ms: percentile(times, 95),
  };
  console.log(JSON.stringify(r));
}

const sid = () => crypto.getRandomValues(new Uint8Array(32));
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
    runLocal([ecdsa2p.sign(s0, { sid: s, messageHash }), ecdsa2p.sign(s1, { sid: s, messageHash, precomputed: pre })]);
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
