/**
 * The calls of the account's devices: listing them with the account's changes that still wait out
 * their delay, letting a new device in, cancelling a waiting change, and shutting a device out.
 * Page-safe: the shapes and their strict readers only.
 */
import {
  boolean,
  count,
  deviceId,
  isRecord,
  list,
  literal,
  type MethodReaders,
  name,
  none,
  orNull,
  ProtocolError,
  type Reader,
  record,
  shortText,
  totpCode,
  uuid,
} from "../readers.js";

/** The most devices and waiting changes one answer lists; the rest are counted, not listed. */
export const DEVICES_MAX = 100;
/** The most shared wallets a revocation names; the rest are counted, not named. */
export const REVOKED_WALLETS_MAX = 100;

/** How many hex digits of a device's id name it next to its name ("Ann's phone (1a2b3c4d)"). */
const SHORT_ID_DIGITS = 8;

/** The start of a device's id, shown next to its self-chosen name so that two alike names differ. */
export const shortId = (id: string) => id.slice(0, SHORT_ID_DIGITS);

/**
 * A device's id in groups of four ("1a2b 3c4d …"), as a new device shows it while it waits and as
 * the device approving it shows it: easy to compare digit by digit.
 */
export const fingerprint = (id: string) => id.match(/.{1,4}/g)?.join(" ") ?? id;

/**
 * The latest registration time taken: the last millisecond of the year 9999, the last a date shows
 * in four digits. A later one is no time a provider kept, and past 8.64e15 ms a date has nothing to
 * show at all.
 */
const LATEST_REGISTRATION_MS = 253_402_300_799_999;

/**
 * When a device registered, in ms since the epoch: a whole number from the epoch to the year 9999.
 * The engine reads the provider's value with it, the page the engine's.
 */
export const registrationTime: Reader<number> = (value, what) => {
  const ms = count(value, what);
  if (ms > LATEST_REGISTRATION_MS) throw new ProtocolError(`${what} is past the year 9999`);
  return ms;
};

export interface AccountDevice {
  id: string;
  name: string;
  /** "active", "awaiting-approval", "approved" (waiting out its delay), "revoked", … */
  state: string;
  /**
   * When it registered, in ms since the epoch: a device the person did not just set up stands out
   * by it on the screen that lets it in.
   */
  registeredMs: number;
  /** The device this engine runs on. */
  thisDevice: boolean;
}

/** A security change of the account still waiting out its delay; any active device may cancel it. */
export interface AccountChangeEntry {
  id: string;
  /** "device", "totp", "revocation", "backup", … */
  kind: string;
  /** What it changes, in the engine's words: its kind first, a device's self-chosen name quoted. */
  line: string;
  /** When it takes effect, in ms since the epoch. */
  effectiveMs: number;
  /** The device that asked for it, by name where the account still lists it. */
  requestedBy: string;
  /** The id of the device that asked for it. */
  requestedById: string;
  /** Asked for by the device this engine runs on. */
  byThisDevice: boolean;
}

export interface AccountView {
  devices: AccountDevice[];
  /** Waiting changes, those that let a new device in first. */
  changes: AccountChangeEntry[];
  /** Devices and changes the provider listed beyond what one answer carries. */
  notShown: number;
  /** Entries the provider listed that could not be read: left out, counted. */
  unreadable: number;
}

/** A device let in, active once the change's delay ends; or the account's TOTP code is needed to let it in. */
export type DeviceApproval = { kind: "approved"; effectiveMs: number } | { kind: "totp-required" };

/** A device shut out: its state, the shared wallets it leaves with fewer signers, and how many more there are. */
export interface RevokedDevice {
  state: string;
  wallets: string[];
  walletsNotShown: number;
}

export interface DevicesMethods {
  /** The account's devices and its changes that wait out their delay. */
  devices: { args: Record<string, never>; result: AccountView };
  /** Lets device `id` in, with the account's TOTP code where the provider asks for one. */
  approveDevice: { args: { id: string; totp: string | null }; result: DeviceApproval };
  /** Cancels change `id` before it takes effect; a new device's cancelled change shuts that device out. */
  cancelAccountChange: { args: { id: string }; result: { status: string } };
  /** Shuts device `id` out; the reply names the shared wallets it leaves with fewer signers. */
  revokeDevice: { args: { id: string }; result: RevokedDevice };
}

const accountDevice = record<AccountDevice>({
  id: deviceId,
  name,
  state: shortText,
  registeredMs: registrationTime,
  thisDevice: boolean,
});
const accountChange = record<AccountChangeEntry>({
  id: uuid,
  kind: shortText,
  line: shortText,
  effectiveMs: count,
  requestedBy: shortText,
  requestedById: deviceId,
  byThisDevice: boolean,
});

const deviceApproval: Reader<DeviceApproval> = (value, what) =>
  isRecord(value) && value.kind === "totp-required"
    ? record<Extract<DeviceApproval, { kind: "totp-required" }>>({ kind: literal("totp-required") })(value, what)
    : record<Extract<DeviceApproval, { kind: "approved" }>>({ kind: literal("approved"), effectiveMs: count })(
        value,
        what,
      );

export const DEVICES_METHODS: MethodReaders<DevicesMethods> = {
  devices: {
    args: none,
    result: record<AccountView>({
      devices: list(accountDevice, DEVICES_MAX),
      changes: list(accountChange, DEVICES_MAX),
      notShown: count,
      unreadable: count,
    }),
  },
  approveDevice: {
    args: record({ id: deviceId, totp: orNull(totpCode) }),
    result: deviceApproval,
  },
  cancelAccountChange: { args: record({ id: uuid }), result: record({ status: shortText }) },
  revokeDevice: {
    args: record({ id: deviceId }),
    result: record<RevokedDevice>({
      state: shortText,
      wallets: list(shortText, REVOKED_WALLETS_MAX),
      walletsNotShown: count,
    }),
  },
};
