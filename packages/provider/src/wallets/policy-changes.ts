/**
 * Changing what a wallet's policy allows. A new policy needs a TOTP code (checked by the route)
 * and then waits out a delay (default 48 h) during which the account is mailed and any of its
 * devices can cancel it: a thief holding the wallet device cannot loosen the rules in time to use
 * them. Due changes are applied by whoever reads the policy next, under the wallet's lock.
 * Allow-list entries take effect after the cooling-off period their rule names.
 */
import { randomUUID } from "node:crypto";
import { canonicalJson, type Policy } from "@keyshard/api";
import { adapterOf, type ChainName } from "@keyshard/chains";
import { appendAudit } from "../audit/log.js";
import type { ProviderContext } from "../context.js";
import { invalid, ProviderError } from "../errors.js";
import { applyPolicyChange, duePolicyChanges, insertPolicyChange } from "../store/policy-changes.js";
import type { Queryable } from "../store/queryable.js";
import { totpEnrolled } from "../store/totp.js";
import type { WalletRow } from "../store/wallets.js";

export const DEFAULT_POLICY_DELAY_MS = 48 * 3600_000;

/** The wallet's policy now, applying changes whose delay has passed. The caller holds the wallet's lock. */
export async function currentPolicy(ctx: ProviderContext, tx: Queryable, wallet: WalletRow): Promise<Policy> {
  const due = await duePolicyChanges(tx, wallet.id, ctx.now());
  let policy = wallet.policy;
  for (const change of due) {
    policy = change.policy;
    await applyPolicyChange(tx, wallet.id, change.id, policy);
    await appendAudit(tx, {
      chain: wallet.account_id,
      atMs: ctx.now(),
      actor: "provider",
      action: "policy.applied",
      details: { wallet: wallet.id, change: change.id, requestedBy: change.requested_by },
    });
  }
  return JSON.parse(policy) as Policy;
}

/**
 * Refuses a policy with a require-TOTP rule on an account without a TOTP in force: nobody could
 * pass the rule but whoever enrolls a TOTP next, and that may be a thief holding the device.
 */
export async function refuseUnenforceablePolicy(q: Queryable, accountId: string, policy: Policy): Promise<void> {
  if (policy.some((rule) => rule.decision === "require-totp") && !(await totpEnrolled(q, accountId)))
    throw new ProviderError(
      "conflict",
      "totp-not-enrolled",
      "a policy that requires a TOTP code needs a TOTP in force on the account: enroll one and wait for it to take effect first",
    );
}

export async function requestPolicyChange(
  ctx: ProviderContext,
  tx: Queryable,
  wallet: WalletRow,
  actor: string,
  policy: Policy,
): Promise<{ changeId: string; effectiveMs: number }> {
  await refuseUnenforceablePolicy(tx, wallet.account_id, policy);
  const changeId = randomUUID();
  const now = ctx.now();
  const effectiveMs = now + ctx.policyDelayMs;
  await insertPolicyChange(tx, {
    id: changeId,
    walletId: wallet.id,
    policy: canonicalJson(policy),
    requestedBy: actor,
    requestedMs: now,
    effectiveMs,
  });
  await appendAudit(tx, {
    chain: wallet.account_id,
    atMs: now,
    actor,
    action: "policy.change-requested",
    details: { wallet: wallet.id, change: changeId, effectiveMs, policy },
  });
  await ctx.notifier.queueForAccount(
    tx,
    wallet.account_id,
    {
      subject: `keyshard: the policy of wallet ${wallet.name} will change`,
      body: `Device ${actor} asked to change the policy of wallet ${wallet.name}. It takes effect at ${new Date(effectiveMs).toISOString()}.\nIf this was not you, cancel it from any of your devices before then: keyshard policy cancel ${changeId}`,
    },
    now,
  );
  return { changeId, effectiveMs };
}

/** The canonical form of an address the chain accepts, or 400. */
export function allowListAddress(chain: ChainName, address: string): string {
  const adapter = adapterOf(chain);
  if (!adapter.isAddress(address)) throw invalid(`${address} is not a valid ${chain} address`);
  return adapter.normalizeAddress(address);
}
