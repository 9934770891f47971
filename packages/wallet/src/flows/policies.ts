/**
 * The controls of the account's wallets at the provider: each wallet's policy (amounts in coins
 * for people, in base units for the provider), the provider's policy templates for new wallets,
 * its allow-list with each entry's cooling-off, the account's TOTP, and its audit chain (its entries, and the provider's check of it).
 */
import { type AuditLog, endpoints } from "@keyshard/api";
import type { ChainName } from "@keyshard/chains";
import { isSchemeName, scheme } from "@keyshard/mpc";
import type { Device } from "../device/device.js";
import { WalletError } from "../errors.js";
import { policyForPeople, policyForProvider } from "../policy-units.js";
import type { AllowListEntry, AuditVerdict, PendingChange, TotpConfirmation, WalletPolicy } from "../types.js";
import { uuidArgument } from "./arguments.js";

/** One of the account's wallets as the provider lists it: its policy is any active device's to read and change. */
export interface AccountWallet {
  /** What `policy`, `setPolicy` take to name exactly this wallet: names are unique per device, not per account. */
  id: string;
  name: string;
  state: string;
  /** Hybrid: one device and the provider, 2-of-2. */
  hybrid: boolean;
  /** Its name on this device (as `find` takes it), or null where this device holds no share of it. */
  localName: string | null;
  /** Whether it has an Ethereum address: an ECDSA key (ecdsa2p, dkls23), not a FROST one. */
  ethereum: boolean;
}

/** The account's wallets, this device's or not: a hybrid wallet of another device has its policy too. */
export async function policyWallets(device: Device): Promise<AccountWallet[]> {
  const { wallets } = await device.client.request(endpoints.wallets);
  return wallets.map((w) => ({
    id: w.id,
    name: w.name,
    state: w.state,
    hybrid: w.members === null,
    localName: device.state.wallets.find((here) => here.id === w.id)?.name ?? null,
    ethereum: isSchemeName(w.scheme) && scheme(w.scheme).algorithm === "ecdsa",
  }));
}

/**
 * The id of the wallet `wallet` names: an id of the account's wallets as it is; else a name, this
 * device's wallet first (its names are unique), else the account's one wallet of that name. Two
 * wallets of other devices may share a name: then only the id says which one is meant.
 */
export async function policyWalletId(device: Device, wallet: string): Promise<string> {
  const account = await policyWallets(device);
  if (account.some((w) => w.id === wallet)) return wallet;
  const here = device.state.wallets.find((w) => w.name === wallet);
  if (here !== undefined) return here.id;
  const named = account.filter((w) => w.name === wallet);
  if (named.length > 1)
    throw new WalletError(
      "usage",
      `the account has ${named.length} wallets named ${wallet}: give the id of the one meant (${named.map((w) => w.id).join(", ")})`,
    );
  // Neither here nor at the provider: `find` says so as for any wallet.
  return named[0]?.id ?? device.find(wallet).id;
}

/** The wallet's policy and pending changes, amounts in coins where their asset is known (as `setPolicy` takes them). */
export async function policy(device: Device, wallet: string): Promise<WalletPolicy> {
  const reply = await device.client.request(endpoints.walletRules, {
    params: { id: await policyWalletId(device, wallet) },
  });
  return {
    ...reply,
    policy: policyForPeople(reply.policy),
    pending: reply.pending.map((p) => ({ ...p, policy: policyForPeople(p.policy) })),
  };
}

/** A policy the provider offers a new wallet (`createWallet`'s `policyTemplate`), amounts in coins where their asset is known. */
export interface PolicyTemplate {
  /** What `createWallet` takes. */
  id: string;
  /** The operator's words: show them as text, never as markup. */
  name: string;
  description: string;
  rules: unknown[];
}

/** The provider's policy templates, its built-in default first. */
export async function policyTemplates(device: Device): Promise<PolicyTemplate[]> {
  const { templates } = await device.client.request(endpoints.policyTemplates);
  return templates.map((t) => ({
    id: t.id,
    name: t.name,
    description: t.description,
    rules: policyForPeople(t.rules),
  }));
}

export const setPolicy = async (
  device: Device,
  wallet: string,
  rules: unknown[],
  totp: string,
): Promise<PendingChange> =>
  device.client.request(endpoints.changePolicy, {
    params: { id: await policyWalletId(device, wallet) },
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
  const id = await policyWalletId(device, name);
  const added = await device.client.request(endpoints.addToAllowList, { params: { id }, body: entry });
  const rules = await device.client.request(endpoints.walletRules, { params: { id } });
  return withCoolingOff({ ...entry, label: entry.label ?? "", ...added }, rules.policy);
}

export const allowListRemove = async (
  device: Device,
  name: string,
  entry: { chain: ChainName; address: string },
): Promise<{ removed: boolean }> =>
  device.client.request(endpoints.removeFromAllowList, {
    params: { id: await policyWalletId(device, name) },
    body: entry,
  });

export const totpEnroll = (device: Device, current?: string): Promise<{ secret: string; uri: string }> =>
  device.client.request(endpoints.startTotp, { body: current === undefined ? {} : { code: current } });

export const totpConfirm = (device: Device, code: string): Promise<TotpConfirmation> =>
  device.client.request(endpoints.confirmTotp, { body: { code } });

export const auditVerify = (device: Device): Promise<AuditVerdict> => device.client.request(endpoints.verifyAudit);

/** The account's audit chain as the provider gives it, oldest entry first, unchecked: what shows it reads it strictly. */
export const audit = (device: Device): Promise<AuditLog> => device.client.request(endpoints.audit);
