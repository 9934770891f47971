/**
 * "The secret is in you", on the device: enrolling a face (the owner's, or an heir's) and
 * recovering the hybrid wallets from it on a new device. The face is read into an embedding that
 * stays in memory; what leaves the device is helper data, the OPRF key's shares sealed to the
 * recovery operators, blinded OPRF inputs, the wrapped recovery key and the shares sealed to the
 * recovery public key.
 *
 * At enrollment the device deals the enrollment's OPRF key t-of-n among the recovery operators
 * and forgets it: no single party, the provider included, can then evaluate the OPRF, so none can
 * test a face guess offline. Recovery is local first: the liveness challenge and the fuzzy
 * extractor run on the device, so a face that does not decode, or frames that do not answer the
 * challenge, spend no guess. Only then does the device take one counted, mailed ticket from the
 * provider to the operators, each of which counts and mails the guess too, and combine t of
 * their verified answers into the key that unwraps the recovery key.
 */
import { endpoints } from "@keyshard/api";
import {
  BiometricError,
  type Challenge,
  captureFace,
  checkLiveness,
  type DetectedFace,
  describeChallenge,
  enrollFace,
  parseChallenge,
  parseHelperData,
  type RgbImage,
  readFrames,
  reproduceFace,
} from "@keyshard/biometric";
import { isSchemeName, scheme } from "@keyshard/mpc";
import {
  blindFaceSecret,
  combinePartials,
  dealOprfKey,
  evaluateWithKey,
  type FaceBlind,
  faceBoxContext,
  faceWrapKey,
  newRecoveryKey,
  openRecoveryBox,
  operatorShareContext,
  type PartialEvaluation,
  publicShare,
  RecoveryBoxError,
  type RecoveryKeyPair,
  readTicket,
  recoveryAuthKey,
  sealToRecoveryKey,
  signRecoveryClaim,
  TicketError,
  type TicketPurpose,
  unwrapRecoveryKey,
  verifyPartial,
  wrapRecoveryKey,
} from "@keyshard/recovery";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import type { ProviderClient } from "./client.js";
import type { Device } from "./device/device.js";
import { WalletError } from "./errors.js";
import {
  askEvaluation,
  checkOperatorKey,
  chooseOperators,
  hexOf,
  type OperatorEvaluation,
  readOperatorListing,
  readOperatorSet,
  registerShare,
  sameOperatorSet,
} from "./recovery-operators.js";
import { present } from "./replies.js";
import type { PinnedOperators, RecoveryOperator, StoredWallet } from "./state.js";

/** What face recovery needs of the wallet: its provider link, its hybrid wallets, its pinned operators. */
export interface FaceLink {
  client: ProviderClient;
  email: string;
  deviceId: string;
  wallets(): StoredWallet[];
  progress(message: string): void;
  /** The recovery operators this device pinned, if it has. */
  pinnedOperators(): PinnedOperators | undefined;
  pinOperators(operators: PinnedOperators): Promise<void>;
  /** The recovery keys this device seals its shares to, by enrollment id. */
  pinnedRecoveryKeys(): Readonly<Record<string, string>>;
  /** Adds `keys` to those pinned. */
  pinRecoveryKeys(keys: Readonly<Record<string, string>>): Promise<void>;
}

/**
 * What a face is read from: picture files (in Node), pictures already decoded, or a camera's
 * frames as they come (an async iterable, which recovery watches until the challenge is met).
 */
export type FaceFrames = readonly string[] | readonly RgbImage[] | AsyncIterable<RgbImage>;

/** How many faces a camera's frames give at least before they are enough: one frame is a noisy embedding. */
const LIVE_FACES_MIN = 3;

/**
 * When a camera's frames are enough: `LIVE_FACES_MIN` faces, and at recovery faces that answer
 * the liveness challenge — the camera is watched until the person does what it asks.
 */
export const enoughFaces =
  (challenge?: Challenge) =>
  (faces: readonly DetectedFace[]): boolean =>
    faces.length >= LIVE_FACES_MIN && (challenge === undefined || checkLiveness(faces, challenge).live);

