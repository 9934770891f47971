/**
 * The engine's handlers of the account's security: its TOTP (where it stands, a new one, its
 * confirmation), the audit chain checked by this device and by the provider, and its latest
 * entries.
 */
import { AUDIT_ENTRIES_SHOWN, type SecurityMethods } from "../calls/security.js";
import { accountDevices } from "./devices.js";
import { fitShort, type Handlers, unlocked } from "./engine-state.js";

export const securityHandlers: Handlers<SecurityMethods> = {
  totpStanding: async () => {
    const opened = unlocked();
    const { changes } = await opened.accountChanges();
    const pending = changes.find((change) => change.kind === "totp" && change.status === "pending");
    // The account's TOTP is told with a wallet's policy: any active wallet of the account answers for it.
    const active = (await opened.policyWallets()).find((w) => w.state === "active");
    const inForce = active === undefined ? null : (await opened.policy(active.id)).totpEnrolled;
    return { pendingEffectiveMs: pending === undefined ? null : Date.parse(pending.effectiveAt), inForce };
  },

  totpEnroll: async ({ current }) => unlocked().totpEnroll(current ?? undefined),

  totpConfirm: async ({ code }) => ({ effectiveMs: (await unlocked().totpConfirm(code)).effectiveMs }),

  auditCheck: async () => {
    const check = await unlocked().auditCheck();
    // The head's link stays in the engine: the page says where the chain stands, not its hashes.
    return check.status === "intact"
      ? { status: check.status, entries: check.entries, extendsSeen: check.extendsSeen }
      : { status: check.status, entries: check.entries, at: check.at };
  },

  auditVerify: async () => {
    const { ok, length, firstBroken } = await unlocked().auditVerify();
    return { intact: ok, entries: length, firstBroken: firstBroken ?? null };
  },

  auditEntries: async () => {
    const opened = unlocked();
    // The provider's reply is not checked by the SDK: the page's reader takes numbers and texts only.
    const [{ entries }, { names }] = await Promise.all([opened.audit(), accountDevices(opened)]);
    return {
      total: entries.length,
      entries: entries
        .slice(-AUDIT_ENTRIES_SHOWN)
        .reverse()
        .map((e) => ({
          seq: e.seq,
          atMs: e.atMs,
          actor: names.get(e.actor) ?? fitShort(String(e.actor)),
          action: fitShort(String(e.action)),
        })),
    };
  },
};
