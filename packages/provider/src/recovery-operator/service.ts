/**
 * What a recovery operator does with its share of each face enrollment's OPRF key: take it from
 * an enrolling device (sealed to the operator's key, checked against the dealer's Feldman
 * commitments), evaluate it on a recovering device's blinded input with a DLEQ proof — each
 * evaluation a counted, limited and mailed face guess — and move it to a new set of operators by
 * a reshare that never rebuilds the key, deleting it where the operator is left out. A provider's
 * ticket authorizes every device request, for the operator set, threshold or blinded input it
 * names, and once; the operator trusts nothing else of the provider. A reshare goes only where the
 * operator's own administrator configured it to, whoever calls.
 */
import {
  acceptReshare,
  checkShare,
  dealReshare,
  evaluatePartial,
  type OperatorTicket,
  openRecoveryBox,
  operatorShareContext,
  type PartialEvaluation,
  publicShare,
  RecoveryBoxError,
  readTicket,
  reshareContext,
  sealToRecoveryKey,
  ThresholdOprfError,
  TicketError,
} from "@keyshard/recovery";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { appendAudit } from "../audit/log.js";
import { conflict, forbidden, invalid, notFound, ProviderError } from "../errors.js";
import { requireElement } from "../recovery/element.js";
import { evaluationsSince, insertOperatorAttempt, useTicket } from "../store/operator-attempts.js";
import {
  deleteOperatorEnrollments,
  insertOperatorEnrollment,
  type OperatorEnrollment,
  operatorEnrollment,
  operatorEnrollments,
  upsertOperatorEnrollment,
} from "../store/operator-enrollments.js";
import type { Queryable } from "../store/queryable.js";
import { type OperatorContext, type ReshareTarget, usableX25519Key } from "./context.js";

const DAY_MS = 24 * 60 * 60_000;

/** Where a share is sealed under the master key: a share moved to another row or index does not open. */
export const sealedShareContext = (enrollment: string, index: number) => `operator-share:${enrollment}:${index}`;

const invalidTicket = (message: string) => new ProviderError("forbidden", "invalid-ticket", message);
const invalidShare = (message: string) => new ProviderError("invalid", "invalid-share", message);
/** A reshare dealing that does not verify, naming its dealer: nothing of the reshare was installed. */
const badDealing = (from: number, message: string) =>
  new ProviderError("invalid", "bad-dealing", `the dealing of operator ${from} is refused: ${message}`);

/** The provider's ticket in `signed`, for `purpose` (and `enrollment`, when given), unexpired. */
function ticketFor<P extends OperatorTicket["purpose"]>(
  ctx: OperatorContext,
  signed: unknown,
  purpose: P,
  enrollment?: string,
): Extract<OperatorTicket, { purpose: P }> {
  let ticket: OperatorTicket;
  try {
    ticket = readTicket(signed, ctx.ticketKey, ctx.now());
  } catch (e) {
    if (e instanceof TicketError) throw invalidTicket(e.message);
    throw e;
  }
  if (ticket.purpose !== purpose) throw invalidTicket(`the ticket is for ${ticket.purpose}, not ${purpose}`);
  if (enrollment !== undefined && ticket.enrollment !== enrollment)
    throw invalidTicket("the ticket is for another enrollment");
  return ticket as Extract<OperatorTicket, { purpose: P }>;
}

function openShare(ctx: OperatorContext, enrollment: OperatorEnrollment): Uint8Array {
  return ctx.masterKey.open(enrollment.sealedShare, sealedShareContext(enrollment.id, enrollment.index));
}

export interface Registered {
  enrollment: string;
  index: number;
  /** K_index = share·G, which the device checks against its own commitments. */
  publicShare: Uint8Array;
}

