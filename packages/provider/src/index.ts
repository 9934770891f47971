/**
 * @keyshard/provider — the Security Provider. `startProvider` opens the database (PGlite or
 * PostgreSQL), checks the master key against it, and serves the API.
 */
import { availableParallelism } from "node:os";
import { deviceId } from "@keyshard/transport";
import { randomBytes } from "@noble/hashes/utils.js";
import { appendAudit, SYSTEM_CHAIN } from "./audit/log.js";
import type { ProviderContext } from "./context.js";
import { type OpenedDataDir, withDataDir } from "./data-dir.js";
import { type Delays, resolveDelays } from "./delays.js";
import { checkMetricsToken } from "./http/plugins/metrics.js";
import { checkConnectSources } from "./http/plugins/web-app.js";
import { checkConsoleToken } from "./http/routes/console.js";
import { devMailUrl, newDevMailToken } from "./http/routes/dev-mail.js";
import { buildServer, type ServerOptions } from "./http/server.js";
import { startJobs } from "./jobs.js";
import { Notifier } from "./notify/notifier.js";
import { loadPolicyTemplates } from "./policy/templates.js";
import { DEFAULT_FACE_ATTEMPTS_PER_DAY } from "./recovery/face.js";
import {
  type RecoveryOperatorSetting,
  type RecoveryOperators,
  resolveRecoveryOperators,
} from "./recovery/operators.js";
import { LiveParties } from "./sessions/live-parties.js";
import { PrecomputeThreads } from "./sessions/precompute-threads.js";
import { ShareCache } from "./sessions/share-cache.js";
import { loadProviderIdentity } from "./store/provider-identity.js";

export { type AuditVerdict, verifyAudit } from "./audit/log.js";
export type { ProviderContext } from "./context.js";
export { DELAY_SETTINGS, type Delays, DelayTooShortError, TRIAL_NOTICE } from "./delays.js";
export { buildServer } from "./http/server.js";
export { startJobs } from "./jobs.js";
export { PolicyTemplatesError } from "./policy/templates.js";
export { sweepHeirNotices } from "./recovery/heirs.js";
export {
  parseRecoveryOperators,
  type RecoveryOperatorSetting,
  RecoveryOperatorsError,
} from "./recovery/operators.js";
export {
  ReshareError,
  type ReshareHelper,
  type ReshareOperator,
  type ResharePlan,
  type ReshareRecipient,
  reshareRecoveryOperators,
} from "./recovery-operator/reshare.js";
export {
  OperatorConfigError,
  type RecoveryOperatorConfig,
  type RunningRecoveryOperator,
  startRecoveryOperator,
} from "./recovery-operator/start.js";
export { providerTicketKey, providerTicketKeys } from "./recovery-operator/ticket-key.js";
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
  /** The operator console's bearer token (`/console`); without it, there is no console. */
  consoleToken?: ServerOptions["consoleToken"];
  /** Origins beyond https ones the web wallet at /app may reach (`http://127.0.0.1:8545`, a local chain node). */
  webAppConnectSources?: ServerOptions["webAppConnectSources"];
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
  /**
   * The recovery operators that hold the shares of face enrollments' OPRF keys, index = position
   * from 1 (http(s) URLs, distinct 32-byte X25519 keys in hex); none: face enrollment is refused.
   */
  recoveryOperators?: RecoveryOperatorSetting[];
  /** How many operators answer a face guess together (default 2; 2 ≤ threshold ≤ operators ≤ 16). */
  recoveryThreshold?: number;
  /** A JSON file of policy templates offered to new wallets beside the built-in one (`policy/templates.ts`). */
  policyTemplatesFile?: string;
  challengeRandom?: (n: number) => Uint8Array;
  /** The relay WebSocket's limits where they are not its defaults. */
  relaySockets?: ProviderContext["relaySockets"];
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
  if (config.consoleToken !== undefined) checkConsoleToken(config.consoleToken, config.metricsToken);
  checkConnectSources(config.webAppConnectSources ?? []);
  const operators = resolveRecoveryOperators(config.recoveryOperators, config.recoveryThreshold);
  const policyTemplates = loadPolicyTemplates(config.policyTemplatesFile);
  return withDataDir(config, (opened) => startOpened(config, opened, { delays, operators, policyTemplates }));
}

/** What the start resolved of the configuration before it opened anything. */
interface Settings {
  delays: Delays;
  operators: RecoveryOperators;
  policyTemplates: ProviderContext["policyTemplates"];
}

async function startOpened(
  config: ProviderConfig,
  { lock, key, db, createdKeyFile: createdFile }: OpenedDataDir,
  { delays, operators, policyTemplates }: Settings,
): Promise<RunningProvider> {
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
    ...operators,
    policyTemplates,
    challengeRandom: config.challengeRandom ?? randomBytes,
    ...(config.relaySockets !== undefined && { relaySockets: config.relaySockets }),
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
    ...(config.consoleToken !== undefined && { consoleToken: config.consoleToken }),
    ...(config.webAppConnectSources !== undefined && { webAppConnectSources: config.webAppConnectSources }),
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
