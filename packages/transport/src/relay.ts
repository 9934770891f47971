/**
 * Multi-party sessions through the provider's relay. Each party sends, for each of its rounds,
 * one sealed envelope to every peer holding that round's messages for it (possibly none), so a
 * peer knows a round is complete once it holds one envelope per peer. Round r of every peer in,
 * round r + 1 out — the order `runLocal` delivers in, over a network that may reorder or repeat.
 *
 * Peers are named by device id, which is a hash of the identity key: a key the relay hands out
 * must hash to the id the caller already trusts, so the relay cannot substitute its own.
 */
import type { Msg, Party } from "@keyshard/mpc";
import { type Envelope, EnvelopeError, openEnvelope, parseEnvelope, sealEnvelope } from "./envelope.js";
import { signedFetch } from "./http.js";
import { type DeviceIdentity, deviceId } from "./identity.js";
import { fromWire, toWire, type WireMessage } from "./messages.js";
import { openRelaySocket, RelayError } from "./relay-socket.js";

export { RelayError };

export interface RelayPeer {
  /** The peer's party index in the protocol. */
  index: number;
  deviceId: string;
  identityKey: Uint8Array;
}

/** Moves envelopes of one relay session; `receive` resolves with whatever arrived (maybe nothing). */
export interface RelayChannel {
  send(envelopes: Envelope[]): Promise<void>;
  receive(): Promise<unknown[]>;
  close(): void;
}

export interface RelayRunOptions {
  identity: DeviceIdentity;
  sid: Uint8Array;
  /** This party's index. */
  index: number;
  peers: readonly RelayPeer[];
  channel: RelayChannel;
  /** Give up when no round completes for this long (default 60 s). */
  timeoutMs?: number;
  /**
   * The envelope round the protocol's round 0 travels in (default 0). Rounds before it belong to
   * whatever ran first in the same session (a proposal the parties agreed on) and are refused.
   */
  firstRound?: number;
}

/** What a `RoundBuffer` keeps between requests (it holds decrypted messages: store it sealed). */
export interface RoundBufferState {
  seen: string[];
  rounds: Record<string, Record<string, WireMessage[]>>;
}

/**
 * One party's view of a relayed run: opens and checks incoming envelopes, collects each round
 * until every peer's batch is in, and seals outgoing rounds. Serializable, so a party driven by
 * requests (the provider's) can keep it between them.
 */
export class RoundBuffer {
  readonly #byDevice: Map<string, RelayPeer>;
  readonly #seen: Set<string>;
  readonly #rounds: Map<number, Map<number, Msg[]>>;

