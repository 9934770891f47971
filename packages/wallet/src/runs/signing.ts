/**
 * The device's side of signing runs:
 *
 * - **with the provider** (hybrid wallets, and t-of-n wallets where it is a party): the provider
 *   decided and started its half; the device drives one session per signature over
 *   /v1/sessions, or runs over the relay with the parties the request named;
 * - **among devices only** (the provider relays and keeps nothing): the device proposes the bytes
 *   to the other members in round 0 of a relay session, each online member decodes them itself
 *   and answers, the proposer picks the first t − 1 that agreed and says so in round 1, and the
 *   chosen parties run the protocol from round 2 on.
 *
 * Every peer key must be one the device stored when the wallet was made: the relay can delay a
 * run but cannot join one. Every sid is claimed for the share (`RunContext.claim`) before its
 * party is made, whoever drew it: the relay cannot make the share take part twice under one.
 */

import { endpoints, type SignRequest } from "@keyshard/api";
import type { SigningRequest } from "@keyshard/chains";
import { type Msg, type Party, type Share, type SignResultOf, scheme } from "@keyshard/mpc";
import {
  type DeviceIdentity,
  driveSession,
  EnvelopeError,
  MAX_OPENINGS,
  openEnvelope,
  parseEnvelope,
  type RelayChannel,
  RelayError,
  type RelayPeer,
  runOverRelay,
  sealEnvelope,
  toWire,
  type WireMessage,
  wsRelayChannel,
} from "@keyshard/transport";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import type { ProviderClient } from "../client.js";
import { WalletError } from "../errors.js";
import { checkedRoundReply, relayedSigning, signingSession } from "../replies.js";
import type { Member, StoredWallet } from "../state.js";

export interface RunContext {
  client: ProviderClient;
  identity: DeviceIdentity;
  wallet: StoredWallet;
  share: Share;
  progress(text: string): void;
  /**
   * Records `sids` as taken by `share` in the keystore, or throws `sid-reused` (or
   * `refresh-needed`, `stale-share`) having recorded none. Called before any party under them
   * is made.
   */
  claim(sids: readonly (string | Uint8Array)[]): Promise<void>;
}

const RUN_TIMEOUT_MS = 60_000;

export const toPeer = (m: Member): RelayPeer => ({
  index: m.index,
  deviceId: m.deviceId,
  identityKey: hexToBytes(m.identityKey),
});

/** The peers of a run, each checked against the members the device stored for the wallet. */
export function peersOf(wallet: StoredWallet, announced: readonly Member[], parties: readonly number[]): RelayPeer[] {
  const stored = wallet.members ?? [];
  return parties
    .filter((index) => index !== wallet.index)
    .map((index) => {
      const member = stored.find((m) => m.index === index);
      const told = announced.find((m) => m.index === index);
      if (member === undefined || (told !== undefined && told.identityKey !== member.identityKey))
        throw new WalletError("signing-failed", `party ${index} of this run is not a member this device knows`);
      return toPeer(member);
    });
}

/** Runs `party` as party `index` of relay session `relay` (over `channel` if given), then closes it. */
export async function relayRun<T>(
  device: { client: ProviderClient; identity: DeviceIdentity },
  relay: { relayId: string; sid: string },
  run: {
    party: Parameters<typeof runOverRelay<T>>[0];
    index: number;
    peers: RelayPeer[];
    firstRound?: number;
    channel?: RelayChannel;
    timeoutMs?: number;
  },
): Promise<T> {
  const channel = run.channel ?? (await wsRelayChannel(device.client.url, device.identity, relay.relayId));
  try {
    return await runOverRelay(run.party, {
      identity: device.identity,
      sid: hexToBytes(relay.sid),
      index: run.index,
      peers: run.peers,
      channel,
      timeoutMs: run.timeoutMs ?? RUN_TIMEOUT_MS,
      ...(run.firstRound !== undefined && { firstRound: run.firstRound }),
    });
  } catch (e) {
    if (e instanceof RelayError)
      throw new WalletError(
        "signing-failed",
        `the run over the relay stopped: ${e.message}; are the other parties' devices online (a cosigner running)?`,
        {},
        { cause: e },
      );
    throw e;
  } finally {
    channel.close();
  }
}

