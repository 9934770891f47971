/**
 * `npm start`: the provider on an embedded PGlite database in ./data, or on PostgreSQL when
 * DATABASE_URL is set. Configuration comes from the environment only.
 */
import { startProvider } from "./index.js";

const env = process.env;
const port = env.PORT === undefined ? 8080 : Number(env.PORT);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error("PORT must be a port number");
  process.exit(2);
}

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
const policyDelayMs = delayMs("KEYSHARD_POLICY_DELAY_SECONDS");
const accountChangeDelayMs = delayMs("KEYSHARD_ACCOUNT_CHANGE_DELAY_SECONDS");
const backupDelayMs = delayMs("KEYSHARD_BACKUP_DELAY_SECONDS");
const recoveryHoldMs = delayMs("KEYSHARD_RECOVERY_HOLD_SECONDS");
const heirInactivityMs = delayMs("KEYSHARD_HEIR_INACTIVITY_SECONDS");
const threads = env.KEYSHARD_PRECOMPUTE_THREADS;
const precomputeThreads = threads === undefined ? undefined : Number(threads);
if (precomputeThreads !== undefined && !(Number.isInteger(precomputeThreads) && precomputeThreads >= 0)) {
  console.error("KEYSHARD_PRECOMPUTE_THREADS must be a whole number");
  process.exit(2);
}

try {
  const provider = await startProvider({
    dataDir: env.KEYSHARD_DATA_DIR ?? "./data",
    databaseUrl: env.DATABASE_URL,
    masterKeyHex: env.KEYSHARD_MASTER_KEY,
    smtpUrl: env.KEYSHARD_SMTP_URL,
    ...(policyDelayMs !== undefined && { policyDelayMs }),
    ...(accountChangeDelayMs !== undefined && { accountChangeDelayMs }),
    ...(backupDelayMs !== undefined && { backupDelayMs }),
    ...(recoveryHoldMs !== undefined && { recoveryHoldMs }),
    ...(heirInactivityMs !== undefined && { heirInactivityMs }),
    ...(precomputeThreads !== undefined && { precomputeThreads }),
    host: env.HOST ?? "127.0.0.1",
    port,
    logger: env.KEYSHARD_LOG === "off" ? false : { level: env.KEYSHARD_LOG ?? "info" },
  });
  if (provider.createdKeyFile)
    console.log(
      `created the master key file ${provider.createdKeyFile} (mode 0600): back it up, the shares are sealed under it`,
    );
  console.log(
    `keyshard provider listening on ${provider.url} (database: ${provider.context.db.kind}; API description at ${provider.url}/docs)`,
  );
  const stop = () => void provider.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
} catch (e) {
  console.error(`keyshard provider could not start: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
