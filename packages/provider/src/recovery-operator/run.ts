/**
 * `npm start` with KEYSHARD_ROLE=recovery-operator: the recovery operator configured from the
 * environment only (packages/provider/README.md, "Recovery operators", lists every setting). A
 * refused setting exits with status 2, a failed start with 1.
 */
import { hexToBytes } from "@noble/hashes/utils.js";
import { OperatorConfigError, parseReshareTo, startRecoveryOperator, walletOrigins } from "./start.js";

function refuse(message: string): never {
  console.error(`keyshard recovery operator refuses to start: ${message}`);
  process.exit(2);
}

/** Starts the operator and serves until the process is stopped (SIGINT or SIGTERM). */
export async function runRecoveryOperator(env: NodeJS.ProcessEnv, port: number): Promise<never> {
  const ticketKeyHex = env.KEYSHARD_OPERATOR_TICKET_KEY ?? "";
  if (!/^[0-9a-f]{64}$/.test(ticketKeyHex))
    refuse(
      "KEYSHARD_OPERATOR_TICKET_KEY must be the provider's ticket key, 64 lower-case hex digits (the provider prints it at start)",
    );
  const attempts = env.KEYSHARD_FACE_ATTEMPTS_PER_DAY;
  const attemptsPerDay = attempts === undefined || attempts === "" ? undefined : Number(attempts);
  if (attemptsPerDay !== undefined && !(Number.isSafeInteger(attemptsPerDay) && attemptsPerDay >= 1))
    refuse("KEYSHARD_FACE_ATTEMPTS_PER_DAY must be a whole number, at least 1");
  try {
    const reshareTo = env.KEYSHARD_OPERATOR_RESHARE_TO;
    const origins = env.KEYSHARD_OPERATOR_WALLET_ORIGINS;
    const operator = await startRecoveryOperator({
      dataDir: env.KEYSHARD_DATA_DIR ?? "./data",
      databaseUrl: env.DATABASE_URL,
      masterKeyHex: env.KEYSHARD_MASTER_KEY,
      ticketKey: hexToBytes(ticketKeyHex),
      // Set but empty, as a deployment template leaves them, is unset.
      ...(env.KEYSHARD_OPERATOR_NAME && { name: env.KEYSHARD_OPERATOR_NAME }),
      ...(env.KEYSHARD_OPERATOR_ADMIN_TOKEN && { adminToken: env.KEYSHARD_OPERATOR_ADMIN_TOKEN }),
      ...(reshareTo && { reshareTo: parseReshareTo(reshareTo) }),
      ...(origins && { walletOrigins: walletOrigins(origins) }),
      ...(env.KEYSHARD_SMTP_URL && { smtpUrl: env.KEYSHARD_SMTP_URL }),
      ...(attemptsPerDay !== undefined && { attemptsPerDay }),
      host: env.HOST ?? "127.0.0.1",
      port,
      logger: env.KEYSHARD_LOG === "off" ? false : { level: env.KEYSHARD_LOG ?? "info" },
    });
    if (operator.createdKeyFile)
      console.log(
        `created the master key file ${operator.createdKeyFile} (mode 0600): back it up, the shares are sealed under it`,
      );
    const key = Buffer.from(operator.key).toString("hex");
    console.log(
      `keyshard recovery operator "${operator.context.name}" listening on ${operator.url} (database: ${operator.context.db.kind}; key ${key}; list it at the provider as ${operator.url}#${key})`,
    );
    const stop = () => void operator.close().then(() => process.exit(0));
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  } catch (e) {
    if (e instanceof OperatorConfigError) refuse(e.message);
    console.error(`keyshard recovery operator could not start: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }
  // The server keeps the process alive; the signal handlers end it.
  return new Promise<never>(() => {});
}
