/**
 * Expiring stale runs a row at a time, for the sweeps of two-party sessions (`driver.ts`) and of
 * the provider's parties in relayed runs (`relay/provider-party.ts`).
 */

/**
 * Runs `expire` on each stale row, each on its own; one that throws does not keep the others from
 * being expired, and the first error is thrown once all have been tried. Returns how many expired.
 */
export async function eachStale<T>(rows: readonly T[], expire: (row: T) => Promise<boolean>): Promise<number> {
  let expired = 0;
  let failure: unknown;
  for (const row of rows) {
    try {
      if (await expire(row)) expired++;
    } catch (e) {
      failure ??= e;
    }
  }
  if (failure !== undefined) throw failure;
  return expired;
}