/** Takes this operator's share of a new enrollment's OPRF key, as the enrolling device dealt it. */
export async function registerShare(
  ctx: OperatorContext,
  request: { ticket: unknown; index: number; threshold: number; commitments: Uint8Array[]; sealedShare: Uint8Array },
): Promise<Registered> {
  const ticket = ticketFor(ctx, request.ticket, "enroll");
  const { index, threshold, commitments } = request;
  // The provider's operator set and threshold, as the ticket carries them, decide where a share
  // goes and how many shares the key needs: a device cannot register under another index, nor a
  // sharing whose threshold the provider did not set.
  if (ticket.operators[index - 1] !== bytesToHex(ctx.keys.publicKey))
    throw invalidTicket(`the ticket does not list this operator's key as operator ${index}`);
  if (ticket.threshold !== threshold || commitments.length !== threshold)
    throw invalidTicket(
      `the ticket is for a ${ticket.threshold}-of-n sharing, not ${threshold}-of-n with ${commitments.length} commitments`,
    );
  let share: Uint8Array;
  try {
    share = openRecoveryBox(ctx.keys, operatorShareContext(ticket.enrollment, index), request.sealedShare);
  } catch (e) {
    if (!(e instanceof RecoveryBoxError)) throw e;
    throw invalidShare(`the sealed share does not open as this operator's share ${index} of the enrollment`);
  }
  try {
    checkShare(commitments, index, share);
  } catch (e) {
    if (!(e instanceof ThresholdOprfError)) throw e;
    throw invalidShare(e.message);
  }
  const now = ctx.now();
  const enrollment: OperatorEnrollment = {
    id: ticket.enrollment,
    index,
    threshold,
    commitments,
    sealedShare: ctx.masterKey.seal(share, sealedShareContext(ticket.enrollment, index)),
    email: ticket.email,
    account: ticket.account,
  };
  await ctx.db.transaction(async (tx) => {
    if (!(await insertOperatorEnrollment(tx, enrollment, now)))
      throw conflict("this operator holds a share of this enrollment already");
    await record(tx, enrollment, ticket.device, now, "operator.enrolled", { index, threshold });
  });
  return { enrollment: enrollment.id, index, publicShare: publicShare(commitments, index) };
}

export interface Evaluation extends PartialEvaluation {
  commitments: Uint8Array[];
  attemptsLeft: number;
}

/**
 * One face guess: this operator's share evaluated on the blinded input, with its proof. The
 * attempt commits, and its mail is queued, before the evaluation is computed; over the limit, the
 * refusal is recorded and mailed alike.
 */
export async function evaluateShare(
  ctx: OperatorContext,
  id: string,
  request: { ticket: unknown; blinded: Uint8Array },
): Promise<Evaluation> {
  const ticket = ticketFor(ctx, request.ticket, "recover", id);
  // The provider issued the ticket for one input: another one is another guess, needing its own ticket.
  if (ticket.blinded !== bytesToHex(request.blinded)) throw invalidTicket("the ticket is for another blinded input");
  // Refused before it is counted: a malformed input is no guess.
  requireElement(request.blinded, "blinded");
  // A ticket's signature makes its payload its one encoding (readTicket refuses any other).
  const digest = sha256(hexToBytes((request.ticket as { payload: string }).payload));
  const now = ctx.now();
  const { enrollment, used, refused } = await ctx.db.transaction(async (tx) => {
    // Locked: two evaluations at once are counted one after the other.
    const enrollment = await operatorEnrollment(tx, id, true);
    if (enrollment === undefined) throw notFound("this operator holds no share of this enrollment");
    // In the transaction that counts: a replay waits for the first use to commit, then is refused.
    if (!(await useTicket(tx, { digest, enrollmentId: id, atMs: now })))
      throw new ProviderError(
        "conflict",
        "ticket-used",
        "this ticket was used at this operator already: ask the provider for another",
      );
    const used = await evaluationsSince(tx, id, now - DAY_MS);
    const refused = used >= ctx.attemptsPerDay;
    await insertOperatorAttempt(tx, {
      enrollmentId: id,
      device: ticket.device,
      atMs: now,
      outcome: refused ? "refused" : "evaluated",
    });
    await record(tx, enrollment, ticket.device, now, refused ? "operator.evaluation-refused" : "operator.evaluated", {
      attempt: used + 1,
    });
    await ctx.notifier.queue(tx, attemptMail(ctx, enrollment, ticket.device, used, refused), now);
    return { enrollment, used: refused ? used : used + 1, refused };
  });
  ctx.notifier.kick();
  if (refused)
    throw new ProviderError(
      "limited",
      "too-many-attempts",
      `recovery operator ${ctx.name} allows ${ctx.attemptsPerDay} face attempts per enrollment in 24 hours: try again later`,
    );
  const partial = evaluatePartial(openShare(ctx, enrollment), enrollment.index, request.blinded);
  return { ...partial, commitments: enrollment.commitments, attemptsLeft: ctx.attemptsPerDay - used };
}

