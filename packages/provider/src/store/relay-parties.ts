/**
 * The rows of the provider's parties in relayed runs: the sid each claims, the sealed protocol
 * state and buffer of opened envelopes, and how far into the relay's envelopes it has read. A
 * running party's row is locked while it runs; lock order, as everywhere: wallet, then runs, then
 * the request row.
 */
import type { SchemeName } from "@keyshard/mpc";
import type { Queryable } from "./queryable.js";

export type RelayPartyKind = "keygen" | "sign" | "reshare";

/** The columns a run's kind fills: a signature's request and message, or a reshare's epoch. */
type RunColumns =
  | { kind: "keygen"; sign_request_id: null; message_index: null; epoch: null }
  | { kind: "reshare"; sign_request_id: null; message_index: null; epoch: number }
  | { kind: "sign"; sign_request_id: string; message_index: number; epoch: null };

/** What a party's run makes, and for which account. */
export interface PartyRunRow {
  wallet_id: string;
  account_id: string;
  kind: RelayPartyKind;
  sign_request_id: string | null;
  epoch: number | null;
}

/** A running party's row (its state and buffer are set once it starts) with its run's members and wallet. */
export type RunningPartyRow = {
  wallet_id: string;
  account_id: string;
  party_index: number;
  /** The party indices taking part, as JSON. */
  parties: string;
  round: number;
  state: Uint8Array;
  buffer: Uint8Array;
  cursor: string;
  sid: Uint8Array;
  /** Member device ids by party index (a reshare's new members), as JSON. */
  members: string;
  scheme: SchemeName;
  share: Uint8Array | null;
} & RunColumns;

/**
 * A new running party of `relayId`, claiming its sid; false (and nothing stored) for a sid the
 * provider's parties ran under before (the unique index of 012).
 */
export async function claimRelayParty(
  q: Queryable,
  party: {
    relayId: string;
    walletId: string;
    kind: RelayPartyKind;
    signRequestId: string | null;
    messageIndex: number | null;
    epoch: number | null;
    partyIndex: number;
    /** The party indices taking part, as JSON. */
    parties: string;
    sid: Uint8Array;
  },
  nowMs: number,
): Promise<boolean> {
  const claimed = await q.query(
    `INSERT INTO relay_parties (relay_id, wallet_id, kind, sign_request_id, message_index, epoch, party_index, parties, round, sid, status, updated_ms)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, 'running', $10)
     ON CONFLICT (sid) DO NOTHING RETURNING relay_id`,
    [
      party.relayId,
      party.walletId,
      party.kind,
      party.signRequestId,
      party.messageIndex,
      party.epoch,
      party.partyIndex,
      party.parties,
      party.sid,
      nowMs,
    ],
  );
  return claimed.length > 0;
}

/** The new party's first state and buffer, both sealed. */
export async function saveStartedParty(
  q: Queryable,
  relayId: string,
  state: Uint8Array,
  buffer: Uint8Array,
): Promise<void> {
  await q.query("UPDATE relay_parties SET state = $2, buffer = $3 WHERE relay_id = $1", [relayId, state, buffer]);
}

/** The provider's running party of `relayId`, locked, with its run's members and its wallet's scheme and share. */
export async function lockRunningParty(q: Queryable, relayId: string): Promise<RunningPartyRow | undefined> {
  const [row] = await q.query<RunningPartyRow>(
    `SELECT p.wallet_id, w.account_id, p.kind, p.sign_request_id, p.message_index, p.epoch, p.party_index, p.parties,
            p.round, p.state, p.buffer, p.cursor, p.sid, COALESCE(k.members, w.members) AS members, w.scheme, w.share
     FROM relay_parties p JOIN wallets w ON w.id = p.wallet_id
       LEFT JOIN key_changes k ON k.wallet_id = p.wallet_id AND k.epoch = p.epoch
     WHERE p.relay_id = $1 AND p.status = 'running' FOR UPDATE OF p`,
    [relayId],
  );
  return row;
}

/** Where the party's run got to: its state and buffer (null once it ended) and the last envelope read. */
export async function saveParty(
  q: Queryable,
  relayId: string,
  progress: {
    round: number;
    state: Uint8Array | null;
    buffer: Uint8Array | null;
    cursor: number;
    status: "running" | "done" | "failed";
    nowMs: number;
  },
): Promise<void> {
  await q.query(
    "UPDATE relay_parties SET round = $2, state = $3, buffer = $4, cursor = $5, status = $6, updated_ms = $7 WHERE relay_id = $1",
    [relayId, progress.round, progress.state, progress.buffer, progress.cursor, progress.status, progress.nowMs],
  );
}

/** A batch of the relay sessions whose provider's party is still running though the session expired by `nowMs`. */
export async function expiredRunningParties(q: Queryable, nowMs: number): Promise<{ relay_id: string }[]> {
  return q.query<{ relay_id: string }>(
    `SELECT p.relay_id FROM relay_parties p JOIN relay_sessions r ON r.id = p.relay_id
     WHERE p.status = 'running' AND r.expires_ms <= $1 LIMIT 100`,
    [nowMs],
  );
}

/** What the provider's running party of `relayId` makes, locked; undefined if it is not running. */
export async function lockRunningPartyRun(q: Queryable, relayId: string): Promise<PartyRunRow | undefined> {
  const [row] = await q.query<PartyRunRow>(
    `SELECT p.wallet_id, w.account_id, p.kind, p.sign_request_id, p.epoch
     FROM relay_parties p JOIN wallets w ON w.id = p.wallet_id
     WHERE p.relay_id = $1 AND p.status = 'running' FOR UPDATE OF p`,
    [relayId],
  );
  return row;
}

/** The party failed: its sealed state and buffer are erased. */
export async function markPartyFailed(q: Queryable, relayId: string, nowMs: number): Promise<void> {
  await q.query(
    "UPDATE relay_parties SET state = NULL, buffer = NULL, status = 'failed', updated_ms = $2 WHERE relay_id = $1",
    [relayId, nowMs],
  );
}

/** Fails the provider's parties still running for the request, erasing their state. */
export async function failRequestParties(q: Queryable, requestId: string, nowMs: number): Promise<void> {
  await q.query(
    "UPDATE relay_parties SET status = 'failed', state = NULL, updated_ms = $2 WHERE sign_request_id = $1 AND status = 'running'",
    [requestId, nowMs],
  );
}

/** Fails the provider's parties still running for the wallet, erasing their state and buffer. */
export async function failWalletParties(q: Queryable, walletId: string, nowMs: number): Promise<void> {
  await q.query(
    "UPDATE relay_parties SET state = NULL, buffer = NULL, status = 'failed', updated_ms = $2 WHERE wallet_id = $1 AND status = 'running'",
    [walletId, nowMs],
  );
}
