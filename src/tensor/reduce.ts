/**
 * Reductions over axes: sum, mean, max, argmax and the stable logSumExp.
 *
 * Options: `axis` (one axis or a list; negative axes count from the end; omitted = every axis)
 * and `keepdims` (keep the reduced axes with extent 1, so the result broadcasts against the
 * input). Each backward reshapes the upstream gradient to the keepdims shape and broadcasts it
 * back over the reduced axes, scaled by the local derivative.
 *
 * @module
 */

import { broadcastStrides, broadcastTo } from "./broadcast.ts";
import { div, mul, sub } from "./elementwise.ts";
import { fmtShape, TensorError } from "./errors.ts";
import { maxInto, sumExpInto, sumInto } from "./kernels/reduce.ts";
import { contiguousStrides, planStrided, type StridedPlan } from "./kernels/strided.ts";
import { reshape } from "./layout.ts";
import { allocData, type Shape, Tensor } from "./tensor.ts";
import { recordOp } from "./trace.ts";
import { exp } from "./unary.ts";
import { axisMask, checkGrad, normalizeAxis } from "./validate.ts";

/** Options of the reductions. */
export interface ReduceOptions {
  /** Axis or axes to reduce; negative counts from the end. Default: every axis. */
  axis?: number | readonly number[];
  /** Keep reduced axes with extent 1 (the result broadcasts against the input). Default false. */
  keepdims?: boolean;
}

/** The shapes and the walk of one reduction. */
interface Reduction {
  /** Input shape with reduced axes set to 1. */
  keepShape: number[];
  /** The result's shape (keepShape, or with the reduced axes removed). */
  outShape: number[];
  /** Elements reduced into each output. */
  count: number;
  /** Plan over the input: operand 0 = input (contiguous), 1 = output. */
  plan: StridedPlan;
}

function reduction(op: string, shape: Shape, opts: ReduceOptions): Reduction {
  const mask = axisMask(op, opts.axis, shape);
  const keepShape = shape.map((d, i) => (mask[i] ? 1 : d));
  const outShape = opts.keepdims ? keepShape : shape.filter((_, i) => !mask[i]);
  const count = shape.reduce((a, d, i) => (mask[i] ? a * d : a), 1);
  const plan = planStrided(shape, [contiguousStrides(shape), broadcastStrides(keepShape, shape)]);
  return { keepShape, outShape, count, plan };
}

/** Broadcasts an upstream gradient of a reduction back over the reduced axes. */
function spread(
  op: string,
  g: Tensor,
  inputShape: Shape,
  dtype: string,
  opts: ReduceOptions,
): Tensor {
  const r = reduction(op, inputShape, opts);
  checkGrad(op, g, r.outShape, dtype);
  return broadcastTo(reshape(g, r.keepShape), inputShape);
}

/**
 * Sum over `axis` (all axes by default).
 *
 * Backward: every summed element receives the gradient of its sum,
 * `dX = broadcast(reshape(g, keepdims shape), shape(X))`.
 *
 * @example
 * ```ts
 * import { sum, tensor } from "./mod.ts";
 * const x = tensor([[1, 2, 3], [4, 5, 6]]);
 * console.log(sum(x).data, sum(x, { axis: 0 }).data); // [21] [5, 7, 9]
 * console.log(sum(x, { axis: -1, keepdims: true }).shape); // [2, 1]
 * ```
 */
export function sum(x: Tensor, opts: ReduceOptions = {}): Tensor {
  const r = reduction("sum", x.shape, opts);
  const out = allocData(x.dtype, r.keepShape.reduce((a, b) => a * b, 1));
  sumInto(x.data, r.plan, out);
  const y = new Tensor(out, r.outShape);
  return recordOp("sum", [x], y, () => (g) => [sumBackward(g, x.shape, opts)]);
}

/**
 * VJP of {@link sum}: `d(sum_i x_i) = sum_i dx_i`, so `dX = broadcast(g)` over the reduced axes.
 *
 * @example
 * ```ts
 * import { sumBackward, tensor } from "./mod.ts";
 * console.log(sumBackward(tensor([1, 2]), [2, 3], { axis: 1 }).data); // [1, 1, 1, 2, 2, 2]
 * ```
 */
