/**
 * Protocol sessions between a wallet device (party 0) and the provider (party 1), persisted
 * between requests. Each round runs inside one transaction that locks the session row: the
 * provider's party is restored from its sealed state, handles the device's messages, and its next
 * state is sealed and committed before any reply leaves — so a saved state is used once, two
 * replicas never run the same round, and a crash mid-round loses nothing. A retried request with
 * the same body gets the stored reply instead of a second run.
 *
 * A session whose device sends nothing for `SESSION_IDLE_MS` fails as an aborted one does: its
 * sealed state (a signing nonce among it) and stored reply are erased and its request, new wallet
 * or key change is marked failed, on its next round or by the periodic sweep, whichever comes
 * first. The session cannot be resumed later, and no secret state waits at rest for a device
 * that has gone.
 */

import { randomUUID } from "node:crypto";
import {
  type Party,
  PROVIDER,
  ProtocolAbort,
  type Share,
  type SignResultOf,
  scheme,
  WALLET_DEVICE,
} from "@keyshard/mpc";
import { fromWire, toWire, type WireMessage } from "@keyshard/transport";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import type { ProviderContext } from "../context.js";
import { conflict, invalid, notFound, ProviderError } from "../errors.js";
import { refuseOverRunQuota } from "../quotas.js";
import type { Database, Queryable } from "../store/queryable.js";
import {
  claimSession,
  idleSessions,
  keepRefusedSid,
  lockSession,
  markSessionFailed,
  type SessionKind,
  type SessionRow,
  saveRound,
  saveStartedSession,
} from "../store/sessions.js";
import { newShareMade } from "../wallets/key-changes.js";
import { eachStale } from "./expiry.js";
import type { SessionParty, SessionPartyOf, SessionResults } from "./live-parties.js";
import { keyMade, runFailed, signatureMade } from "./outcome.js";
import { heldShare } from "./share-cache.js";

export interface SessionReply {
  sessionId: string;
  /** The round the device's next request must name. */
  round: number;
  messages: WireMessage[];
  done: boolean;
  /** When done: the wallet's public key (keygen) or the signature (sign), in hex. */
  publicKey?: string;
  signature?: string;
}

const stateContext = (id: string, round: number) => `session:${id}:${round}`;

/** How long a running session may wait for its device's next round. */
export const SESSION_IDLE_MS = 60 * 60_000;

/**
 * Starts the provider's party of a new session inside the caller's transaction, made by
 * `makeParty` under the session's sid, and returns it with the reply. The caller hands the party
 * to `ctx.parties`, at the reply's round, once that transaction has committed.
 *
 * `opening` is the device's first round, sent with the request that starts the session under a
 * sid the device chose: when the provider's party has nothing to say first (ecdsa2p), it answers
 * that round at once and the session begins at round 1, a request sooner. Otherwise (FROST, whose
 * parties both speak in round 1) the opening is left for the device to send as round 0.
 *
 * The session's row claims its sid before the party is made: a sid any session has used (any
 * wallet, scheme or kind; the unique index of 011 is the compare-and-swap) is refused with
 * nothing run, not even the device's opening, and with replicas racing for one sid only the first
 * to commit gets it.
 */
export async function startSession<K extends SessionKind>(
  ctx: ProviderContext,
  tx: Queryable,
  session: {
    id: string;
    accountId: string;
    walletId: string;
    kind: K;
    signRequestId?: string;
    messageIndex?: number;
    /** The epoch a refresh makes. */
    epoch?: number;
    sid: Uint8Array;
  },
  makeParty: (sid: Uint8Array) => Party<SessionResults[K]>,
  opening?: unknown,
): Promise<{ reply: SessionReply; party: SessionPartyOf<K> }> {
  // A malformed first round is refused before any party exists: once one has started under a
  // sid, that sid is spent.
  const incoming = opening === undefined ? undefined : deviceMessages(opening);
  const { claimed, runningBefore } = await claimSession(
    tx,
    {
      id: session.id,
      accountId: session.accountId,
      walletId: session.walletId,
      kind: session.kind,
      signRequestId: session.signRequestId ?? null,
      messageIndex: session.messageIndex ?? null,
      epoch: session.epoch ?? null,
      sid: session.sid,
    },
    ctx.now(),
  );
  refuseOverRunQuota(runningBefore);
  if (!claimed) throw conflict("this session id was used before; draw a new one");
  const party = makeParty(session.sid);
  let messages: WireMessage[];
  try {
    messages = toWire(party.start());
  } catch (e) {
    // The engine keeps its own record of the sessions this process started, which a transaction
    // that failed after starting one (a first round refused) did not roll back.
    if (e instanceof ProtocolAbort) throw conflict(`this session id cannot be used: ${e.reason}; draw a new one`);
    throw e;
  }
  let round = 0;
  if (incoming !== undefined && messages.length === 0) {
    messages = toWire(handleOpening(party, incoming, session));
    round = 1;
  }
  await saveStartedSession(tx, session.id, round, ctx.masterKey.seal(party.save(), stateContext(session.id, round)));
  return { reply: { sessionId: session.id, round, messages, done: false }, party: { kind: session.kind, party } };
}

