/**
 * The controls of the account's wallets at the provider: each wallet's policy (amounts in coins
 * for people, in base units for the provider) and its allow-list with each entry's cooling-off,
 * the account's TOTP, and the check of its audit chain.
 */
import { endpoints } from "@keyshard/api";
import type { ChainName } from "@keyshard/chains";
import type { Device } from "../device/device.js";
import { policyForPeople, policyForProvider } from "../policy-units.js";
import type { AllowListEntry, AuditVerdict, PendingChange, TotpConfirmation, WalletPolicy } from "../types.js";
import { uuidArgument } from "./arguments.js";

/** The wallet's policy and pending changes, amounts in coins where their asset is known (as `setPolicy` takes them). */
export async function policy(device: Device, name: string): Promise<WalletPolicy> {
  const reply = await device.client.request(endpoints.walletRules, { params: { id: device.find(name).id } });
  return {
    ...reply,
    policy: policyForPeople(reply.policy),
    pending: reply.pending.map((p) => ({ ...p, policy: policyForPeople(p.policy) })),
  };
}

export const setPolicy = (device: Device, name: string, rules: unknown[], totp: string): Promise<PendingChange> =>
  device.client.request(endpoints.changePolicy, {
    params: { id: device.find(name).id },
    body: { policy: policyForProvider(rules), totp },
  });

export const cancelPolicyChange = (device: Device, changeId: string): Promise<{ cancelled: boolean }> =>
  device.client.request(endpoints.cancelPolicyChange, { params: { id: uuidArgument(changeId, "policy change") } });

/** A policy rule as far as the allow-list needs it. */
interface PolicyRule {
  name: string;
  when?: { allowListed?: { coolingOffSeconds: number } };
}

function withCoolingOff(
  entry: { chain: string; address: string; label: string; addedMs: number },
  rules: readonly PolicyRule[],
): AllowListEntry {
  const countsFrom = rules.flatMap((rule) =>
    rule.when?.allowListed === undefined
      ? []
      : [{ rule: rule.name, atMs: entry.addedMs + rule.when.allowListed.coolingOffSeconds * 1000 }],
  );
  return { ...entry, countsFrom };
}

/** The wallet's allow-list, each entry with when it counts for each rule that asks for one. */
export async function allowList(device: Device, name: string): Promise<AllowListEntry[]> {
  const current = await policy(device, name);
  return current.allowList.map((e) => withCoolingOff(e, current.policy as PolicyRule[]));
}

/** A destination for the allow-list. */
export interface AllowListAddition {
  chain: ChainName;
  address: string;
  label?: string;
}

/**
 * Adds a destination to the wallet's allow-list. It counts for an `allowListed` rule only once
 * the rule's cooling-off has passed (the account is mailed, and a device can remove it until then).
 */
export async function allowListAdd(device: Device, name: string, entry: AllowListAddition): Promise<AllowListEntry> {
  const id = device.find(name).id;
  const added = await device.client.request(endpoints.addToAllowList, { params: { id }, body: entry });
  const rules = await device.client.request(endpoints.walletRules, { params: { id } });
  return withCoolingOff({ ...entry, label: entry.label ?? "", ...added }, rules.policy);
}

export const allowListRemove = (
  device: Device,
  name: string,
  entry: { chain: ChainName; address: string },
): Promise<{ removed: boolean }> =>
  device.client.request(endpoints.removeFromAllowList, { params: { id: device.find(name).id }, body: entry });

export const totpEnroll = (device: Device, current?: string): Promise<{ secret: string; uri: string }> =>
  device.client.request(endpoints.startTotp, { body: current === undefined ? {} : { code: current } });

export const totpConfirm = (device: Device, code: string): Promise<TotpConfirmation> =>
  device.client.request(endpoints.confirmTotp, { body: { code } });

export const auditVerify = (device: Device): Promise<AuditVerdict> => device.client.request(endpoints.verifyAudit);