const isPaths = (frames: readonly string[] | readonly RgbImage[]): frames is readonly string[] =>
  frames.every((f) => typeof f === "string");

/**
 * The face in `frames`, with biometric errors turned into the wallet's; a camera's frames are
 * read until they answer `challenge` (at recovery) or until the camera stops.
 */
async function capture(frames: FaceFrames, challenge?: Challenge) {
  try {
    if (!Array.isArray(frames)) {
      const face = await captureFace(frames as AsyncIterable<RgbImage>, enoughFaces(challenge));
      if (face.faces.length < LIVE_FACES_MIN)
        throw new WalletError(
          "usage",
          `face: only ${face.faces.length} of the camera's frames showed a face; at least ${LIVE_FACES_MIN} are needed`,
        );
      return face;
    }
    const pictures = frames as readonly string[] | readonly RgbImage[];
    return await captureFace(isPaths(pictures) ? readFrames(pictures) : pictures);
  } catch (e) {
    if (e instanceof BiometricError)
      throw new WalletError(e.code === "models" ? "face-models" : "usage", `face: ${e.message}`, {}, { cause: e });
    throw e;
  }
}

const hybrid = (link: FaceLink) => link.wallets().filter((w) => w.members === null && w.providerShare === undefined);

/** The provider's rule for a wallet's name: 1 to 64 characters. */
const WALLET_NAME_MAX = 64;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const KEY_HEX = /^[0-9a-f]{64}$/;

/** Recovery keys by enrollment id, read strictly; undefined when not exactly that. */
function recoveryKeyMap(value: unknown): Record<string, string> | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const entries = Object.entries(value);
  return entries.every(([id, key]) => UUID.test(id) && typeof key === "string" && KEY_HEX.test(key))
    ? Object.fromEntries(entries)
    : undefined;
}

/**
 * What a box holds: the device's wallet record with its share at the wallet's epoch, and the
 * recovery keys its sealer pinned, so that a device recovering from it seals to those alone.
 */
function boxOf(wallet: StoredWallet, recoveryKey: Uint8Array, recoveryKeys: Readonly<Record<string, string>>): string {
  const { id, name, scheme: s, publicKey, share, index, threshold, members } = wallet;
  const content = {
    id,
    name,
    scheme: s,
    publicKey,
    share,
    index,
    threshold,
    members,
    epoch: wallet.epoch ?? 0,
    recoveryKeys,
  };
  return bytesToHex(
    sealToRecoveryKey(recoveryKey, faceBoxContext(id), new TextEncoder().encode(JSON.stringify(content))),
  );
}

const urlsOf = (operators: readonly RecoveryOperator[]) => operators.map((o) => o.url).join(", ");

/**
 * The provider's recovery operators, as this device accepts them (see `chooseOperators`), and the
 * key the provider's tickets verify with.
 */
async function operatorsOf(
  link: FaceLink,
  explicit?: readonly RecoveryOperator[],
): Promise<{ operators: PinnedOperators; ticketKey: Uint8Array }> {
  const listing = readOperatorListing(await link.client.request(endpoints.faceRecoveryOperators));
  const { ticketKey, ...listed } = listing;
  return { operators: chooseOperators(listed, link.pinnedOperators(), explicit), ticketKey };
}

/** Pins `operators` unless they already are. */
async function pin(link: FaceLink, operators: PinnedOperators): Promise<void> {
  const pinned = link.pinnedOperators();
  if (pinned === undefined || !sameOperatorSet(pinned, operators)) await link.pinOperators(operators);
}

/**
 * Checks a ticket the provider signed for this device: what the operators will act on is this
 * enrollment, for this device, for this purpose (at enrollment, the account's email they mail; at
 * recovery, the blinded guess this device sends, so the ticket spends no other).
 */
