/** The account as its devices see it: its address and its devices. */
import { accountEmail } from "../store/accounts.js";
import { accountDevices } from "../store/devices.js";
import type { Queryable } from "../store/queryable.js";

export async function accountWithDevices(q: Queryable, accountId: string) {
  // An unverified device is anyone's registration under the address, not yet the account's.
  return { id: accountId, email: await accountEmail(q, accountId), devices: await accountDevices(q, accountId) };
}