export function sumBackward(g: Tensor, inputShape: Shape, opts: ReduceOptions = {}): Tensor {
  return spread("sumBackward", g, inputShape, g.dtype, opts);
}

/**
 * Mean over `axis` (all axes by default); the mean of zero elements is NaN.
 *
 * Backward: `dX = broadcast(g) / n` with `n` the number of elements averaged.
 *
 * @example
 * ```ts
 * import { mean, tensor } from "./mod.ts";
 * console.log(mean(tensor([[1, 2], [3, 6]]), { axis: 1 }).data); // [1.5, 4.5]
 * ```
 */
export function mean(x: Tensor, opts: ReduceOptions = {}): Tensor {
  const r = reduction("mean", x.shape, opts);
  const out = allocData(x.dtype, r.keepShape.reduce((a, b) => a * b, 1));
  sumInto(x.data, r.plan, out);
  for (let i = 0; i < out.length; i++) out[i] /= r.count;
  const y = new Tensor(out, r.outShape);
  return recordOp("mean", [x], y, () => (g) => [meanBackward(g, x.shape, opts)]);
}

/**
 * VJP of {@link mean}: `d(1/n sum_i x_i) = 1/n sum_i dx_i`, so `dX = broadcast(g) / n`.
 *
 * @example
 * ```ts
 * import { meanBackward, tensor } from "./mod.ts";
 * console.log(meanBackward(tensor(1), [4]).data); // [0.25, 0.25, 0.25, 0.25]
 * ```
 */
export function meanBackward(g: Tensor, inputShape: Shape, opts: ReduceOptions = {}): Tensor {
  const count = reduction("meanBackward", inputShape, opts).count;
  return div(spread("meanBackward", g, inputShape, g.dtype, opts), count);
}

/** Maximum values and the flat input index of the first maximum of each. */
function maxWithPositions(
  op: string,
  x: Tensor,
  opts: ReduceOptions,
): { y: Tensor; pos: Int32Array; r: Reduction } {
  const r = reduction(op, x.shape, opts);
  const n = r.keepShape.reduce((a, b) => a * b, 1);
  if (r.count === 0 && n > 0) {
    throw new TensorError(
      op,
      `cannot reduce an empty axis of shape ${fmtShape(x.shape)}: the maximum of no elements ` +
        `is undefined; reduce over non-empty axes only`,
    );
  }
  const out = allocData(x.dtype, n);
  const pos = new Int32Array(n).fill(-1);
  maxInto(x.data, r.plan, out, pos);
  return { y: new Tensor(out, r.outShape), pos, r };
}

/** `dX[pos[o]] = g[o]`: routes each output's gradient to its recorded arg-max. */
function scatter(g: Tensor, pos: Int32Array, inputShape: Shape, size: number): Tensor {
  const out = allocData(g.dtype, size);
  const gd = g.data;
  for (let o = 0; o < pos.length; o++) out[pos[o]] += gd[o];
  return new Tensor(out, inputShape);
}

/**
 * Maximum over `axis` (all axes by default); NaN if any reduced element is NaN.
 *
 * Backward: the gradient goes to the arg-max only, `dX[argmax] = g`, 0 elsewhere. On ties it
 * goes to the FIRST maximum in flat (row-major) order among the reduced elements, the same rule
 * as max-pooling's routing.
 *
 * @example
 * ```ts
 * import { max, tensor } from "./mod.ts";
 * console.log(max(tensor([[1, 5], [7, 2]]), { axis: 1 }).data); // [5, 7]
 * ```
 */
export function max(x: Tensor, opts: ReduceOptions = {}): Tensor {
  const { y, pos } = maxWithPositions("max", x, opts);
  return recordOp("max", [x], y, () => (g) => {
    checkGrad("maxBackward", g, y.shape, y.dtype);
    return [scatter(g, pos, x.shape, x.size)];
  });
}

/**
 * VJP of {@link max}: `dX = g` at the first maximum of each reduced group, 0 elsewhere.
 *
 * @example
 * ```ts
 * import { maxBackward, tensor } from "./mod.ts";
 * // Tie: both 3s are maximal; the first one receives the gradient.
 * console.log(maxBackward(tensor(1), tensor([3, 1, 3])).data); // [1, 0, 0]
 * ```
 */
