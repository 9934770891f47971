/**
 * Face recovery at the provider. What it keeps per enrollment is the helper data, the recovery
 * secret key wrapped under the face's OPRF output, the recovery public key the device's shares
 * are sealed to, the key that proves a recovery, and the OPRF public key K; no image and no
 * embedding ever reach it, and no OPRF key either: the enrolling device dealt that key t-of-n to
 * the recovery operators (`operators.ts`) and forgot it. So the provider evaluates
 * nothing and cannot test a face guess on its own, even with its database and master key; it
 * signs tickets (`tickets.ts`) that let a device enroll at the operators and ask them for one
 * evaluation per guess, and each operator counts and mails the guesses again on its own.
 *
 * The steps, and the check each one makes:
 *   enroll    an active device sends the helper data and gets a ticket to register the key's
 *             shares at the operators (refused while the provider lists none); once the device
 *             has wrapped its recovery key, the provider keeps it and K, with the boxes of the
 *             device's hybrid-wallet shares (one per wallet, at the wallet's current epoch — all
 *             of them, or the enrollment is refused). Finishing needs the account's
 *             TOTP code where one is in force and is a guarded account change
 *             (`account/guarded-changes.ts`): the enrollment waits out the delay, cancellable,
 *             while the enrollment it would replace stays the one that recovers; only then does
 *             it replace it.
 *   list      a device that proved the account's email by code (or, for an heir, whose own
 *             account's email the heir enrollment names, once it is open) gets the helper data.
 *   ticket    one ticket is one guess at the face, one blinded input: at most `faceAttemptsPerDay` per enrollment in
 *             any 24 hours, each recorded and mailed to the account; with it come the wrapped key,
 *             K and the operators the device asks.
 *   claim     the device proves the recovery key with a signature bound to its own id; only then
 *             does it get the boxes. An owner's new device becomes active and the account's
 *             transfers are held for `recoveryHoldMs` unless an older device confirms; an heir's
 *             account takes the wallets over.
 */
import { randomUUID } from "node:crypto";
import { canonicalJson } from "@keyshard/api";
import {
  type HelperData,
  HelperDataError,
  parseHelperData,
  type SignedTicket,
  verifyRecoveryClaim,
} from "@keyshard/recovery";
import { ed25519 } from "@noble/curves/ed25519.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { cancelChangeOf, defineChangeKind, requestGuardedChange } from "../account/guarded-changes.js";
import { requireSecondFactor } from "../account/totp.js";
import { appendAudit } from "../audit/log.js";
import type { ProviderContext } from "../context.js";
import type { AuthenticatedDevice } from "../devices/authenticated.js";
import { revokeDevice } from "../devices/revoke.js";
import { conflict, forbidden, invalid, notFound, ProviderError } from "../errors.js";
import { accountEmail } from "../store/accounts.js";
import { activateRecoveredDevice } from "../store/devices.js";
import { attemptsSince, insertAttempt } from "../store/face-attempts.js";
import {
  activateEnrollment,
  activeEnrollments,
  activeEnrollmentsFor,
  cancelWaitingEnrollment,
  type EnrollmentRow,
  enrollmentExists,
  findEnrollment,
  insertEnrollment,
  lockWaitingEnrollment,
  markEnrollmentClaimed,
  markEnrollmentVetoed,
  markEnrollmentWaiting,
  replaceActiveOwnerEnrollments,
} from "../store/face-enrollments.js";
import {
  insertRecovery,
  latestRecoveries,
  lockRecovery,
  markRecoveryDecided,
  type RecoveryRow,
} from "../store/face-recoveries.js";
import type { Queryable } from "../store/queryable.js";
import {
  deleteEnrollmentBoxes,
  deleteWalletBoxes,
  enrollmentBoxes,
  insertRecoveryBox,
  upsertRecoveryBox,
} from "../store/recovery-boxes.js";
import { activeSince, releaseRecoveryHeldRequests } from "../store/sign-requests.js";
import { activeHybridWallets, findWallet, lockWallet, transferWalletToHeir } from "../store/wallets.js";
import { requireElement } from "./element.js";
import { heirReleased } from "./heirs.js";
import type { RecoveryOperator } from "./operators.js";
import { enrollTicket, recoverTicket } from "./tickets.js";

