/**
 * The wasm path behind the Float32Array kernel entry points: get the operands into the
 * module's memory, run the pointer-level kernel (`wasm_ptr.ts`), copy the result out. How the
 * operands get in is the {@link WasmIo}'s business: a {@link WasmKernels} copies each one
 * into a per-call arena (one pass over each operand and result; the benchmarks measure them
 * as the gap between these functions and the pointer-level kernels), the resident io of
 * `resident.ts` reuses copies already in wasm memory.
 *
 * @module
 */

import type { GemmArgs } from "../gemm.ts";
import { type Conv2dDims, convOutSize, type Pool2dDims } from "./dims.ts";
import type { WasmIo, WasmKernels } from "./runtime.ts";
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
  io: WasmIo,
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
  io.begin();
  const pa = io.input(a, args.offA ?? 0, m * k);
  const pb = io.input(b, args.offB ?? 0, k * n);
  // With beta != 0 C is read too: a private copy, since the kernel updates it in place.
  const pc = io.output(m * n);
  if (beta !== 0) io.kernels.f32.set(c.subarray(offC, offC + m * n), pc >> 2);
  sgemmPtr(io.kernels, pa, pb, pc, {
    m,
    n,
    k,
    transA: args.transA,
    transB: args.transB,
    alpha,
    beta,
  });
  io.finish(pc, c, offC, m * n);
}

/** `y = relu?(x ⋆ weight + bias)` (cross-correlation, stride 1). */
export function conv2dForwardWasm(
  io: WasmIo,
  x: Float32Array,
  weight: Float32Array,
  bias: Float32Array | null,
  y: Float32Array,
  d: Conv2dDims,
  relu = false,
  variant: ConvVariant = chooseVariant(d.o, convOutSize(d).ow),
): void {
  io.begin();
  const px = io.input(x);
  const py = io.output(y.length);
  conv2dForwardPtr(io.kernels, px, weight, bias, py, d, relu, variant);
  io.finish(py, y);
}

/** `dx = full_conv(dy, rot180(W))`. */
export function conv2dBackwardInputWasm(
  io: WasmIo,
  dy: Float32Array,
  weight: Float32Array,
  dx: Float32Array,
  d: Conv2dDims,
  variant: ConvVariant = chooseVariant(d.c, d.w),
): void {
  io.begin();
  const pdy = io.input(dy);
  const pdx = io.output(dx.length);
  conv2dBackwardInputPtr(io.kernels, pdy, weight, pdx, d, variant);
  io.finish(pdx, dx);
}

/** `dW = valid_corr(Xpad, dY)`. */
export function conv2dBackwardFilterWasm(
  io: WasmIo,
  x: Float32Array,
  dy: Float32Array,
  dw: Float32Array,
  d: Conv2dDims,
): void {
  io.begin();
  const px = io.input(x);
  const pdy = io.input(dy);
  const pdw = io.output(dw.length);
  conv2dBackwardFilterPtr(io.kernels, px, pdy, pdw, d);
  io.finish(pdw, dw);
}

/** `db[o] = sum over n and space of dY[n][o]`. */
export function conv2dBackwardBiasWasm(
  io: WasmIo,
  dy: Float32Array,
  db: Float32Array,
  n: number,
  o: number,
  hw: number,
): void {
  io.begin();
  const pdy = io.input(dy);
  const pdb = io.output(o);
  conv2dBackwardBiasPtr(io.kernels, pdy, pdb, n, o, hw);
  io.finish(pdb, db);
}

/** The gradient arrays of a convolution (null: not wanted). */
interface GradArrays {
  dx: Float32Array | null;
  dw: Float32Array | null;
  db: Float32Array | null;
}

/**
 * Allocates the wanted gradients' outputs, runs `delta` (which writes a delta into scratch and
 * returns its pointer) and the convolution's backward kernels at it, copies the results out.
 */
function convGradsWasm(
  io: WasmIo,
  x: Float32Array,
  weight: Float32Array,
  { dx, dw, db }: GradArrays,
  d: Conv2dDims,
  delta: (K: WasmKernels) => number,
): void {
  const px = dw ? io.input(x) : 0;
  const pdx = dx ? io.output(dx.length) : 0;
  const pdw = dw ? io.output(dw.length) : 0;
  const pdb = db ? io.output(d.o) : 0;
  const K = io.kernels;
  const mark = K.mark();
  const pdy = delta(K);
  const { oh, ow } = convOutSize(d);
  if (db) conv2dBackwardBiasPtr(K, pdy, pdb, d.n, d.o, oh * ow);
  if (dw) conv2dBackwardFilterPtr(K, px, pdy, pdw, d);
  if (dx) conv2dBackwardInputPtr(K, pdy, weight, pdx, d, chooseVariant(d.c, d.w));
  K.release(mark);
  if (dx) io.finish(pdx, dx);
  if (dw) io.finish(pdw, dw);
  if (db) io.finish(pdb, db);
}

