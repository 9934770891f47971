/** The contract of the account's guarded changes: listing them and cancelling one, by device or by mailed token. */
import { type Static, Type } from "typebox";

/** A guarded change as the provider shows it. */
export const AccountChange = Type.Object({
  id: Type.Optional(Type.String()),
  kind: Type.Optional(Type.String()),
  subject: Type.Optional(Type.String()),
  summary: Type.Optional(Type.String()),
  requestedBy: Type.Optional(Type.String()),
  requestedAt: Type.Optional(Type.String()),
  effectiveAt: Type.Optional(Type.String()),
  status: Type.Optional(Type.String()),
});
export type AccountChange = Static<typeof AccountChange>;

export const AccountChangeList = Type.Object({ changes: Type.Optional(Type.Array(AccountChange)) });
export type AccountChangeList = Static<typeof AccountChangeList>;

/** The one-time cancel token mailed with a change: the credential, no device needed. */
export const AccountChangeCancelToken = Type.Object(
  { token: Type.String({ maxLength: 128 }) },
  { additionalProperties: false },
);
export type AccountChangeCancelToken = Static<typeof AccountChangeCancelToken>;