/**
 * A device's first round the provider's party refused. Its request is not kept, but the party did
 * run under the sid: `keepingRefusedSids` records it once the request's transaction has rolled back.
 */
export class OpeningRefused extends ProviderError {
  constructor(
    reason: string,
    readonly spent: { accountId: string; walletId: string; sid: Uint8Array },
  ) {
    super("aborted", "protocol-abort", `the device's first round was refused: ${reason}`);
  }
}

/**
 * `ctx.db`'s transactions, except that one failing on a refused first round (whose request is
 * not kept) keeps the refused round's sid taken, as a failed session of no request.
 */
export function keepingRefusedSids(ctx: ProviderContext): Pick<Database, "transaction"> {
  return {
    async transaction(work) {
      try {
        return await ctx.db.transaction(work);
      } catch (e) {
        if (e instanceof OpeningRefused) {
          await keepRefusedSid(ctx.db, { id: randomUUID(), ...e.spent }, ctx.now());
        }
        throw e;
      }
    },
  };
}

/**
 * The provider's answer to a device's first round. A bad one is the device's own request gone
 * wrong (it disagrees on the message, say), not a run to record as failed: only its sid is kept.
 */
function handleOpening<T>(
  party: Party<T>,
  incoming: ReturnType<typeof deviceMessages>,
  session: { accountId: string; walletId: string; sid: Uint8Array },
) {
  try {
    return party.handle(incoming);
  } catch (e) {
    if (e instanceof ProtocolAbort)
      throw new OpeningRefused(e.reason, {
        accountId: session.accountId,
        walletId: session.walletId,
        sid: session.sid,
      });
    throw e;
  }
}

/** A round of the device's messages as the request carried them; malformed ones are a 400. */
function deviceMessages(messages: unknown) {
  try {
    return fromWire(messages, { from: WALLET_DEVICE, to: PROVIDER });
  } catch (e) {
    throw invalid(e instanceof Error ? e.message : "malformed messages");
  }
}

/** A running session's party at its round, with what it makes. */
type SessionRun =
  | { kind: "keygen"; party: Party<Share> }
  | { kind: "refresh"; epoch: number; party: Party<Share> }
  | { kind: "sign"; requestId: string; messageIndex: number; party: Party<SignResultOf> };

/**
 * The party of the running session `row` at its round: the one this process holds live, or else
 * one restored from the sealed state (which needs the wallet's `share` to sign or refresh).
 */
function sessionRun(
  ctx: ProviderContext,
  sessionId: string,
  row: Extract<SessionRow, { status: "running" }>,
  share: Share | null,
): SessionRun {
  const live: SessionParty | undefined = ctx.parties.take(sessionId, row.round);
  const engine = scheme(row.scheme);
  const state = () => ctx.masterKey.open(new Uint8Array(row.state), stateContext(sessionId, row.round));
  switch (row.kind) {
    case "keygen":
      return { kind: "keygen", party: live?.kind === "keygen" ? live.party : engine.restoreKeygen(state()) };
    case "refresh":
      return {
        kind: "refresh",
        epoch: row.epoch,
        party: live?.kind === "refresh" ? live.party : engine.restoreRefresh(heldShare(share), state()),
      };
    case "sign":
      return {
        kind: "sign",
        requestId: row.sign_request_id,
        messageIndex: row.message_index,
        party: live?.kind === "sign" ? live.party : engine.restoreSign(heldShare(share), state()),
      };
  }
}

const idle = (ctx: ProviderContext, row: SessionRow) =>
  row.status === "running" && ctx.now() - Number(row.updated_ms) > SESSION_IDLE_MS;
const IDLE_REASON = "no round came for over an hour";