function checkTicket(
  signed: unknown,
  ticketKey: Uint8Array,
  expected: {
    purpose: TicketPurpose;
    enrollment: string;
    device: string;
    email?: string;
    blinded?: string;
    threshold?: number;
    /** The operators' keys in index order, comma-joined. */
    operators?: string;
  },
): void {
  let ticket: Record<string, unknown>;
  try {
    ticket = { ...readTicket(signed, ticketKey, Date.now()) };
  } catch (e) {
    if (!(e instanceof TicketError)) throw e;
    throw new WalletError("provider-refused", `the provider's ticket is not usable: ${e.message}`, {}, { cause: e });
  }
  for (const [field, value] of Object.entries(expected)) {
    const named = Array.isArray(ticket[field]) ? (ticket[field] as unknown[]).join(",") : ticket[field];
    if (named !== value)
      throw new WalletError(
        "provider-refused",
        `the provider's ticket names another ${field} (${String(named)}) than ${value}`,
      );
  }
}

/**
 * Runs `work` at every operator at once; any failure (each a WalletError naming its operator)
 * fails the whole, with every failure said.
 */
async function atEveryOperator(
  operators: readonly RecoveryOperator[],
  work: (operator: RecoveryOperator) => Promise<void>,
  consequence: string,
): Promise<void> {
  const settled = await Promise.allSettled(operators.map(work));
  const failures = settled.flatMap((s) => (s.status === "rejected" ? [s.reason as unknown] : []));
  if (failures.length === 0) return;
  const unexpected = failures.find((e) => !(e instanceof WalletError));
  if (unexpected !== undefined) throw unexpected;
  const reasons = failures as WalletError[];
  throw new WalletError(
    "operator",
    `${reasons.map((e) => e.message).join("; ")}: ${consequence}`,
    { operators: reasons.map((e) => e.details.operator) },
    { cause: reasons[0] },
  );
}

/**
 * Enrolls the face in `frames` for the owner, or for an heir named by `heir.email`; `totp`: the
 * account's code, needed where it has a TOTP; `operators`: the recovery operators to accept when
 * the provider names others than this device pinned. The enrollment takes effect at `effectiveAt`.
 */
