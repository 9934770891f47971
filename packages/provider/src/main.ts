/**
 * `npm start`: the provider on an embedded PGlite database in ./data, or on PostgreSQL when
 * DATABASE_URL is set; with KEYSHARD_ROLE=recovery-operator, one of its recovery operators instead
 * (`recovery-operator/run.ts`). Configuration comes from the environment only;
 * packages/provider/README.md lists every setting.
 */
import { bytesToHex } from "@noble/hashes/utils.js";
import {
  DELAY_SETTINGS,
  type Delays,
  DelayTooShortError,
  PolicyTemplatesError,
  parseRecoveryOperators,
  providerTicketKey,
  type RecoveryOperatorSetting,
  RecoveryOperatorsError,
  startProvider,
  TRIAL_NOTICE,
} from "./index.js";
import { runRecoveryOperator } from "./recovery-operator/run.js";

const env = process.env;
const port = env.PORT === undefined ? 8080 : Number(env.PORT);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error("PORT must be a port number");
  process.exit(2);
}

// The same code serves as the provider or as one of its recovery operators.
const role = env.KEYSHARD_ROLE || "provider";
if (role !== "provider" && role !== "recovery-operator") {
  console.error("KEYSHARD_ROLE is provider (the default) or recovery-operator");
  process.exit(2);
}
if (role === "recovery-operator") await runRecoveryOperator(env, port);

/** A delay given in whole seconds by the environment variable `name`, in milliseconds. */
function delayMs(name: string): number | undefined {
  const value = env[name];
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (!(Number.isSafeInteger(seconds) && seconds >= 0)) {
    console.error(`${name} must be a whole number of seconds`);
    process.exit(2);
  }
  return seconds * 1000;
}
const delays: Partial<Delays> = {};
for (const [name, setting] of Object.entries(DELAY_SETTINGS) as [keyof Delays, string][]) {
  const ms = delayMs(setting);
  if (ms !== undefined) delays[name] = ms;
}
const trialSetting = env.KEYSHARD_TRIAL ?? "";
if (!["", "0", "1"].includes(trialSetting)) {
  console.error("KEYSHARD_TRIAL is 1 (trial mode: short delays, not for real funds) or 0");
  process.exit(2);
}
const trial = trialSetting === "1";
const threads = env.KEYSHARD_PRECOMPUTE_THREADS;
const precomputeThreads = threads === undefined ? undefined : Number(threads);
if (precomputeThreads !== undefined && !(Number.isInteger(precomputeThreads) && precomputeThreads >= 0)) {
  console.error("KEYSHARD_PRECOMPUTE_THREADS must be a whole number");
  process.exit(2);
}

let recoveryOperators: RecoveryOperatorSetting[] = [];
try {
  recoveryOperators = parseRecoveryOperators(env.KEYSHARD_RECOVERY_OPERATORS ?? "");
} catch (e) {
  console.error((e as Error).message);
  process.exit(2);
}
const thresholdSetting = env.KEYSHARD_RECOVERY_THRESHOLD;
const recoveryThreshold = thresholdSetting === undefined ? undefined : Number(thresholdSetting);
if (recoveryThreshold !== undefined && !(thresholdSetting !== "" && Number.isInteger(recoveryThreshold))) {
  console.error("KEYSHARD_RECOVERY_THRESHOLD must be a whole number (how many recovery operators answer together)");
  process.exit(2);
}

try {
  const provider = await startProvider({
    dataDir: env.KEYSHARD_DATA_DIR ?? "./data",
    databaseUrl: env.DATABASE_URL,
    masterKeyHex: env.KEYSHARD_MASTER_KEY,
    smtpUrl: env.KEYSHARD_SMTP_URL,
    ...delays,
    trial,
    ...(precomputeThreads !== undefined && { precomputeThreads }),
    recoveryOperators,
    ...(recoveryThreshold !== undefined && { recoveryThreshold }),
    // Set but empty, as a deployment template leaves it, is unset: the built-in template only.
    ...(env.KEYSHARD_POLICY_TEMPLATES && { policyTemplatesFile: env.KEYSHARD_POLICY_TEMPLATES }),
    host: env.HOST ?? "127.0.0.1",
    port,
    logger: env.KEYSHARD_LOG === "off" ? false : { level: env.KEYSHARD_LOG ?? "info" },
    // Set but empty, as a deployment template leaves it, is unset: /metrics is then not served.
    ...(env.KEYSHARD_METRICS_TOKEN && { metricsToken: env.KEYSHARD_METRICS_TOKEN }),
    ...(env.KEYSHARD_CONSOLE_TOKEN && { consoleToken: env.KEYSHARD_CONSOLE_TOKEN }),
    ...(env.KEYSHARD_WEB_CONNECT_SOURCES && {
      webAppConnectSources: env.KEYSHARD_WEB_CONNECT_SOURCES.split(",").map((source) => source.trim()),
    }),
  });
  if (provider.createdKeyFile)
    console.log(
      `created the master key file ${provider.createdKeyFile} (mode 0600): back it up, the shares are sealed under it`,
    );
  // On stderr whatever the log level: whoever starts it must not miss it.
  if (trial)
    console.error(
      `WARNING: trial mode (KEYSHARD_TRIAL=1): ${TRIAL_NOTICE}. Policy changes wait ${provider.delays.policyDelayMs / 1000} s, account changes ${provider.delays.accountChangeDelayMs / 1000} s, backups ${provider.delays.backupDelayMs / 1000} s.`,
    );
  // Passkeys refuse an IP address for a site: the web wallet is opened by name on this machine.
  const webApp = `${provider.url.replace("//127.0.0.1:", "//localhost:")}/app`;
  const operatorConsole = env.KEYSHARD_CONSOLE_TOKEN ? `; operator console at ${provider.url}/console` : "";
  console.log(
    `keyshard provider listening on ${provider.url} (database: ${provider.context.db.kind}; API description at ${provider.url}/docs; web wallet at ${webApp}${operatorConsole})`,
  );
  console.log(
    `recovery operators must trust ticket key ${bytesToHex(providerTicketKey(provider.context.masterKey))} (${recoveryOperators.length === 0 ? "none listed: face enrollment is off" : `${provider.context.recoveryThreshold} of ${recoveryOperators.length} answer together`})`,
  );
  const stop = () => void provider.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
} catch (e) {
  if (e instanceof DelayTooShortError || e instanceof RecoveryOperatorsError || e instanceof PolicyTemplatesError) {
    console.error(`keyshard provider refuses to start: ${e.message}`);
    process.exit(2);
  }
  console.error(`keyshard provider could not start: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
