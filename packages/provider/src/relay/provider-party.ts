/**
 * The provider as one party of a relayed t-of-n run (keygen, a refresh or reshare, or signing what
 * the policy allowed).
 * Its party lives in `relay_parties`: protocol state and the buffer of opened envelopes, both
 * sealed under the master key. Whenever envelopes for the provider arrive, one transaction locks
 * the row, opens them, runs every round that is complete, stores the outgoing envelopes and the
 * next state — so, as with two-party sessions, any replica can continue and a state is used once.
 * The row also claims the run's sid, before the party exists: the provider's parties never run
 * twice under one sid.
 */
import { type Party, ProtocolAbort, type Share, type SignResultOf, scheme } from "@keyshard/mpc";
import { EnvelopeError, type RelayPeer, RoundBuffer } from "@keyshard/transport";
import { utf8ToBytes } from "@noble/hashes/utils.js";
import type { ProviderContext } from "../context.js";
import { conflict } from "../errors.js";
import { checkRunQuota } from "../quotas.js";
import { eachStale } from "../sessions/expiry.js";
import { keyMade, runFailed, signatureMade } from "../sessions/outcome.js";
import { heldShare } from "../sessions/share-cache.js";
import { identityKeys } from "../store/devices.js";
import type { Queryable } from "../store/queryable.js";
import {
  claimRelayParty,
  expiredRunningParties,
  lockRunningParty,
  lockRunningPartyRun,
  markPartyFailed,
  type PartyRunRow,
  type RelayPartyKind,
  type RunningPartyRow,
  saveParty,
  saveStartedParty,
} from "../store/relay-parties.js";
import { newShareMade } from "../wallets/key-changes.js";
import {
  createRelaySession,
  postEnvelopes,
  type RelaySession,
  readEnvelopes,
  relayEvents,
  storeEnvelopes,
} from "./relay.js";

const stateContext = (relayId: string, round: number) => `relay-party:${relayId}:${round}`;
const bufferContext = (relayId: string) => `relay-buffer:${relayId}`;

/** The run's other parties: device ids by party index, with their registered identity keys. */
async function peersOf(
  ctx: ProviderContext,
  q: Queryable,
  members: readonly string[],
  parties: readonly number[],
  me: number,
): Promise<RelayPeer[]> {
  const ids = parties.filter((i) => i !== me).map((i) => ({ index: i, deviceId: members[i] as string }));
  const keys = await identityKeys(
    q,
    ids.map((p) => p.deviceId),
  );
  const byId = new Map(keys.map((k) => [k.id, new Uint8Array(k.identity_key)]));
  return ids.map((p) => {
    const identityKey = p.deviceId === ctx.identityId ? ctx.identity.publicKey : byId.get(p.deviceId);
    if (identityKey === undefined) throw new Error(`member ${p.deviceId} has no identity key`);
    return { ...p, identityKey };
  });
}

/** What the provider's party of each kind of relayed run makes (a member leaving in a reshare: no share). */
interface PartyResults {
  keygen: Share;
  reshare: Share | null;
  sign: SignResultOf;
}

export interface ProviderRun<K extends RelayPartyKind = RelayPartyKind> {
  relay: RelaySession;
  accountId: string;
  walletId: string;
  kind: K;
  signRequestId?: string;
  messageIndex?: number;
  /** The epoch a reshare makes. */
  epoch?: number;
  /** Member device ids by party index (the provider's own id at its index; a reshare's new members). */
  members: readonly string[];
  /** The party indices taking part in this run. */
  parties: readonly number[];
  partyIndex: number;
}

/**
 * Starts the provider's party, made by `makeParty` under the relay session's sid, inside the
 * caller's transaction and queues its first round. The sid is claimed first (the unique index of
 * 012): one the provider's parties ran under before is refused, and no party is made. The relay
 * draws a fresh sid for every session today; this does not depend on it.
 */
