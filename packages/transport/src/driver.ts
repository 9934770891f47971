/**
 * The device's side of a two-party session with the provider: one round of the device's messages
 * per request, in order, whatever the protocol's shape (alternating like ecdsa2p, or both parties
 * speaking at once like FROST). `send` is the transport: it posts a round and returns the reply.
 */
import { type Msg, type Party, PROVIDER, WALLET_DEVICE } from "@keyshard/mpc";
import { fromWire, toWire, type WireMessage } from "./messages.js";

export interface RoundReply {
  sessionId: string;
  /** The round number the next request must carry. */
  round: number;
  messages: WireMessage[];
  done: boolean;
}

/**
 * Most first rounds a sign request carries (one per signature): a request needing more, a PSBT with
 * hundreds of inputs, starts its sessions the ordinary way.
 */
export const MAX_OPENINGS = 256;

/**
 * `opened` is the party's first round if the device already sent it with the request that started
 * the session (see the provider's sign requests): a reply past round 0 says the provider took it.
 */
export async function driveSession<R extends RoundReply>(
  party: Party<unknown>,
  first: R,
  send: (round: number, messages: WireMessage[]) => Promise<R>,
  opened?: Msg[],
): Promise<R> {
  const rounds: Msg[][] = opened !== undefined && first.round > 0 ? [] : [opened ?? party.start()];
  let reply = first;
  let incoming = fromWire(reply.messages, { from: PROVIDER, to: WALLET_DEVICE });
  for (;;) {
    if (incoming.length > 0) rounds.push(party.handle(incoming));
    if (reply.done && party.done) return reply;
    const next = rounds.shift();
    if (next === undefined) throw new Error("session stalled: neither side has anything to send");
    if (next.length === 0 && !reply.done) {
      incoming = [];
      continue;
    }
    reply = await send(reply.round, toWire(next));
    incoming = fromWire(reply.messages, { from: PROVIDER, to: WALLET_DEVICE });
  }
}
