/**
 * Co-signing with the account's other devices in a t-of-n wallet. Another device opens a relay
 * session to sign with this one:
 *
 * - **a proposal** ("sign <wallet>") of a wallet among devices only: the proposer sends the bytes
 *   in round 0, this device reads them itself, answers, and signs if the proposer chooses it;
 * - **a signature of a request** ("signature <n> of request <id>") the provider co-signs with more
 *   than one device: the bytes are the request's, read from the provider's copy, and the run is
 *   joined only when this device agrees.
 *
 * Either way what is judged — by a confirmation device's rules or by the person at the device —
 * is this device's own reading of the bytes, never the proposer's or the provider's summary, and
 * a session whose sid this device's share has used is refused before anyone is asked. The
 * confirmation device (`Cosigner`) runs every session it is invited to; an app runs the one its
 * person opens (`Wallet.cosign`).
 */
import { endpoints } from "@keyshard/api";
import type { SigningKey, SigningRequest, TransactionDescription } from "@keyshard/chains";
import { scheme } from "@keyshard/mpc";
import { wsRelayChannel } from "@keyshard/transport";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import type { Device } from "../device/device.js";
import { WalletError } from "../errors.js";
import { describeRequest, messagesToSign, plainJson, requestKey } from "../requests.js";
import {
  type Answer,
  type Go,
  openControl,
  PROTOCOL_FIRST_ROUND,
  type Proposal,
  peersOf,
  relayRun,
  replaying,
  sealControl,
} from "../runs/signing.js";
import { usedBy } from "../session-ids.js";
import type { StoredWallet } from "../state.js";
import type { RelaySession } from "../types.js";
import { requestDetail, requestOf } from "./approvals.js";
import { current } from "./key-change.js";
import { relaySessions } from "./wallets.js";

/** How long this device waits for the proposal once it opened the session. */
const PROPOSAL_WAIT_MS = 30_000;
/**
 * The longest this device waits, once it agreed, for the proposer's choice of signers: the
 * proposer says how long it waits for the others' answers (`Proposal.waitMs`), up to this.
 */
const GO_WAIT_MOST_MS = 10 * 60_000;

/** How long to wait for the go of `proposal`: what the proposer waits for answers, bounded, and a proposer that does not say gets the old half minute. */
function goWaitOf(proposal: Proposal): number {
  const told = proposal.waitMs;
  const wait = typeof told === "number" && Number.isFinite(told) && told > 0 ? told : PROPOSAL_WAIT_MS;
  return Math.min(wait, GO_WAIT_MOST_MS) + PROPOSAL_WAIT_MS;
}

const REUSED = "this device's share has taken part in a run under this session id before (a replayed session)";
const WITHDRAWN = "the device that asked stopped waiting before this device's answer counted";

/** Whether this device co-signs, and why. */
export interface Verdict {
  accept: boolean;
  reason: string;
}

/** Judges what the bytes do: a confirmation device's rules, or the person at the device. */
export type Judge = (description: TransactionDescription, body: SigningRequest) => Promise<Verdict>;

/** A judge that asks the person at the device, yes or no. */
export const askingJudge =
  (ask: (description: TransactionDescription, body: SigningRequest) => Promise<boolean>): Judge =>
  async (description, body) =>
    (await ask(description, body))
      ? { accept: true, reason: "approved by the person at this device" }
      : { accept: false, reason: "declined by the person at this device" };

/** How one co-signing ended for this device. */
export interface CosignOutcome {
  relayId: string;
  /** The wallet, by the name this device knows it by. */
  wallet: string;
  /** The device that asked. */
  proposer: string;
  chain: string;
  /** `not-chosen`: it agreed, and the proposer signed with other devices that agreed first, or stopped waiting. */
  decision: "signed" | "refused" | "not-chosen";
  reason: string;
  /** What the bytes do, as this device read them, when it could. */
  description?: unknown;
  signature?: string;
}

/** A relay session in which another device asks this one to co-sign, read from its purpose. */
export type CosignSession =
  | { kind: "proposal"; walletId: string; session: RelaySession }
  | { kind: "request"; requestId: string; index: number; session: RelaySession };

