/**
 * What the operator console shows, read across every account: the provider's health and counts,
 * accounts with their devices, held requests with what each waits for (`requests/holds.ts`), an
 * account's audit chain and its verification (`audit/log.ts`), face recoveries and enrollments, and
 * each wallet's policy in force beside the policy templates offered to new ones. Read only: nothing
 * here changes a row, so a look at the console never applies a due policy change or anything else
 * a device's request would.
 */
import { bytesToHex } from "@noble/hashes/utils.js";
import type { FastifyBaseLogger } from "fastify";
import { verifyAudit } from "../audit/log.js";
import type { ProviderContext } from "../context.js";
import { notFound } from "../errors.js";
import { type Approval, waitingFor } from "../requests/holds.js";
import { accountEmail } from "../store/accounts.js";
import {
  approvalsOfRequests,
  consoleCounts,
  devicesOfAccounts,
  newestAccounts,
  newestAuditEntries,
  newestEnrollments,
  newestHeldRequests,
  newestRecoveries,
  newestWalletPolicies,
} from "../store/console.js";
import {
  CONSOLE_DEVICES_PER_ACCOUNT,
  CONSOLE_LIST_LIMIT,
  CONSOLE_TEXT_LIMIT,
  type ConsoleAccounts,
  type ConsoleAudit,
  type ConsoleAuditVerdict,
  type ConsoleHeldRequests,
  type ConsoleOverview,
  type ConsolePolicies,
  type ConsoleRecovery,
} from "./schemas.js";

const orNull = (ms: string | null) => (ms === null ? null : Number(ms));

/** The count all rows of a capped list carry (none when the list is empty). */
const totalOf = (rows: readonly { total: number }[]) => rows[0]?.total ?? 0;

/** Where the console's figures of this process start from. */
export interface ConsoleProcess {
  version: string;
  startedAtMs: number;
}

/** `log` hears why the database did not answer, which the overview itself only reports as unreachable. */
export async function consoleOverview(
  ctx: ProviderContext,
  started: ConsoleProcess,
  log: FastifyBaseLogger,
): Promise<ConsoleOverview> {
  let counts: ConsoleOverview["counts"] = null;
  try {
    const rows = await consoleCounts(ctx.db);
    const by = (what: string) => Object.fromEntries(rows.filter((r) => r.what === what).map((r) => [r.key, r.n]));
    counts = {
      accounts: by("account").all ?? 0,
      devices: by("device"),
      wallets: by("wallet"),
      requests: by("request"),
    };
  } catch (e) {
    // The overview is where an operator looks when something is wrong: an unreachable database is
    // its answer, not a failure of the page. The log keeps the cause: the error's code and
    // message, never the error itself, whose fields may hold the database's address and settings.
    const { code, message } = e as { code?: unknown; message?: unknown };
    log.error(
      { code: typeof code === "string" ? code : undefined, reason: String(message) },
      "the console's overview could not read the database",
    );
  }
  const now = ctx.now();
  return {
    version: started.version,
    trial: ctx.trial,
    startedAtMs: started.startedAtMs,
    uptimeSeconds: Math.max(0, Math.floor((now - started.startedAtMs) / 1000)),
    database: { kind: ctx.db.kind, reachable: counts !== null },
    counts,
    signRuns: { precomputedAhead: ctx.shares.handedOut.ahead, precomputedInRun: ctx.shares.handedOut.none },
  };
}

export async function consoleAccounts(ctx: ProviderContext): Promise<ConsoleAccounts> {
  const accounts = await newestAccounts(ctx.db, CONSOLE_LIST_LIMIT);
  const devices = await devicesOfAccounts(
    ctx.db,
    accounts.map((a) => a.id),
    CONSOLE_DEVICES_PER_ACCOUNT,
  );
  return {
    limit: CONSOLE_LIST_LIMIT,
    total: totalOf(accounts),
    devicesLimit: CONSOLE_DEVICES_PER_ACCOUNT,
    accounts: accounts.map((a) => {
      const own = devices.filter((d) => d.account_id === a.id);
      return {
        id: a.id,
        email: a.email,
        verified: a.verified,
        createdMs: Number(a.created_ms),
        lastActiveMs: orNull(a.last_active_ms),
        devicesTotal: own[0]?.account_devices ?? 0,
        devices: own.map((d) => ({ id: d.id, name: d.name, state: d.state, createdMs: Number(d.created_ms) })),
      };
    }),
  };
}

