/**
 * The engine's handlers of t-of-n wallets: making one with chosen devices of the account, the key
 * generations that wait for this device and joining one, and co-signing. A co-signing is judged
 * by the person from this device's own reading of the bytes (the SDK's description, shown as a
 * send's review), with the wallet and the device that asks named as this device knows them.
 */
import { WalletError } from "@keyshard/wallet/browser";
import {
  type CosignInvitation,
  INVITATIONS_MAX,
  SHARED_DEVICES_MAX,
  type SharedWalletMethods,
  type WaitingWallet,
} from "../calls/shared-wallets.js";
import { NAME_MAX, showable } from "../readers.js";
import { entryOf } from "./core.js";
import { accountDevices } from "./devices.js";
import { fitShort, type Handlers, unlocked } from "./engine-state.js";
import { deviceRefOf, transactionOf } from "./requests.js";
import { reviewOf } from "./review.js";

/** The account's device names, with the opened wallet, as a device reference needs them. */
async function namesOf() {
  const opened = unlocked();
  return { opened, devices: (await accountDevices(opened)).names };
}

/** Why the parties asked for cannot make a wallet, or undefined when they can. */
function partiesProblem(self: string, devices: readonly string[], threshold: number, provider: boolean) {
  if (devices.length === 0) return "choose at least one other device of the account";
  if (devices.includes(self)) return "this device holds a share anyway: choose the other devices";
  if (new Set(devices).size !== devices.length) return "a device is chosen twice";
  const parties = devices.length + 1 + (provider ? 1 : 0);
  if (threshold < 2 || threshold > parties)
    return `the number that must sign together is between 2 and the ${parties} parties`;
  return undefined;
}

export const sharedWalletHandlers: Handlers<SharedWalletMethods> = {
  createSharedWallet: async ({ name, devices, threshold, provider, policyTemplate }, progress) => {
    const opened = unlocked();
    const problem = partiesProblem(opened.deviceId, devices, threshold, provider);
    if (problem !== undefined) throw new WalletError("usage", problem);
    progress("asking the provider for a new wallet shared with other devices");
    const made = await opened.createWallet({
      name,
      devices,
      threshold,
      providerParty: provider,
      ...(policyTemplate !== null && { policyTemplate }),
    });
    const listed = (await opened.wallets()).find((w) => w.id === made.id);
    return entryOf({ ...made, state: listed?.state ?? "creating" });
  },

  waitingWallets: async () => {
    const names = await namesOf();
    // More than a wallet can have, or than one answer carries, is not shown rather than cut.
    const waiting = (await names.opened.waitingWallets())
      .filter((w) => w.members.length <= SHARED_DEVICES_MAX + 1)
      .slice(0, INVITATIONS_MAX);
    return {
      wallets: waiting.map(
        (w): WaitingWallet => ({
          walletId: w.walletId,
          name: showable(w.name, NAME_MAX) || "unnamed",
          threshold: w.threshold,
          devices: w.members
            .filter((m) => !m.provider)
            .map((m) => deviceRefOf(names, m.deviceId, "a member device's id")),
          provider: w.members.some((m) => m.provider),
          requestedBy: deviceRefOf(names, w.createdBy, "the id of the device that asked for the wallet"),
        }),
      ),
    };
  },

  joinWallet: async ({ walletId, devices, provider, threshold }, progress) => {
    const opened = unlocked();
    progress("joining the key generation");
    const joined = await opened.joinWallet(walletId, { devices, provider, threshold });
    const listed = (await opened.wallets()).find((w) => w.id === joined.id);
    return entryOf({ ...joined, state: listed?.state ?? "creating" });
  },

  cosignInvitations: async () => {
    const names = await namesOf();
    return {
      invitations: (await names.opened.cosignInvitations()).slice(0, INVITATIONS_MAX).map(
        (i): CosignInvitation => ({
          id: i.id,
          wallet: fitShort(i.wallet),
          requestedBy: deviceRefOf(names, i.proposer, "the id of the device that asks"),
          requestId: i.requestId ?? null,
        }),
      ),
    };
  },

  cosign: async ({ id }, progress, confirm) => {
    const names = await namesOf();
    const invitation = (await names.opened.cosignInvitations()).find((i) => i.id === id);
    if (invitation === undefined)
      throw new WalletError(
        "signing-failed",
        "this co-signing is over: the device that asked stopped waiting, or it was answered",
      );
    const request = {
      wallet: fitShort(invitation.wallet),
      requestedBy: deviceRefOf(names, invitation.proposer, "the id of the device that asks"),
    };
    progress("reading what the other device asks to sign");
    const outcome = await names.opened.cosign(id, async (description, body) => {
      const shown = reviewOf(
        transactionOf({ chain: body.chain, kind: body.kind ?? "transaction", description }),
        request,
      );
      const confirmed = await confirm(shown);
      if (confirmed) progress("signing with the other device");
      return confirmed;
    });
    return { decision: outcome.decision, reason: fitShort(outcome.reason) };
  },
};
