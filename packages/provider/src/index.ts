/**
 * @keyshard/provider — the Security Provider. `startProvider` opens the database (PGlite or
 * PostgreSQL), checks the master key against it, and serves the API.
 */
import { mkdirSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { deviceId } from "@keyshard/transport";
import { randomBytes } from "@noble/hashes/utils.js";
import { appendAudit, SYSTEM_CHAIN } from "./audit/log.js";
import type { ProviderContext } from "./context.js";
import { type Delays, resolveDelays } from "./delays.js";
import { checkMetricsToken } from "./http/plugins/metrics.js";
import { devMailUrl, newDevMailToken } from "./http/routes/dev-mail.js";
import { buildServer, type ServerOptions } from "./http/server.js";
import { startJobs } from "./jobs.js";
import { Notifier } from "./notify/notifier.js";
import { DEFAULT_FACE_ATTEMPTS_PER_DAY } from "./recovery/face.js";
import { LiveParties } from "./sessions/live-parties.js";
import { PrecomputeThreads } from "./sessions/precompute-threads.js";
import { ShareCache } from "./sessions/share-cache.js";
import { type DataDirLock, lockDataDir } from "./store/data-lock.js";
import { openDatabase } from "./store/database.js";
import { checkMasterKey, loadMasterKey } from "./store/master-key.js";
import { loadProviderIdentity } from "./store/provider-identity.js";

export { type AuditVerdict, verifyAudit } from "./audit/log.js";
export type { ProviderContext } from "./context.js";
export { DELAY_SETTINGS, type Delays, DelayTooShortError, TRIAL_NOTICE } from "./delays.js";
export { buildServer } from "./http/server.js";
export { startJobs } from "./jobs.js";
export { sweepHeirNotices } from "./recovery/heirs.js";
export { DataDirLockedError } from "./store/data-lock.js";
export { openDatabase } from "./store/database.js";
export { MasterKey, MasterKeyError } from "./store/master-key.js";
export type { Database } from "./store/queryable.js";

export interface ProviderConfig {
  /** Holds the PGlite database (unless `databaseUrl`) and the master key file (unless `masterKeyHex`). */
  dataDir: string;
  databaseUrl?: string;
  masterKeyHex?: string;
  smtpUrl?: string;
  host?: string;
  port?: number;
  now?: () => number;
  logger?: ServerOptions["logger"];
  metricsToken?: ServerOptions["metricsToken"];
  /** Requests per client and minute on the routes that send or check codes (default 10). */
  authRateLimit?: number;
  /**
   * Trial mode: delays may be set shorter than their production minimums, and every response
   * says so. Without it, a delay below its minimum refuses the start (`DelayTooShortError`).
   */
  trial?: boolean;
  /** How long a policy change waits (default 48 hours). */
  policyDelayMs?: number;
  /** How long a guarded account change (TOTP, face enrollment, heir, new device) waits (default: the policy delay). */
  accountChangeDelayMs?: number;
  /** How long a requested backup of the provider's share waits, cancellable (default 7 days). */
  backupDelayMs?: number;
  /** How long a face recovery holds outgoing transfers unless the old device confirms (default 72 hours). */
  recoveryHoldMs?: number;
  /** Face guesses per enrollment in 24 hours (default 5). */
  faceAttemptsPerDay?: number;
  /** An heir's inactivity threshold when the owner names none (default 365 days). */
  heirInactivityMs?: number;
  challengeRandom?: (n: number) => Uint8Array;
  /** Worker threads making ecdsa2p signing precomputations (default: one per core but one, at least 1; 0 for none). */
  precomputeThreads?: number;
}

export interface RunningProvider {
  url: string;
  context: ProviderContext;
  /** The delays in force. */
  delays: Delays;
  /** Set when this start created the master key file. */
  createdKeyFile?: string;
  close(): Promise<void>;
}

export async function startProvider(config: ProviderConfig): Promise<RunningProvider> {
  // Before anything is opened or created: a refused setting leaves nothing behind.
  const delays = resolveDelays(config, config.trial === true);
  if (config.metricsToken !== undefined) checkMetricsToken(config.metricsToken);
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  // One provider per data folder, also on PostgreSQL: the master key file is there.
  const lock = lockDataDir(config.dataDir);
  try {
    return await startLocked(config, lock, delays);
  } catch (e) {
    lock.release();
    throw e;
  }
}

async function startLocked(config: ProviderConfig, lock: DataDirLock, delays: Delays): Promise<RunningProvider> {
  const { key, createdFile } = loadMasterKey(config.masterKeyHex, join(config.dataDir, "master.key"));
  const db = await openDatabase(
    config.databaseUrl ? { postgresUrl: config.databaseUrl } : { pgliteDir: join(config.dataDir, "pglite") },
  );
  try {
    await checkMasterKey(db, key);
  } catch (e) {
    await db.close();
    throw e;
  }
  const now = config.now ?? Date.now;
  const notifier = new Notifier(db, { ...(config.smtpUrl && { smtpUrl: config.smtpUrl }), now });
  const identity = await loadProviderIdentity(db, key);
  const threads = new PrecomputeThreads(config.precomputeThreads ?? Math.max(1, availableParallelism() - 1));
  const context: ProviderContext = {
    identity,
    identityId: deviceId(identity.publicKey),
    db,
    masterKey: key,
    notifier,
    devMailToken: newDevMailToken(),
    shares: new ShareCache(key, threads),
    parties: new LiveParties(),
    now,
    authRateLimit: config.authRateLimit ?? 10,
    ...delays,
    trial: config.trial === true,
    faceAttemptsPerDay: config.faceAttemptsPerDay ?? DEFAULT_FACE_ATTEMPTS_PER_DAY,
    challengeRandom: config.challengeRandom ?? randomBytes,
  };
  await db.transaction((tx) =>
    appendAudit(tx, {
      chain: SYSTEM_CHAIN,
      atMs: now(),
      actor: "provider",
      action: "provider.started",
      details: { database: db.kind },
    }),
  );
  const app = await buildServer(context, {
    logger: config.logger ?? false,
    ...(config.metricsToken !== undefined && { metricsToken: config.metricsToken }),
  });
  notifier.log = app.log;
  const url = await app.listen({ host: config.host ?? "127.0.0.1", port: config.port ?? 0 });
  const stopJobs = startJobs(context, app.log);
  // The viewer's secret address goes only where the codes it shows already are: this log.
  if (!notifier.mails)
    app.log.warn(
      `no SMTP server configured (KEYSHARD_SMTP_URL): mail is not sent; each message, one-time codes included, is written to this log instead and listed at ${devMailUrl(url, context.devMailToken)} (from this machine only; a new address each start), for a first run on one machine`,
    );
  return {
    url,
    context,
    delays,
    ...(createdFile && { createdKeyFile: createdFile }),
    async close() {
      stopJobs();
      await app.close();
      await notifier.close();
      await threads.close();
      await db.close();
      lock.release();
    },
  };
}
