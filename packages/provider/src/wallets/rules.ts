/**
 * A wallet's rules as its account's devices see and change them. A policy change needs a TOTP
 * code and then waits out the policy delay, cancellable by any device; allow-list entries count
 * only after their rule's cooling-off period; removals and cancellations, which only tighten,
 * take effect at once.
 */
import type { ChainName } from "@keyshard/chains";
import { verifyAccountTotp } from "../account/totp.js";
import { appendAudit } from "../audit/log.js";
import type { ProviderContext } from "../context.js";
import type { AuthenticatedDevice } from "../devices/authenticated.js";
import { conflict, notFound } from "../errors.js";
import { parsePolicy } from "../policy/policy.js";
import { allowListOf, deleteAllowListEntry, insertAllowListEntry } from "../store/allow-list.js";
import { cancelPendingPolicyChange, findPolicyChange, pendingPolicyChanges } from "../store/policy-changes.js";
import { totpEnrolled } from "../store/totp.js";
import { findWallet } from "../store/wallets.js";
import { allowListAddress, currentPolicy, refuseUnenforceablePolicy, requestPolicyChange } from "./policy-changes.js";

/** The wallet's policy in force, its pending changes and its allow-list. */
export function walletRules(ctx: ProviderContext, device: AuthenticatedDevice, walletId: string) {
  return ctx.db.transaction(async (tx) => {
    const wallet = await findWallet(tx, walletId, device.accountId, { lock: true });
    const policy = await currentPolicy(ctx, tx, wallet);
    const pending = await pendingPolicyChanges(tx, walletId);
    const listed = await allowListOf(tx, walletId);
    return {
      policy,
      pending: pending.map((p) => ({
        changeId: p.id,
        policy: JSON.parse(p.policy),
        requestedBy: p.requested_by,
        effectiveMs: Number(p.effective_ms),
      })),
      allowList: listed.map((e) => ({
        chain: e.chain,
        address: e.address,
        label: e.label,
        addedMs: Number(e.added_ms),
      })),
      totpEnrolled: await totpEnrolled(tx, device.accountId),
    };
  });
}

/** Asks for a new policy (`document`, checked here) with the account's TOTP code; it waits out the policy delay. */
export async function changeWalletPolicy(
  ctx: ProviderContext,
  device: AuthenticatedDevice,
  walletId: string,
  document: unknown,
  totp: string,
) {
  const policy = parsePolicy(document);
  await findWallet(ctx.db, walletId, device.accountId, { active: true });
  await refuseUnenforceablePolicy(ctx.db, device.accountId, policy);
  await verifyAccountTotp(ctx, { id: device.accountId, actor: device.id }, totp);
  const change = await ctx.db.transaction(async (tx) =>
    requestPolicyChange(ctx, tx, await findWallet(tx, walletId, device.accountId, { lock: true }), device.id, policy),
  );
  ctx.notifier.kick();
  return change;
}

/** Any device of the account cancels a pending policy change. */
export async function cancelPolicyChange(ctx: ProviderContext, device: AuthenticatedDevice, changeId: string) {
  await ctx.db.transaction(async (tx) => {
    const change = await findPolicyChange(tx, changeId, device.accountId);
    if (change === undefined) throw notFound("no such policy change in this account");
    await findWallet(tx, change.wallet_id, device.accountId, { lock: true });
    if (!(await cancelPendingPolicyChange(tx, changeId, ctx.now()))) throw conflict("the change is no longer pending");
    await appendAudit(tx, {
      chain: device.accountId,
      atMs: ctx.now(),
      actor: device.id,
      action: "policy.change-cancelled",
      details: { change: changeId },
    });
  });
}

/** Adds a destination to the wallet's allow-list and mails the account; it counts after its rule's cooling-off. */
export async function addToAllowList(
  ctx: ProviderContext,
  device: AuthenticatedDevice,
  walletId: string,
  entry: { chain: ChainName; address: string; label?: string | undefined },
) {
  const address = allowListAddress(entry.chain, entry.address);
  const addedMs = ctx.now();
  await ctx.db.transaction(async (tx) => {
    const wallet = await findWallet(tx, walletId, device.accountId, { lock: true });
    const added = await insertAllowListEntry(tx, {
      walletId,
      chain: entry.chain,
      address,
      label: entry.label ?? "",
      addedBy: device.id,
      addedMs,
    });
    if (!added) throw conflict("the address is already on the allow-list");
    await appendAudit(tx, {
      chain: device.accountId,
      atMs: addedMs,
      actor: device.id,
      action: "allow-list.added",
      details: { wallet: walletId, chain: entry.chain, address },
    });
    await ctx.notifier.queueForAccount(
      tx,
      device.accountId,
      {
        subject: `keyshard: new allow-listed address on wallet ${wallet.name}`,
        body: `Device ${device.id} added ${entry.chain} address ${address} to the allow-list of wallet ${wallet.name}.\nIf this was not you, remove it from another device before its cooling-off period ends.`,
      },
      addedMs,
    );
  });
  ctx.notifier.kick();
  return { address, addedMs };
}

/** Removes a destination from the wallet's allow-list, at once. */
export async function removeFromAllowList(
  ctx: ProviderContext,
  device: AuthenticatedDevice,
  walletId: string,
  entry: { chain: ChainName; address: string },
) {
  const address = allowListAddress(entry.chain, entry.address);
  await ctx.db.transaction(async (tx) => {
    await findWallet(tx, walletId, device.accountId, { lock: true });
    if (!(await deleteAllowListEntry(tx, walletId, entry.chain, address)))
      throw notFound("the address is not on the allow-list");
    await appendAudit(tx, {
      chain: device.accountId,
      atMs: ctx.now(),
      actor: device.id,
      action: "allow-list.removed",
      details: { wallet: walletId, chain: entry.chain, address },
    });
  });
}