export async function enrollFaceAt(
  link: FaceLink,
  frames: FaceFrames,
  heir?: { email: string; inactivityDays?: number },
  totp?: string,
  operators?: readonly RecoveryOperator[],
): Promise<{ enrollmentId: string; wallets: number; effectiveAt: string }> {
  const face = await capture(frames);
  const id = crypto.randomUUID();
  const email = (heir?.email ?? link.email).toLowerCase();
  const { helper, secret } = enrollFace(face);
  // The extractor's secret is needed only blinded: it is forgotten at once, whatever fails later.
  let blind: FaceBlind;
  try {
    blind = blindFaceSecret(id, email, secret);
  } finally {
    secret.fill(0);
  }
  const { operators: chosen, ticketKey } = await operatorsOf(link, operators);
  const { threshold } = chosen;
  link.progress(`checking the keys of the recovery operators ${urlsOf(chosen.operators)}`);
  await atEveryOperator(
    chosen.operators,
    (o) => checkOperatorKey(o, ticketKey),
    "the face is not enrolled; ask the provider's operator about it",
  );
  await pin(link, chosen);

  const started = await link.client.request(endpoints.startEnrollment, {
    body: {
      id,
      kind: heir ? "heir" : "owner",
      ...(heir && { heirEmail: email }),
      ...(heir?.inactivityDays !== undefined && { inactivityDays: heir.inactivityDays }),
      helper,
    },
  });
  if (started.email !== email)
    throw new WalletError("provider-refused", `the provider bound the enrollment to ${started.email}, not ${email}`);
  // The operators mail every guess to the address in the ticket: the account's, an heir's guesses too.
  checkTicket(started.ticket, ticketKey, {
    purpose: "enroll",
    enrollment: id,
    device: link.deviceId,
    email: link.email.toLowerCase(),
    // The operators act on the set the ticket names: the one this device accepted, or its shares are lost.
    threshold,
    operators: chosen.operators.map((o) => o.key).join(","),
  });

  // The OPRF key lives only here, only until its shares are sealed and the wrap key is made.
  const sharing = dealOprfKey(
    threshold,
    chosen.operators.map((o) => o.index),
  );
  let wrapKey: Uint8Array;
  let sealed: Map<number, Uint8Array>;
  try {
    wrapKey = faceWrapKey(blind, evaluateWithKey(sharing.key, blind.blinded));
    sealed = new Map(
      sharing.shares.map(({ index, share }) => {
        const operator = chosen.operators.find((o) => o.index === index) as RecoveryOperator;
        return [index, sealToRecoveryKey(hexToBytes(operator.key), operatorShareContext(id, index), share)];
      }),
    );
  } finally {
    sharing.key.fill(0);
    for (const { share } of sharing.shares) share.fill(0);
  }
  link.progress(`registering the enrollment's key shares at the recovery operators ${urlsOf(chosen.operators)}`);
  await atEveryOperator(
    chosen.operators,
    (o) =>
      registerShare(o, {
        enrollment: id,
        ticket: started.ticket,
        threshold,
        commitments: sharing.commitments,
        sealedShare: sealed.get(o.index) as Uint8Array,
        publicShare: publicShare(sharing.commitments, o.index),
      }),
    "the face is not enrolled (every operator must hold its share); try again later",
  );

  const recovery = newRecoveryKey();
  let wrapped: Uint8Array;
  let authKey: Uint8Array;
  try {
    wrapped = wrapRecoveryKey(wrapKey, id, recovery, sharing.publicKey);
    authKey = recoveryAuthKey(recovery).publicKey;
  } finally {
    wrapKey.fill(0);
    recovery.secretKey.fill(0);
  }
  const wallets = hybrid(link);
  const recoveryKeys = { ...link.pinnedRecoveryKeys(), [id]: bytesToHex(recovery.publicKey) };
  const done = await link.client.request(endpoints.completeEnrollment, {
    params: { id },
    body: {
      wrappedKey: bytesToHex(wrapped),
      recoveryKey: bytesToHex(recovery.publicKey),
      authKey: bytesToHex(authKey),
      oprfKey: bytesToHex(sharing.publicKey),
      threshold,
      boxes: wallets.map((w) => ({
        walletId: w.id,
        epoch: w.epoch ?? 0,
        box: boxOf(w, recovery.publicKey, recoveryKeys),
      })),
      ...(totp !== undefined && { totp }),
    },
  });
  await link.pinRecoveryKeys({ [id]: recoveryKeys[id] as string });
  // The older enrollments' boxes get the new map too: a device recovered from them seals to this one.
  for (const w of wallets) await sealRecoveryBoxes(link, w);
  return { enrollmentId: id, wallets: wallets.length, effectiveAt: present(done.effectiveAt, "effective time") };
}

/**
 * Seals a hybrid wallet's current share again to every enrollment the provider lists (a new
 * wallet, a refresh), each to the recovery key this device pinned for it: a listed enrollment
 * this device did not pin, or listed with another key, could be the provider's own, so then
 * nothing is sealed.
 */
export async function sealRecoveryBoxes(link: FaceLink, wallet: StoredWallet): Promise<number> {
  if (wallet.members !== null || wallet.providerShare !== undefined) return 0;
  const { enrollments } = await link.client.request(endpoints.recoveryKeys);
  if (enrollments.length === 0) return 0;
  const pinned = link.pinnedRecoveryKeys();
  const boxes = enrollments.map((e) => {
    if (typeof e.id !== "string" || !UUID.test(e.id))
      throw new WalletError("provider-refused", "the provider lists an enrollment whose id is not a UUID");
    if (!Object.hasOwn(pinned, e.id) || pinned[e.id] !== e.recoveryKey)
      throw new WalletError(
        "provider-refused",
        `the provider lists enrollment ${e.id} with a recovery key this device did not enroll or recover with: no share is sealed`,
      );
    return { enrollmentId: e.id, box: boxOf(wallet, hexToBytes(pinned[e.id] as string), pinned) };
  });
  const reply = await link.client.request(endpoints.resealRecoveryBoxes, {
    params: { id: wallet.id },
    body: { epoch: wallet.epoch ?? 0, boxes },
  });
  return reply.sealed;
}

