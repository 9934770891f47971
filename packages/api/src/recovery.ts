/**
 * The contract of face recovery and heirs: an active device enrolls a face (the owner's or an
 * heir's) at the recovery operators and keeps its shares sealed to the enrollment; a device that
 * proved the account's email gets a ticket per face guess to take to the operators, proves the
 * recovery key and gets the shares; older devices confirm or reject.
 */
import { type Static, Type } from "typebox";
import { AccountEmail } from "./account.js";
import { FreeObject, Hex, StringEnum, TotpCode, Uuid } from "./common.js";

/** The largest sealed share the provider keeps. */
export const MAX_BOX_BYTES = 16 * 1024;
/** The shortest and longest inactivity an owner may give an heir, in days. */
export const MIN_HEIR_INACTIVITY_DAYS = 30;
export const MAX_HEIR_INACTIVITY_DAYS = 3660;
/** Boxes one request may carry. */
const MAX_BOXES = 64;

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

/** The most recovery operators a provider lists. */
export const MAX_RECOVERY_OPERATORS = 16;

/** Starts an enrollment with the helper data. */
export const EnrollmentStart = Type.Object(
  {
    id: Uuid,
    kind: EnrollmentKind,
    heirEmail: Type.Optional(AccountEmail),
    inactivityDays: Type.Optional(
      Type.Integer({ minimum: MIN_HEIR_INACTIVITY_DAYS, maximum: MAX_HEIR_INACTIVITY_DAYS }),
    ),
    helper: FreeObject,
  },
  { additionalProperties: false },
);
export type EnrollmentStart = Static<typeof EnrollmentStart>;

/**
 * A ticket the provider signed with its ticket key: it lets one device enroll at, or ask for one
 * evaluation from, the recovery operators (`@keyshard/recovery`'s `operator-ticket.ts`).
 */
export const OperatorTicket = Type.Object(
  // An enroll ticket naming 16 operators runs to about 1.6 kB (`MAX_TICKET_PAYLOAD_BYTES`, 2048).
  { payload: Type.String({ pattern: "^([0-9a-f]{2})+$", maxLength: 4096 }), signature: Hex(64) },
  { additionalProperties: false },
);
export type OperatorTicket = Static<typeof OperatorTicket>;

/** A recovery operator as the provider lists it: its place in the sharing, its address, its X25519 key. */
export const RecoveryOperator = Type.Object(
  {
    index: Type.Integer({ minimum: 1, maximum: MAX_RECOVERY_OPERATORS }),
    url: Type.String(),
    key: Hex(32),
  },
  { additionalProperties: false },
);
export type RecoveryOperator = Static<typeof RecoveryOperator>;

/** The recovery operators the provider's enrollments use, how many must answer, and the key their tickets are signed with. */
export const RecoveryOperators = Type.Object(
  {
    threshold: Type.Integer({ minimum: 2, maximum: MAX_RECOVERY_OPERATORS }),
    operators: Type.Array(RecoveryOperator, { maxItems: MAX_RECOVERY_OPERATORS }),
    ticketKey: Hex(32),
  },
  { additionalProperties: false },
);
export type RecoveryOperators = Static<typeof RecoveryOperators>;

/** The started enrollment: the address it recovers for, and the ticket that enrolls it at the operators. */
export const EnrollmentStarted = Type.Object({
  id: Type.String(),
  email: Type.String(),
  ticket: OperatorTicket,
});
export type EnrollmentStarted = Static<typeof EnrollmentStarted>;

/**
 * Finishes an enrollment: the wrapped recovery key, its public keys, the OPRF public key the
 * device dealt to the operators and their threshold, and the device's shares sealed to it.
 */
export const EnrollmentCompletion = Type.Object(
  {
    wrappedKey: Hex(60),
    recoveryKey: Hex(32),
    authKey: Hex(32),
    oprfKey: Hex(32),
    threshold: Type.Integer({ minimum: 2, maximum: MAX_RECOVERY_OPERATORS }),
    boxes: SealedBoxes,
    totp: Type.Optional(TotpCode),
  },
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

/**
 * Asks for one guess at the face: the blinded element the device will send the operators (a
 * ristretto255 element, not the identity), which the ticket then names.
 */
export const FaceRecoveryTicketRequest = Type.Object({ blinded: Hex(32) }, { additionalProperties: false });
export type FaceRecoveryTicketRequest = Static<typeof FaceRecoveryTicketRequest>;

/**
 * One guess at the face: the ticket the operators evaluate it for, what the device needs to try
 * their answer (the wrapped key, the public keys bound into it, the operators), and the guesses
 * left today at the provider.
 */
export const FaceRecoveryTicket = Type.Object({
  ticket: OperatorTicket,
  wrappedKey: Type.String(),
  recoveryKey: Type.String(),
  oprfKey: Type.String(),
  threshold: Type.Integer(),
  operators: Type.Array(RecoveryOperator),
  attemptsLeft: Type.Integer(),
});
export type FaceRecoveryTicket = Static<typeof FaceRecoveryTicket>;

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
