/**
 * The provider's delays — the waits that give an owner time to notice and cancel what a thief
 * with one device started — and trial mode, the only way to shorten them below their production
 * minimums. A delay set too short by mistake would quietly remove a defence, so without trial mode
 * the provider refuses to start with one; with it, every response says so (see `api/server.ts`).
 */
import { DEFAULT_RECOVERY_HOLD_MS } from "./recovery/face.js";
import { DEFAULT_HEIR_INACTIVITY_MS, MIN_HEIR_INACTIVITY_MS } from "./recovery/heirs.js";
import { DEFAULT_BACKUP_DELAY_MS } from "./wallets/backups.js";
import { DEFAULT_POLICY_DELAY_MS } from "./wallets/policy-changes.js";

export interface Delays {
  /** A policy change's wait; also how long a device must be active before it may approve another. */
  policyDelayMs: number;
  /** A guarded account change's wait (TOTP, face and heir enrollments, new devices, revocations). */
  accountChangeDelayMs: number;
  /** The wait before the provider's share of a hybrid wallet is released as a backup. */
  backupDelayMs: number;
  /** How long a face recovery holds outgoing transfers unless an older device confirms. */
  recoveryHoldMs: number;
  /** An heir's inactivity threshold when the owner names none. */
  heirInactivityMs: number;
}

/** What the header and the JSON replies of a provider in trial mode say. */
export const TRIAL_NOTICE = "delays shortened; not for real funds";

const HOUR_MS = 3600_000;

/** The shortest delays a provider outside trial mode accepts. */
export const PRODUCTION_MINIMUM_MS: Delays = {
  policyDelayMs: 24 * HOUR_MS,
  accountChangeDelayMs: 24 * HOUR_MS,
  backupDelayMs: 24 * HOUR_MS,
  recoveryHoldMs: 24 * HOUR_MS,
  heirInactivityMs: MIN_HEIR_INACTIVITY_MS,
};

/** The environment variable (in seconds) that sets each delay, for messages and `main.ts`. */
export const DELAY_SETTINGS: Record<keyof Delays, string> = {
  policyDelayMs: "KEYSHARD_POLICY_DELAY_SECONDS",
  accountChangeDelayMs: "KEYSHARD_ACCOUNT_CHANGE_DELAY_SECONDS",
  backupDelayMs: "KEYSHARD_BACKUP_DELAY_SECONDS",
  recoveryHoldMs: "KEYSHARD_RECOVERY_HOLD_SECONDS",
  heirInactivityMs: "KEYSHARD_HEIR_INACTIVITY_SECONDS",
};

export class DelayTooShortError extends Error {
  override readonly name = "DelayTooShortError";
}

/**
 * The delays in force: those given, the rest their defaults (the account-change delay follows the
 * policy delay), in trial mode too, which only lets a delay be set shorter. Outside trial mode a
 * delay below its production minimum is refused.
 */
export function resolveDelays(given: Partial<Delays>, trial: boolean): Delays {
  const policyDelayMs = given.policyDelayMs ?? DEFAULT_POLICY_DELAY_MS;
  const delays: Delays = {
    policyDelayMs,
    accountChangeDelayMs: given.accountChangeDelayMs ?? policyDelayMs,
    backupDelayMs: given.backupDelayMs ?? DEFAULT_BACKUP_DELAY_MS,
    recoveryHoldMs: given.recoveryHoldMs ?? DEFAULT_RECOVERY_HOLD_MS,
    heirInactivityMs: given.heirInactivityMs ?? DEFAULT_HEIR_INACTIVITY_MS,
  };
  if (!trial)
    for (const [name, minimum] of Object.entries(PRODUCTION_MINIMUM_MS) as [keyof Delays, number][])
      if (delays[name] < minimum)
        throw new DelayTooShortError(
          `${DELAY_SETTINGS[name]} is ${delays[name] / 1000} s, below its minimum of ${minimum / 1000} s; shorter delays are for trials only: set KEYSHARD_TRIAL=1 (never with real funds)`,
        );
  return delays;
}