/** `session` as a co-signing this device is asked for, or undefined when it is something else. */
export function cosignSessionOf(device: Device, session: RelaySession): CosignSession | undefined {
  if (session.createdBy === device.deviceId) return undefined;
  const proposed = /^sign ([0-9a-f-]{36})$/.exec(session.purpose)?.[1];
  if (proposed !== undefined) return { kind: "proposal", walletId: proposed, session };
  const requested = /^signature (\d{1,4}) of request ([0-9a-f-]{36})$/.exec(session.purpose);
  if (requested === null) return undefined;
  return { kind: "request", index: Number(requested[1]), requestId: requested[2] as string, session };
}

/** The wallet of `walletId` this device holds, or undefined. */
const heldWallet = (device: Device, walletId: string): StoredWallet | undefined =>
  device.state.wallets.find((w) => w.id === walletId);

/** What a transaction does and its signature `index`'s message; throws for anything else. */
function readRequest(
  body: SigningRequest,
  key: SigningKey,
  index: unknown,
): { description: TransactionDescription; message: Uint8Array } {
  const description = describeRequest(body, key);
  if (description === undefined) throw new WalletError("usage", "not a transaction this device co-signs");
  const message = Number.isInteger(index) ? messagesToSign(body, key)[index as number] : undefined;
  if (message === undefined) throw new WalletError("usage", `the bytes need no signature ${String(index)}`);
  return { description, message };
}

/**
 * A device-only wallet's proposal: read it, answer it, and sign if this device is chosen.
 * Undefined when this device holds no such wallet, the session's creator is no member of it, or
 * it withdrew the proposal before anything was read.
 */
