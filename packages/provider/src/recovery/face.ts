/**
 * Face recovery at the provider. What it keeps per enrollment is the helper data, the recovery
 * secret key wrapped under the face's OPRF output, the recovery public key the device's shares
 * are sealed to, and the key that proves a recovery; no image and no embedding ever reach it.
 *
 * The steps, and the check each one makes:
 *   enroll    an active device sends the helper data and a blinded face secret; the provider
 *             answers with the OPRF evaluation and, once the device has wrapped its recovery key,
 *             keeps it with the boxes of the device's hybrid-wallet shares (one per wallet, at the
 *             wallet's current epoch — all of them, or the enrollment is refused). Finishing
 *             needs the account's TOTP code where one is in force and is a
 *             guarded account change (`account/guarded-changes.ts`): the enrollment waits out the
 *             delay, cancellable, while the enrollment it would replace stays the one that
 *             recovers; only then does it replace it.
 *   list      a device that proved the account's email by code (or, for an heir, whose own
 *             account's email the heir enrollment names, once it is open) gets the helper data.
 *   evaluate  one OPRF evaluation is one guess at the face: at most `faceAttemptsPerDay` per
 *             enrollment in any 24 hours, each recorded and mailed to the account.
 *   claim     the device proves the recovery key with a signature bound to its own id; only then
 *             does it get the boxes. An owner's new device becomes active and the account's
 *             transfers are held for `recoveryHoldMs` unless an older device confirms; an heir's
 *             account takes the wallets over.
 *
 * The OPRF key is derived from the master key per enrollment, so it is in no database row. The
 * provider itself could still try every face secret against its own key (about 2^18); that limit
 * is stated in the README: the face is a recovery factor against everyone but the provider.
 */
import { randomUUID } from "node:crypto";
import { parseHelperData } from "@keyshard/biometric";
import { evaluateBlinded, faceOprfKey, RecoveryBoxError, verifyRecoveryClaim } from "@keyshard/recovery";
import { ed25519 } from "@noble/curves/ed25519.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import { cancelChangeOf, defineChangeKind, requestGuardedChange } from "../account/guarded-changes.js";
import { appendAudit } from "../audit/log.js";
import { canonicalJson } from "../canonical-json.js";
import type { ProviderContext } from "../context.js";
import type { AuthenticatedDevice } from "../devices/authenticated.js";
import { revokeDevice } from "../devices/revoke.js";
import { conflict, forbidden, invalid, notFound, ProviderError } from "../errors.js";
import { requireSecondFactor } from "../policy/account-totp.js";
import { accountEmail } from "../store/accounts.js";
import type { Queryable } from "../store/queryable.js";
import { findWallet, lockWallet } from "../store/wallets.js";
import { heirReleased } from "./heirs.js";

export const DEFAULT_RECOVERY_HOLD_MS = 72 * 60 * 60_000;
export const DEFAULT_FACE_ATTEMPTS_PER_DAY = 5;
const DAY_MS = 24 * 60 * 60_000;

export interface EnrollmentRow {
  id: string;
  account_id: string;
  kind: "owner" | "heir";
  email: string;
  helper: string;
  wrapped_key: Uint8Array | null;
  recovery_key: Uint8Array | null;
  auth_key: Uint8Array | null;
  inactivity_ms: string | null;
  /** pending: started; waiting: finished, its change not yet in effect; cancelled: its change was. */
  status: "pending" | "waiting" | "active" | "replaced" | "vetoed" | "claimed" | "cancelled";
  created_by: string;
  created_ms: string;
}

/** Named, not `*`: a statement prepared by an older replica must not change shape under a new column. */
const ENROLLMENT_COLUMNS =
  "id, account_id, kind, email, helper, wrapped_key, recovery_key, auth_key, inactivity_ms, status, created_by, created_ms";

export interface SealedBox {
  walletId: string;
  epoch: number;
  box: Uint8Array;
}

const oprfKey = (ctx: ProviderContext, enrollmentId: string) =>
  faceOprfKey(ctx.masterKey.mac("face-oprf-seed", utf8ToBytes("v1")), enrollmentId);

