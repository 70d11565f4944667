/**
 * Interleaved timing for comparisons on a shared machine: every case runs once per round, round
 * after round, so a burst of load from another process hits all cases alike; each case reports
 * the median of its rounds. Each sample repeats the case enough times to last ~`sampleMs`.
 *
 * Two clocks: wall time, and this process's CPU time (getrusage user + system), which does not
 * count the time the process waits for a core while other programs run. On an idle machine
 * they agree for single-threaded work; on a busy one the CPU time is the steadier figure.
 *
 * @module
 */

import process from "node:process";

/** A named function to time. */
export interface TimedCase {
  name: string;
  fn: () => unknown;
}

/**
 * Per case: median milliseconds per call by CPU time (`medianMs`) and by wall time, and the
 * fastest CPU-time sample (`minMs`: the least disturbed run, steadier for A/B comparisons).
 */
export interface Medians {
  [name: string]: { medianMs: number; wallMs: number; minMs: number };
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/**
 * Warms every case up (`warmupMs` of calls each, so the JIT reaches its optimizing tier), then
 * runs `rounds` interleaved rounds and returns the median per-call CPU and wall times and the
 * fastest CPU time.
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
  const cpu: number[][] = cases.map(() => []), wall: number[][] = cases.map(() => []);
  for (let r = 0; r < rounds; r++) {
    cases.forEach(({ fn }, i) => {
      const c0 = cpuMs(), t0 = performance.now();
      for (let k = 0; k < reps[i]; k++) fn();
      wall[i].push((performance.now() - t0) / reps[i]);
      cpu[i].push((cpuMs() - c0) / reps[i]);
    });
  }
  const median = (s: number[]) => s.sort((a, b) => a - b)[s.length >> 1];
  const out: Medians = {};
  cases.forEach(({ name }, i) => {
    out[name] = { medianMs: median(cpu[i]), wallMs: median(wall[i]), minMs: cpu[i][0] };
  });
  return out;
}

/** Peak resident set size of this process so far, in MB (getrusage's `ru_maxrss`). */
export function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}
