/**
 * LeNet-5 `modern` from src/lenet/model.ts (its parameters, initialization and, with
 * `fusion: "block"`, exactly its forward pass), unrolled into a list of layers (one op each) so
 * the step and inference benchmarks can time every op alone and compare fusions.
 *
 * conv 6@5x5 pad 2 -> relu -> maxpool 2 -> conv 16@5x5 -> relu -> maxpool 2 -> flatten ->
 * dense 400-120 -> relu -> dense 120-84 -> relu -> dense 84-10 -> softmax cross-entropy.
 * 61,706 parameters; `modern.init` (He-uniform, Glorot for the logits, zero biases).
 *
 * @module
 */

import { type LeNetParams, modern } from "../src/lenet/model.ts";
import {
  conv2d,
  conv2dRelu,
  conv2dReluMaxPool,
  crossEntropy,
  dense,
  flatten,
  maxPool2d,
  prngKey,
  randomUniform,
  relu,
  split,
  type Tensor,
} from "../mod.ts";
import { residentIo } from "../src/tensor/kernels/wasm/kernels.ts";
import { type KernelPath, setKernelPath } from "../src/tensor/kernels/wasm/runtime.ts";

export type { LeNetParams };

/** `modern.init` from `seed`. */
export function initLeNet(seed: number): LeNetParams {
  return modern.init(prngKey(seed));
}

/** One op of the network: its name and the function from the previous activation. */
export interface Layer {
  name: string;
  run: (x: Tensor) => Tensor;
  /** Multiply-adds x 2 of its forward at batch `n` (0 for ops without products). */
  flops: (n: number) => number;
}

/**
 * How the convolutional blocks run: `"none"`, conv2d -> relu -> maxPool2d (as the trainer's
 * model writes them); `"relu"`, conv2dRelu -> maxPool2d; `"block"`, one conv2dReluMaxPool.
 */
export type Fusion = "none" | "relu" | "block";

/**
 * The layers of LeNet-5 `modern` over `p`, ending with the loss on `labels` (if given); fused
 * ops are named like the convolution they start with.
 */
export function lenetLayers(
  p: LeNetParams,
  labels?: ArrayLike<number>,
  fusion: Fusion = "none",
): Layer[] {
  const none = () => 0;
  const pool = { kernel: 2 };
  const block = (name: string, w: Tensor, b: Tensor, opts: object, flops: number): Layer[] => {
    const f = () => flops;
    if (fusion === "block") {
      return [{ name, run: (x) => conv2dReluMaxPool(x, w, b, opts, pool), flops: (n) => n * f() }];
    }
    const i = name.slice(-1);
    return [
      fusion === "relu"
        ? { name, run: (x) => conv2dRelu(x, w, b, opts), flops: (n) => n * f() }
        : { name, run: (x) => conv2d(x, w, b, opts), flops: (n) => n * f() },
      ...(fusion === "relu" ? [] : [{ name: `relu${i}`, run: relu, flops: none }]),
      { name: `pool${i}`, run: (x: Tensor) => maxPool2d(x, pool), flops: none },
    ];
  };
  const layers: Layer[] = [
    ...block("conv1", p.c1.w, p.c1.b, { padding: 2 }, 2 * 6 * 28 * 28 * 25),
    ...block("conv2", p.c3.w, p.c3.b, {}, 2 * 16 * 10 * 10 * 150),
    { name: "flatten", run: (x) => flatten(x), flops: none },
    { name: "dense1", run: (x) => dense(x, p.c5.w, p.c5.b), flops: (n) => 2 * n * 400 * 120 },
    { name: "relu3", run: relu, flops: none },
    { name: "dense2", run: (x) => dense(x, p.f6.w, p.f6.b), flops: (n) => 2 * n * 120 * 84 },
    { name: "relu4", run: relu, flops: none },
    { name: "dense3", run: (x) => dense(x, p.out.w, p.out.b), flops: (n) => 2 * n * 84 * 10 },
  ];
  if (labels) layers.push({ name: "xent", run: (z) => crossEntropy(z, labels), flops: none });
  return layers;
}

/** The logits (no labels) or the mean cross-entropy loss (with labels). */
export function lenetForward(
  p: LeNetParams,
  x: Tensor,
  labels?: ArrayLike<number>,
  fusion: Fusion = "none",
): Tensor {
  for (const layer of lenetLayers(p, labels, fusion)) x = layer.run(x);
  return x;
}

/** FLOPs of one training step at batch `n`: forward, plus dX and dW of every layer but conv1's dX. */
export function stepFlops(n: number): number {
  const fwd = lenetLayers(initLeNet(0)).reduce((s, l) => s + l.flops(n), 0);
  const conv1 = 2 * n * 6 * 28 * 28 * 25;
  return fwd + 2 * fwd - conv1;
}

/** A batch of `n` images `[n, 1, 28, 28]` in [0, 1) and labels 0..9, from `seed`. */
export function syntheticBatch(n: number, seed: number): { x: Tensor; labels: Int32Array } {
  const [kx] = split(prngKey(seed), 1);
  const x = randomUniform(kx, [n, 1, 28, 28]);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[i] = (i * 7 + seed) % 10;
  return { x, labels };
}

/**
 * Makes `path` active for the ops; on a wasm path, `resident` says whether the ops reuse the
 * wasm copies of tensors a kernel wrote (the default) or copy every operand in and out.
 */
export function activate(path: KernelPath | "auto", resident = true): void {
  setKernelPath(path);
  for (const flavor of ["relaxed", "simd"] as const) residentIo(flavor).enabled = resident;
}
