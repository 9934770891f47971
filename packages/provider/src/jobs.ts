/**
 * The provider's background jobs, each on its own timer: forgetting spent nonces, reminding owners
 * and heirs, applying due account changes of idle accounts, and expiring abandoned runs. A failed
 * round is logged and tried again at the next tick.
 */
import type { FastifyBaseLogger } from "fastify";
import { sweepDueChanges } from "./account/guarded-changes.js";
import type { ProviderContext } from "./context.js";
import { sweepHeirNotices } from "./recovery/heirs.js";
import { expireRelayParties } from "./relay/provider-party.js";
import { expireIdleSessions } from "./sessions/driver.js";
import { forgetExpiredNonces } from "./store/request-auth.js";

const MINUTE_MS = 60_000;

/** Starts the jobs; the returned function stops them. */
export function startJobs(ctx: ProviderContext, log: FastifyBaseLogger): () => void {
  const every = (ms: number, job: () => Promise<unknown>, failure?: string) => {
    const timer = setInterval(
      () =>
        void job().catch((e) => {
          if (failure !== undefined) log.error({ err: { message: (e as Error).message } }, failure);
        }),
      ms,
    );
    timer.unref();
    return timer;
  };
  const timers = [
    // Nonces are only kept to refuse replays; one that cannot be forgotten now is at the next tick.
    every(MINUTE_MS, () => forgetExpiredNonces(ctx.db, ctx.now())),
    every(10 * MINUTE_MS, () => sweepHeirNotices(ctx), "heir notices failed"),
    // Due account changes are applied by their account's next request; this covers idle accounts.
    every(MINUTE_MS, () => sweepDueChanges(ctx), "applying due account changes failed"),
    every(
      5 * MINUTE_MS,
      () => Promise.all([expireIdleSessions(ctx), expireRelayParties(ctx)]),
      "expiring abandoned runs failed",
    ),
  ];
  return () => {
    for (const timer of timers) clearInterval(timer);
  };
}
