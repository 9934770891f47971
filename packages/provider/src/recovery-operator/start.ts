/**
 * `startRecoveryOperator`: the provider's code in the recovery operator role. It opens its own
 * data folder and database like the provider (same lock, master key and migrations), derives its
 * X25519 key from its master key, and serves the operator's routes; its own outbox mails the
 * accounts whose enrollments it holds.
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { type DataDirSettings, withDataDir } from "../data-dir.js";
import { BearerTokenFormError, checkBearerTokenForm } from "../http/bearer-token.js";
import type { ServerOptions } from "../http/server.js";
import { Notifier } from "../notify/notifier.js";
import { DEFAULT_FACE_ATTEMPTS_PER_DAY } from "../recovery/face.js";
import { type OperatorContext, operatorKeys, type ReshareTarget, usableX25519Key } from "./context.js";
import { parseWalletOrigins, WalletOriginError } from "./cors.js";
import { buildOperatorServer } from "./server.js";

/** A setting the operator cannot start with; the message names the setting, never a secret. */
export class OperatorConfigError extends Error {
  override readonly name = "OperatorConfigError";
}

export interface RecoveryOperatorConfig extends DataDirSettings {
  /** The provider's Ed25519 ticket public key (32 bytes): only tickets it signed are honoured. */
  ticketKey: Uint8Array;
  /** How the operator names itself to devices and in its mail (default "recovery operator"). */
  name?: string;
  /** The reshare routes' bearer token; without it, they are not served. */
  adminToken?: string;
  /** The new operator set its administrator allows a reshare to; without it, the reshare routes are not served. */
  reshareTo?: ReshareTarget[];
  /** Evaluations (face guesses) per enrollment in 24 hours (default 5). */
  attemptsPerDay?: number;
  /** The web wallets' origins (`https://host[:port]`) whose pages may call the device routes. */
  walletOrigins?: string[];
  smtpUrl?: string;
  host?: string;
  port?: number;
  now?: () => number;
  logger?: ServerOptions["logger"];
}

export interface RunningRecoveryOperator {
  url: string;
  /** The operator's X25519 public key, the one listed with its url in the provider's setting. */
  key: Uint8Array;
  context: OperatorContext;
  /** Set when this start created the master key file. */
  createdKeyFile?: string;
  close(): Promise<void>;
}

function checkConfig(config: RecoveryOperatorConfig): void {
  const { ticketKey, adminToken, attemptsPerDay, name } = config;
  if (!(ticketKey instanceof Uint8Array) || ticketKey.length !== 32)
    throw new OperatorConfigError("the provider's ticket key (KEYSHARD_OPERATOR_TICKET_KEY) must be 32 bytes");
  try {
    ed25519.Point.fromBytes(ticketKey);
  } catch {
    throw new OperatorConfigError(
      "the provider's ticket key (KEYSHARD_OPERATOR_TICKET_KEY) is not an Ed25519 public key",
    );
  }
  if (adminToken !== undefined) adminTokenOfForm(adminToken);
  if (attemptsPerDay !== undefined && !(Number.isSafeInteger(attemptsPerDay) && attemptsPerDay >= 1))
    throw new OperatorConfigError(
      "the attempts per day (KEYSHARD_FACE_ATTEMPTS_PER_DAY) must be a whole number, at least 1",
    );
  if (name !== undefined && !/^[^\r\n]{1,100}$/.test(name))
    throw new OperatorConfigError("the operator's name (KEYSHARD_OPERATOR_NAME) is one line of 1 to 100 characters");
  if (config.reshareTo !== undefined) checkReshareTo(config.reshareTo);
  for (const origin of config.walletOrigins ?? []) walletOrigins(origin);
}

/** The admin token's form, checked as the provider checks its operator tokens, refused as a setting. */
function adminTokenOfForm(adminToken: string): void {
  try {
    checkBearerTokenForm(adminToken, "KEYSHARD_OPERATOR_ADMIN_TOKEN");
  } catch (e) {
    if (e instanceof BearerTokenFormError) throw new OperatorConfigError(e.message);
    throw e;
  }
}

/** KEYSHARD_OPERATOR_WALLET_ORIGINS read, a wrong entry refused as a setting. */
export function walletOrigins(setting: string): string[] {
  try {
    return parseWalletOrigins(setting);
  } catch (e) {
    if (e instanceof WalletOriginError) throw new OperatorConfigError(e.message);
    throw e;
  }
}

