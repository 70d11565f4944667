/**
 * A small timing loop for the `deno run bench/...` reports (the `deno bench` harness reports
 * time per iteration but not derived rates such as GFLOP/s).
 *
 * @module
 */

/** Median and fastest wall time of one call, in milliseconds. */
export interface Timing {
  medianMs: number;
  minMs: number;
}

/**
 * Calls `fn` until `warmupMs` have passed (so the JIT reaches its optimizing tier), then times
 * `runs` calls and returns the median and the minimum. The machine is shared: compare figures
 * measured in the same run, and prefer the median.
 */
export function measure(fn: () => unknown, warmupMs = 400, runs = 15): Timing {
  const start = performance.now();
  for (let i = 0; i < 3 || performance.now() - start < warmupMs; i++) fn();
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { medianMs: times[runs >> 1], minMs: times[0] };
}
