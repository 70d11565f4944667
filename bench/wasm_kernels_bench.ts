/**
 * Kernel microbenchmarks: GEMM (square and LeNet-5 shapes), direct convolutions, pooling and
 * ReLU on each kernel path (wasm-relaxed, wasm-simd, plain TypeScript) in the same run, plus
 * the wasm-relaxed kernels on data already in wasm memory ("no copy") to show what the copies
 * in and out cost.
 *
 * `deno task bench:kernels` (= `deno bench --allow-read --allow-env bench/wasm_kernels_bench.ts`)
 * runs each case as a `Deno.bench` (names carry the FLOP count), then the last bench prints a
 * GFLOP/s table measured separately: cases interleaved round-robin, per-call process CPU time
 * (getrusage user+system, so time descheduled on a busy machine does not count), medians.
 *
 * @module
 */

import process from "node:process";
import { type Conv2dDims, convOutSize } from "../src/tensor/kernels/wasm/dims.ts";
import { kernelsFor } from "../src/tensor/kernels/wasm/kernels.ts";
import { KERNEL_PATHS, type KernelPath, WasmKernels } from "../src/tensor/kernels/wasm/runtime.ts";
import * as ptr from "../src/tensor/kernels/wasm/wasm_ptr.ts";

/** A benchmark case: a FLOP count and, per path, a function running it once. */
interface Case {
  group: string;
  flops: number;
  run: (path: KernelPath) => () => void;
  /** The same work on operands already in wasm memory (wasm-relaxed), if meaningful. */
  noCopy?: () => () => void;
}

/**
 * The no-copy cases' own module instance: their operands stay where they were put (the
 * Float32Array entry points reset the shared instance's arena on every call).
 */
const resident = new WasmKernels("relaxed");

let seed = 1;
const random = (n: number) => {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = ((seed = (seed * 16807) % 2147483647) / 2147483647) - 0.5;
  return a;
};

/** A GEMM case `m x k · k x n` with the given transposes. */
function gemmCase(
  group: string,
  m: number,
  n: number,
  k: number,
  transA = false,
  transB = false,
): Case {
  const a = random(m * k), b = random(k * n), c = new Float32Array(m * n);
  const args = { m, n, k, transA, transB };
  return {
    group,
    flops: 2 * m * n * k,
    run: (path) => () => kernelsFor(path).sgemm(a, b, c, args),
    noCopy: () => {
      const K = resident;
      const [pa, pb] = [K.put(a), K.put(b)];
      const pc = K.alloc(m * n);
      return () => ptr.sgemmPtr(K, pa, pb, pc, args);
    },
  };
}

type ConvKind = "fwd" | "wgrad" | "igrad";

/** A direct-convolution case (useful FLOPs: 2 per multiply-add of the definition). */
function convCase(group: string, d: Conv2dDims, kind: ConvKind): Case {
  const { oh, ow } = convOutSize(d);
  const x = random(d.n * d.c * d.h * d.w), w = random(d.o * d.c * d.kh * d.kw);
  const b = random(d.o), y = new Float32Array(d.n * d.o * oh * ow), dy = random(y.length);
  const dx = new Float32Array(x.length), dw = new Float32Array(w.length);
  const run = (path: KernelPath) => {
    const k = kernelsFor(path);
    if (kind === "fwd") return () => k.conv2dForward(x, w, b, y, d, { relu: true });
    if (kind === "wgrad") return () => k.conv2dBackwardFilter(x, dy, dw, d);
    return () => k.conv2dBackwardInput(dy, w, dx, d);
  };
  const noCopy = () => {
    const K = resident;
    const [px, pdy] = [K.put(x), K.put(dy)];
    const [py, pdx, pdw] = [K.alloc(y.length), K.alloc(x.length), K.alloc(w.length)];
    if (kind === "fwd") return () => ptr.conv2dForwardPtr(K, px, w, b, py, d, true);
    if (kind === "wgrad") return () => ptr.conv2dBackwardFilterPtr(K, px, pdy, pdw, d);
    return () => ptr.conv2dBackwardInputPtr(K, pdy, w, pdx, d);
  };
  return { group, flops: 2 * d.n * d.o * oh * ow * d.c * d.kh * d.kw, run, noCopy };
}

/** Max-pool forward + backward and ReLU forward + backward on conv1's output (no FLOPs). */
function poolCase(): Case {
  const [n, c, h, w] = [64, 6, 28, 28];
  const x = random(n * c * h * w), y = new Float32Array(x.length / 4);
  const arg = new Int32Array(y.length), dy = random(y.length), dx = new Float32Array(x.length);
  const r = new Float32Array(x.length);
  return {
    group: "pool+relu 64x6x28x28 (fwd+bwd)",
    flops: 0,
    run: (path) => () => {
      const k = kernelsFor(path);
      k.reluForward(x, r);
      k.maxPool2x2Forward(r, y, arg, { n, c, h, w });
      k.maxPool2x2Backward(dy, arg, dx);
      k.reluBackward(x, dx, dx);
    },
    noCopy: () => {
      const K = resident;
      const [px, pdy] = [K.put(x), K.put(dy)];
      const [pr, py, parg, pdx] = [
        K.alloc(x.length),
        K.alloc(y.length),
        K.alloc(y.length),
        K.alloc(x.length),
      ];
      return () => {
        ptr.reluForwardPtr(K, px, pr, x.length);
        ptr.maxPool2x2ForwardPtr(K, pr, py, parg, { n, c, h, w });
        ptr.maxPool2x2BackwardPtr(K, pdy, parg, pdx, y.length, x.length);
        ptr.reluBackwardPtr(K, px, pdx, pdx, x.length);
      };
    },
  };
}