function attemptMail(
  ctx: OperatorContext,
  enrollment: OperatorEnrollment,
  device: string,
  used: number,
  refused: boolean,
): { accountId: null; to: string; subject: string; body: string } {
  const warning =
    "If this was not you, someone is trying to recover your keyshard wallets with a face: reject the recovery from one of your devices (keyshard recovery reject) and secure your email.";
  const what = refused
    ? `Device ${device} asked recovery operator ${ctx.name} for a face recovery attempt on your keyshard account (${enrollment.email}); it was refused: the ${ctx.attemptsPerDay} attempts allowed in 24 hours are used.`
    : `Device ${device} made a face recovery attempt on your keyshard account (${enrollment.email}) at recovery operator ${ctx.name} (attempt ${used + 1} of ${ctx.attemptsPerDay} allowed in 24 hours).`;
  return {
    // The account is the provider's: this operator's outbox knows only the address.
    accountId: null,
    to: enrollment.email,
    subject: refused
      ? `keyshard: face recovery attempts blocked by recovery operator ${ctx.name}`
      : `keyshard: a face recovery attempt at recovery operator ${ctx.name}`,
    body: `${what}\n${warning}`,
  };
}

/** An entry in the account's audit chain of this operator's database. */
function record(
  tx: Queryable,
  enrollment: Pick<OperatorEnrollment, "id" | "account">,
  device: string,
  atMs: number,
  action: string,
  details: Record<string, unknown>,
): Promise<void> {
  return appendAudit(tx, {
    chain: enrollment.account,
    atMs,
    actor: device,
    action,
    details: { enrollment: enrollment.id, ...details },
  });
}

// ---------------------------------------------------------------------------------------------
// Reshare: t old operators (the helpers) each deal their share afresh to the new operators; each
// new operator adds what it received into a share of the same key under the new threshold.

export interface ReshareRecipientKey {
  index: number;
  key: Uint8Array;
}

/** One enrollment's part of a helper's dealing, as it travels to every recipient. */
export interface EnrollmentDealing {
  enrollment: string;
  email: string;
  account: string;
  /** The enrollment's commitments before the reshare, which every helper must agree on. */
  oldCommitments: Uint8Array[];
  /** The commitments of this helper's subsharing polynomial. */
  commitments: Uint8Array[];
  /** Each recipient's subshare, sealed to its key under `reshareContext`. */
  boxes: { index: number; box: Uint8Array }[];
}