/** What sends the device's rounds of two-party session `sessionId` for `driveSession`, each reply checked. */
export const roundSender = (client: ProviderClient, sessionId: string) => (round: number, messages: WireMessage[]) =>
  client
    .request(endpoints.sessionRound, { params: { id: sessionId }, body: { round, messages } })
    .then(checkedRoundReply);

/** A hybrid wallet's session the device opened itself: its party, and the first round sent with the request. */
export interface OpenedSession {
  sid: string;
  party: Party<SignResultOf>;
  first: Msg[];
}

/**
 * One session per signature of a hybrid wallet's request, under sids this device draws, with the
 * first rounds to send along with the request (`sessions` in its body): the provider answers them
 * in its reply when it signs at once. Undefined for a request with too many signatures for that.
 * The sids are claimed like any other: the provider could name one of them again later.
 */
export async function openSessions(
  ctx: RunContext,
  messages: readonly Uint8Array[],
  path: string | undefined,
): Promise<OpenedSession[] | undefined> {
  if (messages.length > MAX_OPENINGS) return undefined;
  const sids = messages.map(() => crypto.getRandomValues(new Uint8Array(32)));
  await ctx.claim(sids);
  return messages.map((message, i) => {
    const sid = sids[i] as Uint8Array;
    const party = scheme(ctx.wallet.scheme).sign(ctx.share, { sid, message, ...(path !== undefined && { path }) });
    return { sid: bytesToHex(sid), party, first: party.start() };
  });
}

/** The `sessions` of a request's body for `opened`. */
export const openingsOf = (opened: readonly OpenedSession[]) =>
  opened.map((o) => ({ sid: o.sid, messages: toWire(o.first) }));

/**
 * Runs the device's half of what the provider started; signatures in the request's order. A
 * session under a sid of `opened` at its message's index continues that party.
 */
export async function runWithProvider(
  ctx: RunContext,
  started: Pick<SignRequest, "sessions" | "relays">,
  messages: readonly Uint8Array[],
  path: string | undefined,
  /** How long a relayed run waits for the other parties (default 60 s). */
  timeoutMs?: number,
  opened?: readonly OpenedSession[],
): Promise<Uint8Array[]> {
  const walletScheme = scheme(ctx.wallet.scheme);
  const out: Uint8Array[] = [];
  const messageAt = (index: number) => {
    const message = messages[index];
    if (message === undefined)
      throw new WalletError(
        "signing-failed",
        `the provider started a run for signature ${index}, which this request does not have`,
      );
    return message;
  };
  // A session continues the party this device opened for its signature only once; any other is
  // a new party, under a sid claimed with the rest.
  const continued = new Set<OpenedSession>();
  const sessions = (started.sessions ?? []).map(signingSession).map((session) => {
    const mine = opened?.[session.index];
    if (mine === undefined || mine.sid !== session.sid || continued.has(mine)) return { session };
    continued.add(mine);
    return { session, mine };
  });
  const relays = (started.relays ?? []).map(relayedSigning);
  // All at once, before any party: a reply that names a used sid anywhere runs nothing.
  await ctx.claim([
    ...sessions.filter((s) => s.mine === undefined).map((s) => s.session.sid),
    ...relays.map((r) => r.sid),
  ]);
  for (const { session, mine } of sessions) {
    ctx.progress(`signing with the provider (session ${session.sessionId})`);
    const own = mine !== undefined;
    const party = own
      ? mine.party
      : walletScheme.sign(ctx.share, {
          sid: hexToBytes(session.sid),
          message: messageAt(session.index),
          ...(path !== undefined && { path }),
        });
    await driveSession(party, session, roundSender(ctx.client, session.sessionId), mine?.first);
    out[session.index] = walletScheme.signatureBytes(party.result());
  }
  for (const relay of relays) {
    ctx.progress(`signing over the relay with parties ${relay.parties.join(", ")}`);
    const party = walletScheme.sign(ctx.share, {
      sid: hexToBytes(relay.sid),
      message: messageAt(relay.index),
      signers: relay.parties,
      ...(path !== undefined && { path }),
    });
    const result = await relayRun(ctx, relay, {
      party,
      index: ctx.wallet.index,
      peers: peersOf(ctx.wallet, relay.members, relay.parties),
      ...(timeoutMs !== undefined && { timeoutMs }),
    });
    out[relay.index] = walletScheme.signatureBytes(result);
  }
  // Checked by index: `some` would skip the holes a missing run leaves.
  if (out.length !== messages.length || messages.some((_, i) => out[i] === undefined))
    throw new WalletError("signing-failed", "the provider did not start a run for every signature");
  return out;
}

