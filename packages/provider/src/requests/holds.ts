/**
 * What a sign request waits for, and the wallet history its policy reads. A held request records
 * each condition (TOTP code, approvals, time lock); signing may start only once every one is met,
 * and until then any device of the account can cancel it. As it is released, the rule that held
 * it is checked again against the history of that moment: two requests held while each fitted a
 * window cannot both be signed once together they exceed it.
 */
import type { RequestStatus } from "@keyshard/api";
import { outflows, type TransactionDescription } from "@keyshard/chains";
import type { ProviderContext } from "../context.js";
import { allowListKey, type Decision, longestWindowMs, releaseRefusal, type WalletHistory } from "../policy/policy.js";
import { allowListAddedTimes } from "../store/allow-list.js";
import type { Queryable } from "../store/queryable.js";
import { type RequestRow, requestApprovals, transactionsSigningSince } from "../store/sign-requests.js";
import type { WalletRow } from "../store/wallets.js";
import { currentPolicy } from "../wallets/policy-changes.js";

/** The columns a decision sets on a new request. */
export function holdOf(decision: Decision, now: number) {
  const status: RequestStatus =
    decision.decision === "allow" ? "signing" : decision.decision === "deny" ? "denied" : "held";
  return {
    status,
    approvalsNeeded: decision.decision === "require-approvals" ? (decision.approvals as number) : 0,
    totpNeeded: decision.decision === "require-totp",
    releaseMs: decision.decision === "delay" ? now + (decision.delaySeconds as number) * 1000 : null,
  };
}

export interface Waiting {
  totp?: true;
  approvals?: { needed: number; have: number };
  releaseMs?: number;
}

/** An approval on record; a revoked device's approval stays on record but vouches for nothing any more. */
export interface Approval {
  deviceId: string;
  atMs: number;
  counts: boolean;
}

export async function approvalsOf(q: Queryable, requestId: string): Promise<Approval[]> {
  const rows = await requestApprovals(q, requestId);
  return rows.map((r) => ({ deviceId: r.device_id, atMs: Number(r.at_ms), counts: r.counts }));
}

/** What a held request still waits for; empty when it may be signed. */
export function waitingFor(
  row: Pick<RequestRow, "totp_needed" | "approvals_needed" | "release_ms">,
  approvals: Approval[],
  now: number,
): Waiting {
  const waiting: Waiting = {};
  const have = approvals.filter((a) => a.counts).length;
  if (row.totp_needed) waiting.totp = true;
  if (have < row.approvals_needed) waiting.approvals = { needed: row.approvals_needed, have };
  if (row.release_ms !== null && Number(row.release_ms) > now) waiting.releaseMs = Number(row.release_ms);
  return waiting;
}

/**
 * A transaction's description as stored with its request (canonical JSON, amounts as decimal
 * strings), with its amounts read back as numbers.
 */
export function storedDescription(json: string): TransactionDescription {
  const d = JSON.parse(json) as TransactionDescription;
  for (const a of [...d.transfers, ...d.change, ...d.approvals, d.fee]) a.value = BigInt(a.value);
  return d;
}

/** The allow-list and what the wallet started signing within `windowMs`, fees included. */
export async function walletHistory(
  ctx: ProviderContext,
  q: Queryable,
  walletId: string,
  windowMs: number,
): Promise<WalletHistory> {
  const now = ctx.now();
  const listed = await allowListAddedTimes(q, walletId);
  const allowList = new Map(listed.map((e) => [allowListKey(e.chain, e.address), Number(e.added_ms)]));
  const spent: WalletHistory["spent"][number][] = [];
  if (windowMs > 0) {
    // Failed runs count too: a device may have learned the signature before making the run fail.
    const rows = await transactionsSigningSince(q, walletId, now - windowMs);
    for (const row of rows) {
      const d = storedDescription(row.description);
      for (const { asset, value } of outflows(d))
        if (asset.known)
          spent.push({ chain: d.chain, network: d.network, symbol: asset.symbol, value, atMs: Number(row.signing_ms) });
    }
  }
  return { now, allowList, spent };
}

/**
 * Why the held request `row` may not be released now, or null when it may (see `releaseRefusal`).
 * The caller holds the wallet's lock, so no other request of the wallet starts signing meanwhile.
 */
export async function refusalAtRelease(ctx: ProviderContext, tx: Queryable, wallet: WalletRow, row: RequestRow) {
  const policy = await currentPolicy(ctx, tx, wallet);
  const facts = {
    kind: row.kind,
    chain: row.chain,
    ...(row.kind === "transaction" && { description: storedDescription(row.description) }),
  };
  const held = {
    rule: row.rule,
    ruleNumber: row.rule_number,
    decision: row.decision,
    approvals: row.approvals_needed,
    // The lock was set from the same decision a moment before the row was stamped: round up.
    delaySeconds: row.release_ms === null ? 0 : Math.ceil((Number(row.release_ms) - Number(row.created_ms)) / 1000),
  };
  return releaseRefusal(policy, held, facts, await walletHistory(ctx, tx, wallet.id, longestWindowMs(policy)));
}
