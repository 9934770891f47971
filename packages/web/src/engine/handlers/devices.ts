/**
 * The engine's handlers for the account's devices: what the provider lists of them and of the
 * account's waiting changes, letting a new device in, cancelling a change, revoking a device.
 * Each entry the provider lists is read on its own and copied field by field; every text passes
 * `showable` before it reaches the page, and a device's self-chosen name is only ever quoted.
 */
import { type AccountChange, type Wallet, WalletError } from "@keyshard/wallet/browser";
import {
  type AccountChangeEntry,
  type AccountDevice,
  DEVICES_MAX,
  type DevicesMethods,
  REVOKED_WALLETS_MAX,
  registrationTime,
  shortId,
} from "../calls/devices.js";
import { deviceId, isRecord, NAME_MAX, ProtocolError, showable, uuid } from "../readers.js";
import { fitShort, type Handlers, unlocked } from "./engine-state.js";
import { firstOf, readEach } from "./listing.js";

/**
 * A device as the provider lists it, read strictly: its id in the provider's form, its name fit to
 * show, its registration time a plausible one.
 */
function deviceOf(opened: Wallet, listed: unknown): AccountDevice {
  if (!isRecord(listed)) throw new ProtocolError("the provider lists a device that is not one");
  const id = deviceId(listed.id, "a listed device's id");
  if (typeof listed.name !== "string" || typeof listed.state !== "string")
    throw new ProtocolError("the provider lists a device without a name or a state");
  return {
    id,
    name: showable(listed.name, NAME_MAX) || `device ${shortId(id)}`,
    state: fitShort(listed.state),
    registeredMs: registrationTime(listed.createdMs, "a listed device's registration time"),
    thisDevice: id === opened.deviceId,
  };
}

/** The account's readable devices, how many were not, and each readable one's name by id. */
export async function accountDevices(
  opened: Wallet,
): Promise<{ devices: AccountDevice[]; unreadable: number; names: Map<string, string> }> {
  const { read: devices, unreadable } = readEach((await opened.account()).devices, (d) => deviceOf(opened, d));
  return { devices, unreadable, names: new Map(devices.map((d) => [d.id, d.name])) };
}

/** A time the provider wrote (ISO 8601), in ms since the epoch. */
function instant(written: unknown, what: string): number {
  const ms = typeof written === "string" ? Date.parse(written) : Number.NaN;
  if (!Number.isSafeInteger(ms) || ms < 0) throw new ProtocolError(`the provider gave ${what} that is not a time`);
  return ms;
}

/** A device named in a change's line: its name quoted (it chose it itself), then the start of its id. */
const quoted = (names: Map<string, string>, id: string) => {
  const known = names.get(id);
  return known === undefined ? `device ${shortId(id)}` : `"${known}" (${shortId(id)})`;
};

/**
 * What a waiting change does, in the engine's words: its kind first, then what it is about. The
 * provider's own sentence is not passed on: it holds the new device's self-chosen name unquoted.
 */
function changeLine(kind: string, subject: unknown, names: Map<string, string>): string {
  const id = typeof subject === "string" ? subject : "";
  switch (kind) {
    case "device":
      return `New device: ${quoted(names, deviceId(id, "the new device's id"))}`;
    case "revocation":
      return `Revocation of a device: ${quoted(names, deviceId(id, "the revoked device's id"))}`;
    case "totp":
      return "One-time code (TOTP): a new or replaced authenticator for the account";
    case "backup":
      return "Backup: the provider's share of a wallet handed out, after which it no longer co-signs it";
    default:
      return fitShort(`Change of kind ${kind}`);
  }
}

/** A waiting change, read strictly and copied field by field. */
function changeOf(opened: Wallet, names: Map<string, string>, change: AccountChange): AccountChangeEntry {
  if (typeof change.kind !== "string" || typeof change.requestedBy !== "string")
    throw new ProtocolError("the provider lists a change without a kind or a device that asked for it");
  const kind = fitShort(change.kind);
  const requestedById = deviceId(change.requestedBy, "the id of the device that asked for a change");
  return {
    id: uuid(change.id, "a change's id"),
    kind,
    line: fitShort(changeLine(change.kind, change.subject, names)),
    effectiveMs: instant(change.effectiveAt, "a change's effective time"),
    requestedBy: names.get(requestedById) ?? `device ${shortId(requestedById)}`,
    requestedById,
    byThisDevice: requestedById === opened.deviceId,
  };
}

/** A device waiting for approval, then this device, then the others: what one screen shows first. */
const deviceOrder = (device: AccountDevice) => (device.state === "awaiting-approval" ? 0 : device.thisDevice ? 1 : 2);

const isTotpRequired = (e: unknown) => e instanceof WalletError && e.details.providerError === "totp-required";

export const devicesHandlers: Handlers<DevicesMethods> = {
  devices: async () => {
    const opened = unlocked();
    const [account, { changes }] = await Promise.all([accountDevices(opened), opened.accountChanges()]);
    const pending = readEach(
      changes.filter((c) => c.status === "pending"),
      (c) => changeOf(opened, account.names, c),
    );
    const devices = firstOf(account.devices, DEVICES_MAX, (a, b) => deviceOrder(a) - deviceOrder(b));
    // A new device's change first: it is the one a device in the wrong hands would want unnoticed.
    const waiting = firstOf(
      pending.read,
      DEVICES_MAX,
      (a, b) => Number(b.kind === "device") - Number(a.kind === "device") || a.effectiveMs - b.effectiveMs,
    );
    return {
      devices: devices.shown,
      changes: waiting.shown,
      notShown: devices.notShown + waiting.notShown,
      unreadable: account.unreadable + pending.unreadable,
    };
  },

  // The provider asks for the account's TOTP code only where one is in force: the page learns it here.
  approveDevice: async ({ id, totp }) => {
    try {
      const approved = await unlocked().approveDevice(id, totp ?? undefined);
      return { kind: "approved", effectiveMs: instant(approved.effectiveAt, "an approval's effective time") };
    } catch (e) {
      if (totp === null && isTotpRequired(e)) return { kind: "totp-required" };
      throw e;
    }
  },

  cancelAccountChange: async ({ id }) => ({ status: fitShort((await unlocked().cancelAccountChange(id)).status) }),

  revokeDevice: async ({ id }) => {
    const revoked = await unlocked().revokeDevice(id);
    const named = revoked.wallets
      .slice(0, REVOKED_WALLETS_MAX)
      .map((w) =>
        fitShort(
          `${showable(String(w.name), NAME_MAX) || String(w.walletId)}: ${Number(w.signersLeft)} of ${Number(w.threshold)} signers left`,
        ),
      );
    return {
      state: fitShort(revoked.state),
      wallets: named,
      walletsNotShown: revoked.wallets.length - named.length,
    };
  },
};
