/**
 * `npm run bench:provider [-- pglite|postgres]`: end-to-end hybrid signing over HTTP on
 * localhost — the device's party and signed requests in this process, a real provider process
 * (`npm start`) with its database. Prints one JSON line per measurement: sequential latency
 * (p50/p95), throughput with 16 concurrent clients, the provider's and the clients' CPU time per
 * signature under that load (all threads of each process; the two share the machine's cores),
 * and the provider's memory: the most it held during that load (sampled VmRSS) and its lifetime
 * peak (VmHWM, which includes start-up: PGlite's initdb alone peaks near 900 MB).
 */

import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { ethereumSigningDigest } from "@keyshard/chains";
import { type ShareOf, scheme, WALLET_DEVICE } from "@keyshard/mpc";
import { driveSession, newDeviceIdentity, type RoundReply, signedFetch, toWire } from "@keyshard/transport";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import {
  ethereumTransfer,
  freshPostgres,
  mailedCode,
  scrapeMetrics,
  spawnProvider,
  startMailbox,
} from "../test/harness.js";
import { timeSequential } from "./timing.js";

const CLIENTS = 16;
const SEQUENTIAL_RUNS = 30;
const THROUGHPUT_SECONDS = 20;

const identity = newDeviceIdentity();
const call = (url: string, method: string, path: string, body?: unknown) =>
  signedFetch(url, identity, method, path, body);

interface Reply extends RoundReply {
  sid: string;
  signature?: string;
}

/** One signature as the wallet SDK makes it: the device's first round rides on the sign request. */
async function sign(url: string, walletId: string, share: ShareOf<"ecdsa2p">, nonce: number): Promise<void> {
  const transaction = ethereumTransfer(nonce);
  const sid = crypto.getRandomValues(new Uint8Array(32));
  const party = scheme("ecdsa2p").sign(share, { sid, message: ethereumSigningDigest(transaction) });
  const first = party.start();
  const asked = await call(url, "POST", `/v1/wallets/${walletId}/sign-requests`, {
    chain: "ethereum",
    payload: bytesToHex(transaction),
    chainId: 1,
    sessions: [{ sid: bytesToHex(sid), messages: toWire(first) }],
  });
  const session = (asked.sessions as Reply[])[0] as Reply;
  const done = await driveSession(
    party,
    session,
    async (round, messages) =>
      (await call(url, "POST", `/v1/sessions/${session.sessionId}/round`, { round, messages })) as unknown as Reply,
    first,
  );
  if (!done.signature) throw new Error("no signature");
}

/** CPU time the provider process has used so far (user + system), in ms. */
function cpuMs(child: ChildProcess): number {
  const fields = readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  // utime and stime are the 14th and 15th fields of the whole line, in clock ticks (100 per second on Linux).
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** The provider's resident memory now (VmRSS) or its lifetime peak (VmHWM, start-up included), in MB. */
function rss(child: ChildProcess, field: "VmRSS" | "VmHWM"): number {
  const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
  return Number(status.match(new RegExp(`${field}:\\s+(\\d+) kB`))?.[1] ?? 0) / 1024;
}

async function run(database: "pglite" | "postgres"): Promise<void> {
  const mailbox = await startMailbox();
  const postgres = database === "postgres" ? await freshPostgres() : undefined;
  const provider = await spawnProvider({
    KEYSHARD_SMTP_URL: mailbox.url,
    ...(postgres && { DATABASE_URL: postgres.url }),
  });
  const { url, child } = provider;
  try {
    await call(url, "POST", "/v1/devices", {
      identityKey: bytesToHex(identity.publicKey),
      email: `bench-${database}@example.com`,
      name: "bench",
    });
    await call(url, "POST", "/v1/devices/verify", {
      code: await mailedCode(mailbox.mails, `bench-${database}@example.com`),
    });
    const created = await call(url, "POST", "/v1/wallets", { name: "bench", scheme: "ecdsa2p" });
    const keygen = created.session as Reply;
    const party = scheme("ecdsa2p").keygen(hexToBytes(keygen.sid), WALLET_DEVICE);
    await driveSession(
      party,
      keygen,
      async (round, messages) =>
        (await call(url, "POST", `/v1/sessions/${keygen.sessionId}/round`, { round, messages })) as unknown as Reply,
    );
    const share = party.result();
    const walletId = created.walletId as string;
    let nonce = 0;
    for (let i = 0; i < 3; i++) await sign(url, walletId, share, nonce++);

    const measured = await timeSequential(SEQUENTIAL_RUNS, () => sign(url, walletId, share, nonce++));
    console.log(
      JSON.stringify({
        bench: `provider.hybrid-sign.ecdsa2p.${database}`,
        parties: 2,
        threshold: 2,
        runs: SEQUENTIAL_RUNS,
        ...measured,
      }),
    );

    let completed = 0;
    let rssUnderLoad = 0;
    const sampler = setInterval(() => (rssUnderLoad = Math.max(rssUnderLoad, rss(child, "VmRSS"))), 200);
    const deadline = performance.now() + THROUGHPUT_SECONDS * 1000;
    const start = performance.now();
    const cpuAtStart = cpuMs(child);
    const clientCpuAtStart = process.cpuUsage();
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (performance.now() < deadline) {
          await sign(url, walletId, share, nonce++);
          completed++;
        }
      }),
    );
    clearInterval(sampler);
    const serverCpu = cpuMs(child) - cpuAtStart;
    const metrics = await scrapeMetrics(url);
    const runs = (how: string) =>
      Number(metrics.match(new RegExp(`keyshard_ecdsa2p_sign_runs_total\\{precomputed="${how}"\\} (\\d+)`))?.[1]);
    const megabytes = (metric: string) =>
      Math.round(Number(metrics.match(new RegExp(`^${metric} (\\d+)`, "m"))?.[1]) / 2 ** 20);
    const clientCpu = process.cpuUsage(clientCpuAtStart);
    const seconds = (performance.now() - start) / 1000;
    console.log(
      JSON.stringify({
        bench: `provider.hybrid-sign.ecdsa2p.${database}.throughput`,
        clients: CLIENTS,
        seconds: Math.round(seconds * 10) / 10,
        signatures: completed,
        per_second: Math.round((completed / seconds) * 10) / 10,
        server_cpu_ms_per_signature: Math.round(serverCpu / completed),
        client_cpu_ms_per_signature: Math.round((clientCpu.user + clientCpu.system) / 1000 / completed),
        precomputed_ahead_share: Math.round((runs("ahead") / (runs("ahead") + runs("in-run"))) * 100) / 100,
        server_rss_under_load_mb: Math.round(rssUnderLoad),
        server_peak_rss_mb: Math.round(rss(child, "VmHWM")),
        // Of the resident memory: the main thread's JavaScript heap (and how much of it is in use, garbage
        // not yet collected included), and memory outside it (PGlite's WebAssembly memory, buffers).
        server_js_heap_mb: megabytes("nodejs_heap_size_total_bytes"),
        server_js_heap_used_mb: megabytes("nodejs_heap_size_used_bytes"),
        server_external_mb: megabytes("nodejs_external_memory_bytes"),
      }),
    );
  } finally {
    await provider.stop();
    await mailbox.close();
    await postgres?.drop();
  }
}

const only = process.argv[2];
for (const database of ["pglite", "postgres"] as const) if (!only || only === database) await run(database);
