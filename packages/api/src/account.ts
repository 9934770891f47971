/** The contract of the caller's own account: its address, its devices and its audit chain. */
import { type Static, Type } from "typebox";

/** An account's email address, as a registration or an heir enrollment names it. */
export const AccountEmail = Type.String({ maxLength: 254, pattern: "^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$" });

/** The account with its devices, unverified registrations left out. */
export const Account = Type.Object({
  id: Type.Optional(Type.String()),
  email: Type.Optional(Type.String()),
  devices: Type.Optional(
    Type.Array(
      Type.Object({
        id: Type.Optional(Type.String()),
        name: Type.Optional(Type.String()),
        state: Type.Optional(Type.String()),
      }),
    ),
  ),
});
export type Account = Static<typeof Account>;

/** The audit chain recomputed: its length, its head, and the first link that does not hold. */
export const AuditVerification = Type.Object({
  ok: Type.Optional(Type.Boolean()),
  length: Type.Optional(Type.Integer()),
  firstBroken: Type.Optional(Type.Integer()),
  head: Type.Optional(Type.String()),
});
export type AuditVerification = Static<typeof AuditVerification>;