/**
 * KEYSHARD_OPERATOR_RESHARE_TO: comma-separated `index:url#keyhex`, the operators of a reshare's
 * new set, indices distinct from 1 to 255, keys distinct usable X25519 keys.
 */
export function parseReshareTo(setting: string): ReshareTarget[] {
  const targets = setting.split(",").map((entry) => {
    const match = /^(\d{1,3}):(\S+)#([0-9a-f]{64})$/.exec(entry.trim());
    const index = Number(match?.[1]);
    if (!match || !(index >= 1 && index <= 255))
      throw new OperatorConfigError(
        "each entry of KEYSHARD_OPERATOR_RESHARE_TO is index:url#key (index 1 to 255, key 64 lower-case hex digits)",
      );
    let url: URL;
    try {
      url = new URL(match[2] as string);
    } catch {
      throw new OperatorConfigError(`KEYSHARD_OPERATOR_RESHARE_TO: the url of operator ${index} is not a URL`);
    }
    if (url.protocol !== "https:" && url.protocol !== "http:")
      throw new OperatorConfigError(`KEYSHARD_OPERATOR_RESHARE_TO: the url of operator ${index} is not http(s)`);
    return { index, url: url.href, key: hexToBytes(match[3] as string) };
  });
  checkReshareTo(targets);
  return targets;
}

function checkReshareTo(targets: readonly ReshareTarget[]): void {
  if (targets.length < 2) throw new OperatorConfigError("KEYSHARD_OPERATOR_RESHARE_TO lists at least 2 operators");
  if (new Set(targets.map((t) => t.index)).size !== targets.length)
    throw new OperatorConfigError("KEYSHARD_OPERATOR_RESHARE_TO lists each index once");
  if (new Set(targets.map((t) => bytesToHex(t.key))).size !== targets.length)
    throw new OperatorConfigError("KEYSHARD_OPERATOR_RESHARE_TO lists each key once");
  for (const t of targets)
    if (!Number.isInteger(t.index) || t.index < 1 || t.index > 255 || !usableX25519Key(t.key))
      throw new OperatorConfigError(
        `KEYSHARD_OPERATOR_RESHARE_TO: operator ${t.index} needs an index from 1 to 255 and a usable X25519 key`,
      );
}

export async function startRecoveryOperator(config: RecoveryOperatorConfig): Promise<RunningRecoveryOperator> {
  // Before anything is opened or created: a refused setting leaves nothing behind.
  checkConfig(config);
  return withDataDir(config, async ({ lock, key: masterKey, db, createdKeyFile }) => {
    const now = config.now ?? Date.now;
    const name = config.name ?? "recovery operator";
    const notifier = new Notifier(db, {
      ...(config.smtpUrl && { smtpUrl: config.smtpUrl }),
      from: `keyshard ${name} <no-reply@keyshard.invalid>`,
      now,
    });
    const context: OperatorContext = {
      name,
      db,
      masterKey,
      notifier,
      keys: operatorKeys(masterKey),
      ticketKey: config.ticketKey,
      attemptsPerDay: config.attemptsPerDay ?? DEFAULT_FACE_ATTEMPTS_PER_DAY,
      // Stored as parsed: an entry with a trailing "/", or several in one, matches a request's origin.
      walletOrigins: (config.walletOrigins ?? []).flatMap(walletOrigins),
      ...(config.adminToken !== undefined && { adminToken: config.adminToken }),
      ...(config.reshareTo !== undefined && { reshareTo: config.reshareTo }),
      now,
    };
    try {
      const app = await buildOperatorServer(context, { logger: config.logger ?? false });
      notifier.log = app.log;
      const url = await app.listen({ host: config.host ?? "127.0.0.1", port: config.port ?? 0 });
      if (!notifier.mails)
        app.log.warn(
          "no SMTP server configured (KEYSHARD_SMTP_URL): the mail on every face recovery attempt is not sent but written to this log",
        );
      app.log.info({ key: bytesToHex(context.keys.publicKey) }, "recovery operator key");
      return {
        url,
        key: context.keys.publicKey,
        context,
        ...(createdKeyFile && { createdKeyFile }),
        async close() {
          await app.close();
          await notifier.close();
          await db.close();
          lock.release();
        },
      };
    } catch (e) {
      await notifier.close();
      throw e;
    }
  });
}
