/**
 * Per-account quotas on what costs the provider work for as long as it lasts: runs (signing, key
 * generation, refresh and reshare) still going, Bitcoin inputs in one request, and relay
 * subscriptions. Past one, the answer is 429 `quota-exceeded` with what to do instead.
 */
import { quotaExceeded } from "./errors.js";
import type { Queryable } from "./store/queryable.js";
import { countRunningRuns } from "./store/running-runs.js";

/** Runs the provider takes part in for one account that have not finished, failed or expired. */
export const MAX_RUNNING_RUNS = 128;
/** Inputs of one Bitcoin sign request: the provider reads each and may sign each in its own run. */
export const MAX_BITCOIN_INPUTS = 64;

/**
 * Relay subscriptions an account holds at once on one provider process (each polls the database
 * until its socket closes); a socket subscribes to a relay session once, however often it asks.
 * A t-of-n request's runs go side by side, one relay session per signature and a socket for each
 * on every signing device: this leaves room for a request of `MAX_BITCOIN_INPUTS` inputs with
 * three devices signing besides the provider and the proposer.
 */
export const MAX_SUBSCRIPTIONS = 4 * MAX_BITCOIN_INPUTS;

/** Refuses a new run of an account that has `running` runs going already. */
export function refuseOverRunQuota(running: number): void {
  if (running >= MAX_RUNNING_RUNS)
    throw quotaExceeded(
      `the account has ${MAX_RUNNING_RUNS} signing or key runs going: finish or abandon some before starting more (idle ones expire)`,
    );
}

/** Refuses a new run of the account's when `MAX_RUNNING_RUNS` of its runs are still going. */
export async function checkRunQuota(q: Queryable, accountId: string): Promise<void> {
  refuseOverRunQuota(await countRunningRuns(q, accountId));
}