export const DEFAULT_RECOVERY_HOLD_MS = 72 * 60 * 60_000;
export const DEFAULT_FACE_ATTEMPTS_PER_DAY = 5;
const DAY_MS = 24 * 60 * 60_000;

// The routes list enrollments, and sign requests read the recovery hold, through this service.
export { recoveryHoldUntil } from "../store/face-recoveries.js";
export { activeEnrollments };

export interface SealedBox {
  walletId: string;
  epoch: number;
  box: Uint8Array;
}

/** Face recovery needs operators: without them an enrollment could never be recovered. */
function requireOperators(ctx: ProviderContext): void {
  if (ctx.recoveryOperators.length === 0)
    throw new ProviderError(
      "conflict",
      "no-recovery-operators",
      "this provider lists no recovery operators (KEYSHARD_RECOVERY_OPERATORS): face recovery is not available",
    );
}

async function record(
  ctx: ProviderContext,
  tx: Queryable,
  chain: string,
  actor: string,
  action: string,
  details: object,
) {
  await appendAudit(tx, { chain, atMs: ctx.now(), actor, action, details });
}

/** The account's address: every account has one. */
async function emailOf(q: Queryable, accountId: string): Promise<string> {
  return (await accountEmail(q, accountId)) as string;
}

/** The account's own enrollment `id`, locked, for an active device of it, or 404. */
async function ownEnrollment(q: Queryable, device: AuthenticatedDevice, id: string): Promise<EnrollmentRow> {
  const row = await findEnrollment(q, id, true);
  if (row === undefined || row.account_id !== device.accountId) throw notFound("no such enrollment");
  return row;
}

/** Enrollment `id` as this transaction just wrote it. */
async function writtenEnrollment(q: Queryable, id: string): Promise<EnrollmentRow> {
  return (await findEnrollment(q, id)) as EnrollmentRow;
}

// ── enrollment ─────────────────────────────────────────────────────────────────────────────────

export interface NewEnrollment {
  id: string;
  kind: "owner" | "heir";
  heirEmail?: string;
  /** An heir's inactivity threshold; the provider's default unless given. */
  inactivityDays?: number;
  helper: unknown;
}

/** Starts an enrollment: keeps its helper data and gives the ticket that registers it at the operators. */
export async function startEnrollment(
  ctx: ProviderContext,
  device: AuthenticatedDevice,
  enrollment: NewEnrollment,
): Promise<{ ticket: SignedTicket; email: string }> {
  requireOperators(ctx);
  if (enrollment.kind === "owner" && enrollment.inactivityDays !== undefined)
    throw invalid("inactivityDays goes with an heir");
  const inactivityMs =
    enrollment.inactivityDays === undefined ? ctx.heirInactivityMs : enrollment.inactivityDays * DAY_MS;
  return ctx.db.transaction(async (tx) => {
    let helper: HelperData;
    try {
      helper = parseHelperData(enrollment.helper);
    } catch (e) {
      if (e instanceof HelperDataError) throw invalid(e.message);
      throw e;
    }
    const accountEmail = await emailOf(tx, device.accountId);
    if ((enrollment.kind === "heir") !== (enrollment.heirEmail !== undefined))
      throw invalid("an heir enrollment names the heir's email, and only it");
    const email = enrollment.kind === "heir" ? (enrollment.heirEmail as string).toLowerCase() : accountEmail;
    if (enrollment.kind === "heir" && email === accountEmail) throw invalid("an heir has an email of their own");
    if (await enrollmentExists(tx, enrollment.id)) throw conflict("an enrollment with this id exists");
    await insertEnrollment(tx, {
      id: enrollment.id,
      accountId: device.accountId,
      kind: enrollment.kind,
      email,
      helper: canonicalJson(helper),
      inactivityMs: enrollment.kind === "heir" ? inactivityMs : null,
      createdBy: device.id,
      createdMs: ctx.now(),
    });
    // The operators mail every guess to the account's owner, an heir's guesses too: the owner is
    // the one who can veto an heir or reject a recovery.
    const ticket = enrollTicket(
      ctx,
      { id: enrollment.id, ownerEmail: accountEmail, accountId: device.accountId },
      device.id,
    );
    return { ticket, email };
  });
}