/** This operator's dealing of every enrollment it holds to `recipients`, as helper `index` of `helpers`. */
export async function dealShares(
  ctx: OperatorContext,
  request: { helpers: number[]; threshold: number; recipients: ReshareRecipientKey[] },
): Promise<{ index: number; dealings: EnrollmentDealing[] }> {
  const { helpers, threshold, recipients } = request;
  const allowed = reshareTargets(ctx);
  checkDistinct(helpers, "helpers");
  checkDistinct(
    recipients.map((r) => r.index),
    "recipients' indices",
  );
  checkDistinct(
    recipients.map((r) => bytesToHex(r.key)),
    "recipients' keys",
  );
  for (const r of recipients)
    if (!usableX25519Key(r.key)) throw invalid(`recipient ${r.index}'s key is not an X25519 public key`);
  if (recipients.length < threshold)
    throw invalid(`a threshold of ${threshold} needs at least ${threshold} recipients, not ${recipients.length}`);
  // Whoever holds the admin token still deals only to the set this operator's administrator configured.
  const sameSet =
    recipients.length === allowed.length &&
    recipients.every((r) => allowed.some((a) => a.index === r.index && bytesToHex(a.key) === bytesToHex(r.key)));
  if (!sameSet)
    throw forbidden(
      "the recipients are not the operators this operator is configured to reshare to (KEYSHARD_OPERATOR_RESHARE_TO)",
    );
  const enrollments = await operatorEnrollments(ctx.db);
  const [first] = enrollments;
  if (first === undefined) throw conflict("this operator holds no enrollment: there is nothing to reshare");
  const dealings = enrollments.map((enrollment) => {
    if (enrollment.index !== first.index)
      throw conflict(`this operator holds enrollments under indices ${first.index} and ${enrollment.index}`);
    if (!helpers.includes(enrollment.index))
      throw invalid(`the helpers must include this operator's index ${enrollment.index}`);
    if (helpers.length !== enrollment.threshold)
      throw conflict(
        `enrollment ${enrollment.id} is shared ${enrollment.threshold}-of-n: exactly ${enrollment.threshold} helpers reshare it, not ${helpers.length}`,
      );
    const dealing = dealReshare(
      openShare(ctx, enrollment),
      enrollment.index,
      helpers,
      threshold,
      recipients.map((r) => r.index),
    );
    return {
      enrollment: enrollment.id,
      email: enrollment.email,
      account: enrollment.account,
      oldCommitments: enrollment.commitments,
      commitments: dealing.commitments,
      boxes: dealing.subshares.map(({ index, subshare }) => {
        const key = recipients.find((r) => r.index === index)?.key as Uint8Array;
        return { index, box: sealToRecoveryKey(key, reshareContext(enrollment.id, enrollment.index, index), subshare) };
      }),
    };
  });
  const now = ctx.now();
  await ctx.db.transaction(async (tx) => {
    for (const enrollment of enrollments)
      await record(tx, enrollment, "operator-admin", now, "operator.reshare-dealt", {
        index: enrollment.index,
        helpers,
        threshold,
        recipients: recipients.map((r) => ({ index: r.index, key: bytesToHex(r.key) })),
      });
  });
  return { index: first.index, dealings };
}

/** The reshare this operator's administrator allows; without one, the reshare routes are not served. */
function reshareTargets(ctx: OperatorContext): ReshareTarget[] {
  if (ctx.reshareTo === undefined) throw notFound("this operator is not configured for a reshare");
  return ctx.reshareTo;
}

/** This operator's place in the configured new set, if it has one. */
function ownTarget(ctx: OperatorContext): ReshareTarget | undefined {
  const own = bytesToHex(ctx.keys.publicKey);
  return reshareTargets(ctx).find((t) => bytesToHex(t.key) === own);
}

function checkDistinct(values: readonly (number | string)[], what: string): void {
  if (new Set(values).size !== values.length) throw invalid(`the ${what} must be distinct`);
}

/**
 * Installs this operator's share, as recipient `index`, of every enrollment in the helpers'
 * dealings. Every dealing is checked before anything is installed, and then all are installed in
 * one transaction: a dealer whose dealing does not verify is named and nothing changes.
 */
