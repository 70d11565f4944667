/**
 * matmul and dense at LeNet-5 sizes (batch 64: fc1 400 -> 120, fc2 120 -> 84, fc3 84 -> 10)
 * plus a 256x256 square, float32.
 *
 * `deno bench bench/matmul_bench.ts` (or `deno task bench`). Each bench name carries the
 * GFLOP/s measured by a short self-timed run (median of 7 batches) when the file loads, so the
 * rate is visible next to Deno's own per-iteration timings; the same figures are printed as a
 * table. FLOPs count 2 m n k per product (a multiply and an add).
 */

import { dense, denseBackward, matmul, matmulBackward, prngKey, randomUniform } from "../mod.ts";
import type { Tensor } from "../mod.ts";

interface Case {
  name: string;
  m: number;
  k: number;
  n: number;
}

const CASES: Case[] = [
  { name: "fc1 64x400 · 400x120", m: 64, k: 400, n: 120 },
  { name: "fc2 64x120 · 120x84", m: 64, k: 120, n: 84 },
  { name: "fc3 64x84 · 84x10", m: 64, k: 84, n: 10 },
  { name: "sq256 256x256 · 256x256", m: 256, k: 256, n: 256 },
];

let seed = 0;
const rand = (shape: number[]): Tensor =>
  randomUniform(prngKey(seed++), shape, { low: -1, high: 1 });

/** Median GFLOP/s of `f` over 7 batches of about 30 ms each. */
function gflops(flop: number, f: () => unknown): number {
  let reps = 1;
  for (let t = 0; t < 5; t++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) f();
    const dt = performance.now() - t0;
    if (dt > 30) break;
    reps = Math.ceil(reps * Math.max(2, 30 / Math.max(dt, 0.5)));
  }
  const rates: number[] = [];
  for (let b = 0; b < 7; b++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) f();
    rates.push((flop * reps) / ((performance.now() - t0) * 1e6));
  }
  rates.sort((a, b) => a - b);
  return rates[3];
}

const rows: Record<string, string>[] = [];
for (const c of CASES) {
  const a = rand([c.m, c.k]), w = rand([c.k, c.n]), bias = rand([c.n]), g = rand([c.m, c.n]);
  const flop = 2 * c.m * c.n * c.k;
  const runs: [string, number, () => unknown][] = [
    ["matmul", flop, () => matmul(a, w)],
    ["dense", flop, () => dense(a, w, bias)],
    ["matmulBackward", 2 * flop, () => matmulBackward(g, a, w)],
    ["denseBackward", 2 * flop, () => denseBackward(g, a, w, bias)],
  ];
  for (const [op, fl, f] of runs) {
    const rate = gflops(fl, f);
    rows.push({ op, shape: c.name, MFLOP: (fl / 1e6).toFixed(2), "GFLOP/s": rate.toFixed(2) });
    Deno.bench(`${op} ${c.name}: ${rate.toFixed(2)} GFLOP/s`, { group: c.name }, () => {
      f();
    });
  }
}
console.table(rows);