function checkBoxes(wallets: readonly { id: string; epoch: number }[], boxes: readonly SealedBox[]): void {
  const given = new Map(boxes.map((b) => [b.walletId, b]));
  if (given.size !== boxes.length) throw invalid("one box per wallet");
  for (const box of boxes) {
    const wallet = wallets.find((w) => w.id === box.walletId);
    if (wallet === undefined) throw invalid(`wallet ${box.walletId} is not an active hybrid wallet of this account`);
    if (wallet.epoch !== box.epoch)
      throw conflict(`wallet ${box.walletId} is at epoch ${wallet.epoch}, not ${box.epoch}: seal its current share`);
  }
  const missing = wallets.find((w) => !given.has(w.id));
  if (missing !== undefined) throw invalid(`no box for wallet ${missing.id}: seal every hybrid wallet's share`);
}

export interface CompletedEnrollment {
  wrappedKey: Uint8Array;
  recoveryKey: Uint8Array;
  authKey: Uint8Array;
  /** The OPRF public key K the device dealt to the operators, bound into `wrappedKey`. */
  oprfKey: Uint8Array;
  /** How many operators answer together: must be the provider's own threshold (not kept: a reshare changes it). */
  threshold: number;
  boxes: SealedBox[];
}

/** A ristretto255 element other than the identity, or a 400 naming `what`. */
function checkOprfKey(ctx: ProviderContext, oprfKey: Uint8Array, threshold: number): void {
  // K = identity means k = 0: anyone could compute every face's OPRF output offline.
  requireElement(oprfKey, "oprfKey");
  if (threshold !== ctx.recoveryThreshold)
    throw conflict(
      `the recovery operators answer ${ctx.recoveryThreshold} together, not ${threshold}: deal the key again`,
    );
}

/**
 * Keeps the wrapped recovery key and the boxes; the enrollment then waits as a guarded change,
 * and an owner enrollment replaces the old one only once that change takes effect.
 */
export async function completeEnrollment(
  ctx: ProviderContext,
  device: AuthenticatedDevice,
  id: string,
  done: CompletedEnrollment,
  totp: string | undefined,
): Promise<{ row: EnrollmentRow; changeId: string; effectiveMs: number }> {
  await requireSecondFactor(ctx, device, totp);
  const completed = await ctx.db.transaction(async (tx) => {
    const enrollment = await ownEnrollment(tx, device, id);
    if (enrollment.status !== "pending" || enrollment.created_by !== device.id)
      throw conflict("this enrollment is not waiting for this device");
    try {
      ed25519.Point.fromBytes(done.authKey);
    } catch {
      throw invalid("authKey is not an Ed25519 public key");
    }
    checkOprfKey(ctx, done.oprfKey, done.threshold);
    // Every enrollment holds a box of each of these wallets' device share.
    const wallets = await activeHybridWallets(tx, device.accountId);
    for (const w of wallets) await lockWallet(tx, w.id);
    checkBoxes(wallets, done.boxes);
    const now = ctx.now();
    await markEnrollmentWaiting(tx, id, done, now);
    for (const box of done.boxes) await insertRecoveryBox(tx, id, box, now);
    await record(ctx, tx, device.accountId, device.id, `face.enrolled`, {
      enrollment: id,
      kind: enrollment.kind,
      ...(enrollment.kind === "heir" && { heir: enrollment.email, inactivityMs: Number(enrollment.inactivity_ms) }),
      wallets: done.boxes.map((b) => b.walletId),
    });
    const change = await requestGuardedChange(ctx, tx, device, {
      kind: enrollment.kind === "owner" ? "owner-enrollment" : "heir-enrollment",
      subject: id,
      summary:
        enrollment.kind === "owner"
          ? "a face enrollment that recovers your wallets on a new device, replacing the one you have (no picture is stored)"
          : `${enrollment.email} as your heir, who could recover your wallets after ${Math.round(Number(enrollment.inactivity_ms) / DAY_MS)} days without activity on your account, after reminders to you`,
    });
    return { row: await writtenEnrollment(tx, id), ...change };
  });
  ctx.notifier.kick();
  return completed;
}