export async function acceptShares(
  ctx: OperatorContext,
  request: {
    index: number;
    helpers: number[];
    threshold: number;
    dealings: { from: number; enrollments: EnrollmentDealing[] }[];
  },
): Promise<{ accepted: number }> {
  const { index, helpers, threshold, dealings } = request;
  if (ownTarget(ctx)?.index !== index)
    throw forbidden(
      `this operator is not configured to reshare to itself as operator ${index} (KEYSHARD_OPERATOR_RESHARE_TO)`,
    );
  checkDistinct(helpers, "helpers");
  const dealers = dealings.map((d) => d.from);
  checkDistinct(dealers, "dealers");
  if (dealers.length !== helpers.length || !dealers.every((from) => helpers.includes(from)))
    throw invalid("there must be one dealing from each helper, and none from anyone else");
  const ids = new Set(dealings.flatMap((d) => d.enrollments.map((e) => e.enrollment)));
  const installed: OperatorEnrollment[] = [];
  for (const id of ids) {
    const received = dealings.map(({ from, enrollments }) => {
      const dealt = enrollments.filter((e) => e.enrollment === id);
      if (dealt.length !== 1) throw badDealing(from, `it deals enrollment ${id} ${dealt.length} times, not once`);
      return { from, dealing: dealt[0] as EnrollmentDealing };
    });
    const [reference] = received as [(typeof received)[number]];
    const { email, account, oldCommitments } = reference.dealing;
    // A new operator learns the old commitments from the helpers alone: one helper's word is not enough.
    if (
      received.some(
        ({ dealing }) =>
          dealing.email !== email ||
          dealing.account !== account ||
          !sameCommitments(dealing.oldCommitments, oldCommitments),
      )
    )
      throw new ProviderError(
        "invalid",
        "bad-dealing",
        `the helpers disagree on enrollment ${id} (its old commitments, email or account): one of them deals garbage`,
      );
    const subshares = received.map(({ from, dealing }) => {
      if (dealing.commitments.length !== threshold)
        throw badDealing(from, `its commitments for enrollment ${id} are not of a ${threshold}-of-n sharing`);
      const box = dealing.boxes.find((b) => b.index === index);
      if (box === undefined) throw badDealing(from, `it has no subshare of enrollment ${id} for operator ${index}`);
      try {
        const subshare = openRecoveryBox(ctx.keys, reshareContext(id, from, index), box.box);
        return { from, commitments: dealing.commitments, subshare };
      } catch (e) {
        if (!(e instanceof RecoveryBoxError)) throw e;
        throw badDealing(from, `its subshare of enrollment ${id} does not open with this operator's key`);
      }
    });
    let reshared: { share: Uint8Array; commitments: Uint8Array[] };
    try {
      reshared = acceptReshare(oldCommitments, helpers, index, subshares);
    } catch (e) {
      if (!(e instanceof ThresholdOprfError)) throw e;
      if (e.party === undefined) throw invalid(`enrollment ${id}: ${e.message}`);
      throw badDealing(e.party, `enrollment ${id}: ${e.message}`);
    }
    installed.push({
      id,
      index,
      threshold,
      commitments: reshared.commitments,
      sealedShare: ctx.masterKey.seal(reshared.share, sealedShareContext(id, index)),
      email,
      account,
    });
  }
  const now = ctx.now();
  await ctx.db.transaction(async (tx) => {
    // An old operator's every share moves to the new sharing, or none does: a share left on the
    // old polynomial would combine with no new one.
    for (const held of await operatorEnrollments(tx)) {
      const next = installed.find((e) => e.id === held.id);
      if (next === undefined)
        throw conflict(
          `enrollment ${held.id} is held here but not in the dealings: deal again, all enrollments at once`,
        );
      if (!sameCommitments(held.commitments, oldCommitmentsOf(dealings, held.id)))
        throw conflict(`the dealings of enrollment ${held.id} reshare other commitments than this operator holds`);
    }
    for (const enrollment of installed) {
      await upsertOperatorEnrollment(tx, enrollment, now);
      await record(tx, enrollment, "operator-admin", now, "operator.reshared", { index, threshold, helpers });
    }
  });
  return { accepted: installed.length };
}

/**
 * Deletes this operator's share of every enrollment, once a reshare has moved them to a new set
 * this operator is not in: a retired share would otherwise still combine with another old one.
 */
export async function retireShares(ctx: OperatorContext): Promise<{ retired: number }> {
  if (ownTarget(ctx) !== undefined)
    throw conflict("this operator is in the configured new set (KEYSHARD_OPERATOR_RESHARE_TO): it keeps its shares");
  const now = ctx.now();
  return ctx.db.transaction(async (tx) => {
    const held = await operatorEnrollments(tx);
    for (const enrollment of held)
      await record(tx, enrollment, "operator-admin", now, "operator.retired", { index: enrollment.index });
    await deleteOperatorEnrollments(tx);
    return { retired: held.length };
  });
}

function oldCommitmentsOf(dealings: { enrollments: EnrollmentDealing[] }[], id: string): Uint8Array[] {
  return dealings[0]?.enrollments.find((e) => e.enrollment === id)?.oldCommitments ?? [];
}

/** Commitments are public: compared as their encodings, in order. */
function sameCommitments(a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean {
  return a.length === b.length && a.every((c, i) => bytesToHex(c) === bytesToHex(b[i] as Uint8Array));
}