/**
 * A box's content read strictly: it comes back from the provider, which may have altered it. The
 * share proves the box was made by the share's holder, so the recovery keys it names are theirs.
 */
export function walletFromBox(
  recovery: RecoveryKeyPair,
  box: { walletId: string; epoch: number; box: string },
): { wallet: StoredWallet; recoveryKeys: Record<string, string> } {
  let content: Record<string, unknown>;
  try {
    content = JSON.parse(
      new TextDecoder().decode(openRecoveryBox(recovery, faceBoxContext(box.walletId), hexToBytes(box.box))),
    );
  } catch (e) {
    throw new WalletError("signing-failed", `a recovered box does not open: ${(e as Error).message}`, {}, { cause: e });
  }
  const bad = (why: string, cause?: unknown) =>
    new WalletError("signing-failed", `the recovered box of ${box.walletId} ${why}`, {}, { cause });
  const { id, name, scheme: s, publicKey, share, index, threshold, members, epoch } = content;
  // Boxes sealed before their sealer pinned recovery keys name none.
  const recoveryKeys = content.recoveryKeys === undefined ? {} : recoveryKeyMap(content.recoveryKeys);
  if (recoveryKeys === undefined) throw bad("names malformed recovery keys");
  if (id !== box.walletId || epoch !== box.epoch) throw bad("is for another wallet or epoch");
  if (typeof name !== "string" || typeof publicKey !== "string" || typeof share !== "string") throw bad("is malformed");
  if (name.length < 1 || name.length > WALLET_NAME_MAX)
    throw bad(`names the wallet in other than 1 to ${WALLET_NAME_MAX} characters`);
  if (typeof s !== "string" || !isSchemeName(s) || members !== null || index !== 0 || threshold !== 2)
    throw bad("is not a hybrid wallet's device share");
  const engine = scheme(s);
  try {
    if (bytesToHex(engine.publicKey(engine.decodeShare(hexToBytes(share)))) !== publicKey)
      throw bad("holds a share of another key");
  } catch (e) {
    if (e instanceof WalletError) throw e;
    throw bad(`holds no share: ${(e as Error).message}`, e);
  }
  return {
    wallet: { id, name, scheme: s, publicKey, share, index: 0, threshold: 2, members: null, epoch },
    recoveryKeys,
  };
}

/**
 * The recovery keys every opened box names alike. Anyone can seal to a recovery public key, so the
 * provider could add a box of a wallet it made up; its keys are taken only where the boxes of the
 * real wallets, which only their share's holder made, name them too.
 */
function sharedKeys(opened: readonly { recoveryKeys: Record<string, string> }[]): Record<string, string> {
  const [first, ...others] = opened.map((o) => o.recoveryKeys);
  return Object.fromEntries(
    Object.entries(first ?? {}).filter(([id, key]) => others.every((keys) => keys[id] === key)),
  );
}

/** An enrollment the provider says this device may recover with. */
interface RecoverableEnrollment {
  id: string;
  kind: "owner" | "heir";
  email: string;
  helper: unknown;
}

/** The provider's enrollments open to this device, strictly: their ids and emails go into each guess. */
function readRecoverable(enrollments: unknown): RecoverableEnrollment[] {
  const bad = (why: string) => new WalletError("provider-refused", `the provider's list of enrollments ${why}`);
  if (!Array.isArray(enrollments)) throw bad("is not a list");
  return enrollments.map((e: unknown) => {
    if (typeof e !== "object" || e === null) throw bad("holds something that is not an enrollment");
    const { id, kind, email, helper } = e as Record<string, unknown>;
    if (typeof id !== "string" || !UUID.test(id)) throw bad("names an enrollment whose id is not a UUID");
    if (kind !== "owner" && kind !== "heir") throw bad(`names enrollment ${id} of no known kind`);
    // Printable, one line, with an @: it is mixed into the guess and shown.
    if (typeof email !== "string" || email.length > 320 || !/^[^\s@\p{Cc}]+@[^\s@\p{Cc}]+$/u.test(email))
      throw bad(`names enrollment ${id} for an email that is not one`);
    return { id, kind, email, helper };
  });
}