function evaluate(ctx: ProviderContext, enrollmentId: string, blinded: Uint8Array): Uint8Array {
  try {
    return evaluateBlinded(oprfKey(ctx, enrollmentId), blinded);
  } catch (e) {
    if (e instanceof RecoveryBoxError) throw invalid(e.message);
    throw e;
  }
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

async function findEnrollment(q: Queryable, id: string, lock = false): Promise<EnrollmentRow> {
  const [row] = await q.query<EnrollmentRow>(
    `SELECT ${ENROLLMENT_COLUMNS} FROM face_enrollments WHERE id = $1${lock ? " FOR UPDATE" : ""}`,
    [id],
  );
  if (row === undefined) throw notFound("no such enrollment");
  return row;
}

/** The account's own enrollment `id` for an active device of it, or 404. */
async function ownEnrollment(q: Queryable, device: AuthenticatedDevice, id: string): Promise<EnrollmentRow> {
  const row = await findEnrollment(q, id, true);
  if (row.account_id !== device.accountId) throw notFound("no such enrollment");
  return row;
}

// ── enrollment ─────────────────────────────────────────────────────────────────────────────────

export interface NewEnrollment {
  id: string;
  kind: "owner" | "heir";
  heirEmail?: string;
  /** An heir's inactivity threshold; the provider's default unless given. */
  inactivityDays?: number;
  helper: unknown;
  blinded: Uint8Array;
}

/** Starts an enrollment: keeps its helper data and answers the blinded face secret. */
export async function startEnrollment(
  ctx: ProviderContext,
  device: AuthenticatedDevice,
  enrollment: NewEnrollment,
): Promise<{ evaluated: Uint8Array; email: string }> {
  if (enrollment.kind === "owner" && enrollment.inactivityDays !== undefined)
    throw invalid("inactivityDays goes with an heir");
  const inactivityMs =
    enrollment.inactivityDays === undefined ? ctx.heirInactivityMs : enrollment.inactivityDays * DAY_MS;
  return ctx.db.transaction(async (tx) => {
    let helper: ReturnType<typeof parseHelperData>;
    try {
      helper = parseHelperData(enrollment.helper);
    } catch (e) {
      throw invalid((e as Error).message);
    }
    const accountEmail = await emailOf(tx, device.accountId);
    if ((enrollment.kind === "heir") !== (enrollment.heirEmail !== undefined))
      throw invalid("an heir enrollment names the heir's email, and only it");
    const email = enrollment.kind === "heir" ? (enrollment.heirEmail as string).toLowerCase() : accountEmail;
    if (enrollment.kind === "heir" && email === accountEmail) throw invalid("an heir has an email of their own");
    const taken = await tx.query("SELECT 1 FROM face_enrollments WHERE id = $1", [enrollment.id]);
    if (taken.length > 0) throw conflict("an enrollment with this id exists");
    await tx.query(
      `INSERT INTO face_enrollments (id, account_id, kind, email, helper, inactivity_ms, status, created_by, created_ms)
       VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8)`,
      [
        enrollment.id,
        device.accountId,
        enrollment.kind,
        email,
        canonicalJson(helper),
        enrollment.kind === "heir" ? inactivityMs : null,
        device.id,
        ctx.now(),
      ],
    );
    return { evaluated: evaluate(ctx, enrollment.id, enrollment.blinded), email };
  });
}

/** The account's active hybrid wallets, whose device shares every enrollment must hold boxes of. */
async function hybridWallets(tx: Queryable, accountId: string): Promise<{ id: string; epoch: number }[]> {
  return tx.query<{ id: string; epoch: number }>(
    "SELECT id, epoch FROM wallets WHERE account_id = $1 AND state = 'active' AND members IS NULL ORDER BY id",
    [accountId],
  );
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
  boxes: SealedBox[];
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
    const wallets = await hybridWallets(tx, device.accountId);
    for (const w of wallets) await lockWallet(tx, w.id);
    checkBoxes(wallets, done.boxes);
    const now = ctx.now();
    await tx.query(
      `UPDATE face_enrollments SET wrapped_key = $2, recovery_key = $3, auth_key = $4, status = 'waiting', changed_ms = $5
       WHERE id = $1`,
      [id, done.wrappedKey, done.recoveryKey, done.authKey, now],
    );
    for (const box of done.boxes)
      await tx.query(
        "INSERT INTO recovery_boxes (enrollment_id, wallet_id, epoch, box, updated_ms) VALUES ($1, $2, $3, $4, $5)",
        [id, box.walletId, box.epoch, box.box, now],
      );
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
    return { row: await findEnrollment(tx, id), ...change };
  });
  ctx.notifier.kick();
  return completed;
}

