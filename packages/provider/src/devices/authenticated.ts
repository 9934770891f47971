/** The device a request was authenticated as, and the states a device goes through. */

/** `approved`: an active device let it in, and the change that activates it is still waiting. */
export type DeviceState = "unverified" | "awaiting-approval" | "approved" | "active" | "revoked";

export interface AuthenticatedDevice {
  id: string;
  accountId: string;
  state: DeviceState;
  identityKey: Uint8Array;
}