// An enrollment's change: taking effect, an owner enrollment replaces the account's active one
// (whose boxes go); cancelled, the waiting enrollment and its boxes are dropped.
for (const kind of ["owner-enrollment", "heir-enrollment"] as const)
  defineChangeKind(kind, {
    async apply(ctx, tx, change) {
      const enrollment = await lockWaitingEnrollment(tx, change.subject);
      if (enrollment === undefined) return;
      const now = ctx.now();
      if (enrollment.kind === "owner")
        for (const replaced of await replaceActiveOwnerEnrollments(tx, enrollment.account_id, now))
          await deleteEnrollmentBoxes(tx, replaced);
      await activateEnrollment(tx, change.subject, now);
    },
    async cancel(ctx, tx, change) {
      if (await cancelWaitingEnrollment(tx, change.subject, ctx.now())) await deleteEnrollmentBoxes(tx, change.subject);
    },
  });

/**
 * The device's share of the account's hybrid wallet `walletId` at `epoch`, sealed again to every
 * active enrollment (after a refresh, or the first boxes of a new wallet). Returns how many boxes.
 */
export async function resealBoxes(
  ctx: ProviderContext,
  device: AuthenticatedDevice,
  walletId: string,
  epoch: number,
  boxes: readonly { enrollmentId: string; box: Uint8Array }[],
): Promise<number> {
  return ctx.db.transaction(async (tx) => {
    const wallet = await findWallet(tx, walletId, device.accountId, { lock: true });
    if (wallet.epoch !== epoch)
      throw invalid(`the wallet is at epoch ${wallet.epoch}, not ${epoch}: seal its current share`);
    if (wallet.members !== null || wallet.state !== "active")
      throw conflict("face recovery keeps the device share of active hybrid wallets only");
    // Waiting enrollments too: their boxes must be current when they take effect.
    const enrollments = await activeEnrollments(tx, device.accountId);
    const given = new Set(boxes.map((b) => b.enrollmentId));
    if (given.size !== boxes.length) throw invalid("one box per enrollment");
    for (const b of boxes)
      if (!enrollments.some((e) => e.id === b.enrollmentId)) throw invalid(`no active enrollment ${b.enrollmentId}`);
    const missing = enrollments.find((e) => !given.has(e.id));
    if (missing !== undefined) throw invalid(`no box for enrollment ${missing.id}`);
    const now = ctx.now();
    for (const b of boxes)
      await upsertRecoveryBox(tx, b.enrollmentId, { walletId: wallet.id, epoch: wallet.epoch, box: b.box }, now);
    await record(ctx, tx, device.accountId, device.id, "face.boxes-sealed", { wallet: wallet.id, epoch: wallet.epoch });
    return boxes.length;
  });
}

// ── recovery ───────────────────────────────────────────────────────────────────────────────────

/**
 * Whether `device` may recover with `row`: its own account's active owner enrollment, or an
 * active heir enrollment naming this account's email, from an active device, once it is open.
 */
async function mayRecover(
  ctx: ProviderContext,
  q: Queryable,
  device: AuthenticatedDevice,
  email: string,
  row: EnrollmentRow,
): Promise<boolean> {
  if (row.status !== "active") return false;
  if (row.kind === "owner") return row.account_id === device.accountId;
  return (
    row.email === email &&
    row.account_id !== device.accountId &&
    device.state === "active" &&
    (await heirReleased(ctx, q, row.id))
  );
}