export async function answerProposal(
  device: Device,
  walletId: string,
  session: RelaySession,
  judge: Judge,
): Promise<CosignOutcome | undefined> {
  let stored = heldWallet(device, walletId);
  const proposer = stored?.members?.find((m) => m.deviceId === session.createdBy && !m.provider);
  if (stored === undefined || proposer === undefined) return undefined;
  let ctx = device.runContext(stored);
  const sid = hexToBytes(session.sid);
  const channel = await wsRelayChannel(ctx.client.url, ctx.identity, session.relayId);
  try {
    const seen = new Set<string>();
    /** What came off the wire and was not read yet: `next` takes one message at a time from it. */
    const inbox: unknown[] = [];
    /** Protocol rounds that came early, for the run. */
    const taken: unknown[] = [];
    let withdrawn = false;
    /** The proposer's next message of `type` within `waitMs`, or undefined once it withdrew the proposal. */
    const next = async <T extends { type: string }>(type: T["type"], waitMs: number): Promise<T | undefined> => {
      const deadline = Date.now() + waitMs;
      for (;;) {
        for (let raw = inbox.shift(); raw !== undefined; raw = inbox.shift()) {
          const value = openControl(ctx.identity, sid, proposer, raw, seen) as { type?: unknown } | undefined;
          if (value === undefined) taken.push(raw);
          else if (value.type === "withdrawn") withdrawn = true;
          else if (value.type === type) return value as T;
        }
        if (withdrawn) return undefined;
        if (Date.now() > deadline) throw new WalletError("signing-failed", `no ${type} from the proposer in time`);
        inbox.push(...(await channel.receive()));
      }
    };
    /** Whether a withdrawal waits among the messages not read yet (read with a seen-set of its own, so they still open later). */
    const withdrawnAhead = () =>
      withdrawn ||
      inbox.some(
        (raw) => (openControl(ctx.identity, sid, proposer, raw, new Set()) as { type?: unknown })?.type === "withdrawn",
      );
    const proposal = await next<Proposal>("proposal", PROPOSAL_WAIT_MS);
    if (proposal === undefined) return undefined;
    const body = proposal.body;
    let description: TransactionDescription | undefined;
    let message: Uint8Array | undefined;
    let verdict: Verdict | undefined;
    try {
      if (proposal.walletId !== stored.id) throw new WalletError("usage", "the proposal names another wallet");
      // The proposer may have seen a key change committed before this device looked.
      if (proposal.epoch !== (stored.epoch ?? 0)) {
        stored = await current(device, stored.id);
        ctx = device.runContext(stored);
      }
      if (proposal.epoch !== (stored.epoch ?? 0))
        throw new WalletError(
          "stale-share",
          `the proposer signs with epoch ${proposal.epoch} shares, this device with epoch ${stored.epoch ?? 0}`,
        );
      ({ description, message } = readRequest(body, requestKey(stored.scheme, ctx.share, body.path), proposal.message));
      // Before the rules, or the person at the device, are asked about a run it will not join.
      if (usedBy(stored, sid)) verdict = { accept: false, reason: REUSED };
      else if (withdrawnAhead()) verdict = { accept: false, reason: WITHDRAWN };
    } catch (e) {
      verdict = { accept: false, reason: `cannot read the proposal: ${e instanceof Error ? e.message : String(e)}` };
    }
    // Outside the reading's catch: a judge that cannot decide (an app that cannot show these bytes)
    // throws, and the proposal is left unanswered for another device, not refused in its name.
    verdict ??= await judge(description as TransactionDescription, body);
    // The sid is spent whatever the answer: a session this device answered is never listed or answered again.
    if (verdict.reason !== REUSED) await ctx.claim([sid]);
    const answer: Answer = {
      type: "answer",
      accept: verdict.accept,
      ...(verdict.accept ? {} : { reason: verdict.reason }),
    };
    await channel.send([sealControl(ctx.identity, sid, proposer, 0, answer)]);
    const outcome = {
      relayId: session.relayId,
      wallet: stored.name,
      proposer: proposer.deviceId,
      chain: body.chain,
      reason: verdict.reason,
      ...(description && { description: plainJson(description) }),
    };
    if (!verdict.accept) return { ...outcome, decision: "refused" };
    const go = await next<Go>("go", goWaitOf(proposal));
    if (go === undefined) return { ...outcome, reason: WITHDRAWN, decision: "not-chosen" };
    if (!go.signers.includes(stored.index) || !go.signers.includes(proposer.index))
      return { ...outcome, decision: "not-chosen" };
    const members = stored.members;
    if (go.signers.some((i) => members?.find((m) => m.index === i)?.provider !== false))
      throw new WalletError("signing-failed", "the proposer named a signer that is not a device member");
    const party = scheme(stored.scheme).sign(ctx.share, {
      sid,
      message: message as Uint8Array,
      signers: go.signers,
      ...(body.path !== undefined && { path: body.path }),
    });
    const result = await relayRun(ctx, session, {
      party,
      index: stored.index,
      peers: peersOf(stored, [], go.signers),
      channel: replaying(channel, [...taken, ...inbox]),
      firstRound: PROTOCOL_FIRST_ROUND,
    });
    return { ...outcome, decision: "signed", signature: bytesToHex(scheme(stored.scheme).signatureBytes(result)) };
  } finally {
    channel.close();
  }
}

/**
 * One verdict per request, however many signatures it needs, on the bytes first judged: a
 * signature whose bytes the provider gives differently under the same request id is refused, never
 * signed on the verdict the first bytes had.
 */
export class RequestVerdicts {
  readonly #judged = new Map<string, { bytes: string; verdict: Promise<Verdict> }>();

  constructor(private readonly judge: Judge) {}

  of(requestId: string, description: TransactionDescription, body: SigningRequest): Promise<Verdict> {
    const bytes = JSON.stringify(body);
    const judged = this.#judged.get(requestId);
    if (judged === undefined) {
      const verdict = this.judge(description, body);
      this.#judged.set(requestId, { bytes, verdict });
      return verdict;
    }
    if (judged.bytes !== bytes)
      return Promise.resolve({
        accept: false,
        reason: "the provider gave other bytes for this request than the ones judged for its first signature",
      });
    return judged.verdict;
  }
}