/** Round 0 from the proposer: what to sign, as bytes the members decode themselves. */
export interface Proposal {
  type: "proposal";
  walletId: string;
  /** The key epoch the proposer signs with: members on another epoch's shares refuse. */
  epoch: number;
  body: SigningRequest;
  /** Which of the body's signatures this run makes (a PSBT needs one per input). */
  message: number;
  /** How long the proposer waits for the answers: an agreeing member waits about as long for its go. */
  waitMs?: number;
}
/** Round 0 from a member: whether it co-signs, and why not. */
export interface Answer {
  type: "answer";
  accept: boolean;
  reason?: string;
}
/** Round 1 from the proposer: the parties that sign. */
export interface Go {
  type: "go";
  signers: number[];
}
/** Round 1 from the proposer instead of a go: it stopped waiting (refused, or not enough answers in time). */
export interface Withdrawn {
  type: "withdrawn";
}

const PROPOSAL_ROUND = 0;
const GO_ROUND = 1;
/** The protocol's own rounds start here. */
export const PROTOCOL_FIRST_ROUND = 2;

const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

/** Opens a round-0/1 envelope from `from`; undefined for anything else (protocol rounds, junk). */
export function openControl(
  identity: DeviceIdentity,
  sid: Uint8Array,
  from: Member,
  raw: unknown,
  seen: Set<string>,
): unknown {
  try {
    const envelope = parseEnvelope(raw);
    if (envelope.from !== from.deviceId || envelope.round >= PROTOCOL_FIRST_ROUND) return undefined;
    const { plaintext } = openEnvelope(identity, hexToBytes(from.identityKey), sid, envelope, seen);
    return JSON.parse(new TextDecoder().decode(plaintext));
  } catch (e) {
    if (e instanceof EnvelopeError || e instanceof SyntaxError || e instanceof RangeError) return undefined;
    throw e;
  }
}

export const sealControl = (identity: DeviceIdentity, sid: Uint8Array, to: Member, round: number, value: unknown) =>
  sealEnvelope(identity, hexToBytes(to.identityKey), { sid, round }, encode(value));

/** A channel that first hands out envelopes already taken off the wire. */
export function replaying(channel: RelayChannel, taken: unknown[]): RelayChannel {
  let pending = taken;
  return {
    send: (envelopes) => channel.send(envelopes),
    async receive() {
      if (pending.length > 0) {
        const out = pending;
        pending = [];
        return out;
      }
      return channel.receive();
    },
    close: () => channel.close(),
  };
}

