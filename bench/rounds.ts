/**
 * Interleaved timing for comparisons on a shared machine: every case runs once per round, round
 * after round, so a burst of load from another process hits all cases alike; each case reports
 * the median of its rounds. Each sample repeats the case enough times to last ~`sampleMs`.
 *
 * @module
 */

import process from "node:process";

/** A named function to time. */
export interface TimedCase {
  name: string;
  fn: () => unknown;
}

/** Median (and fastest) milliseconds per call of each case, in the order given. */
export interface Medians {
  [name: string]: { medianMs: number; minMs: number };
}

/**
 * Warms every case up (`warmupMs` of calls each, so the JIT reaches its optimizing tier), then
 * runs `rounds` interleaved rounds and returns the median and minimum per-call wall time.
 */
export function interleaved(
  cases: readonly TimedCase[],
  { rounds = 9, sampleMs = 30, warmupMs = 150 } = {},
): Medians {
  const reps = cases.map(({ fn }) => {
    const start = performance.now();
    let calls = 0;
    while (calls < 2 || performance.now() - start < warmupMs) {
      fn();
      calls++;
    }
    const per = (performance.now() - start) / calls;
    return Math.max(1, Math.round(sampleMs / Math.max(per, 1e-3)));
  });
  const samples: number[][] = cases.map(() => []);
  for (let r = 0; r < rounds; r++) {
    cases.forEach(({ fn }, i) => {
      const t0 = performance.now();
      for (let k = 0; k < reps[i]; k++) fn();
      samples[i].push((performance.now() - t0) / reps[i]);
    });
  }
  const out: Medians = {};
  cases.forEach(({ name }, i) => {
    const s = samples[i].sort((a, b) => a - b);
    out[name] = { medianMs: s[s.length >> 1], minMs: s[0] };
  });
  return out;
}

/** Peak resident set size of this process so far, in MB (getrusage's `ru_maxrss`). */
export function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}
