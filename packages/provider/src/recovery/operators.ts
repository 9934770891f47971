/**
 * The recovery operators this provider's face enrollments use: each holds one share of every
 * enrollment's OPRF key, and `threshold` of them answer a face guess together. The provider only
 * lists them and signs the tickets that let a device enroll at them or ask them for an evaluation;
 * the list and the threshold are settings (`KEYSHARD_RECOVERY_OPERATORS`,
 * `KEYSHARD_RECOVERY_THRESHOLD`), checked here before anything starts.
 */
import { MAX_RECOVERY_OPERATORS } from "@keyshard/api";
import { isLoopbackHost } from "@keyshard/recovery";

const DEFAULT_RECOVERY_THRESHOLD = 2;

/** An operator as configured: its base URL and its X25519 public key (64 hex digits). */
export interface RecoveryOperatorSetting {
  url: string;
  key: string;
}

/** An operator as the provider lists it: `index` is its place in the sharing, from 1. */
export interface RecoveryOperator {
  index: number;
  url: string;
  /** Lower-case hex of its X25519 public key. */
  key: string;
}

export interface RecoveryOperators {
  recoveryOperators: RecoveryOperator[];
  recoveryThreshold: number;
}

/** A recovery operator setting that cannot work; the message names the setting, never a secret. */
export class RecoveryOperatorsError extends Error {
  override readonly name = "RecoveryOperatorsError";
}

/** 127.0.0.0/8, ::1 or localhost, as `URL` normalises a host name (IPv4 in dotted quads, IPv6 in brackets). */
function checkUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RecoveryOperatorsError(`recovery operator ${JSON.stringify(url)} is not a URL`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
    throw new RecoveryOperatorsError(`recovery operator ${JSON.stringify(url)} is not an http(s) URL`);
  // Over plain HTTP anyone on the path could swap an operator's answers for a device; a device
  // still pins each operator's key, but a ticket and its guess would travel in the clear. Only a
  // loopback operator (one machine, tests, a local demo) may do without TLS.
  if (parsed.protocol === "http:" && !isLoopbackHost(parsed.hostname))
    throw new RecoveryOperatorsError(
      `recovery operator ${JSON.stringify(url)} is plain http on a host that is not loopback: use https`,
    );
  if (parsed.username !== "" || parsed.password !== "" || parsed.search !== "" || parsed.hash !== "")
    throw new RecoveryOperatorsError(
      `recovery operator ${JSON.stringify(url)} carries credentials, a query or a fragment`,
    );
  // Devices append `/v1/operator…` to it.
  return url.replace(/\/+$/, "");
}

/**
 * The operators in the order given (index = position, from 1) and the threshold (default 2).
 * No operators is allowed: face enrollment is then refused. Otherwise 2 ≤ threshold ≤ operators ≤ 16,
 * with distinct https URLs (http on loopback only) and distinct 32-byte keys.
 */
export function resolveRecoveryOperators(
  operators: readonly RecoveryOperatorSetting[] | undefined,
  threshold: number | undefined,
): RecoveryOperators {
  const t = threshold ?? DEFAULT_RECOVERY_THRESHOLD;
  const list = operators ?? [];
  if (!Number.isInteger(t) || t < 2 || t > MAX_RECOVERY_OPERATORS)
    throw new RecoveryOperatorsError(`the recovery threshold is a whole number from 2 to ${MAX_RECOVERY_OPERATORS}`);
  if (list.length > MAX_RECOVERY_OPERATORS)
    throw new RecoveryOperatorsError(`at most ${MAX_RECOVERY_OPERATORS} recovery operators`);
  if (list.length > 0 && list.length < t)
    throw new RecoveryOperatorsError(
      `the recovery threshold ${t} needs at least ${t} recovery operators, not ${list.length}`,
    );
  const resolved = list.map((operator, i) => {
    if (typeof operator.key !== "string" || !/^[0-9a-fA-F]{64}$/.test(operator.key))
      throw new RecoveryOperatorsError(`recovery operator ${i + 1}'s key is not 32 bytes of hex`);
    return { index: i + 1, url: checkUrl(String(operator.url)), key: operator.key.toLowerCase() };
  });
  for (const field of ["url", "key"] as const)
    if (new Set(resolved.map((o) => o[field])).size !== resolved.length)
      throw new RecoveryOperatorsError(`two recovery operators have the same ${field}`);
  return { recoveryOperators: resolved, recoveryThreshold: t };
}

/** `KEYSHARD_RECOVERY_OPERATORS`: comma-separated `url#keyhex`; empty is none. */
export function parseRecoveryOperators(setting: string): RecoveryOperatorSetting[] {
  if (setting.trim() === "") return [];
  return setting.split(",").map((item) => {
    const at = item.lastIndexOf("#");
    if (at < 0)
      throw new RecoveryOperatorsError(
        `KEYSHARD_RECOVERY_OPERATORS lists url#key items; ${JSON.stringify(item.trim())} has no #key`,
      );
    return { url: item.slice(0, at).trim(), key: item.slice(at + 1).trim() };
  });
}
