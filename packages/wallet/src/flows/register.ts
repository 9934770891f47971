/**
 * The account and its devices: registering this device under an email, proving it, letting the
 * account's other devices in or shutting them out, and the account's security changes waiting
 * out their delay (which the owner can also cancel from a mailed link, with no device at all).
 */
import { endpoints } from "@keyshard/api";
import type { Device } from "../device/device.js";
import { WalletError } from "../errors.js";
import { present } from "../replies.js";
import type { Account, AccountChange, ApprovedDevice, DeviceStanding, RevokedDevice } from "../types.js";
import { deviceIdArgument, uuidArgument } from "./arguments.js";

export async function register(device: Device, url: string, email: string): Promise<DeviceStanding> {
  let base: string;
  try {
    base = new URL(url).origin;
  } catch (e) {
    throw new WalletError(
      "usage",
      `${url} is not a URL: give the provider's address, e.g. http://127.0.0.1:8080`,
      {},
      { cause: e },
    );
  }
  const reply = await device.clientAt(base).request(endpoints.registerDevice, {
    body: { identityKey: device.state.identity.publicKey, email, name: device.state.name },
  });
  await device.save((s) => void (s.provider = { url: base, email }));
  return reply;
}

export const resendCode = (device: Device): Promise<DeviceStanding> =>
  device.client.request(endpoints.resendDeviceCode);

export function verify(device: Device, code: string): Promise<DeviceStanding> {
  if (!/^\d{6}$/.test(code)) throw new WalletError("usage", "the code is the 6 digits from the mail");
  return device.client.request(endpoints.verifyDevice, { body: { code } });
}

export const deviceState = (device: Device): Promise<DeviceStanding> => device.client.request(endpoints.deviceSelf);

export async function account(device: Device): Promise<Account> {
  const reply = await device.client.request(endpoints.account);
  return { ...reply, email: present(reply.email, "address for the account") };
}

export const approveDevice = (device: Device, id: string, totp?: string): Promise<ApprovedDevice> =>
  device.client.request(endpoints.approveDevice, {
    params: { id: deviceIdArgument(id) },
    ...(totp !== undefined && { body: { totp } }),
  });

export const accountChanges = (device: Device): Promise<{ changes: AccountChange[] }> =>
  device.client.request(endpoints.accountChanges);

export const cancelAccountChange = (device: Device, id: string): Promise<AccountChange> =>
  device.client.request(endpoints.cancelAccountChange, { params: { id: uuidArgument(id, "change") } });

export const revokeDevice = (
  device: Device,
  id: string,
  options: { strandWallets?: boolean },
): Promise<RevokedDevice> =>
  device.client.request(endpoints.revokeDevice, {
    params: { id: deviceIdArgument(id) },
    ...(options.strandWallets && { body: { strandWallets: true } }),
  });

/**
 * Cancels a waiting security change of the account with the one-time token the provider mailed
 * for it: no device is needed (the owner may have none left that they trust).
 */
export async function cancelAccountChangeWithToken(providerUrl: string, token: string): Promise<AccountChange> {
  let response: Response;
  try {
    response = await fetch(`${providerUrl.replace(/\/+$/, "")}${endpoints.cancelAccountChangeByToken.path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token }),
    });
  } catch (e) {
    throw new WalletError(
      "provider-down",
      `cannot reach the provider at ${providerUrl} (${(e as Error).message})`,
      {},
      { cause: e },
    );
  }
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok)
    throw new WalletError("provider-refused", `the provider refused: ${String(body.message ?? response.status)}`, {
      status: response.status,
      providerError: String(body.error ?? ""),
    });
  return body as unknown as AccountChange;
}
