/**
 * The provider's parties of running sessions, kept alive in this process between rounds. A live
 * party keeps what its saved state leaves out (ecdsa2p's precomputed work) and spares a restore.
 * The database stays the truth: a party is taken out before its round runs and put back only
 * after the round's new state committed, so after any failure the next attempt restores from
 * the database, and a round handled by another replica makes this copy stale (its round no
 * longer matches) and it is never used.
 */
import type { Party, Share, SignResultOf } from "@keyshard/mpc";
import type { SessionKind } from "../store/sessions.js";

/** What the party of each kind of session makes. */
export interface SessionResults {
  keygen: Share;
  refresh: Share;
  sign: SignResultOf;
}

/** The provider's party of a session of kind `K`, tagged with it so that its result keeps its type. */
export interface SessionPartyOf<K extends SessionKind> {
  kind: K;
  party: Party<SessionResults[K]>;
}

export type SessionParty = { [K in SessionKind]: SessionPartyOf<K> }[SessionKind];

export class LiveParties {
  readonly #parties = new Map<string, { round: number; live: SessionParty }>();
  readonly #capacity: number;

  constructor(capacity = 10_000) {
    this.#capacity = capacity;
  }

  /** Removes and returns the party of `sessionId` if it is at `round`. */
  take(sessionId: string, round: number): SessionParty | undefined {
    const kept = this.#parties.get(sessionId);
    this.#parties.delete(sessionId);
    return kept?.round === round ? kept.live : undefined;
  }

  /** Forgets the party of a session that ended without it (an idle session failed). */
  drop(sessionId: string): void {
    this.#parties.delete(sessionId);
  }

  /** Keeps a party whose state at `round` has been committed. */
  put(sessionId: string, round: number, live: SessionParty): void {
    if (live.party.done) return;
    this.#parties.set(sessionId, { round, live });
    while (this.#parties.size > this.#capacity) this.#parties.delete(this.#parties.keys().next().value as string);
  }
}