const conv1: Conv2dDims = { n: 64, c: 1, h: 28, w: 28, o: 6, kh: 5, kw: 5, padH: 2, padW: 2 };
const conv2: Conv2dDims = { n: 64, c: 6, h: 14, w: 14, o: 16, kh: 5, kw: 5 };
const cases: Case[] = [
  gemmCase("gemm sq512 512x512x512", 512, 512, 512),
  gemmCase("gemm conv1 im2col 50176x25·25x6", 50176, 6, 25),
  gemmCase("gemm conv2 im2col 6400x150·150x16", 6400, 16, 150),
  gemmCase("gemm conv2 wgrad colsT·dY 150x6400·6400x16", 150, 16, 6400, true),
  gemmCase("gemm fc1 64x400·400x120", 64, 120, 400),
  gemmCase("gemm fc1 dX=dY·Wt 64x120·120x400", 64, 400, 120, false, true),
  gemmCase("gemm fc1 dW=Xt·dY 400x64·64x120", 400, 120, 64, true),
  convCase("conv1 fwd+relu 64x1x28x28*6x1x5x5 pad2", conv1, "fwd"),
  convCase("conv1 weight-grad", conv1, "wgrad"),
  convCase("conv2 fwd+relu 64x6x14x14*16x6x5x5", conv2, "fwd"),
  convCase("conv2 weight-grad", conv2, "wgrad"),
  convCase("conv2 input-grad", conv2, "igrad"),
  poolCase(),
];

const mflop = (f: number) => f ? ` [${(f / 1e6).toFixed(1)} MFLOP]` : "";
for (const c of cases) {
  for (const path of KERNEL_PATHS) {
    const fn = c.run(path);
    Deno.bench(`${c.group}${mflop(c.flops)} ${path}`, {
      group: c.group,
      baseline: path === "js",
      n: 20,
      warmup: 5,
    }, fn);
  }
  if (c.noCopy) {
    Deno.bench(`${c.group}${mflop(c.flops)} wasm-relaxed no-copy`, {
      group: c.group,
      n: 20,
      warmup: 5,
    }, c.noCopy());
  }
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Interleaved CPU-time medians of every case and path; prints the GFLOP/s table. */
function table(): void {
  const rows = cases.flatMap((c) => [
    ...KERNEL_PATHS.map((p) => ({ c, label: p, fn: c.run(p) })),
    ...(c.noCopy ? [{ c, label: "no-copy", fn: c.noCopy() }] : []),
  ]);
  // Batch size: enough calls for ~20 ms; then 7 round-robin rounds, median per row.
  const reps = rows.map(({ fn }) => {
    fn();
    const t0 = performance.now();
    fn();
    return Math.max(1, Math.round(20 / Math.max(performance.now() - t0, 0.01)));
  });
  const samples: number[][] = rows.map(() => []);
  for (let round = 0; round < 7; round++) {
    rows.forEach(({ fn }, i) => {
      const t0 = cpuMs();
      for (let r = 0; r < reps[i]; r++) fn();
      samples[i].push((cpuMs() - t0) / reps[i]);
    });
  }
  const med = (s: number[]) => s.sort((a, b) => a - b)[s.length >> 1];
  const lines = [
    "",
    "GFLOP/s (median CPU time per call; no-copy = wasm-relaxed, data in wasm memory)",
  ];
  lines.push(
    `${"case".padEnd(46)} ${
      ["wasm-relaxed", "wasm-simd", "js", "no-copy"].map((h) => h.padStart(13)).join("")
    }`,
  );
  for (const c of cases) {
    const cells = ["wasm-relaxed", "wasm-simd", "js", "no-copy"].map((label) => {
      const i = rows.findIndex((r) => r.c === c && r.label === label);
      if (i < 0) return "-".padStart(13);
      const ms = med(samples[i]);
      return (c.flops ? (c.flops / ms / 1e6).toFixed(1) : `${ms.toFixed(3)}ms`).padStart(13);
    });
    lines.push(`${c.group.padEnd(46)} ${cells.join("")}`);
  }
  console.log(lines.join("\n"));
}

let printed = false;
Deno.bench("GFLOP/s table (interleaved, CPU time)", { n: 1, warmup: 0 }, () => {
  if (printed) return;
  printed = true;
  table();
});