/**
 * One signature of a request the provider co-signs with more than one device (a t-of-n wallet
 * with the provider as a party and t > 2): the requester named this device as a signer. The
 * bytes are read here from the provider's copy, judged through `verdicts` — once per request,
 * however many signatures it needs — and the run is joined only if that allows it. Undefined when
 * the request is not this device's wallet's, or not one being signed by the session's creator.
 */
export async function joinRequestSignature(
  device: Device,
  { index, requestId, session }: { index: number; requestId: string; session: RelaySession },
  verdicts: RequestVerdicts,
): Promise<CosignOutcome | undefined> {
  const detail = await requestDetail(device, requestId);
  if (heldWallet(device, detail.walletId) === undefined) return undefined;
  if (detail.deviceId !== session.createdBy || detail.status !== "signing") return undefined;
  const stored = await current(device, detail.walletId);
  const members = stored.members;
  if (members === null) return undefined;
  const ctx = device.runContext(stored);
  const { body } = requestOf(device, detail);
  // Checked before anyone is asked: a run this device cannot make a quorum of is no question.
  const parties = members
    .filter((m) => m.provider || session.participants.includes(m.deviceId))
    .map((m) => m.index)
    .sort((a, b) => a - b);
  if (!parties.includes(stored.index) || parties.length !== stored.threshold)
    throw new WalletError("signing-failed", "the run's parties are not a quorum with this device and the provider");
  let description: TransactionDescription | undefined;
  let message: Uint8Array | undefined;
  let verdict: Verdict | undefined;
  try {
    ({ description, message } = readRequest(body, requestKey(stored.scheme, ctx.share, body.path), index));
    if (usedBy(stored, session.sid)) verdict = { accept: false, reason: REUSED };
  } catch (e) {
    verdict = { accept: false, reason: `cannot read the request: ${e instanceof Error ? e.message : String(e)}` };
  }
  // As for a proposal: a judge that cannot decide throws, and nothing is refused in its name.
  verdict ??= await verdicts.of(requestId, description as TransactionDescription, body);
  // The sid is spent whatever the answer: a session this device decided on is not listed again.
  if (verdict.reason !== REUSED) await ctx.claim([session.sid]);
  const outcome = {
    relayId: session.relayId,
    wallet: stored.name,
    proposer: detail.deviceId,
    chain: body.chain,
    reason: verdict.reason,
    ...(description && { description: plainJson(description) }),
  };
  if (!verdict.accept) return { ...outcome, decision: "refused" };
  const party = scheme(stored.scheme).sign(ctx.share, {
    sid: hexToBytes(session.sid),
    message: message as Uint8Array,
    signers: parties,
    ...(body.path !== undefined && { path: body.path }),
  });
  const result = await relayRun(ctx, session, { party, index: stored.index, peers: peersOf(stored, [], parties) });
  return { ...outcome, decision: "signed", signature: bytesToHex(scheme(stored.scheme).signatureBytes(result)) };
}

/** A co-signing another device asks of this one, as an app lists it for its person to open. */
export interface CosignInvitation {
  /** The relay session to open it by (`cosign`); a request's first signature's. */
  id: string;
  kind: "proposal" | "request";
  walletId: string;
  /** The wallet, by the name this device knows it by. */
  wallet: string;
  /** The device that asks. */
  proposer: string;
  /** The request's id, for a request the provider co-signs. */
  requestId?: string;
  /** When the relay session ends (ms since the epoch): the asking device waits less than that. */
  expiresMs: number;
}

/**
 * Whether the proposer of `session` still asks this device: its proposal is there for it, and it
 * has neither sent its go (signing with the devices that agreed first) nor withdrawn. Read from the
 * envelopes the relay keeps for this device, without joining the session; only what opens as
 * sealed by the proposer counts, so a session the relay made up, with no proposal in it, is not
 * listed.
 */
