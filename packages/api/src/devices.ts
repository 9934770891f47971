/**
 * The contract of device registration: a device registers its identity key under an email, proves
 * the address with a mailed code, and is approved or revoked by an active device of the account.
 */
import { type Static, type TObject, Type } from "typebox";
import { AccountEmail } from "./account.js";
import { Hex, TotpCode } from "./common.js";

/** A body that may be left out: the object, or JSON `null`. */
const objectOrNull = <T extends TObject>(schema: T) =>
  Type.Unsafe<Static<T> | null>({ ...schema, type: ["object", "null"] });

/** A device id: 16 bytes in hex. */
export const DeviceIdParams = Type.Object({ id: Hex(16) });
export type DeviceIdParams = Static<typeof DeviceIdParams>;

/** A device and where it stands. */
export const Device = Type.Object({
  deviceId: Type.String(),
  accountId: Type.Optional(Type.String()),
  state: Type.String(),
});
export type Device = Static<typeof Device>;

/** A registration, signed by the identity key it registers. */
export const DeviceRegistration = Type.Object(
  { identityKey: Hex(32), email: AccountEmail, name: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
);
export type DeviceRegistration = Static<typeof DeviceRegistration>;

/** The one-time code mailed to the account's address. */
export const DeviceVerification = Type.Object(
  { code: Type.String({ pattern: "^[0-9]{6}$" }) },
  { additionalProperties: false },
);
export type DeviceVerification = Static<typeof DeviceVerification>;

/** An approval: the TOTP code where the account has one in force; without one, no body. */
export const DeviceApproval = objectOrNull(
  Type.Object({ totp: Type.Optional(TotpCode) }, { additionalProperties: false }),
);
export type DeviceApproval = Static<typeof DeviceApproval>;

/** An approved device, and the account change that makes it active. */
export const ApprovedDevice = Type.Object({
  deviceId: Type.String(),
  accountId: Type.String(),
  state: Type.String(),
  changeId: Type.String(),
  effectiveAt: Type.String(),
});
export type ApprovedDevice = Static<typeof ApprovedDevice>;

/** A revocation: `strandWallets` lets it leave wallets fewer signers than their threshold; usually no body. */
export const DeviceRevocation = objectOrNull(
  Type.Object({ strandWallets: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
);
export type DeviceRevocation = Static<typeof DeviceRevocation>;

/** A t-of-n wallet the revoked device was a member of, and how many members can still sign. */
export const WalletWithoutDevice = Type.Object({
  walletId: Type.String(),
  name: Type.String(),
  threshold: Type.Integer(),
  signersLeft: Type.Integer(),
});
export type WalletWithoutDevice = Static<typeof WalletWithoutDevice>;

/** A revoked device and the wallets it leaves behind. */
export const RevokedDevice = Type.Object({
  deviceId: Type.String(),
  accountId: Type.String(),
  state: Type.String(),
  wallets: Type.Array(WalletWithoutDevice),
});
export type RevokedDevice = Static<typeof RevokedDevice>;