export async function startProviderParty<K extends RelayPartyKind>(
  ctx: ProviderContext,
  tx: Queryable,
  run: ProviderRun<K>,
  makeParty: (sid: Uint8Array) => Party<PartyResults[K]>,
): Promise<void> {
  await checkRunQuota(tx, run.accountId);
  const claimed = await claimRelayParty(
    tx,
    {
      relayId: run.relay.id,
      walletId: run.walletId,
      kind: run.kind,
      signRequestId: run.signRequestId ?? null,
      messageIndex: run.messageIndex ?? null,
      epoch: run.epoch ?? null,
      partyIndex: run.partyIndex,
      parties: JSON.stringify(run.parties),
      sid: run.relay.sid,
    },
    ctx.now(),
  );
  if (!claimed) throw conflict("the provider has taken part in a run under this session id; none is started");
  const party = makeParty(run.relay.sid);
  const buffer = new RoundBuffer(
    ctx.identity,
    run.relay.sid,
    run.partyIndex,
    await peersOf(ctx, tx, run.members, run.parties, run.partyIndex),
  );
  await storeEnvelopes(tx, run.relay.id, ctx.identityId, buffer.seal(0, party.start()), ctx.now());
  await saveStartedParty(
    tx,
    run.relay.id,
    ctx.masterKey.seal(party.save(), stateContext(run.relay.id, 0)),
    ctx.masterKey.seal(utf8ToBytes(JSON.stringify(buffer.toJSON())), bufferContext(run.relay.id)),
  );
}

/**
 * Opens the relay session of a run every member takes part in (keygen, refresh, reshare): the
 * member devices, and the provider when it is one, whose party `providerParty` makes.
 */
export async function openMembersRun(
  ctx: ProviderContext,
  tx: Queryable,
  device: { id: string; accountId: string },
  run: { walletId: string; kind: "keygen" | "reshare"; epoch?: number; purpose: string; members: readonly string[] },
  providerParty: (sid: Uint8Array, index: number) => Party<Share | null>,
): Promise<RelaySession> {
  const providerIndex = run.members.indexOf(ctx.identityId);
  const relay = await createRelaySession(ctx, tx, device, {
    participants: run.members.filter((m) => m !== ctx.identityId),
    purpose: run.purpose,
    withProvider: providerIndex >= 0,
  });
  if (providerIndex >= 0)
    await startProviderParty(
      ctx,
      tx,
      {
        relay,
        accountId: device.accountId,
        walletId: run.walletId,
        kind: run.kind,
        ...(run.epoch !== undefined && { epoch: run.epoch }),
        members: run.members,
        parties: run.members.map((_, i) => i),
        partyIndex: providerIndex,
      },
      (sid) => providerParty(sid, providerIndex),
    );
  return relay;
}

/** A running party restored from its row, with what it makes. */
type PartyRun =
  | { kind: "keygen"; party: Party<Share> }
  | { kind: "reshare"; epoch: number; party: Party<Share | null> }
  | { kind: "sign"; requestId: string; messageIndex: number; party: Party<SignResultOf> };

/** The party of the running row, restored from its sealed state (which needs the wallet's `share` to sign). */
function restoreParty(ctx: ProviderContext, relayId: string, row: RunningPartyRow, share: Share | null): PartyRun {
  const engine = scheme(row.scheme);
  const state = ctx.masterKey.open(new Uint8Array(row.state), stateContext(relayId, row.round));
  switch (row.kind) {
    case "keygen":
      return { kind: "keygen", party: engine.restoreKeygen(state) };
    case "reshare":
      return { kind: "reshare", epoch: row.epoch, party: engine.restoreReshare(state) };
    case "sign":
      return {
        kind: "sign",
        requestId: row.sign_request_id,
        messageIndex: row.message_index,
        party: engine.restoreSign(heldShare(share), state),
      };
  }
}

/** Stores what the finished run made: a wallet's share, a key change's new share, or a signature. */
async function partyFinished(
  ctx: ProviderContext,
  tx: Queryable,
  run: { accountId: string; actor: string; scheme: RunningPartyRow["scheme"]; walletId: string },
  finished: PartyRun,
): Promise<void> {
  switch (finished.kind) {
    case "keygen":
      await keyMade(ctx, tx, run, finished.party.result());
      return;
    case "reshare":
      await newShareMade(ctx, tx, { ...run, epoch: finished.epoch }, finished.party.result());
      return;
    case "sign":
      await signatureMade(
        ctx,
        tx,
        { ...run, requestId: finished.requestId, messageIndex: finished.messageIndex },
        finished.party.result(),
      );
  }
}

/** Marks what the provider's party in `relayId` was making (a request, a wallet, a key change) failed. */
function partyFailed(
  ctx: ProviderContext,
  tx: Queryable,
  relayId: string,
  row: PartyRunRow,
  actor: string,
  abort: { culprit: number | null; reason: string },
): Promise<void> {
  return runFailed(
    ctx,
    tx,
    {
      accountId: row.account_id,
      actor,
      kind: row.kind,
      walletId: row.wallet_id,
      requestId: row.sign_request_id,
      epoch: row.epoch,
      session: relayId,
    },
    abort,
  );
}

