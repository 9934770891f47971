/**
 * The calls of the account's sign requests: the held ones listed, one read with who approved it,
 * another device's approved after this device's own review of its bytes, one rejected or
 * cancelled, and this device's own finished once it waits for nothing. Page-safe: the shapes and
 * their strict readers only.
 */
import {
  boolean,
  count,
  isRecord,
  list,
  literal,
  type MethodReaders,
  none,
  orNull,
  ProtocolError,
  type Reader,
  record,
  shortText,
  totpCode,
  uuid,
} from "../readers.js";
import { type DeviceRef, deviceRef, type WaitingFor, waitingFor } from "../review.js";
import { type Sent, sent } from "./core.js";

/** What became of a request: the provider's status ("held", "signing", "signed", "denied", "cancelled", "failed"). */
export type RequestStatus = "held" | "signing" | "signed" | "denied" | "cancelled" | "failed";
export const REQUEST_STATUSES: readonly RequestStatus[] = [
  "held",
  "signing",
  "signed",
  "denied",
  "cancelled",
  "failed",
];

/** The most held requests one answer lists; the rest are counted, not listed. */
export const HELD_REQUESTS_MAX = 500;
/** The most approvals one request lists: an account has at most this many devices listed. */
export const APPROVALS_MAX = 100;

export interface RequestEntry {
  requestId: string;
  /** The wallet's name on this device; its id where this device holds no share of it. */
  wallet: string;
  chain: string;
  /** "transaction", "message", "typed-data", … */
  kind: string;
  status: RequestStatus;
  /** Made by this device: only it can finish it. */
  mine: boolean;
  /** The device that asked. */
  requestedBy: DeviceRef;
  /** The rule that held or denied it ("rule 2 ("New payees")"), when one did. */
  rule: string | null;
  /** While it is held: what it still waits for. */
  waitingFor: WaitingFor | null;
  /** The devices whose approval counts; known only when the request is read alone. */
  approvedBy: DeviceRef[];
  createdMs: number;
}

/** The account's held requests: other devices' first, then this device's, newest first in each. */
export interface HeldRequests {
  requests: RequestEntry[];
  /** Held requests beyond what one answer carries. */
  notShown: number;
  /** Requests the provider listed that could not be read: left out, counted. */
  unreadable: number;
}

/** How a review of another device's request ended: approved, or let be. */
export type ApprovalOutcome = { kind: "approved"; request: RequestEntry } | { kind: "not-approved" };

export interface RequestsMethods {
  /** The account's held requests. */
  heldRequests: { args: Record<string, never>; result: HeldRequests };
  /** One request as it stands now, with who approved it. */
  request: { args: { requestId: string }; result: RequestEntry };
  /** Another device's held request: the engine asks the page to confirm what its bytes do, then approves them. */
  approveRequest: { args: { requestId: string }; result: ApprovalOutcome };
  /** Cancels this device's held request, or rejects (denies) another device's. */
  cancelRequest: { args: { requestId: string }; result: RequestEntry };
  /** Signs and broadcasts this device's held request once it waits for nothing (the code, where it waits for one). */
  finishRequest: { args: { requestId: string; totp: string | null }; result: Sent };
}

const status: Reader<RequestStatus> = (value, what) => {
  const found = REQUEST_STATUSES.find((s) => s === value);
  if (found === undefined) throw new ProtocolError(`${what} is no request status`);
  return found;
};

export const requestEntry = record<RequestEntry>({
  requestId: uuid,
  wallet: shortText,
  chain: shortText,
  kind: shortText,
  status,
  mine: boolean,
  requestedBy: deviceRef,
  rule: orNull(shortText),
  waitingFor: orNull(waitingFor),
  approvedBy: list(deviceRef, APPROVALS_MAX),
  createdMs: count,
});

const approvalOutcome: Reader<ApprovalOutcome> = (value, what) =>
  isRecord(value) && value.kind === "not-approved"
    ? record<Extract<ApprovalOutcome, { kind: "not-approved" }>>({ kind: literal("not-approved") })(value, what)
    : record<Extract<ApprovalOutcome, { kind: "approved" }>>({ kind: literal("approved"), request: requestEntry })(
        value,
        what,
      );

const byId = record({ requestId: uuid });

export const REQUESTS_METHODS: MethodReaders<RequestsMethods> = {
  heldRequests: {
    args: none,
    result: record<HeldRequests>({
      requests: list(requestEntry, HELD_REQUESTS_MAX),
      notShown: count,
      unreadable: count,
    }),
  },
  request: { args: byId, result: requestEntry },
  approveRequest: { args: byId, result: approvalOutcome },
  cancelRequest: { args: byId, result: requestEntry },
  finishRequest: { args: record({ requestId: uuid, totp: orNull(totpCode) }), result: sent },
};