/** The provider's answer to a claim, strictly: its boxes are opened, its hold shown. */
function readClaim(claimed: unknown): Omit<Recovered, "kind" | "wallets"> & {
  boxes: { walletId: string; epoch: number; box: string }[];
} {
  const bad = () => new WalletError("provider-refused", "the provider's answer to the recovery claim is malformed");
  if (typeof claimed !== "object" || claimed === null) throw bad();
  const { boxes, recoveryId, holdUntil } = claimed as Record<string, unknown>;
  if (!Array.isArray(boxes)) throw bad();
  const optionalString = (v: unknown) => v === null || (typeof v === "string" && !/\p{Cc}/u.test(v));
  if (!optionalString(recoveryId) || !optionalString(holdUntil)) throw bad();
  for (const b of boxes as unknown[]) {
    const { walletId, epoch, box } = (typeof b === "object" && b !== null ? b : {}) as Record<string, unknown>;
    if (typeof walletId !== "string" || !UUID.test(walletId) || !Number.isSafeInteger(epoch) || (epoch as number) < 0)
      throw bad();
    if (typeof box !== "string" || box.length % 2 !== 0 || !/^[0-9a-f]+$/.test(box)) throw bad();
  }
  return {
    boxes: boxes as { walletId: string; epoch: number; box: string }[],
    recoveryId: recoveryId as string | null,
    holdUntil: holdUntil as string | null,
  };
}

export interface Recovered {
  kind: "owner" | "heir";
  wallets: StoredWallet[];
  recoveryId: string | null;
  holdUntil: string | null;
}

/** `value`, from the provider, as `bytes` bytes of lower-case hex. */
function providerHex(value: unknown, bytes: number, what: string): Uint8Array {
  const decoded = hexOf(value, bytes);
  if (decoded === undefined)
    throw new WalletError("provider-refused", `the provider's ${what} is not ${bytes} bytes of hex`);
  return decoded;
}

/** Failures that leave fewer than `threshold` right answers, as one error listing each. */
const tooFewAnswers = (threshold: number, failures: string[]) =>
  new WalletError(
    "operators",
    `fewer than the ${threshold} recovery operators needed answered rightly: ${failures.join("; ")}`,
    { failures },
  );

/**
 * k·B from the operators' answers: each must be for the enrollment's OPRF public key `oprfKey`
 * (commitments[0]) with a proof that verifies. Among those, only answers for identical
 * commitments combine (an operator could make up commitments its own answer verifies against),
 * so the largest such group gives `threshold` of its answers. When no group has `threshold`,
 * which side lies is unknown and every group's operators are named. Every operator left out is
 * said through `progress`.
 */
