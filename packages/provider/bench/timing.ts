/**
 * The benchmarks' measure: `runs` sequential calls of `work`, and their p50 and p95 in ms; each
 * after an untimed call of `prepare`, when given.
 */
export async function timeSequential(
  runs: number,
  work: () => Promise<unknown>,
  prepare?: () => Promise<unknown>,
): Promise<{ p50_ms: number; p95_ms: number }> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    await prepare?.();
    const t = performance.now();
    await work();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const at = (p: number) =>
    Math.round((times[Math.min(times.length - 1, Math.ceil((p / 100) * times.length) - 1)] as number) * 10) / 10;
  return { p50_ms: at(50), p95_ms: at(95) };
}
