/**
 * The contract of face recovery and heirs: an active device enrolls a face (the owner's or an
 * heir's) and keeps its shares sealed to the enrollment; a device that proved the account's email
 * guesses the face, proves the recovery key and gets the shares; older devices confirm or reject.
 */
import { type Static, Type } from "typebox";
import { AccountEmail } from "./account.js";
import { FreeObject, Hex, StringEnum, TotpCode } from "./common.js";

/** The largest sealed share the provider keeps. */
export const MAX_BOX_BYTES = 16 * 1024;
/** The shortest and longest inactivity an owner may give an heir, in days. */
export const MIN_HEIR_INACTIVITY_DAYS = 30;
export const MAX_HEIR_INACTIVITY_DAYS = 3660;
/** Boxes one request may carry. */
const MAX_BOXES = 64;

const Uuid = Type.String({ format: "uuid" });
/** A sealed share: hex, two digits per byte. */
const BoxHex = Type.String({ pattern: "^([0-9a-f]{2})+$", maxLength: MAX_BOX_BYTES * 2 });
const StringOrNull = Type.Unsafe<string | null>({ type: ["string", "null"] });
/** Whose face an enrollment is: the account owner's, or an heir's. */
const EnrollmentKind = StringEnum<"owner" | "heir">(["owner", "heir"]);

/** A device's share of a hybrid wallet at an epoch, sealed to an enrollment's recovery key. */
export const SealedBoxes = Type.Array(
  Type.Object({ walletId: Uuid, epoch: Type.Integer({ minimum: 0 }), box: BoxHex }, { additionalProperties: false }),
  { maxItems: MAX_BOXES },
);
export type SealedBoxes = Static<typeof SealedBoxes>;

/** An enrollment as the account sees it; `changeId` and `effectiveAt` when finishing it started its delay. */
export const Enrollment = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  status: Type.String(),
  heirEmail: Type.Optional(Type.String()),
  inactivityDays: Type.Optional(Type.Number()),
  recoveryKey: Type.Optional(Type.String()),
  createdAt: Type.String(),
  changeId: Type.Optional(Type.String()),
  effectiveAt: Type.Optional(Type.String()),
});
export type Enrollment = Static<typeof Enrollment>;

export const EnrollmentList = Type.Object({ enrollments: Type.Array(Enrollment) });
export type EnrollmentList = Static<typeof EnrollmentList>;

/** Starts an enrollment with the helper data and the blinded face secret. */
export const EnrollmentStart = Type.Object(
  {
    id: Uuid,
    kind: EnrollmentKind,
    heirEmail: Type.Optional(AccountEmail),
    inactivityDays: Type.Optional(
      Type.Integer({ minimum: MIN_HEIR_INACTIVITY_DAYS, maximum: MAX_HEIR_INACTIVITY_DAYS }),
    ),
    helper: FreeObject,
    blinded: Hex(32),
  },
  { additionalProperties: false },
);
export type EnrollmentStart = Static<typeof EnrollmentStart>;

/** The started enrollment: the address it recovers for, and the OPRF evaluation of the blinded secret. */
export const EnrollmentStarted = Type.Object({
  id: Type.String(),
  email: Type.String(),
  evaluated: Type.String(),
});
export type EnrollmentStarted = Static<typeof EnrollmentStarted>;

/** Finishes an enrollment: the wrapped recovery key, its public keys, and the device's shares sealed to it. */
export const EnrollmentCompletion = Type.Object(
  { wrappedKey: Hex(60), recoveryKey: Hex(32), authKey: Hex(32), boxes: SealedBoxes, totp: Type.Optional(TotpCode) },
  { additionalProperties: false },
);
export type EnrollmentCompletion = Static<typeof EnrollmentCompletion>;

/** A hybrid wallet's share sealed again to every enrollment, at the wallet's current epoch. */
export const RecoveryBoxesUpdate = Type.Object(
  {
    epoch: Type.Integer({ minimum: 0 }),
    boxes: Type.Array(Type.Object({ enrollmentId: Uuid, box: BoxHex }, { additionalProperties: false }), {
      maxItems: MAX_BOXES,
    }),
  },
  { additionalProperties: false },
);
export type RecoveryBoxesUpdate = Static<typeof RecoveryBoxesUpdate>;

export const RecoveryBoxesSealed = Type.Object({ sealed: Type.Integer() });
export type RecoveryBoxesSealed = Static<typeof RecoveryBoxesSealed>;

/** The enrollments a device may recover with, their helper data, and a liveness challenge. */
export const RecoverableEnrollments = Type.Object({
  challenge: FreeObject,
  enrollments: Type.Array(
    Type.Object({ id: Type.String(), kind: EnrollmentKind, email: Type.String(), helper: FreeObject }),
  ),
});
export type RecoverableEnrollments = Static<typeof RecoverableEnrollments>;

/** One guess at the face: its secret, blinded. */
export const FaceGuess = Type.Object({ blinded: Hex(32) }, { additionalProperties: false });
export type FaceGuess = Static<typeof FaceGuess>;

/** The guess evaluated, with what the device needs to try it, and the guesses left today. */
export const FaceGuessReply = Type.Object({
  evaluated: Type.String(),
  wrappedKey: Type.String(),
  recoveryKey: Type.String(),
  attemptsLeft: Type.Integer(),
});
export type FaceGuessReply = Static<typeof FaceGuessReply>;

/** The recovery key's signature over the enrollment and the claiming device. */
export const RecoveryClaim = Type.Object({ signature: Hex(64) }, { additionalProperties: false });
export type RecoveryClaim = Static<typeof RecoveryClaim>;

/** The device's shares, sealed; for an owner's recovery, the recovery and until when transfers are held. */
export const ClaimedRecovery = Type.Object({
  recoveryId: StringOrNull,
  holdUntil: StringOrNull,
  boxes: SealedBoxes,
});
export type ClaimedRecovery = Static<typeof ClaimedRecovery>;

/** A face recovery of the account, and whether an older device decided on it. */
export const Recovery = Type.Object({
  id: Type.String(),
  device: Type.String(),
  at: Type.String(),
  holdUntil: Type.String(),
  status: Type.String(),
});
export type Recovery = Static<typeof Recovery>;

export const RecoveryList = Type.Object({ recoveries: Type.Array(Recovery) });
export type RecoveryList = Static<typeof RecoveryList>;
