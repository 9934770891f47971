/**
 * The engine's calls of face recovery: enrolling the owner's face from the camera, the account's
 * heirs (enrolled from the camera too) and their veto, and recovering this device's wallets with the face on a new browser.
 *
 * The page captures the camera's frames (the worker has no camera) and posts their pixels: RGBA,
 * as a canvas gives them, each frame bounded in size and each call in frames. Recovery watches
 * the camera: `faceRecoverStart` gives the provider's liveness challenge to show, then the page
 * posts frames a few at a time with `faceRecoverFrames`, which answers "more" while the frames
 * read so far do not yet answer the challenge, until they do or the page's time runs out (`last`);
 * a page that leaves the camera before then says so with `faceRecoverCancel`.
 * Frames stay in the engine's memory for the call only; nothing of them is stored or sent.
 */
import {
  boolean,
  count,
  isRecord,
  list,
  literal,
  type MethodReaders,
  name,
  none,
  orNull,
  ProtocolError,
  type Reader,
  record,
  shortText,
  text,
  totpCode,
  uuid,
} from "../readers.js";

/** A camera frame as a canvas gives it: RGBA pixels, row by row. */
export interface Frame {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

/** The owner's inactivity after which an heir may recover: the provider takes 30 days to ten years. */
export const INACTIVITY_DAYS_MIN = 30;
export const INACTIVITY_DAYS_MAX = 3660;

/** The sides a frame may have: a face is not read from less, and more is only more work. */
export const FRAME_SIDE_MIN = 64;
export const FRAME_SIDE_MAX = 1280;
/** The most frames one enrollment reads; the page takes fewer. */
export const ENROLL_FRAMES_MAX = 16;
/** The most frames one `faceRecoverFrames` call carries. */
export const RECOVER_BATCH_MAX = 8;

/** An heir as the page shows them. */
export interface HeirEntry {
  id: string;
  email: string;
  /** The owner's inactivity, in days, after which the heir may recover. */
  inactivityDays: number | null;
  status: string;
}

/** Where a face recovery stands after the frames posted. */
export type RecoverProgress =
  | { kind: "more" }
  | {
      kind: "recovered";
      heir: boolean;
      wallets: string[];
      /** Until when the provider holds the wallets' transfers, unless an older device confirms (ms since the epoch). */
      holdUntilMs: number | null;
    };

export interface FaceMethods {
  /** Enrolls the owner's face from these frames; `totp`: the account's code, where it has a TOTP. */
  faceEnroll: { args: { frames: Frame[]; totp: string | null }; result: { wallets: number; effectiveMs: number } };
  faceHeirs: { args: Record<string, never>; result: HeirEntry[] };
  /** Enrolls an heir's face from these frames: they may recover after `inactivityDays` of the owner's inactivity. */
  faceAddHeir: {
    args: { email: string; inactivityDays: number | null; frames: Frame[]; totp: string | null };
    result: { effectiveMs: number };
  };
  faceVetoHeir: { args: { id: string }; result: HeirEntry };
  /** Starts a recovery on this device: the liveness challenge, in words ("look happy"). */
  faceRecoverStart: { args: Record<string, never>; result: { challenge: string } };
  /** More of the camera's frames for the recovery started; `last`: the camera stops after these. */
  faceRecoverFrames: { args: { frames: Frame[]; last: boolean }; result: RecoverProgress };
  /** Stops the recovery under way, if any (the page left it): it spends no guess from here on. */
  faceRecoverCancel: { args: Record<string, never>; result: Record<string, never> };
}

const side = (value: unknown, what: string) => {
  const n = count(value, what);
  if (n < FRAME_SIDE_MIN || n > FRAME_SIDE_MAX)
    throw new ProtocolError(`${what} is not ${FRAME_SIDE_MIN} to ${FRAME_SIDE_MAX} pixels`);
  return n;
};

/** A frame whose pixels are exactly width × height × 4 bytes. */
const frame: Reader<Frame> = (value, what) => {
  if (!isRecord(value)) throw new ProtocolError(`${what} is not an object`);
  const { width, height, data, ...rest } = value;
  if (Object.keys(rest).length > 0) throw new ProtocolError(`${what} has unexpected fields`);
  const read = { width: side(width, `${what}.width`), height: side(height, `${what}.height`) };
  if (!(data instanceof Uint8ClampedArray) || data.length !== read.width * read.height * 4)
    throw new ProtocolError(`${what}.data is not ${read.width} × ${read.height} RGBA pixels`);
  return { ...read, data };
};

const frames = (max: number): Reader<Frame[]> => {
  const read = list(frame, max);
  return (value, what) => {
    const out = read(value, what);
    if (out.length === 0) throw new ProtocolError(`${what} has no frame`);
    return out;
  };
};

/** An heir's address, as the provider gives it: one address of at most RFC 5321's 254 characters. */
const email = text({ min: 3, max: 254, pattern: /^[^\s@]+@[^\s@]+$/ });

const inactivityDays: Reader<number> = (value, what) => {
  const days = count(value, what);
  if (days < INACTIVITY_DAYS_MIN || days > INACTIVITY_DAYS_MAX)
    throw new ProtocolError(`${what} is not ${INACTIVITY_DAYS_MIN} to ${INACTIVITY_DAYS_MAX} days`);
  return days;
};

const heirEntry = record<HeirEntry>({ id: uuid, email, inactivityDays: orNull(count), status: shortText });

const recoverProgress: Reader<RecoverProgress> = (value, what) => {
  if (isRecord(value) && value.kind === "more")
    return record<Extract<RecoverProgress, { kind: "more" }>>({ kind: literal("more") })(value, what);
  return record<Extract<RecoverProgress, { kind: "recovered" }>>({
    kind: literal("recovered"),
    heir: boolean,
    wallets: list(name),
    holdUntilMs: orNull(count),
  })(value, what);
};

export const FACE_METHODS: MethodReaders<FaceMethods> = {
  faceEnroll: {
    args: record({ frames: frames(ENROLL_FRAMES_MAX), totp: orNull(totpCode) }),
    result: record({ wallets: count, effectiveMs: count }),
  },
  faceHeirs: { args: none, result: list(heirEntry) },
  faceAddHeir: {
    args: record({
      email,
      inactivityDays: orNull(inactivityDays),
      frames: frames(ENROLL_FRAMES_MAX),
      totp: orNull(totpCode),
    }),
    result: record({ effectiveMs: count }),
  },
  faceVetoHeir: { args: record({ id: uuid }), result: heirEntry },
  faceRecoverStart: { args: none, result: record({ challenge: shortText }) },
  faceRecoverFrames: {
    args: record({
      frames: frames(RECOVER_BATCH_MAX),
      last: boolean,
    }),
    result: recoverProgress,
  },
  faceRecoverCancel: { args: none, result: none },
};