export function maxBackward(g: Tensor, x: Tensor, opts: ReduceOptions = {}): Tensor {
  const { y, pos } = maxWithPositions("maxBackward", x, opts);
  checkGrad("maxBackward", g, y.shape, y.dtype);
  return scatter(g, pos, x.shape, x.size);
}

/** Options of {@link argmax}: a single axis. */
export interface ArgmaxOptions {
  /** The axis to search; negative counts from the end. Default: the flattened tensor. */
  axis?: number;
  /** Keep the searched axis with extent 1. Default false. */
  keepdims?: boolean;
}

/**
 * Index of the first maximum along `axis` (of the flattened tensor when `axis` is omitted), as a
 * tensor of `x`'s dtype holding integers. Not differentiable (it is piecewise constant), so it
 * is not recorded.
 *
 * @example
 * ```ts
 * import { argmax, tensor } from "./mod.ts";
 * const logits = tensor([[0.1, 2, 0.3], [5, 1, 5]]);
 * console.log(argmax(logits, { axis: 1 }).data); // [1, 0]
 * ```
 */
export function argmax(x: Tensor, opts: ArgmaxOptions = {}): Tensor {
  if (opts.axis !== undefined && typeof opts.axis !== "number") {
    throw new TensorError(
      "argmax",
      `axis must be a single number (got [${opts.axis}]) for shape ${fmtShape(x.shape)}; ` +
        `reshape to merge axes first`,
    );
  }
  const { y, pos } = maxWithPositions("argmax", x, opts);
  const out = y.data;
  if (opts.axis === undefined) {
    for (let o = 0; o < pos.length; o++) out[o] = pos[o];
  } else {
    const k = normalizeAxis("argmax", opts.axis, x.shape);
    const stride = contiguousStrides(x.shape)[k], extent = x.shape[k];
    for (let o = 0; o < pos.length; o++) out[o] = Math.floor(pos[o] / stride) % extent;
  }
  return y;
}

/**
 * `log(sum(exp(x)))` over `axis`, computed stably as `m + log(sum(exp(x - m)))` with `m` the
 * maximum (so `[1000, 1000]` gives `1000 + log 2`, not Infinity). All `-Infinity` gives
 * `-Infinity`.
 *
 * Backward: `dX = g * exp(x - y) = g * softmax(x)` along the reduced axes.
 *
 * @example
 * ```ts
 * import { logSumExp, tensor } from "./mod.ts";
 * console.log(logSumExp(tensor([1000, 1000], { dtype: "float64" })).data); // [1000.6931471805599]
 * ```
 */
export function logSumExp(x: Tensor, opts: ReduceOptions = {}): Tensor {
  const { y: m, r } = maxWithPositions("logSumExp", x, opts);
  const shift = m.data;
  // A non-finite maximum cannot be subtracted (inf - inf = NaN); shift by 0 instead, which
  // gives the right limits: all -inf -> log(0) = -inf, any +inf -> +inf.
  for (let i = 0; i < shift.length; i++) if (!Number.isFinite(shift[i])) shift[i] = 0;
  const s = allocData(x.dtype, shift.length);
  sumExpInto(x.data, r.plan, shift, s);
  const out = allocData(x.dtype, shift.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.log(s[i]) + shift[i];
  const y = new Tensor(out, r.outShape);
  return recordOp("logSumExp", [x], y, () => (g) => [logSumExpBackward(g, x, y, opts)]);
}

/**
 * VJP of {@link logSumExp} given its output `y`: `d lse = sum_i softmax_i dx_i`, so
 * `dX = g * exp(x - y)` (broadcast over the reduced axes).
 *
 * @example
 * ```ts
 * import { logSumExp, logSumExpBackward, tensor } from "./mod.ts";
 * const x = tensor([0, 0]);
 * console.log(logSumExpBackward(tensor(1), x, logSumExp(x)).data); // [0.5, 0.5]
 * ```
 */
export function logSumExpBackward(
  g: Tensor,
  x: Tensor,
  y: Tensor,
  opts: ReduceOptions = {},
): Tensor {
  const r = reduction("logSumExpBackward", x.shape, opts);
  checkGrad("logSumExpBackward", g, r.outShape, x.dtype);
  checkGrad("logSumExpBackward", y, r.outShape, x.dtype);
  return mul(reshape(g, r.keepShape), exp(sub(x, reshape(y, r.keepShape))));
}
