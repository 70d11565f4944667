/**
 * 2-D max and average pooling over the last two axes (NCHW: each of the N*C maps), each with its
 * hand-derived backward rule beside it:
 *
 * - max-pool routes each delta to the recorded arg-max cell of its window (the first maximum in
 *   row-major window order on ties); cells that were not a maximum get 0;
 * - average-pool spreads `delta / (kh*kw)` over its window (Kronecker upsampling of delta by a
 *   block of `1/(kh*kw)` when windows tile the map); overlapping windows accumulate.
 *
 * @module
 */

import { resolveExplicitPadding, resolvePair } from "./conv_options.ts";
import { fmtShape, TensorError } from "./errors.ts";
import { maxPoolBackward, maxPoolForward } from "./kernels/dispatch.ts";
import { avgPool2dBackwardKernel, avgPool2dKernel, type Pool2dGeometry } from "./kernels/pool.ts";
import { allocData, checkShape, type Shape, Tensor } from "./tensor.ts";
import { recordOp, willRecord } from "./trace.ts";
import { checkDelta } from "./validate.ts";

/**
 * Options of {@link maxPool2d} and {@link avgPool2d}.
 *
 * @example
 * ```ts
 * import { maxPool2d, type Pool2dOptions, zeros } from "./mod.ts";
 * const opts: Pool2dOptions = { kernel: 3, stride: 2, padding: 1 }; // overlapping windows
 * console.log(maxPool2d(zeros([1, 1, 8, 8]), opts).shape); // [1, 1, 4, 4]
 * ```
 */
export interface Pool2dOptions {
  /** Window size, `k` or `[kh, kw]`. */
  kernel: number | readonly [number, number];
  /** Step between windows, `s` or `[sh, sw]`; default: the kernel (non-overlapping windows). */
  stride?: number | readonly [number, number];
  /**
   * Padding, one number for every side or `[top, bottom, left, right]`; default 0. Each side must
   * be smaller than the kernel along its axis, so every window holds at least one real cell.
   * Max-pool treats padded cells as -Infinity, average-pool as 0 (the divisor stays `kh*kw`).
   */
  padding?: number | readonly [number, number, number, number];
}

function fmtPoolOptions(opts: Pool2dOptions): string {
  const show = (v: unknown): string => Array.isArray(v) ? `[${v.join(", ")}]` : JSON.stringify(v);
  return `{ kernel: ${show(opts.kernel)}, stride: ${show(opts.stride ?? opts.kernel)}, ` +
    `padding: ${show(opts.padding ?? 0)} }`;
}

/** Validates a pooling's input shape and options and returns its geometry. */
export function resolvePool(op: string, shape: Shape, opts: Pool2dOptions): Pool2dGeometry {
  const ctx = `x ${fmtShape(shape)}, options ${fmtPoolOptions(opts ?? {} as Pool2dOptions)}`;
  if (shape.length < 2) {
    throw new TensorError(
      op,
      `input must have rank >= 2 (pooling runs over the last two axes, as in NCHW) (${ctx}); ` +
        `reshape a vector [n] to [1, n]`,
    );
  }
  if (opts === undefined || opts.kernel === undefined) {
    throw new TensorError(op, `options.kernel is required (${ctx}); pass e.g. { kernel: 2 }`);
  }
  const [kh, kw] = resolvePair(op, "kernel", opts.kernel, ctx);
  const [sh, sw] = resolvePair(op, "stride", opts.stride ?? opts.kernel, ctx);
  const [pt, pb, pl, pr] = resolveExplicitPadding(
    op,
    opts.padding ?? 0,
    ctx,
    `pass an integer >= 0 or [top, bottom, left, right]`,
  );
  if (pt >= kh || pb >= kh || pl >= kw || pr >= kw) {
    throw new TensorError(
      op,
      `padding must be smaller than the ${kh}x${kw} window on each side (${ctx}), or a window ` +
        `could hold only padding; reduce the padding below the kernel size`,
    );
  }
  const H = shape[shape.length - 2], W = shape[shape.length - 1];
  if (kh > H + pt + pb || kw > W + pl + pr) {
    throw new TensorError(
      op,
      `window larger than padded input: ${kh}x${kw} does not fit ${H + pt + pb}x${W + pl + pr} ` +
        `(${ctx}); use a smaller kernel or more padding`,
    );
  }
  return {
    maps: shape.slice(0, -2).reduce((a, b) => a * b, 1),
    inH: H,
    inW: W,
    kh,
    kw,
    strideH: sh,
    strideW: sw,
    padTop: pt,
    padLeft: pl,
    outH: Math.floor((H + pt + pb - kh) / sh) + 1,
    outW: Math.floor((W + pl + pr - kw) / sw) + 1,
  };
}

