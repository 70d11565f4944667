/**
 * The ops' entry to the hot kernels. float32 work runs on the active kernel path
 * (`wasm-relaxed`, `wasm-simd` or `js`, see `wasm/runtime.ts`); float64 work (the gradient
 * checks) always runs the plain-TypeScript kernels directly, exactly as before the wasm path
 * existed. Shapes the wasm kernels do not cover (strided or dilated convolutions, pools other
 * than 2x2 stride 2 unpadded) run the plain kernels for both dtypes.
 *
 * The `js` path is these same plain kernels, so `GRADPROOF_KERNELS=js` gives float32 results
 * bit-identical to calling them directly.
 *
 * @module
 */

import type { TensorData } from "../tensor.ts";
import {
  conv2dBiasGradKernel,
  conv2dForwardKernel,
  type Conv2dGeometry,
  conv2dInputGradKernel,
  conv2dWeightGradKernel,
} from "./conv.ts";
import { gemm, type GemmArgs } from "./gemm.ts";
import { maxPool2dBackwardKernel, maxPool2dKernel, type Pool2dGeometry } from "./pool.ts";
import { activationGrad, mapUnary } from "./unary.ts";
import type { Conv2dDims, Pool2dDims } from "./wasm/dims.ts";
import { type ConvGradArrays, opKernels as kernels } from "./wasm/kernels.ts";

/** The stride-1 dims of `g` for the path kernels, or null if strided or dilated. */
export function dimsOf(g: Conv2dGeometry): Conv2dDims | null {
  if (g.strideH !== 1 || g.strideW !== 1 || g.dilationH !== 1 || g.dilationW !== 1) return null;
  // outH = inH + padTop + padBottom - kh + 1 at stride 1, so the bottom padding is implied.
  return {
    n: g.batch,
    c: g.inC,
    h: g.inH,
    w: g.inW,
    o: g.outC,
    kh: g.kh,
    kw: g.kw,
    padH: g.padTop,
    padW: g.padLeft,
    padBottom: g.outH - 1 + g.kh - g.inH - g.padTop,
    padRight: g.outW - 1 + g.kw - g.inW - g.padLeft,
  };
}

/** Whether `a` is float32 data (the arrays of one call share a dtype: the ops check it). */
function f32(a: TensorData): boolean {
  return a instanceof Float32Array;
}

/** `y = relu?(b + x ⋆ w)`, the forward of conv2d (see `conv.ts`). */
export function convForward(
  x: TensorData,
  w: TensorData,
  b: TensorData | null,
  y: TensorData,
  g: Conv2dGeometry,
  relu = false,
): void {
  const d = f32(x) ? dimsOf(g) : null;
  if (d) return kernels().conv2dForward(x, w, b, y, d, { relu });
  conv2dForwardKernel(x, w, b, y, g);
  if (relu) mapUnary("relu", y, y);
}

/**
 * conv2d's three gradients from one delta, each where its array is given (see `conv.ts`):
 * `dx = full_corr(dilate_s(delta), rot180(w))` cropped, `dw = valid_corr(x, delta)`,
 * `db[o] = sum(delta[:, o])`. Given `reluOut` (the conv2dRelu output) the delta is masked by
 * `reluOut > 0` first, without materializing the masked delta on the wasm paths.
 */
export function convGrads(
  delta: TensorData,
  x: TensorData,
  w: TensorData,
  reluOut: TensorData | null,
  grads: ConvGradArrays,
  g: Conv2dGeometry,
): void {
  const d = f32(delta) ? dimsOf(g) : null;
  if (d) return kernels().conv2dBackward(delta, x, w, grads, d, reluOut);
  let masked = delta;
  if (reluOut) {
    masked = delta instanceof Float64Array
      ? new Float64Array(delta.length)
      : new Float32Array(delta.length);
    activationGrad("relu", delta, reluOut, masked);
  }
  if (grads.dx) conv2dInputGradKernel(masked, w, grads.dx, g);
  if (grads.dw) conv2dWeightGradKernel(x, masked, grads.dw, g);
  if (grads.db) conv2dBiasGradKernel(masked, grads.db, g);
}

/** Fresh storage of `like`'s element type. */
function scratchLike(like: TensorData, n: number): TensorData {
  return like instanceof Float64Array ? new Float64Array(n) : new Float32Array(n);
}

/**
 * The conv block `y = maxPool(relu(conv(x, w, b)))` (conv geometry `g`, pooling `pg` over the
 * convolution's output), with the arg-max into that output if wanted. On the wasm paths the
 * convolution's output never leaves scratch memory.
 */
