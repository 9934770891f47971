/**
 * The engine's calls of the account's security: its one-time codes (TOTP) — starting an
 * enrolment, confirming it with a first code, the change waiting to take effect —, the account's
 * audit chain checked by this device and as the provider reports its own check, and its latest
 * entries.
 *
 * `totpEnroll`'s reply is the one reply that carries a secret: the new TOTP secret, for the person
 * to copy into an authenticator app. The page shows it and keeps it nowhere.
 */
import {
  boolean,
  count,
  isRecord,
  list,
  literal,
  type MethodReaders,
  none,
  orNull,
  ProtocolError,
  type Reader,
  record,
  shortText,
  text,
  totpCode,
} from "../readers.js";

/** A new TOTP, to be typed or scanned into an authenticator app. */
export interface TotpSecret {
  /** Base32 without padding, as apps take it typed in. */
  secret: string;
  /** The otpauth:// URI apps read from a QR code. */
  uri: string;
}

/** Where the account's TOTP stands. */
export interface TotpStanding {
  /** A new TOTP confirmed and waiting out the account's delay: when it takes effect (ms since the epoch). */
  pendingEffectiveMs: number | null;
  /**
   * Whether a TOTP is in force, as the provider says it with a wallet's policy; null when the
   * account has no active wallet to ask with.
   */
  inForce: boolean | null;
}

/** The provider's check of the account's audit chain. */
export interface AuditCheck {
  intact: boolean;
  /** How many entries the chain has. */
  entries: number;
  /** The first entry (its sequence number) whose link does not hold, when the chain is broken. */
  firstBroken: number | null;
}

/**
 * This device's own check of the account's audit chain: every link recomputed here, and the chain
 * held against the last entry this device found holding before.
 */
export type DeviceAuditCheck =
  /** The links hold and the chain still has entry `extendsSeen` as this device saw it (null: the first check). */
  | { status: "intact"; entries: number; extendsSeen: number | null }
  /** Entry `at` does not link to the one before it. */
  | { status: "broken"; entries: number; at: number }
  /** The links hold, but entry `at`, which this device checked before, is gone or changed. */
  | { status: "diverged"; entries: number; at: number };

/** An entry of the account's audit chain, as the page shows it. */
export interface AuditEntry {
  seq: number;
  atMs: number;
  /** The device that acted, by the name the account knows it by, or who else did. */
  actor: string;
  action: string;
}

/** The most entries the page shows: the latest. */
export const AUDIT_ENTRIES_SHOWN = 50;

export interface SecurityMethods {
  totpStanding: { args: Record<string, never>; result: TotpStanding };
  /** `current`: the code of the TOTP in force, which replacing it needs; null for the first one. */
  totpEnroll: { args: { current: string | null }; result: TotpSecret };
  /** Confirms the new TOTP with a code from it: when it takes effect. */
  totpConfirm: { args: { code: string }; result: { effectiveMs: number } };
  /** This device's own check, which moves on the entry it holds the next check to. */
  auditCheck: { args: Record<string, never>; result: DeviceAuditCheck };
  auditVerify: { args: Record<string, never>; result: AuditCheck };
  /** The latest entries, newest first, and how many the chain has. */
  auditEntries: { args: Record<string, never>; result: { total: number; entries: AuditEntry[] } };
}

/** The longest otpauth URI the page takes: the provider's is about 150 characters. */
export const OTPAUTH_URI_MAX = 512;

const totpSecret: Reader<TotpSecret> = record<TotpSecret>({
  // 160 bits in base32 are 32 characters; room for longer secrets, nothing but base32.
  secret: text({ min: 16, max: 128, pattern: /^[A-Z2-7]+$/ }),
  uri: text({ min: 1, max: OTPAUTH_URI_MAX, pattern: /^otpauth:\/\/totp\/[\x21-\x7e]+$/ }),
});

/** A verdict only in its shape, its entry within the chain it speaks of (a vanished one past it). */
const deviceAuditCheck: Reader<DeviceAuditCheck> = (value, what) => {
  const status = isRecord(value) ? value.status : undefined;
  if (status === "intact") {
    const check = record<Extract<DeviceAuditCheck, { status: "intact" }>>({
      status: literal("intact"),
      entries: count,
      extendsSeen: orNull(count),
    })(value, what);
    if (check.extendsSeen !== null && (check.extendsSeen < 1 || check.extendsSeen > check.entries))
      throw new ProtocolError(`${what} extends an entry the chain does not have`);
    return check;
  }
  const check = record<{ status: "broken" | "diverged"; entries: number; at: number }>({
    status: status === "diverged" ? literal("diverged") : literal("broken"),
    entries: count,
    at: count,
  })(value, what);
  if (check.at < 1 || (check.status === "broken" && check.at > check.entries))
    throw new ProtocolError(`${what} names an entry the chain does not have`);
  return check;
};

export const SECURITY_METHODS: MethodReaders<SecurityMethods> = {
  totpStanding: {
    args: none,
    result: record<TotpStanding>({ pendingEffectiveMs: orNull(count), inForce: orNull(boolean) }),
  },
  totpEnroll: { args: record({ current: orNull(totpCode) }), result: totpSecret },
  totpConfirm: { args: record({ code: totpCode }), result: record({ effectiveMs: count }) },
  auditCheck: { args: none, result: deviceAuditCheck },
  auditVerify: {
    args: none,
    result: record<AuditCheck>({ intact: boolean, entries: count, firstBroken: orNull(count) }),
  },
  auditEntries: {
    args: none,
    result: record({
      total: count,
      entries: list(
        record<AuditEntry>({ seq: count, atMs: count, actor: shortText, action: shortText }),
        AUDIT_ENTRIES_SHOWN,
      ),
    }),
  },
};