function combineAnswers(
  link: FaceLink,
  operators: PinnedOperators,
  oprfKey: Uint8Array,
  blinded: Uint8Array,
  answers: PromiseSettledResult<OperatorEvaluation>[],
): Uint8Array {
  const { threshold } = operators;
  const failures: string[] = [];
  const groups = new Map<string, { operator: RecoveryOperator; partial: PartialEvaluation }[]>();
  for (const [i, answer] of answers.entries()) {
    const operator = operators.operators[i] as RecoveryOperator;
    if (answer.status === "rejected") {
      if (!(answer.reason instanceof WalletError)) throw answer.reason;
      failures.push(answer.reason.message);
      continue;
    }
    const { partial, commitments } = answer.value;
    // A t-of-n sharing has exactly t commitments: others describe another sharing than the one pinned.
    if (commitments.length !== threshold) {
      failures.push(
        `recovery operator ${operator.url} answered with ${commitments.length} commitments, not the ${threshold} of the threshold`,
      );
      continue;
    }
    const commitmentsHex = commitments.map(bytesToHex);
    if (commitmentsHex[0] !== bytesToHex(oprfKey) || !verifyPartial(commitments, blinded, partial)) {
      failures.push(`recovery operator ${operator.url} answered a wrong evaluation`);
      continue;
    }
    const group = commitmentsHex.join("");
    groups.set(group, [...(groups.get(group) ?? []), { operator, partial }]);
  }
  const ranked = [...groups.values()].sort((a, b) => b.length - a.length);
  const [largest, ...others] = ranked;
  if (largest === undefined || largest.length < threshold) {
    // No group is the majority to measure the others by: which side lies is unknown, so all are named.
    if (ranked.length > 1)
      failures.push(
        `the recovery operators' answers disagree (${ranked
          .map((group) => group.map(({ operator }) => operator.url).join(" and "))
          .join(" against ")} answered for different commitments)`,
      );
    for (const failure of failures) link.progress(failure);
    throw tooFewAnswers(threshold, failures);
  }
  for (const { operator } of others.flat())
    failures.push(`recovery operator ${operator.url} answered for commitments the other operators do not share`);
  for (const failure of failures) link.progress(failure);
  return combinePartials(
    threshold,
    largest.slice(0, threshold).map((a) => a.partial),
  );
}

/**
 * One guess at an enrollment the face decodes against: a ticket from the provider (one counted
 * attempt there), the blinded guess to every operator at once, and the recovery key unwrapped
 * with what `threshold` of them answered; undefined when the face does not open it.
 */
async function guess(
  link: FaceLink,
  enrollment: RecoverableEnrollment,
  secret: Uint8Array,
  accepted: { operators: PinnedOperators; ticketKey: Uint8Array },
): Promise<RecoveryKeyPair | undefined> {
  link.progress(`the face decodes against enrollment ${enrollment.id}: asking the provider (one counted attempt)`);
  const blind = blindFaceSecret(enrollment.id, enrollment.email, secret);
  // The ticket names the blinded guess: one counted attempt is one input at each operator.
  const answer = await link.client.request(endpoints.faceRecoveryTicket, {
    params: { id: enrollment.id },
    body: { blinded: bytesToHex(blind.blinded) },
  });
  const from = "the provider's ticket";
  const operators = readOperatorSet(answer.threshold, answer.operators, from);
  if (!sameOperatorSet(operators, accepted.operators))
    throw new WalletError("provider-refused", `${from} names other recovery operators than its list of them`);
  checkTicket(answer.ticket, accepted.ticketKey, {
    purpose: "recover",
    enrollment: enrollment.id,
    device: link.deviceId,
    blinded: bytesToHex(blind.blinded),
  });
  const oprfKey = providerHex(answer.oprfKey, 32, "OPRF public key");
  const recoveryKey = providerHex(answer.recoveryKey, 32, "recovery key");
  const wrappedKey = providerHex(answer.wrappedKey, 60, "wrapped recovery key");
  link.progress(
    `asking the recovery operators ${urlsOf(operators.operators)} (each counts and mails the attempt; ${operators.threshold} must answer)`,
  );
  const answers = await Promise.allSettled(
    operators.operators.map((o) => askEvaluation(o, enrollment.id, answer.ticket, blind.blinded)),
  );
  const combined = combineAnswers(link, operators, oprfKey, blind.blinded, answers);
  let wrapKey: Uint8Array | undefined;
  try {
    wrapKey = faceWrapKey(blind, combined);
    return unwrapRecoveryKey(wrapKey, enrollment.id, recoveryKey, wrappedKey, oprfKey);
  } catch (e) {
    if (e instanceof RecoveryBoxError) return undefined;
    throw e;
  } finally {
    combined.fill(0);
    wrapKey?.fill(0);
  }
}

/**
 * Recovers with the face: asks for the enrollments and a liveness challenge, lets the person
 * capture (`ready`), checks liveness, decodes the face locally, and spends one guess per
 * enrollment that decodes; `operators`: the recovery operators to accept when the provider
 * names others than this device pinned.
 */