/**
 * Feeds the provider's party every envelope for it that arrived, runs the complete rounds, and
 * returns the devices it sent envelopes to (for the caller to wake). `actor` is the device whose
 * post triggered this.
 */
export async function advanceProviderParty(ctx: ProviderContext, relayId: string, actor: string): Promise<string[]> {
  return ctx.db.transaction(async (tx) => {
    const row = await lockRunningParty(tx, relayId);
    if (row === undefined) return [];
    const members = JSON.parse(row.members) as string[];
    const parties = JSON.parse(row.parties) as number[];
    const buffer = new RoundBuffer(
      ctx.identity,
      new Uint8Array(row.sid),
      row.party_index,
      await peersOf(ctx, tx, members, parties, row.party_index),
      JSON.parse(new TextDecoder().decode(ctx.masterKey.open(new Uint8Array(row.buffer), bufferContext(relayId)))),
    );
    let cursor = Number(row.cursor);
    for (const { id, envelope } of await readEnvelopes(tx, relayId, ctx.identityId, cursor)) {
      cursor = id;
      try {
        buffer.accept(envelope);
      } catch (e) {
        // A bad envelope is dropped: whoever sent it can delay the run, not steer it.
        if (!(e instanceof EnvelopeError) && !(e instanceof RangeError)) throw e;
      }
    }
    const share = row.share === null ? null : ctx.shares.get(row.wallet_id, row.scheme, new Uint8Array(row.share));
    let round = row.round;
    let run: PartyRun | undefined;
    let status: "running" | "done" | "failed" = "running";
    const sentTo = new Set<string>();
    try {
      for (let incoming = buffer.take(round); incoming !== undefined; incoming = buffer.take(round)) {
        run ??= restoreParty(ctx, relayId, row, share);
        const out = incoming.length > 0 ? run.party.handle(incoming) : [];
        round++;
        const envelopes = buffer.seal(round, out);
        await storeEnvelopes(tx, relayId, ctx.identityId, envelopes, ctx.now());
        for (const e of envelopes) sentTo.add(e.to);
        if (!run.party.done) continue;
        status = "done";
        await partyFinished(
          ctx,
          tx,
          { accountId: row.account_id, actor, scheme: row.scheme, walletId: row.wallet_id },
          run,
        );
        break;
      }
    } catch (e) {
      if (!(e instanceof ProtocolAbort)) throw e;
      status = "failed";
      await partyFailed(ctx, tx, relayId, row, actor, e);
    }
    await saveParty(tx, relayId, {
      round,
      state:
        status !== "running"
          ? null
          : run === undefined
            ? row.state
            : ctx.masterKey.seal(run.party.save(), stateContext(relayId, round)),
      buffer:
        status !== "running"
          ? null
          : ctx.masterKey.seal(utf8ToBytes(JSON.stringify(buffer.toJSON())), bufferContext(relayId)),
      cursor,
      status,
      nowMs: ctx.now(),
    });
    return [...sentTo];
  });
}

/**
 * Fails the provider's parties in relayed runs whose relay session has expired: no device can post
 * to it any more, so the run can never go on. As with an abort, the party's sealed state and
 * buffer are erased and its request, new wallet or key change marked failed. Returns how many, a
 * batch at a time. (Envelopes stored for it but not yet run are not run now: the relay is over.)
 */
export async function expireRelayParties(ctx: ProviderContext): Promise<number> {
  const stale = await expiredRunningParties(ctx.db, ctx.now());
  return eachStale(stale, ({ relay_id: relayId }) =>
    ctx.db.transaction(async (tx) => {
      const row = await lockRunningPartyRun(tx, relayId);
      if (row === undefined) return false;
      await partyFailed(ctx, tx, relayId, row, "provider", { culprit: null, reason: "the relay session expired" });
      await markPartyFailed(tx, relayId, ctx.now());
      return true;
    }),
  );
}

/**
 * A device's post to the relay: stored, then — when some are for the provider — its party runs
 * at once, and everyone it answered is woken.
 */
export async function relayPost(
  ctx: ProviderContext,
  relayId: string,
  device: { id: string; accountId: string },
  envelopes: unknown[],
): Promise<number> {
  const recipients = await postEnvelopes(ctx, relayId, device, envelopes);
  if (recipients.includes(ctx.identityId))
    for (const to of await advanceProviderParty(ctx, relayId, device.id)) relayEvents.emit(`${relayId}:${to}`);
  return envelopes.length;
}
