/** The contract of the caller's own account: its address, its devices and its audit chain. */
import { type Static, Type } from "typebox";

/** An account's email address, as a registration or an heir enrollment names it. */
export const AccountEmail = Type.String({ maxLength: 254, pattern: "^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$" });

/** The account with its devices, unverified registrations left out. */
export const Account = Type.Object({
  id: Type.String(),
  // Absent only if the account row were gone, which an authenticated device's never is.
  email: Type.Optional(Type.String()),
  devices: Type.Array(
    Type.Object({
      id: Type.String(),
      name: Type.String(),
      state: Type.String(),
      // When the device registered, in ms since the epoch: the device approving a new one shows it,
      // so that a registration the person did not just make stands out.
      createdMs: Type.Integer({ minimum: 0 }),
    }),
  ),
});
export type Account = Static<typeof Account>;

/** The audit chain recomputed: its length, its head, and the first link that does not hold. */
export const AuditVerification = Type.Object({
  ok: Type.Boolean(),
  length: Type.Integer(),
  firstBroken: Type.Optional(Type.Integer()),
  head: Type.Optional(Type.String()),
});
export type AuditVerification = Static<typeof AuditVerification>;

/** The account's audit chain, oldest entry first. */
export interface AuditLog {
  entries: {
    chain: string;
    seq: number;
    atMs: number;
    actor: string;
    action: string;
    details: unknown;
    hash: string;
  }[];
}
