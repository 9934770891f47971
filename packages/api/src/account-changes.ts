/** The contract of the account's guarded changes: listing them and cancelling one, by device or by mailed token. */
import { type Static, Type } from "typebox";

/** A guarded change as the provider shows it. */
export const AccountChange = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  subject: Type.String(),
  summary: Type.String(),
  requestedBy: Type.String(),
  requestedAt: Type.String(),
  effectiveAt: Type.String(),
  status: Type.String(),
});
export type AccountChange = Static<typeof AccountChange>;

export const AccountChangeList = Type.Object({ changes: Type.Array(AccountChange) });
export type AccountChangeList = Static<typeof AccountChangeList>;

/** The one-time cancel token mailed with a change: the credential, no device needed. */
export const AccountChangeCancelToken = Type.Object(
  { token: Type.String({ maxLength: 128 }) },
  { additionalProperties: false },
);
export type AccountChangeCancelToken = Static<typeof AccountChangeCancelToken>;
