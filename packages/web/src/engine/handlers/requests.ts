/**
 * The engine's handlers for the account's sign requests. Approving another device's request shows
 * the page this device's own reading of the bytes (the SDK's description, as for a send), with the
 * wallet and the device that asked read from the request fetched for it, and approves exactly
 * those bytes once confirmed; the provider's description of the request is never shown. Each
 * request the provider gives is read strictly and copied field by field; every text passes
 * `fitShort`/`showable` before it reaches the page.
 */
import type { TransactionDescription } from "@keyshard/chains";
import {
  type RequestDetail,
  type RequestSummary,
  type RequestToApprove,
  type Wallet,
  WalletError,
} from "@keyshard/wallet/browser";
import { shortId } from "../calls/devices.js";
import { HELD_REQUESTS_MAX, REQUEST_STATUSES, type RequestEntry, type RequestsMethods } from "../calls/requests.js";
import { deviceId, isRecord, ProtocolError, uuid } from "../readers.js";
import type { DeviceRef } from "../review.js";
import { accountDevices } from "./devices.js";
import { fitShort, type Handlers, unlocked } from "./engine-state.js";
import { firstOf, readEach } from "./listing.js";
import { reviewOf, ruleText, sentOf, waitingOf } from "./review.js";

/** What the engine knows to name a request's wallet and devices by. */
interface Names {
  opened: Wallet;
  devices: Map<string, string>;
  /** The account's wallets, by id: this device's by the name it knows them by, others' by the account's. */
  wallets: Map<string, string>;
}

async function namesOf(opened: Wallet): Promise<Names> {
  const [{ names }, wallets] = await Promise.all([accountDevices(opened), opened.policyWallets()]);
  return { opened, devices: names, wallets: new Map(wallets.map((w) => [w.id, fitShort(w.localName ?? w.name)])) };
}

/** A device a request (or a shared wallet) names, read strictly: by its name where the account still lists it. */
export function deviceRefOf(
  { opened, devices }: Pick<Names, "opened" | "devices">,
  id: unknown,
  what: string,
): DeviceRef {
  const read = deviceId(id, what);
  return { name: devices.get(read) ?? `device ${shortId(read)}`, id: read, thisDevice: read === opened.deviceId };
}

const walletNamed = (names: Names, walletId: unknown) =>
  typeof walletId !== "string"
    ? "unnamed"
    : (names.wallets.get(walletId) ?? fitShort(`not listed for the account (${walletId})`));

/** The approvals that count: one by a device revoked since no longer does, so it is not listed as one. */
function approvedBy(names: Names, approvals: unknown): DeviceRef[] {
  if (approvals === undefined) return [];
  if (!Array.isArray(approvals)) throw new ProtocolError("the provider lists a request's approvals unreadably");
  return approvals
    .filter((a) => !(isRecord(a) && a.revoked === true))
    .map((a) => deviceRefOf(names, isRecord(a) ? a.deviceId : undefined, "an approving device's id"));
}

/** A request as the provider gives it, read strictly and copied field by field. */
export function entryOf(names: Names, request: RequestSummary | RequestDetail): RequestEntry {
  const status = REQUEST_STATUSES.find((s) => s === request.status);
  if (status === undefined) throw new ProtocolError("the provider lists a request of no known status");
  const { createdMs } = request;
  if (!Number.isSafeInteger(createdMs) || createdMs < 0)
    throw new ProtocolError("the provider lists a request made at no readable time");
  const requestedBy = deviceRefOf(names, request.deviceId, "the id of the device that asked");
  return {
    requestId: uuid(request.requestId, "a request's id"),
    wallet: walletNamed(names, request.walletId),
    chain: fitShort(String(request.chain)),
    kind: fitShort(String(request.kind)),
    status,
    mine: requestedBy.thisDevice,
    requestedBy,
    rule: request.ruleNumber === null && request.rule === null ? null : ruleText(request.ruleNumber, request.rule),
    waitingFor: status === "held" && request.waitingFor !== undefined ? waitingOf(request.waitingFor) : null,
    approvedBy: approvedBy(names, "approvals" in request ? request.approvals : undefined),
    createdMs,
  };
}

/** The SDK's reading of another device's request, when it is an Ethereum transaction this app can show. */
export function transactionOf(
  request: Pick<RequestToApprove, "chain" | "kind" | "description">,
): TransactionDescription {
  const { description } = request;
  if (
    request.chain !== "ethereum" ||
    request.kind !== "transaction" ||
    description === undefined ||
    !("fee" in description)
  )
    throw new WalletError(
      "usage",
      "this app shows Ethereum transactions only: approve this request from the keyshard command line",
    );
  return description;
}

/** Other devices' requests first (those are the ones to review), newest first in each. */
const heldOrder = (a: RequestEntry, b: RequestEntry) => Number(a.mine) - Number(b.mine) || b.createdMs - a.createdMs;

export const requestsHandlers: Handlers<RequestsMethods> = {
  heldRequests: async () => {
    const opened = unlocked();
    const [names, { requests }] = await Promise.all([namesOf(opened), opened.requests("held")]);
    const { read, unreadable } = readEach(requests, (r) => entryOf(names, r));
    const { shown, notShown } = firstOf(read, HELD_REQUESTS_MAX, heldOrder);
    return { requests: shown, notShown, unreadable };
  },

  request: async ({ requestId }) => {
    const opened = unlocked();
    const [names, detail] = await Promise.all([namesOf(opened), opened.requestDetail(requestId)]);
    return entryOf(names, detail);
  },

  approveRequest: async ({ requestId }, _progress, confirm) => {
    const opened = unlocked();
    const names = await namesOf(opened);
    let declined = false;
    try {
      const approved = await opened.approve(requestId, async (request) => {
        const requestedBy = deviceRefOf(names, request.deviceId, "the id of the device that asked");
        // An approval is another device's check of what one device asks: a device's own is no check.
        if (requestedBy.thisDevice)
          throw new WalletError(
            "usage",
            "this device made this request: another device of the account must approve it",
          );
        const shown = reviewOf(transactionOf(request), { wallet: walletNamed(names, request.walletId), requestedBy });
        declined = !(await confirm(shown));
        return !declined;
      });
      return { kind: "approved", request: entryOf(names, approved) };
    } catch (e) {
      if (declined && e instanceof WalletError && e.code === "usage") return { kind: "not-approved" };
      throw e;
    }
  },

  cancelRequest: async ({ requestId }) => {
    const opened = unlocked();
    const cancelled = await opened.cancel(requestId);
    return entryOf(await namesOf(opened), cancelled);
  },

  // The SDK signs the bytes this device built and kept, re-checked against the provider's, and
  // broadcasts them through the node it kept with them.
  finishRequest: async ({ requestId, totp }) => {
    const opened = unlocked();
    const [names, detail] = await Promise.all([namesOf(opened), opened.requestDetail(requestId)]);
    const wallet = names.wallets.get(detail.walletId);
    if (detail.deviceId !== opened.deviceId || wallet === undefined)
      throw new WalletError("usage", "only the device that made a request can finish it");
    if (detail.chain !== "ethereum" || detail.kind !== "transaction")
      throw new WalletError("usage", "this app finishes Ethereum transactions only: use the keyshard command line");
    return sentOf(opened, wallet, await opened.resume(requestId, totp === null ? {} : { totp }));
  },
};
