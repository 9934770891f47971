/**
 * A precomputation thread (see `precompute-threads.ts`): for each posted key, one ecdsa2p party-1
 * precomputation, posted back as plain values and dropped here.
 */
import { parentPort } from "node:worker_threads";
import { type PrecomputationKey, SignPrecomputation } from "@keyshard/mpc";

const port = parentPort;
if (port === null) throw new Error("precompute-worker runs as a worker thread");
port.on("message", ({ id, key }: { id: number; key: PrecomputationKey }) => {
  try {
    port.postMessage({ id, parts: SignPrecomputation.forKey(key).toParts() });
  } catch (e) {
    port.postMessage({ id, error: e instanceof Error ? e.message : "precomputation failed" });
  }
});
