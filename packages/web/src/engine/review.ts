/**
 * What a transaction does and what a held request waits for, as the engine describes them to
 * the page: the shapes and readers shared by every call that shows a transaction for review
 * (a send, an approval of another device's request).
 */
import {
  boolean,
  count,
  deviceId,
  list,
  messageText,
  orNull,
  type Reader,
  record,
  SHORT_TEXT_MAX,
  shortText,
  text,
} from "./readers.js";

/** One movement of value out of the wallet, as the SDK read it from the bytes to be signed. */
export interface ReviewTransfer {
  to: string;
  /** In the asset's units with its symbol ("0.25 ETH"), or base units of a token it cannot name. */
  amount: string;
  /** Set when the value is taken from another account (an allowance's `transferFrom`). */
  from: string | null;
}

export interface ReviewApproval {
  spender: string;
  amount: string;
  unlimited: boolean;
}

export interface ReviewCall {
  contract: string;
  /** The 4-byte selector. */
  selector: string;
  /** The decoded function, e.g. "transfer(address,uint256)", when it is a standard one. */
  name: string | null;
}

/** A device of the account as a request names it: its name, its id, and whether it is this one. */
export interface DeviceRef {
  /** Its self-chosen name, fit to show; never a marker such as "this device" (that is `thisDevice`). */
  name: string;
  id: string;
  thisDevice: boolean;
}

/** Whose request a review is of: the wallet and the device that asked, read from the request itself. */
export interface ReviewedRequest {
  wallet: string;
  requestedBy: DeviceRef;
}

/** What a transaction does, described by the SDK from its bytes, for the person to confirm. */
export interface Review {
  /** Another device's request under review; null for this device's own send. */
  request: ReviewedRequest | null;
  /** "eip155:<chain id>". */
  network: string;
  action: string;
  transfers: ReviewTransfer[];
  approvals: ReviewApproval[];
  calls: ReviewCall[];
  /** The most the fee can be, with its unit. */
  fee: string;
  /** What a person should read before confirming: unknown tokens, unusual encodings. */
  warnings: string[];
}

/** What a send held by the wallet's policy waits for before it can be signed. */
export interface WaitingFor {
  totp: boolean;
  approvals: { needed: number; have: number } | null;
  /** When its time lock ends, in ms since the epoch. */
  releaseMs: number | null;
}

/** The most transfers, calls or warnings one review carries: a send has one or two of each. */
export const REVIEW_ITEMS_MAX = 20;

const items = <T>(read: Reader<T>) => list(read, REVIEW_ITEMS_MAX);

export const deviceRef = record<DeviceRef>({ name: shortText, id: deviceId, thisDevice: boolean });

export const review = record<Review>({
  request: orNull(record<ReviewedRequest>({ wallet: shortText, requestedBy: deviceRef })),
  network: text({ min: 1, max: SHORT_TEXT_MAX, pattern: /^eip155:[0-9]+$/ }),
  action: shortText,
  transfers: items(record<ReviewTransfer>({ to: shortText, amount: shortText, from: orNull(shortText) })),
  approvals: items(record<ReviewApproval>({ spender: shortText, amount: shortText, unlimited: boolean })),
  calls: items(
    record<ReviewCall>({
      contract: shortText,
      selector: text({ min: 0, max: 10, pattern: /^(0x[0-9a-fA-F]{8})?$/ }),
      name: orNull(shortText),
    }),
  ),
  fee: shortText,
  warnings: items(messageText),
});

export const waitingFor = record<WaitingFor>({
  totp: boolean,
  approvals: orNull(record({ needed: count, have: count })),
  releaseMs: orNull(count),
});