/** Proposes `body` to the other members and makes its signature `index` with the first t − 1 that agree. */
export async function runAmongDevices(
  ctx: RunContext,
  body: SigningRequest,
  { index, message }: { index: number; message: Uint8Array },
  timeoutMs = RUN_TIMEOUT_MS,
): Promise<Uint8Array> {
  if (!(timeoutMs > 0)) throw new WalletError("usage", "the wait for cosigners must be positive");
  const { wallet } = ctx;
  const others = (wallet.members ?? []).filter((m) => m.index !== wallet.index && !m.provider);
  if (others.length + 1 < wallet.threshold)
    throw new WalletError("signing-failed", "this wallet has too few device members to sign");
  const relay = await ctx.client.request(endpoints.openRelaySession, {
    body: { participants: [deviceIdOfSelf(wallet), ...others.map((m) => m.deviceId)], purpose: `sign ${wallet.id}` },
  });
  const sid = hexToBytes(relay.sid);
  await ctx.claim([sid]);
  const channel = await wsRelayChannel(ctx.client.url, ctx.identity, relay.relayId);
  try {
    const proposal: Proposal = {
      type: "proposal",
      walletId: wallet.id,
      epoch: wallet.epoch ?? 0,
      body,
      message: index,
      waitMs: timeoutMs,
    };
    await channel.send(others.map((m) => sealControl(ctx.identity, sid, m, PROPOSAL_ROUND, proposal)));
    ctx.progress(`asked ${others.length} device(s) to co-sign; waiting for ${wallet.threshold - 1}`);
    const accepted: Member[] = [];
    const refused: string[] = [];
    const seen = new Set<string>();
    const deadline = Date.now() + timeoutMs;
    const leftovers: unknown[] = [];
    try {
      while (accepted.length < wallet.threshold - 1) {
        if (Date.now() > deadline)
          throw new WalletError(
            refused.length > 0 ? "refused-by-device" : "signing-failed",
            `not enough devices agreed within ${timeoutMs / 1000} s${refused.length > 0 ? ` (refused: ${refused.join("; ")})` : ": is a cosigner running?"}`,
          );
        if (refused.length > others.length - (wallet.threshold - 1))
          throw new WalletError("refused-by-device", `the other devices refused: ${refused.join("; ")}`);
        for (const raw of await channel.receive()) {
          const from = others.find((m) => (raw as { from?: unknown })?.from === m.deviceId);
          const answer = from && (openControl(ctx.identity, sid, from, raw, seen) as Answer | undefined);
          if (from === undefined || answer?.type !== "answer") {
            leftovers.push(raw);
            continue;
          }
          if (answer.accept === true) accepted.push(from);
          else refused.push(`device ${from.deviceId}: ${String(answer.reason ?? "no reason given")}`);
        }
      }
    } catch (e) {
      // The others stop waiting for a go that will not come, and apps stop listing the proposal.
      const withdrawn: Withdrawn = { type: "withdrawn" };
      await channel.send(others.map((m) => sealControl(ctx.identity, sid, m, GO_ROUND, withdrawn))).catch(() => {});
      throw e;
    }
    const chosen = accepted.slice(0, wallet.threshold - 1);
    const signers = [wallet.index, ...chosen.map((m) => m.index)].sort((a, b) => a - b);
    const go: Go = { type: "go", signers };
    await channel.send(others.map((m) => sealControl(ctx.identity, sid, m, GO_ROUND, go)));
    ctx.progress(`signing with device(s) ${chosen.map((m) => m.deviceId).join(", ")}`);
    const party = scheme(wallet.scheme).sign(ctx.share, {
      sid,
      message,
      signers,
      ...(body.path !== undefined && { path: body.path }),
    });
    const result = await relayRun(ctx, relay, {
      party,
      index: wallet.index,
      peers: peersOf(wallet, [], signers),
      firstRound: PROTOCOL_FIRST_ROUND,
      channel: replaying(channel, leftovers),
    });
    return scheme(wallet.scheme).signatureBytes(result);
  } finally {
    channel.close();
  }
}

function deviceIdOfSelf(wallet: StoredWallet): string {
  const self = wallet.members?.find((m) => m.index === wallet.index);
  if (self === undefined) throw new WalletError("signing-failed", "this device is not a member of the wallet");
  return self.deviceId;
}
