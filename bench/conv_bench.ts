/**
 * conv2d forward and backward at the LeNet-5 sizes (batch 64, float32):
 * conv1 `x [64, 1, 28, 28] * w [6, 1, 5, 5]`, padding 2; conv2 `x [64, 6, 14, 14] * w [16, 6, 5, 5]`,
 * valid. One forward is `2*N*O*C*kh*kw*Ho*Wo` FLOPs; the input gradient and the weight gradient
 * each cost the same.
 *
 * - `deno bench bench/conv_bench.ts`: Deno's harness (time per call).
 * - `deno run bench/conv_bench.ts`: a GFLOP/s table (median of 15 calls after warm-up), including
 *   the untiled baseline (im2col + the shared `gemm`) measured in the same run for the ratio.
 *
 * @module
 */

import {
  conv2d,
  conv2dBackward,
  type Conv2dOptions,
  conv2dOutputShape,
  prngKey,
  randomUniform,
  split,
  type Tensor,
} from "../mod.ts";
import { resolveConv2d } from "../src/tensor/conv_options.ts";
import {
  type Conv2dGeometry,
  conv2dInputGradKernel,
  conv2dWeightGradKernel,
  gatherPatches,
} from "../src/tensor/kernels/conv.ts";
import { gemm } from "../src/tensor/kernels/gemm.ts";
import { measure } from "./timing.ts";

interface Layer {
  name: string;
  x: Tensor;
  w: Tensor;
  b: Tensor;
  delta: Tensor;
  opts: Conv2dOptions;
  g: Conv2dGeometry;
  flops: number;
}

function layer(name: string, xs: number[], ws: number[], opts: Conv2dOptions, seed: number): Layer {
  const [k1, k2, k3, k4] = split(prngKey(seed), 4);
  const x = randomUniform(k1, xs, { low: -1, high: 1 });
  const w = randomUniform(k2, ws, { low: -0.2, high: 0.2 });
  const b = randomUniform(k3, [ws[0]], { low: -0.1, high: 0.1 });
  const ys = conv2dOutputShape(xs, ws, opts);
  const delta = randomUniform(k4, ys, { low: -1, high: 1 });
  const [N, O, Ho, Wo] = ys;
  const flops = 2 * N * O * ws[1] * ws[2] * ws[3] * Ho * Wo;
  return { name, x, w, b, delta, opts, g: resolveConv2d("bench", xs, ws, opts).geometry, flops };
}

const layers: Layer[] = [
  layer("conv1 64x1x28x28 * 6x1x5x5 pad 2", [64, 1, 28, 28], [6, 1, 5, 5], { padding: 2 }, 1),
  layer("conv2 64x6x14x14 * 16x6x5x5 valid", [64, 6, 14, 14], [16, 6, 5, 5], {}, 2),
];

/** The "before" of the kernels: im2col + the untiled shared GEMM, one image at a time. */
function baselineForward(l: Layer): Float32Array {
  const { g } = l;
  const K = g.inC * g.kh * g.kw, P = g.outH * g.outW;
  const cols = new Float32Array(K * P);
  const y = new Float32Array(g.batch * g.outC * P);
  for (let n = 0; n < g.batch; n++) {
    gatherPatches(l.x.data, n, g, cols);
    gemm(l.w.data, cols, y, { m: g.outC, n: P, k: K, offC: n * g.outC * P });
  }
  return y;
}

interface Job {
  label: string;
  flops: number;
  fn: () => unknown;
  baseline?: boolean;
}

function jobs(l: Layer): Job[] {
  const dx = new Float32Array(l.x.size), dw = new Float32Array(l.w.size);
  return [
    {
      label: "forward (im2col + untiled gemm, before)",
      flops: l.flops,
      fn: () => baselineForward(l),
      baseline: true,
    },
    { label: "forward conv2d", flops: l.flops, fn: () => conv2d(l.x, l.w, l.b, l.opts) },
    {
      label: "backward dX",
      flops: l.flops,
      fn: () => conv2dInputGradKernel(l.delta.data, l.w.data, dx, l.g),
    },
    {
      label: "backward dW",
      flops: l.flops,
      fn: () => conv2dWeightGradKernel(l.x.data, l.delta.data, dw, l.g),
    },
    {
      label: "backward conv2dBackward (dX + dW + db)",
      flops: 2 * l.flops,
      fn: () => conv2dBackward(l.delta, l.x, l.w, l.opts),
    },
  ];
}

if (import.meta.main) {
  console.log("conv2d, float32, batch 64; median of 15 calls after warm-up\n");
  for (const l of layers) {
    console.log(`${l.name}  (${(l.flops / 1e6).toFixed(1)} MFLOP per pass)`);
    for (const j of jobs(l)) {
      const t = measure(j.fn);
      const gflops = j.flops / t.medianMs / 1e6;
      console.log(
        `  ${j.label.padEnd(42)} ${t.medianMs.toFixed(2).padStart(7)} ms  ${
          gflops.toFixed(2).padStart(5)
        } GFLOP/s`,
      );
    }
  }
} else {
  for (const l of layers) {
    for (const j of jobs(l)) {
      Deno.bench({
        name: `${l.name}: ${j.label}`,
        group: l.name,
        baseline: j.baseline,
        fn: () => void j.fn(),
      });
    }
  }
}
