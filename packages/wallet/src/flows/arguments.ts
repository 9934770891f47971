/**
 * Ids a person typed (a device's, a request's, a change's), checked before they are sent: a
 * mistyped one is caught here, with where the ids of its kind are listed as the next step.
 */
import { type NextStep, WalletError } from "../errors.js";

type IdKind = Extract<NextStep, { step: "list" }>["of"];

/** An id of the provider's (a request, a change), a UUID. */
export function uuidArgument(id: string, what: Exclude<IdKind, "device">): string {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id))
    throw new WalletError(
      "usage",
      `"${id}" is not a ${what} id: those look like 3f0c2a1e-9b4d-4c6e-8a2f-0123456789ab`,
      {},
      { next: { step: "list", of: what } },
    );
  return id;
}

/** A device id: 32 hex digits, the hash of the device's identity key. */
export function deviceIdArgument(id: string): string {
  if (!/^[0-9a-f]{32}$/.test(id))
    throw new WalletError("usage", "a device id is 32 hex digits", {}, { next: { step: "list", of: "device" } });
  return id;
}