// An enrollment's change: taking effect, an owner enrollment replaces the account's active one
// (whose boxes go); cancelled, the waiting enrollment and its boxes are dropped.
for (const kind of ["owner-enrollment", "heir-enrollment"] as const)
  defineChangeKind(kind, {
    async apply(ctx, tx, change) {
      const [enrollment] = await tx.query<{ account_id: string; kind: string }>(
        "SELECT account_id, kind FROM face_enrollments WHERE id = $1 AND status = 'waiting' FOR UPDATE",
        [change.subject],
      );
      if (enrollment === undefined) return;
      const now = ctx.now();
      if (enrollment.kind === "owner") {
        const replaced = await tx.query<{ id: string }>(
          "UPDATE face_enrollments SET status = 'replaced', changed_ms = $2 WHERE account_id = $1 AND kind = 'owner' AND status = 'active' RETURNING id",
          [enrollment.account_id, now],
        );
        for (const r of replaced) await tx.query("DELETE FROM recovery_boxes WHERE enrollment_id = $1", [r.id]);
      }
      await tx.query("UPDATE face_enrollments SET status = 'active', changed_ms = $2 WHERE id = $1", [
        change.subject,
        now,
      ]);
    },
    async cancel(ctx, tx, change) {
      const cancelled = await tx.query(
        "UPDATE face_enrollments SET status = 'cancelled', changed_ms = $2 WHERE id = $1 AND status = 'waiting' RETURNING id",
        [change.subject, ctx.now()],
      );
      if (cancelled.length > 0) await tx.query("DELETE FROM recovery_boxes WHERE enrollment_id = $1", [change.subject]);
    },
  });

/**
 * The account's active enrollments and those waiting to take effect, for sealing boxes (a waiting
 * one's boxes must be current when it takes effect) and listing heirs.
 */
export async function activeEnrollments(q: Queryable, accountId: string): Promise<EnrollmentRow[]> {
  return q.query<EnrollmentRow>(
    `SELECT ${ENROLLMENT_COLUMNS} FROM face_enrollments WHERE account_id = $1 AND status IN ('active', 'waiting') ORDER BY created_ms, id`,
    [accountId],
  );
}

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
    const enrollments = await activeEnrollments(tx, device.accountId);
    const given = new Set(boxes.map((b) => b.enrollmentId));
    if (given.size !== boxes.length) throw invalid("one box per enrollment");
    for (const b of boxes)
      if (!enrollments.some((e) => e.id === b.enrollmentId)) throw invalid(`no active enrollment ${b.enrollmentId}`);
    const missing = enrollments.find((e) => !given.has(e.id));
    if (missing !== undefined) throw invalid(`no box for enrollment ${missing.id}`);
    const now = ctx.now();
    for (const b of boxes)
      await tx.query(
        `INSERT INTO recovery_boxes (enrollment_id, wallet_id, epoch, box, updated_ms) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (enrollment_id, wallet_id) DO UPDATE SET epoch = EXCLUDED.epoch, box = EXCLUDED.box, updated_ms = EXCLUDED.updated_ms`,
        [b.enrollmentId, wallet.id, wallet.epoch, b.box, now],
      );
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
  const rows = await q.query<EnrollmentRow>(
    `SELECT ${ENROLLMENT_COLUMNS} FROM face_enrollments WHERE status = 'active' AND
       ((kind = 'owner' AND account_id = $1) OR (kind = 'heir' AND email = $2))
     ORDER BY created_ms, id`,
    [device.accountId, email],
  );
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
  const [row] = await tx.query<EnrollmentRow>(
    `SELECT ${ENROLLMENT_COLUMNS} FROM face_enrollments WHERE id = $1 FOR UPDATE`,
    [id],
  );
  if (row === undefined || !(await mayRecover(ctx, tx, device, await emailOf(tx, device.accountId), row)))
    throw notFound("no enrollment this device may recover with under that id");
  return row;
}