/** Runs one round of the device's messages; `rawBody` identifies a retry of the same request. */
export async function advanceSession(
  ctx: ProviderContext,
  request: {
    sessionId: string;
    accountId: string;
    actor: string;
    round: number;
    messages: unknown;
    rawBody: Uint8Array;
  },
): Promise<SessionReply> {
  const inputHash = sha256(request.rawBody);
  let live: { round: number; party: SessionParty } | undefined;
  const outcome = await ctx.db.transaction(async (tx): Promise<SessionReply | { abort: ProtocolAbort }> => {
    const row = await lockSession(tx, request.sessionId, request.accountId);
    if (row === undefined) throw notFound("no such session in this account");
    // Before the replay check: an idle session answers nothing more, not even a repeated reply.
    if (idle(ctx, row)) {
      const abort = new ProtocolAbort(null, IDLE_REASON);
      await fail(ctx, tx, row, request, abort);
      ctx.parties.drop(request.sessionId);
      return { abort };
    }
    const replay = row.last_input !== null && bytesToHex(new Uint8Array(row.last_input)) === bytesToHex(inputHash);
    if (replay && request.round === row.round - 1 && row.last_output !== null)
      return JSON.parse(
        new TextDecoder().decode(ctx.masterKey.open(new Uint8Array(row.last_output), `reply:${request.sessionId}`)),
      );
    if (row.status !== "running") throw conflict(`session is ${row.status}`);
    if (request.round !== row.round) throw conflict(`session is at round ${row.round}, not ${request.round}`);
    const incoming = deviceMessages(request.messages);
    // Asking for the share also marks it recently used, so the share cache keeps it while runs need it.
    const share = row.share === null ? null : ctx.shares.get(row.wallet_id, row.scheme, new Uint8Array(row.share));
    let reply: SessionReply;
    let state: Uint8Array | null = null;
    try {
      const run = sessionRun(ctx, request.sessionId, row, share);
      const messages = toWire(run.party.handle(incoming));
      reply = { sessionId: request.sessionId, round: row.round + 1, messages, done: run.party.done };
      if (run.party.done) Object.assign(reply, await finish(ctx, tx, row, request, run));
      else {
        live = { round: row.round + 1, party: run };
        state = ctx.masterKey.seal(run.party.save(), stateContext(request.sessionId, row.round + 1));
      }
    } catch (e) {
      if (!(e instanceof ProtocolAbort)) throw e;
      await fail(ctx, tx, row, request, e);
      return { abort: e };
    }
    await saveRound(tx, request.sessionId, {
      state,
      status: reply.done ? "done" : "running",
      round: row.round + 1,
      inputHash,
      reply: ctx.masterKey.seal(utf8ToBytes(JSON.stringify(reply)), `reply:${request.sessionId}`),
      nowMs: ctx.now(),
    });
    return reply;
  });
  if (live !== undefined && !("abort" in outcome)) ctx.parties.put(request.sessionId, live.round, live.party);
  if ("abort" in outcome)
    throw new ProviderError(
      "aborted",
      "protocol-abort",
      `the session was aborted: ${outcome.abort.reason}; start a new one`,
    );
  return outcome;
}

/** Fails the sessions no device has advanced for `SESSION_IDLE_MS`, a batch at a time; returns how many. */
export async function expireIdleSessions(ctx: ProviderContext): Promise<number> {
  const stale = await idleSessions(ctx.db, ctx.now() - SESSION_IDLE_MS);
  return eachStale(stale, async ({ id, account_id: accountId }) => {
    const expired = await ctx.db.transaction(async (tx) => {
      // Locked and checked again: its device may have sent a round since the list was read.
      const row = await lockSession(tx, id, accountId);
      if (row === undefined || !idle(ctx, row)) return false;
      await fail(ctx, tx, row, { sessionId: id, accountId, actor: "provider" }, new ProtocolAbort(null, IDLE_REASON));
      return true;
    });
    if (expired) ctx.parties.drop(id);
    return expired;
  });
}

async function finish(
  ctx: ProviderContext,
  tx: Queryable,
  row: SessionRow,
  request: { sessionId: string; accountId: string; actor: string },
  finished: SessionRun,
): Promise<Partial<SessionReply>> {
  const run = { accountId: request.accountId, actor: request.actor, scheme: row.scheme, walletId: row.wallet_id };
  switch (finished.kind) {
    case "keygen":
      return { publicKey: bytesToHex(await keyMade(ctx, tx, run, finished.party.result())) };
    case "refresh": {
      const key = await newShareMade(ctx, tx, { ...run, epoch: finished.epoch }, finished.party.result());
      // A refresh keeps every party: its new share, never null, gives a key.
      return { publicKey: bytesToHex(key as Uint8Array) };
    }
    case "sign": {
      const signature = await signatureMade(
        ctx,
        tx,
        { ...run, requestId: finished.requestId, messageIndex: finished.messageIndex },
        finished.party.result(),
      );
      return { signature: bytesToHex(signature) };
    }
  }
}

async function fail(
  ctx: ProviderContext,
  tx: Queryable,
  row: SessionRow,
  request: { sessionId: string; accountId: string; actor: string },
  abort: ProtocolAbort,
): Promise<void> {
  await markSessionFailed(tx, request.sessionId, ctx.now());
  await runFailed(
    ctx,
    tx,
    {
      accountId: request.accountId,
      actor: request.actor,
      kind: row.kind,
      walletId: row.wallet_id,
      requestId: row.sign_request_id,
      epoch: row.epoch,
      session: request.sessionId,
    },
    abort,
  );
}