export async function consoleHeldRequests(ctx: ProviderContext): Promise<ConsoleHeldRequests> {
  const rows = await newestHeldRequests(ctx.db, CONSOLE_LIST_LIMIT);
  const approvalRows = await approvalsOfRequests(
    ctx.db,
    rows.map((r) => r.id),
  );
  const now = ctx.now();
  return {
    limit: CONSOLE_LIST_LIMIT,
    total: totalOf(rows),
    requests: rows.map((row) => {
      const approvals: Approval[] = approvalRows
        .filter((a) => a.request_id === row.id)
        .map((a) => ({ deviceId: a.device_id, atMs: Number(a.at_ms), counts: a.counts }));
      return {
        id: row.id,
        accountId: row.account_id,
        email: row.email,
        walletId: row.wallet_id,
        walletName: row.wallet_name,
        chain: row.chain,
        kind: row.kind,
        requestedBy: { deviceId: row.device_id, name: row.device_name },
        createdMs: Number(row.created_ms),
        rule: row.rule,
        ruleNumber: row.rule_number,
        decision: row.decision,
        waitingFor: waitingFor(row, approvals, now),
        approvals,
      };
    }),
  };
}

/** The account's id, or 404: an audit chain is only looked up under an account that exists. */
async function existingAccount(ctx: ProviderContext, accountId: string): Promise<string> {
  if ((await accountEmail(ctx.db, accountId)) === undefined) throw notFound("no such account");
  return accountId;
}

export async function consoleAudit(ctx: ProviderContext, accountId: string): Promise<ConsoleAudit> {
  const chain = await existingAccount(ctx, accountId);
  const newestFirst = await newestAuditEntries(ctx.db, chain, CONSOLE_LIST_LIMIT, CONSOLE_TEXT_LIMIT);
  return {
    accountId,
    limit: CONSOLE_LIST_LIMIT,
    total: totalOf(newestFirst),
    entries: [...newestFirst].reverse().map((e) => ({
      seq: Number(e.seq),
      atMs: Number(e.at_ms),
      actor: e.actor,
      action: e.action,
      details: e.details,
      detailsLength: e.details_length,
      hash: bytesToHex(new Uint8Array(e.hash)),
    })),
  };
}

export async function consoleAuditVerdict(ctx: ProviderContext, accountId: string): Promise<ConsoleAuditVerdict> {
  const verdict = await verifyAudit(ctx.db, await existingAccount(ctx, accountId));
  return { accountId, ...verdict };
}

export async function consoleRecovery(ctx: ProviderContext): Promise<ConsoleRecovery> {
  const recoveries = await newestRecoveries(ctx.db, CONSOLE_LIST_LIMIT);
  const enrollments = await newestEnrollments(ctx.db, CONSOLE_LIST_LIMIT);
  return {
    limit: CONSOLE_LIST_LIMIT,
    recoveriesTotal: totalOf(recoveries),
    recoveries: recoveries.map((r) => ({
      id: r.id,
      accountId: r.account_id,
      device: { id: r.device_id, name: r.device_name },
      atMs: Number(r.at_ms),
      holdUntilMs: Number(r.hold_until_ms),
      status: r.status,
      decidedBy: r.decided_by,
      decidedMs: orNull(r.decided_ms),
    })),
    enrollmentsTotal: totalOf(enrollments),
    enrollments: enrollments.map((e) => ({
      id: e.id,
      accountId: e.account_id,
      kind: e.kind,
      email: e.email,
      status: e.status,
      inactivityMs: orNull(e.inactivity_ms),
      createdBy: e.created_by,
      createdMs: Number(e.created_ms),
      changedMs: orNull(e.changed_ms),
    })),
  };
}

export async function consolePolicies(ctx: ProviderContext): Promise<ConsolePolicies> {
  const wallets = await newestWalletPolicies(ctx.db, CONSOLE_LIST_LIMIT, ctx.now(), CONSOLE_TEXT_LIMIT);
  return {
    limit: CONSOLE_LIST_LIMIT,
    total: totalOf(wallets),
    templates: [...ctx.policyTemplates],
    wallets: wallets.map((w) => ({
      id: w.id,
      accountId: w.account_id,
      name: w.name,
      scheme: w.scheme,
      state: w.state,
      createdMs: Number(w.created_ms),
      policy: w.policy,
      policyLength: w.policy_length,
      nextChangeMs: orNull(w.next_change_ms),
    })),
  };
}