  constructor(
    readonly identity: DeviceIdentity,
    readonly sid: Uint8Array,
    readonly index: number,
    readonly peers: readonly RelayPeer[],
    state?: RoundBufferState,
    readonly firstRound = 0,
  ) {
    for (const peer of peers)
      if (deviceId(peer.identityKey) !== peer.deviceId)
        throw new RelayError(`the identity key given for device ${peer.deviceId} is not that device's`);
    this.#byDevice = new Map(peers.map((p) => [p.deviceId, p]));
    this.#seen = new Set(state?.seen ?? []);
    this.#rounds = new Map(
      Object.entries(state?.rounds ?? {}).map(([round, batch]) => [
        Number(round),
        new Map(
          Object.entries(batch).map(([peer, messages]) => [
            Number(peer),
            fromWire(messages, { from: Number(peer), to: index }),
          ]),
        ),
      ]),
    );
  }

  /** Takes an envelope from the network; throws EnvelopeError or RangeError when it fails a check. */
  accept(raw: unknown): void {
    const envelope = parseEnvelope(raw);
    const peer = this.#byDevice.get(envelope.from);
    if (peer === undefined) throw new EnvelopeError("an envelope from a device outside the session");
    if (envelope.round < this.firstRound) throw new EnvelopeError("an envelope from before this run's first round");
    const { round, plaintext } = openEnvelope(this.identity, peer.identityKey, this.sid, envelope, this.#seen);
    let decoded: unknown;
    try {
      decoded = JSON.parse(new TextDecoder().decode(plaintext));
    } catch (e) {
      throw new EnvelopeError("an envelope's content is not JSON", { cause: e });
    }
    const messages = fromWire(decoded, { from: peer.index, to: this.index });
    const batch = this.#rounds.get(round) ?? new Map<number, Msg[]>();
    batch.set(peer.index, messages);
    this.#rounds.set(round, batch);
  }

  /** Every peer's messages of `round` once all have arrived (and forgets them), else undefined. */
  take(round: number): Msg[] | undefined {
    const batch = this.#rounds.get(round);
    if (batch === undefined || batch.size !== this.peers.length) return undefined;
    this.#rounds.delete(round);
    return [...batch.values()].flat();
  }

  /** One envelope per peer with this party's messages of `round` for it. */
  seal(round: number, messages: readonly Msg[]): Envelope[] {
    return this.peers.map((peer) => {
      const mine = messages.filter((m) => m.to === peer.index || m.to === null);
      const plaintext = new TextEncoder().encode(JSON.stringify(toWire(mine)));
      return sealEnvelope(this.identity, peer.identityKey, { sid: this.sid, round }, plaintext);
    });
  }

  toJSON(): RoundBufferState {
    const rounds: RoundBufferState["rounds"] = {};
    for (const [round, batch] of this.#rounds)
      rounds[round] = Object.fromEntries([...batch].map(([peer, messages]) => [peer, toWire(messages)]));
    return { seen: [...this.#seen], rounds };
  }
}

/** Runs `party` to its result with the peers, through `channel`. */
export async function runOverRelay<T>(party: Party<T>, options: RelayRunOptions): Promise<T> {
  const { channel } = options;
  const firstRound = options.firstRound ?? 0;
  const buffer = new RoundBuffer(options.identity, options.sid, options.index, options.peers, undefined, firstRound);
  let round = firstRound;
  await channel.send(buffer.seal(round, party.start()));
  let lastProgress = Date.now();
  const timeoutMs = options.timeoutMs ?? 60_000;
  while (!party.done) {
    const incoming = buffer.take(round);
    if (incoming !== undefined) {
      const out = incoming.length > 0 ? party.handle(incoming) : [];
      round++;
      await channel.send(buffer.seal(round, out));
      lastProgress = Date.now();
      continue;
    }
    if (Date.now() - lastProgress > timeoutMs)
      throw new RelayError(`no complete round ${round} within ${timeoutMs} ms`);
    // Envelopes that fail their checks are dropped: a relay or outsider cannot inject, only delay.
    for (const raw of await channel.receive()) {
      try {
        buffer.accept(raw);
      } catch (e) {
        if (!(e instanceof EnvelopeError) && !(e instanceof RangeError)) throw e;
      }
    }
  }
  return party.result();
}

/** The HTTP fallback: posts envelopes, polls for new ones every `pollMs`. */
export function httpRelayChannel(
  baseUrl: string,
  identity: DeviceIdentity,
  relayId: string,
  pollMs = 50,
): RelayChannel {
  let cursor = 0;
  let first = true;
  return {
    async send(envelopes) {
      await signedFetch(baseUrl, identity, "POST", `/v1/relay/${relayId}/envelopes`, { envelopes });
    },
    async receive() {
      if (!first) await new Promise((r) => setTimeout(r, pollMs));
      first = false;
      const got = await signedFetch(baseUrl, identity, "GET", `/v1/relay/${relayId}/envelopes?after=${cursor}`);
      const items = got.envelopes as { id: number; envelope: unknown }[];
      for (const item of items) cursor = Math.max(cursor, item.id);
      return items.map((i) => i.envelope);
    },
    close() {},
  };
}

/** The largest frame the relay's socket takes from the provider: a batch of envelopes. */
const MAX_CHANNEL_FRAME_BYTES = 4 * 1024 * 1024;

/** The WebSocket relay: envelopes pushed as they arrive, sent over the same socket. */
export async function wsRelayChannel(
  baseUrl: string,
  identity: DeviceIdentity,
  relayId: string,
): Promise<RelayChannel> {
  const inbox: unknown[] = [];
  let wake: (() => void) | undefined;
  let failure: Error | undefined;
  // Sends waiting for the relay to say it stored them: a send resolves only then, so closing
  // right after one loses nothing.
  const unacknowledged = new Map<number, { resolve(): void; reject(e: Error): void }>();
  let nextId = 1;
  const socket = await openRelaySocket(baseUrl, identity, MAX_CHANNEL_FRAME_BYTES, (frame) => {
    const id = typeof frame.id === "number" ? frame.id : undefined;
    if (frame.type === "envelopes" && Array.isArray(frame.envelopes))
      for (const item of frame.envelopes as unknown[])
        if (typeof item === "object" && item !== null) inbox.push((item as { envelope?: unknown }).envelope);
    if (frame.type === "stored" && id !== undefined) {
      unacknowledged.get(id)?.resolve();
      unacknowledged.delete(id);
    }
    if (frame.type === "error") {
      const error = new RelayError(`relay: ${String(frame.message)}`);
      const waiting = id === undefined ? undefined : unacknowledged.get(id);
      if (waiting !== undefined) {
        waiting.reject(error);
        unacknowledged.delete(id as number);
      } else failure = error;
    }
    wake?.();
  });
  void socket.closed.then(({ code, reason }) => {
    failure ??= new RelayError(`relay connection closed${reason === "" ? "" : `: ${reason}`}`, code);
    for (const waiting of unacknowledged.values()) waiting.reject(failure);
    unacknowledged.clear();
    wake?.();
  });
  socket.send({ type: "subscribe", relayId, after: 0 });
  return {
    send(envelopes) {
      if (failure) return Promise.reject(failure);
      const id = nextId++;
      return new Promise<void>((resolve, reject) => {
        unacknowledged.set(id, { resolve, reject });
        socket.send({ type: "send", id, relayId, envelopes });
      });
    },
    async receive() {
      if (failure) throw failure;
      if (inbox.length === 0)
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 1000);
        });
      wake = undefined;
      if (failure) throw failure;
      return inbox.splice(0);
    },
    close() {
      socket.close();
    },
  };
}
