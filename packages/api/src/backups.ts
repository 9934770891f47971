/** The contract of a hybrid wallet's backup by request of the provider's share. */
import { type Static, Type } from "typebox";
import { Hex, TotpCode } from "./common.js";

/** A backup request as the provider shows it; `box` is there once the share is released. */
export const Backup = Type.Object({
  id: Type.String(),
  walletId: Type.String(),
  status: Type.String(),
  requestedBy: Type.String(),
  requestedAt: Type.String(),
  readyAt: Type.Optional(Type.String()),
  box: Type.Optional(Type.String()),
});
export type Backup = Static<typeof Backup>;

/** Asks for the share sealed to `recoveryKey` (hex); `totp`: the code, where the account has one in force. */
export const BackupRequest = Type.Object(
  { recoveryKey: Hex(32), totp: Type.Optional(TotpCode) },
  { additionalProperties: false },
);
export type BackupRequest = Static<typeof BackupRequest>;
