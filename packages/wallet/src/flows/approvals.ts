/**
 * The account's sign requests, as its devices see them: listing and reading them, approving a
 * held one after describing its bytes here (never by the provider's description), and
 * cancelling or denying one.
 */
import { endpoints, REQUEST_STATUSES, type RequestStatus } from "@keyshard/api";
import { ChainError, parseSigningRequest, type SigningKey, type SigningRequest } from "@keyshard/chains";
import { signApproval } from "@keyshard/transport";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import type { Device } from "../device/device.js";
import { WalletError } from "../errors.js";
import { fieldsOf, present } from "../replies.js";
import { describeMessageRequest, describeRequest } from "../requests.js";
import type { RequestDetail, RequestSummary } from "../types.js";
import { uuidArgument } from "./arguments.js";

function requestStatus(status: string): RequestStatus {
  const known = REQUEST_STATUSES.find((s) => s === status);
  if (known === undefined)
    throw new WalletError(
      "usage",
      `\`status\` is ${status}, no request status: one of ${REQUEST_STATUSES.join(", ")}`,
      { parameter: "status" },
    );
  return known;
}

export async function requests(device: Device, status?: string): Promise<{ requests: RequestSummary[] }> {
  const query = status ? { status: requestStatus(status) } : {};
  return device.client.request(endpoints.signRequests, { query });
}

export async function requestDetail(device: Device, requestId: string): Promise<RequestDetail> {
  const detail = await device.client.request(endpoints.signRequest, {
    params: { id: uuidArgument(requestId, "request") },
  });
  return { ...detail, payload: present(detail.payload, "bytes of the request") };
}

/** A request with this device's own reading of its bytes, as an approval is asked about it. */
export type RequestToApprove = Omit<RequestDetail, "description"> & {
  description: ReturnType<typeof describeRequest> | ReturnType<typeof describeMessageRequest>;
};

/** Reads a held request's bytes, describes them here, and approves exactly those bytes. */
export async function approve(
  device: Device,
  requestId: string,
  confirm?: (request: RequestToApprove) => boolean | Promise<boolean>,
): Promise<RequestSummary> {
  const detail = await requestDetail(device, requestId);
  const { body, key } = requestOf(device, detail);
  const description = describeRequest(body, key) ?? describeMessageRequest(body);
  // Only this device's own reading is shown: the provider's description of the request is not.
  if (confirm && !(await confirm({ ...detail, description }))) throw new WalletError("usage", "not approved");
  const signature = signApproval(device.identity, requestId, hexToBytes(detail.payload));
  return device.client.request(endpoints.approveSignRequest, {
    params: { id: requestId },
    body: { signature: bytesToHex(signature) },
  });
}

/**
 * Another device's request as this device reads it: the bytes, and the wallet's key when this
 * device holds a share of it (without it, a PSBT's change shows as a payment). Only the Bitcoin
 * network, which changes how addresses are written and nothing that is signed, comes from the
 * provider's reading.
 */
export function requestOf(device: Device, detail: RequestDetail): { body: SigningRequest; key?: SigningKey } {
  const { chain, kind, payload, path } = detail;
  const network =
    chain === "bitcoin"
      ? (/^bitcoin:(mainnet|testnet|regtest)$/.exec(String(fieldsOf(detail.description).network))?.[1] ?? "mainnet")
      : undefined;
  let body: SigningRequest;
  try {
    body = parseSigningRequest({
      chain,
      kind,
      payload,
      ...(path !== null && path !== undefined && { path }),
      ...(network !== undefined && { network }),
    });
  } catch (e) {
    if (!(e instanceof ChainError)) throw e;
    // The parser's message names the field at fault, never its value: the value is the provider's.
    throw new WalletError(
      "provider-refused",
      `the provider lists a request this device cannot read: ${e.message}`,
      { chain: excerpt(chain), kind: excerpt(kind) },
      { cause: e },
    );
  }
  const held = device.state.wallets.find((w) => w.id === detail.walletId);
  return { body, ...(held && { key: device.keyOf(held, body.path) }) };
}

/** A value the provider chose, as a short JSON string fit to show. */
const excerpt = (value: unknown): string => (JSON.stringify(value) ?? String(value)).slice(0, 40);

/** Cancels a held request (the requester's), or denies another device's. */
export const cancel = (device: Device, requestId: string): Promise<RequestSummary> =>
  device.client.request(endpoints.cancelSignRequest, { params: { id: uuidArgument(requestId, "request") } });
