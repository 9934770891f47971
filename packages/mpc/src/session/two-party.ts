/**
 * Plumbing shared by two-party protocols whose rounds alternate: party 0 sends the odd rounds,
 * party 1 the even ones, each round is one message, and a party that has completed step s
 * expects round s + 1 next. Subclasses supply one handler per round they receive.
 */
import type { Reader, Writer } from "../codec/codec.js";
import { expectOne, open, seal } from "./envelope.js";
import { type Msg, ProtocolAbort } from "./party.js";
import { RoundParty } from "./round-party.js";

export abstract class TwoPartyRoundParty<T> extends RoundParty<T> {
  declare readonly index: 0 | 1;

  constructor(index: 0 | 1, protocol: string, sid: Uint8Array) {
    super(index, protocol, sid);
  }

  protected get peer(): 0 | 1 {
    return this.index === 0 ? 1 : 0;
  }

  /** The last round this party has sent or handled. */
  protected abstract get step(): number;

  /** Handlers for the rounds this party receives, by round number. */
  protected abstract get handlers(): Record<number, (r: Reader) => Msg[]>;

  protected send(round: number, body: (w: Writer) => void): Msg[] {
    return [{ from: this.index, to: this.peer, payload: seal(this.protocol, this.sid, round, body) }];
  }

  protected onRound(incoming: Msg[]): Msg[] {
    const round = this.step + 1;
    const handler = this.handlers[round];
    if (!handler || round % 2 !== (this.index === 1 ? 1 : 0)) throw new ProtocolAbort(null, "no round expected");
    return handler(open(expectOne(incoming, this.peer, this.index), this.protocol, this.sid, round));
  }
}