export function convReluPoolForward(
  x: TensorData,
  w: TensorData,
  b: TensorData | null,
  y: TensorData,
  argmax: Int32Array | null,
  g: Conv2dGeometry,
  pg: Pool2dGeometry,
): void {
  const d = f32(x) && poolDims(pg) ? dimsOf(g) : null;
  if (d) return kernels().conv2dReluPoolForward(x, w, b, y, argmax, d);
  const z = scratchLike(x, g.batch * g.outC * g.outH * g.outW);
  conv2dForwardKernel(x, w, b, z, g);
  mapUnary("relu", z, z);
  maxPool2dKernel(z, y, argmax ?? new Int32Array(y.length), pg);
}

/**
 * The conv block's gradients: `dz = 0; dz[argmax[t]] += delta[t]` where `y[t] > 0` (max-pool
 * and ReLU backward in one pass: `y[t] = relu(z)[argmax[t]]`, so `y[t] > 0` is the ReLU's mask
 * at the routed cell), then the convolution's gradients at `dz`, each where wanted.
 */
export function convReluPoolGrads(
  delta: TensorData,
  y: TensorData,
  argmax: Int32Array,
  x: TensorData,
  w: TensorData,
  grads: ConvGradArrays,
  g: Conv2dGeometry,
  pg: Pool2dGeometry,
): void {
  const d = f32(delta) && poolDims(pg) ? dimsOf(g) : null;
  if (d) return kernels().conv2dReluPoolBackward(delta, y, argmax, x, w, grads, d);
  const dz = scratchLike(delta, g.batch * g.outC * g.outH * g.outW);
  maxPool2dBackwardKernel(delta, argmax, dz, dz.length, y);
  if (grads.dx) conv2dInputGradKernel(dz, w, grads.dx, g);
  if (grads.dw) conv2dWeightGradKernel(x, dz, grads.dw, g);
  if (grads.db) conv2dBiasGradKernel(dz, grads.db, g);
}

/** `C = alpha op(A) op(B) + beta C`, the contract of `gemm.ts`. */
export function matmulKernel(a: TensorData, b: TensorData, c: TensorData, args: GemmArgs): void {
  if (f32(a)) kernels().sgemm(a, b, c, args);
  else gemm(a, b, c, args);
}

/** The 2x2 stride-2 dims of `g`, or null for another pooling. */
function poolDims(g: Pool2dGeometry): Pool2dDims | null {
  const fits = g.kh === 2 && g.kw === 2 && g.strideH === 2 && g.strideW === 2 &&
    g.padTop === 0 && g.padLeft === 0 && g.outH === g.inH >> 1 && g.outW === g.inW >> 1;
  return fits ? { n: g.maps, c: 1, h: g.inH, w: g.inW } : null;
}

/**
 * Max-pool with arg-max (first maximum in row-major window order); `argmax` null when only
 * the values are wanted (no backward can follow).
 */
export function maxPoolForward(
  x: TensorData,
  y: TensorData,
  argmax: Int32Array | null,
  g: Pool2dGeometry,
): void {
  const d = f32(x) ? poolDims(g) : null;
  if (d) kernels().maxPool2x2Forward(x, y, argmax, d);
  else maxPool2dKernel(x, y, argmax ?? new Int32Array(y.length), g);
}

/**
 * Max-pool backward `dx = 0; dx[argmax[t]] += delta[t]` over all of `dx`; with `gate` (the
 * pooled values of a ReLU output) only `gate[t] > 0` routes. Indices must be valid.
 */
export function maxPoolBackward(
  delta: TensorData,
  argmax: Int32Array,
  dx: TensorData,
  gate: TensorData | null = null,
): void {
  if (f32(delta)) kernels().maxPool2x2Backward(delta, argmax, dx, gate);
  else maxPool2dBackwardKernel(delta, argmax, dx, dx.length, gate);
}

/** `y = max(x, 0)` (+0 for -0 and negatives, NaN stays NaN). */
export function reluForward(x: TensorData, y: TensorData): void {
  if (f32(x)) kernels().reluForward(x, y);
  else mapUnary("relu", x, y);
}

/** `out = g [y > 0]`, from the ReLU's output `y` (0, not NaN, where masked). */
export function reluBackward(g: TensorData, y: TensorData, out: TensorData): void {
  if (f32(g)) kernels().reluBackward(y, g, out);
  else activationGrad("relu", g, y, out);
}