/**
 * The gradients of one convolution from one delta (dx, dw, db where given), the delta masked
 * by `reluOut > 0` first if given (a fused ReLU): `dy` (and `reluOut`) go in once, and the
 * masked delta stays in scratch memory.
 */
export function conv2dBackwardWasm(
  io: WasmIo,
  dy: Float32Array,
  x: Float32Array,
  weight: Float32Array,
  grads: GradArrays,
  d: Conv2dDims,
  reluOut: Float32Array | null = null,
): void {
  io.begin();
  const pdy = io.input(dy);
  const pr = reluOut ? io.input(reluOut) : 0;
  convGradsWasm(io, x, weight, grads, d, (K) => {
    if (!reluOut) return pdy;
    const masked = K.alloc(dy.length);
    reluBackwardPtr(K, pr, pdy, masked, dy.length);
    return masked;
  });
}

/** The pooling of a conv block: the convolution's `[n, o, oh, ow]` output, pooled 2x2. */
function blockPool(d: Conv2dDims): Pool2dDims {
  const { oh, ow } = convOutSize(d);
  return { n: d.n, c: d.o, h: oh, w: ow };
}

/**
 * The conv block `y = maxPool2x2(relu(x ⋆ weight + bias))` with the arg-max (into the
 * convolution's output) if wanted; the convolution's output stays in scratch memory.
 */
export function conv2dReluPoolForwardWasm(
  io: WasmIo,
  x: Float32Array,
  weight: Float32Array,
  bias: Float32Array | null,
  y: Float32Array,
  argmax: Int32Array | null,
  d: Conv2dDims,
): void {
  io.begin();
  const px = io.input(x);
  const py = io.output(y.length);
  const pa = io.output(y.length);
  const K = io.kernels, pool = blockPool(d);
  const mark = K.mark();
  const pz = K.alloc(pool.n * pool.c * pool.h * pool.w);
  conv2dForwardPtr(K, px, weight, bias, pz, d, true);
  maxPool2x2ForwardPtr(K, pz, py, pa, pool);
  K.release(mark);
  io.finish(py, y);
  if (argmax) io.finish(pa, argmax);
}

/**
 * The conv block's gradients: the pooled delta routed to its arg-max where `y > 0` (max-pool
 * and ReLU backward in one pass, into scratch), then the convolution's gradients there.
 */
export function conv2dReluPoolBackwardWasm(
  io: WasmIo,
  dy: Float32Array,
  y: Float32Array,
  argmax: Int32Array,
  x: Float32Array,
  weight: Float32Array,
  grads: GradArrays,
  d: Conv2dDims,
): void {
  io.begin();
  const pdy = io.input(dy), py = io.input(y), pa = io.input(argmax);
  const pool = blockPool(d), zLength = pool.n * pool.c * pool.h * pool.w;
  convGradsWasm(io, x, weight, grads, d, (K) => {
    const pdz = K.alloc(zLength);
    maxPool2x2BackwardPtr(K, pdy, pa, pdz, dy.length, zLength, py);
    return pdz;
  });
}

/** 2x2 stride-2 max-pool with the arg-max (flat index into x) of each output, if wanted. */
export function maxPool2x2ForwardWasm(
  io: WasmIo,
  x: Float32Array,
  y: Float32Array,
  argmax: Int32Array | null,
  d: Pool2dDims,
): void {
  io.begin();
  const px = io.input(x);
  const py = io.output(y.length);
  const pa = io.output(y.length);
  maxPool2x2ForwardPtr(io.kernels, px, py, pa, d);
  io.finish(py, y);
  if (argmax) io.finish(pa, argmax);
}

/** `dx = 0; dx[argmax[i]] += dy[i]`, only where `reluOut[i] > 0` if given (fused ReLU). */
export function maxPool2x2BackwardWasm(
  io: WasmIo,
  dy: Float32Array,
  argmax: Int32Array,
  dx: Float32Array,
  reluOut: Float32Array | null = null,
): void {
  io.begin();
  const pdy = io.input(dy);
  const pa = io.input(argmax);
  const pr = reluOut ? io.input(reluOut) : 0;
  const pdx = io.output(dx.length);
  maxPool2x2BackwardPtr(io.kernels, pdy, pa, pdx, dy.length, dx.length, pr);
  io.finish(pdx, dx);
}

/** `y = x < 0 ? 0 : x`, +0 for -0 (NaN stays NaN). */
export function reluForwardWasm(io: WasmIo, x: Float32Array, y: Float32Array): void {
  io.begin();
  const px = io.input(x);
  const py = io.output(y.length);
  reluForwardPtr(io.kernels, px, py, x.length);
  io.finish(py, y);
}

/** `dx = x > 0 ? dy : 0` (x is the ReLU's input or, equivalently, its output). */
export function reluBackwardWasm(
  io: WasmIo,
  x: Float32Array,
  dy: Float32Array,
  dx: Float32Array,
): void {
  io.begin();
  const px = io.input(x);
  const pdy = io.input(dy);
  const pdx = io.output(dx.length);
  reluBackwardPtr(io.kernels, px, pdy, pdx, x.length);
  io.finish(pdx, dx);
}