export async function recoverWithFace(
  link: FaceLink,
  frames: FaceFrames,
  ready: (challenge: Challenge) => Promise<void>,
  operators?: readonly RecoveryOperator[],
): Promise<Recovered> {
  const listed = await link.client.request(endpoints.recoverableEnrollments);
  const enrollments = readRecoverable(listed.enrollments);
  if (enrollments.length === 0)
    throw new WalletError(
      "provider-refused",
      "no face enrollment is open to this device: was a face enrolled for this email (or, for an heir, has the owner's inactivity passed)?",
    );
  let challenge: Challenge;
  try {
    challenge = parseChallenge(listed.challenge);
  } catch (e) {
    throw new WalletError(
      "provider-refused",
      "the provider's liveness challenge is not one this device knows",
      {},
      { cause: e },
    );
  }
  await ready(challenge);
  const face = await capture(frames, challenge);
  const live = checkLiveness(face.faces, challenge);
  if (!live.live)
    throw new WalletError("liveness", `liveness: the frames do not ${describeChallenge(challenge)} (${live.reason})`);
  let accepted: Awaited<ReturnType<typeof operatorsOf>> | undefined;
  for (const enrollment of enrollments) {
    let secret: Uint8Array;
    try {
      secret = reproduceFace(face, parseHelperData(enrollment.helper)).secret;
    } catch (e) {
      if (e instanceof BiometricError) continue;
      throw e;
    }
    if (accepted === undefined) {
      accepted = await operatorsOf(link, operators);
      await pin(link, accepted.operators);
    }
    let recovery: RecoveryKeyPair | undefined;
    try {
      recovery = await guess(link, enrollment, secret, accepted);
    } finally {
      secret.fill(0);
    }
    if (recovery === undefined) continue;
    try {
      const claimed = readClaim(
        await link.client.request(endpoints.claimRecovery, {
          params: { id: enrollment.id },
          body: { signature: bytesToHex(signRecoveryClaim(recovery, enrollment.id, link.deviceId)) },
        }),
      );
      const opened = claimed.boxes.map((b) => walletFromBox(recovery, b));
      await link.pinRecoveryKeys({ ...sharedKeys(opened), [enrollment.id]: bytesToHex(recovery.publicKey) });
      return {
        kind: enrollment.kind,
        wallets: opened.map((o) => o.wallet),
        recoveryId: claimed.recoveryId,
        holdUntil: claimed.holdUntil,
      };
    } finally {
      recovery.secretKey.fill(0);
    }
  }
  throw new WalletError("no-match", "this face does not match any enrollment open to this device");
}

/** The face link of `device`: its provider, its account's email, its wallets and pinned operators. */
export function faceLink(device: Device): FaceLink {
  const provider = device.state.provider;
  if (provider === null) throw new WalletError("not-registered", "register with a provider first");
  return {
    client: device.client,
    email: provider.email,
    deviceId: device.deviceId,
    wallets: () => device.state.wallets,
    progress: device.progress,
    pinnedOperators: () => device.state.provider?.recoveryOperators,
    pinOperators: (operators) =>
      device.save((s) => {
        if (s.provider !== null) s.provider.recoveryOperators = operators;
      }),
    pinnedRecoveryKeys: () => device.state.provider?.recoveryKeys ?? {},
    pinRecoveryKeys: (keys) =>
      device.save((s) => {
        if (s.provider !== null) s.provider.recoveryKeys = { ...s.provider.recoveryKeys, ...keys };
      }),
  };
}

/**
 * A hybrid wallet's share, sealed again to every face enrollment: after it is made and after
 * each refresh, or a recovery would bring back a share that no longer signs.
 */
export async function sealForRecovery(device: Device, wallet: StoredWallet): Promise<void> {
  const sealed = await sealRecoveryBoxes(faceLink(device), wallet);
  if (sealed > 0) device.progress(`sealed ${wallet.name}'s share for face recovery (${sealed} enrollments)`);
}