/** The enrollments this device may try to recover with: its account's own, and heirs' that opened. */
export async function recoverableEnrollments(
  ctx: ProviderContext,
  q: Queryable,
  device: AuthenticatedDevice,
): Promise<EnrollmentRow[]> {
  const email = await emailOf(q, device.accountId);
  const rows = await activeEnrollmentsFor(q, device.accountId, email);
  const open: EnrollmentRow[] = [];
  for (const row of rows) if (await mayRecover(ctx, q, device, email, row)) open.push(row);
  return open;
}

/** Enrollment `id`, locked, if this device may recover with it; 404 otherwise. */
async function recoverable(
  ctx: ProviderContext,
  tx: Queryable,
  device: AuthenticatedDevice,
  id: string,
): Promise<EnrollmentRow> {
  const row = await findEnrollment(tx, id, true);
  if (row === undefined || !(await mayRecover(ctx, tx, device, await emailOf(tx, device.accountId), row)))
    throw notFound("no enrollment this device may recover with under that id");
  return row;
}

export interface RecoveryTicket {
  ticket: SignedTicket;
  enrollment: EnrollmentRow;
  operators: readonly RecoveryOperator[];
  threshold: number;
  attemptsLeft: number;
}

/**
 * One guess: a ticket for the operators to evaluate `blinded` once each, counted, limited and
 * mailed; and what the device needs to try it.
 */
export async function issueRecoveryTicket(
  ctx: ProviderContext,
  device: AuthenticatedDevice,
  id: string,
  blinded: Uint8Array,
): Promise<RecoveryTicket> {
  // Checked before the guess is counted: a malformed request, or one no operator could answer,
  // spends nothing. The identity would make every operator's answer the identity, whatever its share.
  requireOperators(ctx);
  requireElement(blinded, "blinded");
  const now = ctx.now();
  // The attempt commits before the ticket is signed, and stays counted whatever happens next.
  const { enrollment, used, refused } = await ctx.db.transaction(async (tx) => {
    const enrollment = await recoverable(ctx, tx, device, id);
    const used = await attemptsSince(tx, id, now - DAY_MS);
    const chain = enrollment.account_id;
    if (used >= ctx.faceAttemptsPerDay) {
      await record(ctx, tx, chain, device.id, "face.attempt-refused", { enrollment: id, device: device.id });
      await ctx.notifier.queueForAccount(
        tx,
        chain,
        {
          subject: "keyshard: face recovery attempts blocked",
          body: `Device ${device.id} tried to recover your account with a face more than ${ctx.faceAttemptsPerDay} times in 24 hours; further attempts are refused for now.\nIf this was not you, someone holds your email: secure it.`,
        },
        now,
      );
      return { enrollment, used, refused: true };
    }
    await insertAttempt(tx, id, device.id, now);
    await record(ctx, tx, chain, device.id, "face.attempt", { enrollment: id, device: device.id, attempt: used + 1 });
    await ctx.notifier.queueForAccount(
      tx,
      chain,
      {
        subject: "keyshard: a face recovery attempt",
        body: `Device ${device.id} tried to recover ${enrollment.kind === "heir" ? `as heir (${enrollment.email}) ` : ""}your keyshard account with a face (attempt ${used + 1} of ${ctx.faceAttemptsPerDay} allowed in 24 hours).\nIf this was not you, reject the recovery from one of your devices: keyshard recovery reject`,
      },
      now,
    );
    return { enrollment, used: used + 1, refused: false };
  });
  ctx.notifier.kick();
  if (refused)
    throw new ProviderError(
      "limited",
      "too-many-attempts",
      "too many face attempts for this enrollment: try again in 24 hours",
    );
  const ticket = recoverTicket(
    ctx,
    { id, ownerEmail: await emailOf(ctx.db, enrollment.account_id), accountId: enrollment.account_id },
    device.id,
    blinded,
  );
  // The operators in force now: a reshare moves every enrollment's shares to them, at their threshold.
  return {
    ticket,
    enrollment,
    operators: ctx.recoveryOperators,
    threshold: ctx.recoveryThreshold,
    attemptsLeft: ctx.faceAttemptsPerDay - used,
  };
}