/** The pooled shape: `shape` with its last two extents replaced by the output's. */
export function outShape(shape: Shape, g: Pool2dGeometry): number[] {
  return [...shape.slice(0, -2), g.outH, g.outW];
}

/**
 * The result of {@link maxPool2dWithArgmax}.
 *
 * @example
 * ```ts
 * import { type MaxPool2dResult, maxPool2dWithArgmax, tensor } from "./mod.ts";
 * const r: MaxPool2dResult = maxPool2dWithArgmax(tensor([[1, 2], [4, 3]]), { kernel: 2 });
 * console.log(r.y.data, r.argmax); // Float32Array [4] Int32Array [2]
 * ```
 */
export interface MaxPool2dResult {
  /** The pooled tensor `[..., Ho, Wo]`. */
  y: Tensor;
  /** For each element of `y` (row-major), the flat index into `x` of its window's maximum. */
  argmax: Int32Array;
}

/**
 * Max pooling that also returns, for each output, the flat index into `x` of the maximum it took
 * (the first maximum in row-major window order on ties); {@link maxPool2dBackward} routes deltas
 * through these positions. `y` is differentiable like {@link maxPool2d}'s output.
 *
 * @example
 * ```ts
 * import { maxPool2dWithArgmax, tensor } from "./mod.ts";
 * const { y, argmax } = maxPool2dWithArgmax(tensor([[1, 5], [5, 2]]), { kernel: 2 });
 * console.log(y.data, argmax); // Float32Array [5] Int32Array [1]
 * ```
 */
export function maxPool2dWithArgmax(x: Tensor, opts: Pool2dOptions): MaxPool2dResult {
  const { y, argmax } = maxPoolArgmax(x, opts);
  // The caller owns the returned arg-max and may write to it: hand out a copy, since the op's
  // own array may be remembered by the kernels as a copy in wasm memory (kernels/dispatch.ts).
  return { y, argmax: argmax.slice() };
}

/**
 * Max pooling with arg-max, recorded for the autograd; the arg-max array must stay internal
 * (never written to). With `withArgmax` false (only when no recorder traces `x`, so no pullback
 * can be asked for) the arg-max is not produced (an empty array) and nothing is recorded.
 */
function maxPoolArgmax(x: Tensor, opts: Pool2dOptions, withArgmax = true): MaxPool2dResult {
  const g = resolvePool("maxPool2d", x.shape, opts);
  const shape = outShape(x.shape, g);
  const size = checkShape("maxPool2d", shape);
  const y = new Tensor(allocData(x.dtype, size), shape);
  const argmax = withArgmax ? new Int32Array(size) : new Int32Array(0);
  maxPoolForward(x.data, y.data, withArgmax ? argmax : null, g);
  // Recorded here (not only in maxPool2d) so that `y` is differentiable however it was made:
  // an unrecorded `y` would be a constant to the autograd, its gradient silently zero.
  if (withArgmax) {
    recordOp("maxPool2d", [x], y, () => (d) => [maxPool2dBackward(d, argmax, x.shape)]);
  }
  return { y, argmax };
}

/**
 * 2-D max pooling over the last two axes of `x` (`[N, C, H, W]`, or any rank >= 2). Output size
 * `floor((n + p_total - k)/s) + 1` per axis. Backward: {@link maxPool2dBackward}, which routes
 * each delta to the arg-max kept by the forward.
 *
 * @example
 * ```ts
 * import { maxPool2d, reshape, arange } from "./mod.ts";
 * const x = reshape(arange(16), [1, 1, 4, 4]);
 * console.log(maxPool2d(x, { kernel: 2 }).data); // Float32Array [5, 7, 13, 15]
 * ```
 */
