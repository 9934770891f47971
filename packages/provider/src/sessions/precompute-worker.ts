/**
 * A precomputation thread (see `precompute-threads.ts`): for each posted key, one ecdsa2p party-1
 * precomputation, posted back as plain values and dropped here. The tables for each key are kept
 * between jobs, for the most recently served keys.
 */
import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";
import { parentPort } from "node:worker_threads";
import { type PrecomputationKey, PrecomputationTables, SignPrecomputation } from "@keyshard/mpc";

/** The niceness of this thread: it gets a core only when the request path leaves one idle. */
const BACKGROUND_NICE = 10;
/** Keys whose tables are kept: a few big integers each. */
const KEYS_KEPT = 256;

const port = parentPort;
if (port === null) throw new Error("precompute-worker runs as a worker thread");
// This thread's work is never awaited by a request (one that finds no precomputation makes its
// own), so it yields the cores to the request path: on Linux a thread has its own nice value.
// Under load that raised throughput by 3–4 % (docs/benchmarks.md). Elsewhere it keeps the default.
try {
  setPriority(Number(readlinkSync("/proc/thread-self").split("/").pop()), BACKGROUND_NICE);
} catch {
  // Not Linux, or not allowed: the thread runs at the process's priority.
}
const kept = new Map<bigint, PrecomputationTables>();

/** The key's tables, kept or built; the least recently used key's are dropped beyond `KEYS_KEPT`. */
function tablesFor(key: PrecomputationKey): PrecomputationTables {
  const found = kept.get(key.paillierN);
  kept.delete(key.paillierN);
  const tables = found?.isFor(key) ? found : new PrecomputationTables(key);
  kept.set(key.paillierN, tables);
  if (kept.size > KEYS_KEPT) kept.delete(kept.keys().next().value as bigint);
  return tables;
}

port.on("message", ({ id, key }: { id: number; key: PrecomputationKey }) => {
  try {
    port.postMessage({ id, parts: SignPrecomputation.forKey(tablesFor(key)).toParts() });
  } catch (e) {
    port.postMessage({ id, error: e instanceof Error ? e.message : "precomputation failed" });
  }
});
