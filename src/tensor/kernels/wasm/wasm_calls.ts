/**
 * The wasm path behind the Float32Array kernel entry points: reset the arena of the flavour's
 * module, copy the operands in, run the pointer-level kernel (`wasm_ptr.ts`), copy the result
 * out. The copies are one pass over each operand and result; the benchmarks measure them as
 * the gap between these functions and the pointer-level kernels.
 *
 * @module
 */

import type { GemmArgs } from "../gemm.ts";
import { type Conv2dDims, convOutSize, type Pool2dDims } from "./dims.ts";
import type { WasmKernels } from "./runtime.ts";
import {
  chooseVariant,
  conv2dBackwardBiasPtr,
  conv2dBackwardFilterPtr,
  conv2dBackwardInputPtr,
  conv2dForwardPtr,
  type ConvVariant,
  maxPool2x2BackwardPtr,
  maxPool2x2ForwardPtr,
  reluBackwardPtr,
  reluForwardPtr,
  sgemmPtr,
} from "./wasm_ptr.ts";

/** `C = alpha * op(A) op(B) + beta * C`, the contract of `../gemm.ts`, on float32 arrays. */
export function sgemmWasm(
  K: WasmKernels,
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  args: GemmArgs,
): void {
  const { m, n, k } = args;
  const alpha = args.alpha ?? 1, beta = args.beta ?? 0, offC = args.offC ?? 0;
  if (m === 0 || n === 0) return;
  if (k === 0) {
    // No products: C = beta * C (and beta == 0 overwrites, as in the plain kernel).
    for (let i = offC; i < offC + m * n; i++) c[i] = beta === 0 ? 0 : beta * c[i];
    return;
  }
  K.reset();
  const pa = K.put(a, args.offA ?? 0, m * k);
  const pb = K.put(b, args.offB ?? 0, k * n);
  const pc = beta === 0 ? K.alloc(m * n) : K.put(c, offC, m * n);
  sgemmPtr(K, pa, pb, pc, { m, n, k, transA: args.transA, transB: args.transB, alpha, beta });
  K.get(pc, c, offC, m * n);
}

/** `y = relu?(x ⋆ weight + bias)` (cross-correlation, stride 1). */
export function conv2dForwardWasm(
  K: WasmKernels,
  x: Float32Array,
  weight: Float32Array,
  bias: Float32Array | null,
  y: Float32Array,
  d: Conv2dDims,
  relu = false,
  variant: ConvVariant = chooseVariant(d.o, convOutSize(d).ow),
): void {
  K.reset();
  const px = K.put(x);
  const py = K.alloc(y.length);
  conv2dForwardPtr(K, px, weight, bias, py, d, relu, variant);
  K.get(py, y);
}

/** `dx = full_conv(dy, rot180(W))`. */
export function conv2dBackwardInputWasm(
  K: WasmKernels,
  dy: Float32Array,
  weight: Float32Array,
  dx: Float32Array,
  d: Conv2dDims,
  variant: ConvVariant = chooseVariant(d.c, d.w),
): void {
  K.reset();
  const pdy = K.put(dy);
  const pdx = K.alloc(dx.length);
  conv2dBackwardInputPtr(K, pdy, weight, pdx, d, variant);
  K.get(pdx, dx);
}

/** `dW = valid_corr(Xpad, dY)`. */
export function conv2dBackwardFilterWasm(
  K: WasmKernels,
  x: Float32Array,
  dy: Float32Array,
  dw: Float32Array,
  d: Conv2dDims,
): void {
  K.reset();
  const px = K.put(x);
  const pdy = K.put(dy);
  const pdw = K.alloc(dw.length);
  conv2dBackwardFilterPtr(K, px, pdy, pdw, d);
  K.get(pdw, dw);
}

/** `db[o] = sum over n and space of dY[n][o]`. */
export function conv2dBackwardBiasWasm(
  K: WasmKernels,
  dy: Float32Array,
  db: Float32Array,
  n: number,
  o: number,
  hw: number,
): void {
  K.reset();
  const pdy = K.put(dy);
  const pdb = K.alloc(o);
  conv2dBackwardBiasPtr(K, pdy, pdb, n, o, hw);
  K.get(pdb, db);
}

/** 2x2 stride-2 max-pool with the arg-max (flat index into x) of each output. */
export function maxPool2x2ForwardWasm(
  K: WasmKernels,
  x: Float32Array,
  y: Float32Array,
  argmax: Int32Array,
  d: Pool2dDims,
): void {
  K.reset();
  const px = K.put(x);
  const py = K.alloc(y.length);
  const pa = K.alloc(y.length);
  maxPool2x2ForwardPtr(K, px, py, pa, d);
  K.get(py, y);
  argmax.set(K.i32.subarray(pa >> 2, (pa >> 2) + y.length));
}

/** `dx = 0; dx[argmax[i]] += dy[i]`, only where `reluOut[i] > 0` if given (fused ReLU). */
export function maxPool2x2BackwardWasm(
  K: WasmKernels,
  dy: Float32Array,
  argmax: Int32Array,
  dx: Float32Array,
  reluOut: Float32Array | null = null,
): void {
  K.reset();
  const pdy = K.put(dy);
  const pa = K.alloc(argmax.length);
  K.i32.set(argmax, pa >> 2);
  const pr = reluOut ? K.put(reluOut) : 0;
  const pdx = K.alloc(dx.length);
  maxPool2x2BackwardPtr(K, pdy, pa, pdx, dy.length, dx.length, pr);
  K.get(pdx, dx);
}

/** `y = x < 0 ? 0 : x` (NaN stays NaN). */
export function reluForwardWasm(K: WasmKernels, x: Float32Array, y: Float32Array): void {
  K.reset();
  const px = K.put(x);
  reluForwardPtr(K, px, px, x.length);
  K.get(px, y);
}

/** `dx = x > 0 ? dy : 0` (x is the ReLU's input or, equivalently, its output). */
export function reluBackwardWasm(
  K: WasmKernels,
  x: Float32Array,
  dy: Float32Array,
  dx: Float32Array,
): void {
  K.reset();
  const px = K.put(x);
  const pdy = K.put(dy);
  reluBackwardPtr(K, px, pdy, pdy, x.length);
  K.get(pdy, dx);
}
