/**
 * What the engine shows the page of a transaction: the SDK's description of the bytes it is about
 * to sign, what a held request waits for, and how a send ended (held, or sent with its receipt),
 * cut to what the protocol carries.
 */
import type { TransactionDescription } from "@keyshard/chains";
import { type SignOutcome, type Wallet, WalletError } from "@keyshard/wallet/browser";
import type { Held, Sent } from "../calls/core.js";
import { isRecord, ProtocolError, uuid } from "../readers.js";
import { REVIEW_ITEMS_MAX, type Review, type WaitingFor } from "../review.js";
import { fitShort, message } from "./engine-state.js";

/** `values` when a review can carry them all; more would leave some unseen, so nothing is signed. */
function all<T>(values: readonly T[]): readonly T[] {
  if (values.length > REVIEW_ITEMS_MAX)
    throw new ProtocolError("the transaction does more than this app can show for review: nothing was signed");
  return values;
}

/**
 * The SDK's description of the bytes it is about to sign, as plain data for the page: the page
 * shows this, never what the person typed, so what is confirmed is what the bytes do. `request`:
 * whose request it is, when it is another device's.
 */
export function reviewOf(d: TransactionDescription, request: Review["request"] = null): Review {
  return {
    request,
    network: d.network,
    action: fitShort(d.action),
    transfers: all(d.transfers).map((t) => ({
      to: fitShort(t.to),
      amount: fitShort(t.text),
      from: t.from === undefined ? null : fitShort(t.from),
    })),
    approvals: all(d.approvals).map((a) => ({
      spender: fitShort(a.spender),
      amount: fitShort(a.text),
      unlimited: a.unlimited,
    })),
    calls: all(d.calls).map((c) => ({
      contract: fitShort(c.contract),
      selector: c.selector,
      name: c.name === undefined ? null : fitShort(c.name),
    })),
    fee: fitShort(d.fee.text),
    warnings: all(d.warnings).map(message),
  };
}

/** The rule that held or denied a request, as the page names it ("rule 2 ("New payees wait a day")"). */
export function ruleText(ruleNumber: unknown, rule: unknown): string {
  const ruleName = typeof rule === "string" && rule !== "" ? ` ("${rule}")` : "";
  return fitShort(
    typeof ruleNumber === "number" && Number.isSafeInteger(ruleNumber) ? `rule ${ruleNumber}${ruleName}` : "a rule",
  );
}

const isCount = (value: unknown): value is number =>
  typeof value === "number" && Number.isSafeInteger(value) && value >= 0;

/** The approvals a held request waits for, read field by field: a malformed count is refused here. */
function approvalsOf(value: unknown): WaitingFor["approvals"] {
  if (value === undefined) return null;
  if (isRecord(value)) {
    const { needed, have } = value;
    if (isCount(needed) && isCount(have)) return { needed, have };
  }
  throw new ProtocolError("the provider says a held request waits for approvals in an unreadable form");
}

/**
 * What the provider says a held request still waits for, as the page reads it: each field read on
 * its own, so that a malformed one is refused here rather than passed on.
 */
export function waitingOf(waiting: unknown): WaitingFor {
  if (!isRecord(waiting)) throw new ProtocolError("the provider says a held request waits for something unreadable");
  const { totp, approvals, releaseMs } = waiting;
  if (totp !== undefined && typeof totp !== "boolean")
    throw new ProtocolError("the provider says a held request waits for a code in an unreadable form");
  if (releaseMs !== undefined && !isCount(releaseMs))
    throw new ProtocolError("the provider says a held request waits for a time that is not one");
  return { totp: totp === true, approvals: approvalsOf(approvals), releaseMs: releaseMs ?? null };
}

/** A send the wallet's policy holds, as the page shows it: what it waits for, and its request's id. */
export function heldOf(e: WalletError): Held {
  const { requestId, rule, ruleNumber, waitingFor } = e.details;
  return {
    kind: "held",
    // Read, not turned into text: without the request's id the send could not be followed.
    requestId: uuid(requestId, "the held request's id"),
    rule: ruleText(ruleNumber, rule),
    waitingFor: waitingOf(waitingFor ?? {}),
  };
}

/**
 * A transaction of `wallet` on Ethereum, signed and broadcast, as the page shows it: its id, its
 * receipt, and the block it was mined in when the node (`rpc`, else the one it went through) says.
 */
export async function sentOf(opened: Wallet, wallet: string, outcome: SignOutcome, rpc?: string): Promise<Sent> {
  if (outcome.transactionId === undefined || outcome.receiptStatus === undefined)
    throw new WalletError("signing-failed", "the transaction was signed but not sent: nothing was broadcast");
  const { block } = await opened
    .transactionStatus({ wallet, chain: "ethereum", id: outcome.transactionId, ...(rpc !== undefined && { rpc }) })
    .catch(() => ({ block: undefined }));
  return {
    kind: "sent",
    transactionId: outcome.transactionId,
    receipt: outcome.receiptStatus === 1 ? "confirmed" : "failed",
    block: block ?? null,
    sentBefore: outcome.sentBefore === true,
  };
}