export interface Claimed {
  recoveryId: string | null;
  holdUntilMs: number | null;
  boxes: SealedBox[];
}

/** The device proved the recovery key: it gets the boxes; an owner's device becomes active. */
export async function claimRecovery(
  ctx: ProviderContext,
  device: AuthenticatedDevice,
  id: string,
  signature: Uint8Array,
): Promise<Claimed> {
  const claimed = await ctx.db.transaction(async (tx) => {
    const enrollment = await recoverable(ctx, tx, device, id);
    if (!verifyRecoveryClaim(new Uint8Array(enrollment.auth_key as Uint8Array), id, device.id, signature)) {
      // Recorded in a transaction that commits: the refusal is thrown once it is kept.
      await record(ctx, tx, enrollment.account_id, device.id, "face.claim-refused", { enrollment: id });
      return "refused" as const;
    }
    const now = ctx.now();
    const boxes = (await enrollmentBoxes(tx, id)).map((b) => ({
      walletId: b.wallet_id,
      epoch: b.epoch,
      box: new Uint8Array(b.box),
    }));
    if (enrollment.kind === "heir") {
      // The wallets move to the heir's account, and the heir enrollment is spent.
      for (const b of boxes) {
        await lockWallet(tx, b.walletId);
        await transferWalletToHeir(
          tx,
          b.walletId,
          enrollment.account_id,
          device.accountId,
          new Date(now).toISOString().slice(0, 10),
        );
        await deleteWalletBoxes(tx, b.walletId);
      }
      await markEnrollmentClaimed(tx, id, now);
      for (const chain of [enrollment.account_id, device.accountId])
        await record(ctx, tx, chain, device.id, "heir.claimed", {
          enrollment: id,
          heirAccount: device.accountId,
          wallets: boxes.map((b) => b.walletId),
        });
      await ctx.notifier.queueForAccount(
        tx,
        enrollment.account_id,
        {
          subject: "keyshard: your heir took over your wallets",
          body: `After the inactivity you set, your heir (${enrollment.email}) recovered the wallets ${boxes.map((b) => b.walletId).join(", ")} with their face.`,
        },
        now,
      );
      return { recoveryId: null, holdUntilMs: null, boxes };
    }
    const recoveryId = randomUUID();
    const holdUntilMs = now + ctx.recoveryHoldMs;
    await activateRecoveredDevice(tx, device.id, now);
    await insertRecovery(tx, {
      id: recoveryId,
      enrollmentId: id,
      accountId: device.accountId,
      deviceId: device.id,
      atMs: now,
      holdUntilMs,
    });
    await record(ctx, tx, device.accountId, device.id, "face.recovered", {
      recovery: recoveryId,
      enrollment: id,
      device: device.id,
      holdUntilMs,
    });
    await ctx.notifier.queueForAccount(
      tx,
      device.accountId,
      {
        subject: "keyshard: your wallet was recovered on a new device",
        body: `Device ${device.id} recovered your wallets with your face. Outgoing transfers are held until ${new Date(holdUntilMs).toISOString()}.\nIf this was you, confirm it from your old device to lift the hold: keyshard recovery confirm ${recoveryId}\nIf it was not, reject it from your old device: keyshard recovery reject ${recoveryId}`,
      },
      now,
    );
    return { recoveryId, holdUntilMs, boxes };
  });
  if (claimed === "refused") throw forbidden("the recovery proof does not verify");
  ctx.notifier.kick();
  return claimed;
}

// ── after a recovery ───────────────────────────────────────────────────────────────────────────

export interface RecoveryView {
  id: string;
  device: string;
  at: string;
  holdUntil: string;
  status: string;
}

