/**
 * A precomputation thread (see `precompute-threads.ts`): for each posted key, one ecdsa2p party-1
 * precomputation, posted back as plain values and dropped here. The tables for each key are kept
 * between jobs, for the most recently served keys.
 */
import { parentPort } from "node:worker_threads";
import { type PrecomputationKey, PrecomputationTables, SignPrecomputation } from "@keyshard/mpc";

/** Keys whose tables are kept: a few big integers each. */
const KEYS_KEPT = 256;

const port = parentPort;
if (port === null) throw new Error("precompute-worker runs as a worker thread");
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
