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
import { type Party, PROVIDER, ProtocolAbort, type SchemeName, type Share, scheme, WALLET_DEVICE } from "@keyshard/mpc";
import { fromWire, toWire, type WireMessage } from "@keyshard/transport";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import type { ProviderContext } from "../context.js";
import { conflict, invalid, notFound, ProviderError } from "../errors.js";
import { refuseOverRunQuota, runningRuns } from "../quotas.js";
import type { Database, Queryable } from "../store/queryable.js";
import { newShareMade } from "../wallets/key-changes.js";
import { eachStale } from "./expiry.js";
import { keyMade, runFailed, signatureMade } from "./outcome.js";

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
export async function startSession(
  ctx: ProviderContext,
  tx: Queryable,
  session: {
    id: string;
    accountId: string;
    walletId: string;
    kind: "keygen" | "sign" | "refresh";
    signRequestId?: string;
    messageIndex?: number;
    /** The epoch a refresh makes. */
    epoch?: number;
    sid: Uint8Array;
  },
  makeParty: (sid: Uint8Array) => Party<unknown>,
  opening?: unknown,
): Promise<{ reply: SessionReply; party: Party<unknown> }> {
  // A malformed first round is refused before any party exists: once one has started under a
  // sid, that sid is spent.
  const incoming = opening === undefined ? undefined : deviceMessages(opening);
  // One statement claims the sid and counts the account's runs going (as they were before this
  // one): the signing path's statements are what a single-connection database serialises on.
  const [claimed] = await tx.query<{ id: string | null; running: string }>(
    `WITH claimed AS (
       INSERT INTO sessions (id, account_id, wallet_id, kind, sign_request_id, message_index, epoch, sid, round, status, updated_ms)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, 'running', $9)
       ON CONFLICT (sid) DO NOTHING RETURNING id)
     SELECT (SELECT id FROM claimed) AS id, ${runningRuns("$2")} AS running`,
    [
      session.id,
      session.accountId,
      session.walletId,
      session.kind,
      session.signRequestId ?? null,
      session.messageIndex ?? null,
      session.epoch ?? null,
      session.sid,
      ctx.now(),
    ],
  );
  refuseOverRunQuota(Number(claimed?.running ?? 0));
  if (claimed?.id == null) throw conflict("this session id was used before; draw a new one");
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
  await tx.query("UPDATE sessions SET round = $2, state = $3 WHERE id = $1", [
    session.id,
    round,
    ctx.masterKey.seal(party.save(), stateContext(session.id, round)),
  ]);
  return { reply: { sessionId: session.id, round, messages, done: false }, party };
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
          const { accountId, walletId, sid } = e.spent;
          await ctx.db.query(
            `INSERT INTO sessions (id, account_id, wallet_id, kind, sid, round, status, updated_ms)
             VALUES ($1, $2, $3, 'sign', $4, 0, 'failed', $5) ON CONFLICT (sid) DO NOTHING`,
            [randomUUID(), accountId, walletId, sid, ctx.now()],
          );
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
function handleOpening(
  party: Party<unknown>,
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

interface SessionRow {
  wallet_id: string;
  kind: "keygen" | "sign" | "refresh";
  sign_request_id: string | null;
  message_index: number | null;
  epoch: number | null;
  round: number;
  state: Uint8Array | null;
  last_input: Uint8Array | null;
  last_output: Uint8Array | null;
  status: "running" | "done" | "failed";
  updated_ms: string;
  scheme: SchemeName;
  share: Uint8Array | null;
}

/** The session's row, locked, with its wallet's scheme and share; only within the account. */
async function lockSession(tx: Queryable, sessionId: string, accountId: string): Promise<SessionRow | undefined> {
  const [row] = await tx.query<SessionRow>(
    `SELECT s.wallet_id, s.kind, s.sign_request_id, s.message_index, s.epoch, s.round, s.state, s.last_input, s.last_output,
            s.status, s.updated_ms, w.scheme, w.share
     FROM sessions s JOIN wallets w ON w.id = s.wallet_id
     WHERE s.id = $1 AND s.account_id = $2 FOR UPDATE OF s`,
    [sessionId, accountId],
  );
  return row;
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
  let live: { round: number; party: Party<unknown> } | undefined;
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
    const engine = scheme(row.scheme);
    // Asking for the share also tells the share cache that signing is under way (see its idle rule).
    const share = row.share === null ? null : ctx.shares.get(row.wallet_id, row.scheme, new Uint8Array(row.share));
    // Only a party this process does not hold live is restored from the database.
    const restore = () => {
      const state = ctx.masterKey.open(
        new Uint8Array(row.state as Uint8Array),
        stateContext(request.sessionId, row.round),
      );
      if (row.kind === "keygen") return engine.restoreKeygen(state);
      return row.kind === "refresh"
        ? engine.restoreRefresh(share as Share, state)
        : engine.restoreSign(share as Share, state);
    };
    let reply: SessionReply;
    let state: Uint8Array | null = null;
    try {
      const party = ctx.parties.take(request.sessionId, row.round) ?? restore();
      const messages = toWire(party.handle(incoming));
      reply = { sessionId: request.sessionId, round: row.round + 1, messages, done: party.done };
      if (party.done) Object.assign(reply, await finish(ctx, tx, row, request, party.result()));
      else {
        live = { round: row.round + 1, party };
        state = ctx.masterKey.seal(party.save(), stateContext(request.sessionId, row.round + 1));
      }
    } catch (e) {
      if (!(e instanceof ProtocolAbort)) throw e;
      await fail(ctx, tx, row, request, e);
      return { abort: e };
    }
    // The round's outcome, and its reply for a retry of the same request, in one write.
    await tx.query(
      "UPDATE sessions SET state = $2, status = $3, round = $4, last_input = $5, last_output = $6, updated_ms = $7 WHERE id = $1",
      [
        request.sessionId,
        state,
        reply.done ? "done" : "running",
        row.round + 1,
        inputHash,
        ctx.masterKey.seal(utf8ToBytes(JSON.stringify(reply)), `reply:${request.sessionId}`),
        ctx.now(),
      ],
    );
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
  const stale = await ctx.db.query<{ id: string; account_id: string }>(
    "SELECT id, account_id FROM sessions WHERE status = 'running' AND updated_ms < $1 LIMIT 100",
    [ctx.now() - SESSION_IDLE_MS],
  );
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
  result: unknown,
): Promise<Partial<SessionReply>> {
  const run = { accountId: request.accountId, actor: request.actor, scheme: row.scheme };
  if (row.kind === "keygen")
    return { publicKey: bytesToHex(await keyMade(ctx, tx, { ...run, walletId: row.wallet_id }, result)) };
  if (row.kind === "refresh") {
    const key = await newShareMade(ctx, tx, { ...run, walletId: row.wallet_id, epoch: row.epoch as number }, result);
    return { publicKey: bytesToHex(key as Uint8Array) };
  }
  const signature = await signatureMade(
    ctx,
    tx,
    { ...run, requestId: row.sign_request_id as string, messageIndex: row.message_index as number },
    result,
  );
  return { signature: bytesToHex(signature) };
}

async function fail(
  ctx: ProviderContext,
  tx: Queryable,
  row: SessionRow,
  request: { sessionId: string; accountId: string; actor: string },
  abort: ProtocolAbort,
): Promise<void> {
  await tx.query(
    "UPDATE sessions SET state = NULL, last_output = NULL, status = 'failed', updated_ms = $2 WHERE id = $1",
    [request.sessionId, ctx.now()],
  );
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