const recoveryView = (r: RecoveryRow): RecoveryView => ({
  id: r.id,
  device: r.device_id,
  at: new Date(Number(r.at_ms)).toISOString(),
  holdUntil: new Date(Number(r.hold_until_ms)).toISOString(),
  status: r.status,
});

export async function listRecoveries(q: Queryable, accountId: string): Promise<RecoveryView[]> {
  return (await latestRecoveries(q, accountId)).map(recoveryView);
}

/**
 * A device that was active before the recovery confirms it (the hold ends) or rejects it (the
 * recovered device is revoked: see `revokeDevice`).
 */
export async function decideRecovery(
  ctx: ProviderContext,
  device: AuthenticatedDevice,
  id: string,
  verdict: "confirmed" | "rejected",
): Promise<RecoveryView> {
  const decided = await ctx.db.transaction(async (tx) => {
    const row = await lockRecovery(tx, id, device.accountId);
    if (row === undefined) throw notFound("no such recovery in this account");
    if (row.status !== "holding") throw conflict(`the recovery is already ${row.status}`);
    const me = await activeSince(tx, device.id);
    if (device.id === row.device_id || me?.active_since_ms == null || Number(me.active_since_ms) >= Number(row.at_ms))
      throw forbidden("only a device that was active before the recovery can decide on it");
    const now = ctx.now();
    await markRecoveryDecided(tx, id, verdict, device.id, now);
    if (verdict === "confirmed") {
      // Held requests that waited only for this hold wait no longer (a policy's own delay stays).
      await releaseRecoveryHeldRequests(tx, device.accountId, row.hold_until_ms);
    } else {
      await revokeDevice(tx, row.device_id);
    }
    await record(ctx, tx, device.accountId, device.id, `face.recovery-${verdict}`, {
      recovery: id,
      device: row.device_id,
    });
    await ctx.notifier.queueForAccount(
      tx,
      device.accountId,
      {
        subject: `keyshard: recovery ${verdict}`,
        body:
          verdict === "confirmed"
            ? `Device ${device.id} confirmed the recovery on device ${row.device_id}; transfers are no longer held.`
            : `Device ${device.id} rejected the recovery on device ${row.device_id}; that device is revoked. If the recovered device refreshed the wallet's shares, the old device's share no longer signs: refresh again from a trusted device.`,
      },
      now,
    );
    return recoveryView({ ...row, id, status: verdict });
  });
  ctx.notifier.kick();
  return decided;
}

/** The owner vetoes an heir: the enrollment and its boxes are gone for good. */
export async function vetoHeir(ctx: ProviderContext, device: AuthenticatedDevice, id: string): Promise<EnrollmentRow> {
  const vetoed = await ctx.db.transaction(async (tx) => {
    const enrollment = await ownEnrollment(tx, device, id);
    if (enrollment.kind !== "heir") throw invalid("only an heir's enrollment can be vetoed");
    if (!["active", "pending", "waiting"].includes(enrollment.status))
      throw conflict(`the heir enrollment is ${enrollment.status}`);
    await cancelChangeOf(ctx, tx, device, "heir-enrollment", id);
    await markEnrollmentVetoed(tx, id, ctx.now());
    await deleteEnrollmentBoxes(tx, id);
    await record(ctx, tx, device.accountId, device.id, "heir.vetoed", { enrollment: id, heir: enrollment.email });
    return writtenEnrollment(tx, id);
  });
  ctx.notifier.kick();
  return vetoed;
}

export const enrollmentView = (row: EnrollmentRow) => ({
  id: row.id,
  kind: row.kind,
  status: row.status,
  ...(row.kind === "heir" && { heirEmail: row.email, inactivityDays: Number(row.inactivity_ms) / DAY_MS }),
  ...(row.recovery_key && { recoveryKey: bytesToHex(new Uint8Array(row.recovery_key)) }),
  createdAt: new Date(Number(row.created_ms)).toISOString(),
});
