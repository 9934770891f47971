/**
 * ecdsa2p's party-1 precomputation on worker threads. Two Paillier randomisers and the first half
 * of Πaff are most of the provider's work per signature; made here, they use the cores the main
 * thread (HTTP, database, the online half of each round) leaves free, and never delay a request.
 * A worker is given party 0's public key values only — no share, no secret — and posts back one
 * precomputation's values, which become a single-use `SignPrecomputation` on this thread.
 */
import { Worker } from "node:worker_threads";
import { type PrecomputationKey, SignPrecomputation, type SignPrecomputationParts } from "@keyshard/mpc";

interface Job {
  resolve: (made: SignPrecomputation) => void;
  reject: (error: Error) => void;
}

type Reply = { id: number; parts: SignPrecomputationParts } | { id: number; error: string };

const FROM_SOURCES = import.meta.url.endsWith(".ts");
// Built (the package's modules or `npm start`'s bundle), the worker's JavaScript sits beside this
// code. Run from the sources, a shim gives the thread the TypeScript loader, and the thread reads
// the workspace packages' sources too (their exports' "keyshard-source" condition), as built ones may not exist.
const WORKER = new URL(FROM_SOURCES ? "./precompute-worker.mjs" : "./precompute-worker.js", import.meta.url);
const WORKER_OPTIONS = FROM_SOURCES ? { execArgv: [...process.execArgv, "--conditions=keyshard-source"] } : {};
/** Workers that die in a row, without a reply between, before the threads are given up. */
const MAX_FAILURES = 3;

export class PrecomputeThreads {
  readonly #workers: (Worker | undefined)[];
  readonly #jobs = new Map<number, Job & { worker: number }>();
  #next = 0;
  #failures = 0;

  constructor(threads: number) {
    if (!Number.isInteger(threads) || threads < 0) throw new RangeError("thread count must be a whole number ≥ 0");
    this.#workers = Array.from({ length: threads }, () => undefined);
  }

  /** Whether threads are configured and have not kept failing; otherwise runs make their own precomputations. */
  get enabled(): boolean {
    return this.#workers.length > 0 && this.#failures < MAX_FAILURES;
  }

  /** One precomputation for the key, made on the least busy worker. */
  make(key: PrecomputationKey): Promise<SignPrecomputation> {
    if (!this.enabled) return Promise.reject(new Error("no precomputation threads"));
    const slot = this.#leastBusy();
    const worker = this.#worker(slot);
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#jobs.set(id, { resolve, reject, worker: slot });
      worker.postMessage({ id, key });
    });
  }

  async close(): Promise<void> {
    const workers = this.#workers.splice(0);
    this.#failJobs(() => true, "the provider is closing");
    await Promise.all(workers.map((w) => w?.terminate()));
  }

  #leastBusy(): number {
    const load = this.#workers.map(() => 0);
    for (const job of this.#jobs.values()) load[job.worker] = (load[job.worker] as number) + 1;
    return load.indexOf(Math.min(...load));
  }

  #worker(slot: number): Worker {
    const existing = this.#workers[slot];
    if (existing !== undefined) return existing;
    const worker = new Worker(WORKER, WORKER_OPTIONS);
    // Workers must not keep a stopping process alive; pending jobs keep their promises, not the loop.
    worker.unref();
    worker.on("message", (reply: Reply) => {
      const job = this.#jobs.get(reply.id);
      if (job === undefined) return;
      this.#jobs.delete(reply.id);
      this.#failures = 0;
      if ("error" in reply) job.reject(new Error(reply.error));
      else job.resolve(SignPrecomputation.fromParts(reply.parts));
    });
    // A worker that dies fails its jobs and is replaced on the next job.
    const gone = (why: string) => {
      if (this.#workers[slot] !== worker) return;
      this.#workers[slot] = undefined;
      this.#failures++;
      this.#failJobs((job) => job.worker === slot, why);
    };
    worker.on("error", (e) => gone(`precomputation thread failed: ${e.message}`));
    worker.on("exit", () => gone("precomputation thread exited"));
    this.#workers[slot] = worker;
    return worker;
  }

  #failJobs(which: (job: Job & { worker: number }) => boolean, why: string): void {
    for (const [id, job] of this.#jobs)
      if (which(job)) {
        this.#jobs.delete(id);
        job.reject(new Error(why));
      }
  }
}
