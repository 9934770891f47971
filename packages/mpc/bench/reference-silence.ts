/**
 * `npm run bench:reference`: Silence Labs' DKLs23 WebAssembly build, measured on this machine the
 * way `npm run bench` measures `dkls23` (all parties in one process, same sizes), for comparison
 * only. Its licence forbids shipping it, so it is installed on demand into a temporary folder
 * and never becomes a dependency.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

const PACKAGE = "@silencelaboratories/dkls-wasm-ll-node@1.1.2";
const dir = mkdtempSync(join(tmpdir(), "keyshard-reference-"));
execFileSync("npm", ["install", "--no-audit", "--no-fund", "--prefix", dir, PACKAGE], { stdio: "ignore" });
// biome-ignore lint/suspicious/noExplicitAny: a measuring harness for an untyped foreign build
const sl: any = createRequire(join(dir, "index.js"))("@silencelaboratories/dkls-wasm-ll-node");

// biome-ignore lint/suspicious/noExplicitAny: see above
type Message = any;
const others = (msgs: Message[], party: number) => msgs.filter((m) => m.from_id !== party).map((m) => m.clone());
const mine = (msgs: Message[], party: number) => msgs.filter((m) => m.to_id === party).map((m) => m.clone());

function keygen(n: number, t: number) {
  const parties = Array.from({ length: n }, (_, i) => new sl.KeygenSession(n, t, i));
  const m1 = parties.map((p) => p.createFirstMessage());
  const m2 = parties.flatMap((p, i) => p.handleMessages(others(m1, i)));
  const commitments = parties.map((p) => p.calculateChainCodeCommitment());
  const m3 = parties.flatMap((p, i) => p.handleMessages(mine(m2, i)));
  const m4 = parties.flatMap((p, i) => p.handleMessages(mine(m3, i), commitments));
  parties.flatMap((p, i) => p.handleMessages(others(m4, i)));
  return parties.map((p) => p.keyshare().toBytes());
}

function sign(shares: Uint8Array[], t: number) {
  const parties = shares.slice(0, t).map((b) => new sl.SignSession(sl.Keyshare.fromBytes(b), "m"));
  const m1 = parties.map((p) => p.createFirstMessage());
  const m2 = parties.flatMap((p, i) => p.handleMessages(others(m1, i)));
  const m3 = parties.flatMap((p, i) => p.handleMessages(mine(m2, i)));
  parties.flatMap((p, i) => p.handleMessages(mine(m3, i)));
  const hash = crypto.getRandomValues(new Uint8Array(32));
  const m4 = parties.map((p) => p.lastMessage(hash));
  return parties.map((p, i) => p.combine(others(m4, i)));
}

function measure(name: string, n: number, t: number, runs: number, body: () => void): void {
  body();
  const times: number[] = [];
  for (let k = 0; k < runs; k++) {
    const start = performance.now();
    body();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const at = (p: number) =>
    Math.round((times[Math.min(times.length - 1, Math.ceil((p / 100) * times.length) - 1)] as number) * 100) / 100;
  console.log(JSON.stringify({ bench: name, parties: n, threshold: t, runs, p50_ms: at(50), p95_ms: at(95) }));
}

for (const [n, t, keygenRuns] of [
  [2, 2, 5],
  [3, 2, 3],
  [5, 3, 2],
] as const) {
  measure("reference.silence-dkls23-wasm.keygen", n, t, keygenRuns, () => keygen(n, t));
  const shares = keygen(n, t);
  measure("reference.silence-dkls23-wasm.sign", n, t, 20, () => sign(shares, t));
}