/** One guess: the OPRF evaluation, counted, limited and mailed; and what the device needs to try it. */
export async function evaluateAttempt(
  ctx: ProviderContext,
  device: AuthenticatedDevice,
  id: string,
  blinded: Uint8Array,
): Promise<{ evaluated: Uint8Array; enrollment: EnrollmentRow; attemptsLeft: number }> {
  const now = ctx.now();
  // The attempt commits before the answer is computed, and stays counted whatever happens next.
  const { enrollment, used, refused } = await ctx.db.transaction(async (tx) => {
    const enrollment = await recoverable(ctx, tx, device, id);
    const [count] = await tx.query<{ n: string }>(
      "SELECT count(*) AS n FROM face_attempts WHERE enrollment_id = $1 AND at_ms > $2",
      [id, now - DAY_MS],
    );
    const used = Number(count?.n ?? 0);
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
    await tx.query("INSERT INTO face_attempts (enrollment_id, device_id, at_ms) VALUES ($1, $2, $3)", [
      id,
      device.id,
      now,
    ]);
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
  return { evaluated: evaluate(ctx, id, blinded), enrollment, attemptsLeft: ctx.faceAttemptsPerDay - used };
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
      await record(ctx, tx, enrollment.account_id, device.id, "face.claim-refused", { enrollment: id });
      throw forbidden("the recovery proof does not verify");
    }
    const now = ctx.now();
    const boxes = (
      await tx.query<{ wallet_id: string; epoch: number; box: Uint8Array }>(
        "SELECT wallet_id, epoch, box FROM recovery_boxes WHERE enrollment_id = $1 ORDER BY wallet_id",
        [id],
      )
    ).map((b) => ({ walletId: b.wallet_id, epoch: b.epoch, box: new Uint8Array(b.box) }));
    if (enrollment.kind === "heir") {
      // The wallets move to the heir's account, and the heir enrollment is spent.
      for (const b of boxes) {
        await lockWallet(tx, b.walletId);
        await tx.query(
          "UPDATE wallets SET account_id = $2, name = name || ' (inherited ' || $3 || ')' WHERE id = $1 AND account_id = $4",
          [b.walletId, device.accountId, new Date(now).toISOString().slice(0, 10), enrollment.account_id],
        );
        await tx.query("DELETE FROM recovery_boxes WHERE wallet_id = $1", [b.walletId]);
      }
      await tx.query("UPDATE face_enrollments SET status = 'claimed', changed_ms = $2 WHERE id = $1", [id, now]);
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
    await tx.query("UPDATE devices SET state = 'active', active_since_ms = $2 WHERE id = $1 AND state <> 'active'", [
      device.id,
      now,
    ]);
    await tx.query(
      `INSERT INTO face_recoveries (id, enrollment_id, account_id, device_id, at_ms, hold_until_ms, status)
       VALUES ($1, $2, $3, $4, $5, $6, 'holding')`,
      [recoveryId, id, device.accountId, device.id, now, holdUntilMs],
    );
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
  ctx.notifier.kick();
  return claimed;
}

// ── after a recovery ───────────────────────────────────────────────────────────────────────────

/** Until when the account's outgoing transfers wait for a recovery's cooling-off, or null. */
export async function recoveryHoldUntil(q: Queryable, accountId: string, now: number): Promise<number | null> {
  const [row] = await q.query<{ until: string | null }>(
    "SELECT max(hold_until_ms) AS until FROM face_recoveries WHERE account_id = $1 AND status = 'holding' AND hold_until_ms > $2",
    [accountId, now],
  );
  return row?.until == null ? null : Number(row.until);
}

export interface RecoveryView {
  id: string;
  device: string;
  at: string;
  holdUntil: string;
  status: string;
}

export async function listRecoveries(q: Queryable, accountId: string): Promise<RecoveryView[]> {
  const rows = await q.query<{ id: string; device_id: string; at_ms: string; hold_until_ms: string; status: string }>(
    "SELECT id, device_id, at_ms, hold_until_ms, status FROM face_recoveries WHERE account_id = $1 ORDER BY at_ms DESC LIMIT 20",
    [accountId],
  );
  return rows.map((r) => ({
    id: r.id,
    device: r.device_id,
    at: new Date(Number(r.at_ms)).toISOString(),
    holdUntil: new Date(Number(r.hold_until_ms)).toISOString(),
    status: r.status,
  }));
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
    const [row] = await tx.query<{ device_id: string; at_ms: string; hold_until_ms: string; status: string }>(
      "SELECT device_id, at_ms, hold_until_ms, status FROM face_recoveries WHERE id = $1 AND account_id = $2 FOR UPDATE",
      [id, device.accountId],
    );
    if (row === undefined) throw notFound("no such recovery in this account");
    if (row.status !== "holding") throw conflict(`the recovery is already ${row.status}`);
    const [me] = await tx.query<{ active_since_ms: string | null }>(
      "SELECT active_since_ms FROM devices WHERE id = $1",
      [device.id],
    );
    if (device.id === row.device_id || me?.active_since_ms == null || Number(me.active_since_ms) >= Number(row.at_ms))
      throw forbidden("only a device that was active before the recovery can decide on it");
    const now = ctx.now();
    await tx.query("UPDATE face_recoveries SET status = $2, decided_by = $3, decided_ms = $4 WHERE id = $1", [
      id,
      verdict,
      device.id,
      now,
    ]);
    if (verdict === "confirmed") {
      // Held requests that waited only for this hold wait no longer (a policy's own delay stays).
      await tx.query(
        "UPDATE sign_requests SET release_ms = NULL WHERE account_id = $1 AND status = 'held' AND decision <> 'delay' AND release_ms = $2",
        [device.accountId, row.hold_until_ms],
      );
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
    return (await listRecoveries(tx, device.accountId)).find((r) => r.id === id) as RecoveryView;
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
    await tx.query("UPDATE face_enrollments SET status = 'vetoed', changed_ms = $2 WHERE id = $1", [id, ctx.now()]);
    await tx.query("DELETE FROM recovery_boxes WHERE enrollment_id = $1", [id]);
    await record(ctx, tx, device.accountId, device.id, "heir.vetoed", { enrollment: id, heir: enrollment.email });
    return findEnrollment(tx, id);
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