async function stillAsked(device: Device, wallet: StoredWallet, session: RelaySession): Promise<boolean> {
  const proposer = wallet.members?.find((m) => m.deviceId === session.createdBy && !m.provider);
  if (proposer === undefined) return false;
  const { envelopes } = await device.client.request(endpoints.envelopes, {
    params: { id: session.relayId },
    query: {},
  });
  const sid = hexToBytes(session.sid);
  const seen = new Set<string>();
  // Each comes with the relay's id for it, as the WebSocket hands them out.
  const types = envelopes.map(
    (stored) =>
      (
        openControl(device.identity, sid, proposer, (stored as { envelope?: unknown }).envelope, seen) as
          | { type?: unknown }
          | undefined
      )?.type,
  );
  return types.includes("proposal") && !types.includes("go") && !types.includes("withdrawn");
}

/** The sessions of the account still open for this device to co-sign in (its share has used none of their sids). */
async function openCosignings(device: Device): Promise<CosignSession[]> {
  const { sessions } = await relaySessions(device);
  const open: CosignSession[] = [];
  for (const session of sessions) {
    const read = cosignSessionOf(device, session);
    if (read === undefined) continue;
    const held = read.kind === "proposal" ? heldWallet(device, read.walletId) : undefined;
    if (
      read.kind === "proposal" &&
      (held === undefined || usedBy(held, session.sid) || !(await stillAsked(device, held, session)))
    )
      continue;
    if (read.kind === "request" && device.state.wallets.some((w) => usedBy(w, session.sid))) continue;
    open.push(read);
  }
  return open;
}

/**
 * What other devices ask this one to co-sign now, one entry per proposal and per request (however
 * many signatures it needs), for wallets this device holds.
 */
export async function cosignInvitations(device: Device): Promise<CosignInvitation[]> {
  const invitations: CosignInvitation[] = [];
  const requests = new Set<string>();
  for (const read of await openCosignings(device)) {
    const { session } = read;
    const base = { id: session.relayId, kind: read.kind, proposer: session.createdBy, expiresMs: session.expiresMs };
    if (read.kind === "proposal") {
      const held = heldWallet(device, read.walletId) as StoredWallet;
      invitations.push({ ...base, walletId: held.id, wallet: held.name });
      continue;
    }
    if (requests.has(read.requestId)) continue;
    requests.add(read.requestId);
    const detail = await requestDetail(device, read.requestId);
    const held = heldWallet(device, detail.walletId);
    if (held === undefined || detail.deviceId !== session.createdBy || detail.status !== "signing") continue;
    invitations.push({ ...base, walletId: held.id, wallet: held.name, requestId: read.requestId });
  }
  return invitations;
}

/**
 * Opens the co-signing `id` (a `cosignInvitation`'s): reads what the bytes do, asks `ask` with this
 * device's own description of them, answers, and signs if agreed (and, for a proposal, chosen).
 * A request's signatures are all joined at once, with one question: the requester may take them
 * in any order.
 */
export async function cosign(
  device: Device,
  id: string,
  ask: (description: TransactionDescription, body: SigningRequest) => Promise<boolean>,
): Promise<CosignOutcome> {
  const open = await openCosignings(device);
  const read = open.find((s) => s.session.relayId === id);
  const gone = () =>
    new WalletError(
      "signing-failed",
      "this co-signing is over: the device that asked stopped waiting, or it was answered",
    );
  if (read === undefined) throw gone();
  const judge = askingJudge(ask);
  if (read.kind === "proposal") {
    const outcome = await answerProposal(device, read.walletId, read.session, judge);
    if (outcome === undefined) throw gone();
    return outcome;
  }
  const verdicts = new RequestVerdicts(judge);
  const signatures = open.filter(
    (s): s is Extract<CosignSession, { kind: "request" }> => s.kind === "request" && s.requestId === read.requestId,
  );
  // Each run is settled before the call returns, so that none goes on touching the keystore after it.
  const settledRuns = await Promise.allSettled(signatures.map((s) => joinRequestSignature(device, s, verdicts)));
  const failed = settledRuns.find((r) => r.status === "rejected");
  if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
  const outcomes = settledRuns.map((r) => (r as PromiseFulfilledResult<CosignOutcome | undefined>).value);
  const first = outcomes.find((o) => o !== undefined);
  if (first === undefined) throw gone();
  return first;
}