export function maxPool2d(x: Tensor, opts: Pool2dOptions): Tensor {
  // Untraced (inference), no pullback can be asked for: skip copying out the arg-max.
  return maxPoolArgmax(x, opts, willRecord([x])).y;
}

/**
 * VJP of {@link maxPool2d}: `dx[argmax[t]] += delta[t]` for each output cell `t`; every other
 * cell of `dx` (shape `inputShape`) is 0. Ties were broken at the forward (first maximum), so
 * each delta goes to exactly one cell; overlapping windows that share a maximum accumulate.
 *
 * @example
 * ```ts
 * import { maxPool2dBackward, maxPool2dWithArgmax, tensor } from "./mod.ts";
 * const x = tensor([[1, 5], [5, 2]]);
 * const { argmax } = maxPool2dWithArgmax(x, { kernel: 2 });
 * console.log(maxPool2dBackward(tensor([[3]]), argmax, x.shape).data); // Float32Array [0, 3, 0, 0]
 * ```
 */
export function maxPool2dBackward(delta: Tensor, argmax: Int32Array, inputShape: Shape): Tensor {
  const size = checkShape("maxPool2dBackward", inputShape);
  if (argmax.length !== delta.size) {
    throw new TensorError(
      "maxPool2dBackward",
      `delta ${fmtShape(delta.shape)} has ${delta.size} elements but argmax has ${argmax.length} ` +
        `(input ${
          fmtShape(inputShape)
        }); pass the argmax returned by the forward that made delta's shape`,
    );
  }
  for (let t = 0; t < argmax.length; t++) {
    const a = argmax[t];
    if (a < 0 || a >= size) {
      throw new TensorError(
        "maxPool2dBackward",
        `argmax[${t}] = ${a} is outside the input ${fmtShape(inputShape)} (${size} cells); ` +
          `pass the argmax and input shape of the same forward call`,
      );
    }
  }
  const dx = allocData(delta.dtype, size);
  maxPoolBackward(delta.data, argmax, dx);
  return new Tensor(dx, inputShape);
}

/**
 * 2-D average pooling over the last two axes of `x`: the mean of each `kh x kw` window with
 * divisor `kh*kw` (padded cells count as zeros). Backward: {@link avgPool2dBackward}.
 *
 * @example
 * ```ts
 * import { avgPool2d, reshape, arange } from "./mod.ts";
 * const x = reshape(arange(16), [1, 1, 4, 4]);
 * console.log(avgPool2d(x, { kernel: 2 }).data); // Float32Array [2.5, 4.5, 10.5, 12.5]
 * ```
 */
export function avgPool2d(x: Tensor, opts: Pool2dOptions): Tensor {
  const g = resolvePool("avgPool2d", x.shape, opts);
  const shape = outShape(x.shape, g);
  const y = new Tensor(allocData(x.dtype, checkShape("avgPool2d", shape)), shape);
  avgPool2dKernel(x.data, y.data, g);
  return recordOp("avgPool2d", [x], y, () => (d) => [avgPool2dBackward(d, x.shape, opts)]);
}

/**
 * VJP of {@link avgPool2d}: each window's cells receive `delta / (kh*kw)`
 * (`dx[..., u, v] = sum over windows (i, j) containing (u, v) of delta[..., i, j] / (kh*kw)`);
 * with non-overlapping windows this is the Kronecker upsampling of delta by a block of
 * `1/(kh*kw)`.
 *
 * @example
 * ```ts
 * import { avgPool2dBackward, tensor } from "./mod.ts";
 * console.log(avgPool2dBackward(tensor([[4]]), [2, 2], { kernel: 2 }).data); // Float32Array [1, 1, 1, 1]
 * ```
 */
export function avgPool2dBackward(delta: Tensor, inputShape: Shape, opts: Pool2dOptions): Tensor {
  const g = resolvePool("avgPool2dBackward", inputShape, opts);
  const expected = outShape(inputShape, g);
  checkDelta(
    "avgPool2dBackward",
    delta,
    expected,
    `input ${fmtShape(inputShape)}, options ${fmtPoolOptions(opts)}`,
    "pass the gradient of avgPool2d's output with the same input shape and options",
  );
  const dx = allocData(delta.dtype, checkShape("avgPool2dBackward", inputShape));
  avgPool2dBackwardKernel(delta.data, dx, g);
  return new Tensor(dx, inputShape);
}
