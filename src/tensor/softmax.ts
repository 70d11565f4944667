/**
 * Softmax and log-softmax over one axis, max-subtracted for stability.
 *
 * Derivation of the backward rules: with `s = softmax(x)`, the Jacobian is
 * `ds_i/dx_j = s_i (δ_ij - s_j)`, so the VJP is `dx_j = sum_i g_i s_i (δ_ij - s_j)
 * = s_j (g_j - sum_i g_i s_i)`. For `y = log softmax(x) = x - logsumexp(x)`,
 * `dy_i/dx_j = δ_ij - s_j`, so `dx_j = g_j - s_j sum_i g_i` with `s = exp(y)`.
 *
 * @module
 */

import { softmaxGradLoop, softmaxLoop } from "./kernels/softmax.ts";
import { allocData, Tensor } from "./tensor.ts";
import { recordOp } from "./trace.ts";
import { checkGrad, normalizeAxis } from "./validate.ts";

/** `[outer, n, inner]` view of `shape` around axis `k`. */
function split3(shape: readonly number[], k: number): [number, number, number] {
  let outer = 1, inner = 1;
  for (let i = 0; i < k; i++) outer *= shape[i];
  for (let i = k + 1; i < shape.length; i++) inner *= shape[i];
  return [outer, shape[k], inner];
}

function forward(op: "softmax" | "logSoftmax", x: Tensor, axis: number): Tensor {
  const k = normalizeAxis(op, axis, x.shape);
  const [outer, n, inner] = split3(x.shape, k);
  const out = allocData(x.dtype, x.size);
  softmaxLoop(x.data, outer, n, inner, op === "logSoftmax", out);
  return new Tensor(out, x.shape);
}

function backward(op: string, g: Tensor, y: Tensor, axis: number, log: boolean): Tensor {
  const k = normalizeAxis(op, axis, y.shape);
  checkGrad(op, g, y.shape, y.dtype);
  const [outer, n, inner] = split3(y.shape, k);
  const out = allocData(y.dtype, y.size);
  softmaxGradLoop(g.data, y.data, outer, n, inner, log, out);
  return new Tensor(out, y.shape);
}

/**
 * `softmax(x)_i = exp(x_i - m) / sum_j exp(x_j - m)` along `axis` (default: the last), with
 * `m = max_j x_j` so huge logits do not overflow. A slice of all `-Infinity` gives NaN.
 *
 * Backward: `dX = s * (g - sum(g * s))` along the axis.
 *
 * @example
 * ```ts
 * import { softmax, tensor } from "./mod.ts";
 * console.log(softmax(tensor([1000, -1000])).data); // Float32Array [1, 0]
 * ```
 */
export function softmax(x: Tensor, axis = -1): Tensor {
  const y = forward("softmax", x, axis);
  return recordOp("softmax", [x], y, () => (g) => [softmaxBackward(g, y, axis)]);
}

/**
 * VJP of {@link softmax} given its output `s`: `dX = s * (g - sum(g * s))` along `axis`.
 *
 * @example
 * ```ts
 * import { softmaxBackward, tensor } from "./mod.ts";
 * // A uniform upstream gradient changes nothing: softmax is shift-invariant.
 * console.log(softmaxBackward(tensor([1, 1]), tensor([0.25, 0.75])).data); // [0, 0]
 * ```
 */
export function softmaxBackward(g: Tensor, s: Tensor, axis = -1): Tensor {
  return backward("softmaxBackward", g, s, axis, false);
}

/**
 * `log softmax(x) = x - m - log(sum_j exp(x_j - m))` along `axis` (default: the last), stable
 * for huge logits (never `log(0)` from an underflowed softmax).
 *
 * Backward: `dX = g - softmax(x) * sum(g)` along the axis, with `softmax(x) = exp(y)`.
 *
 * @example
 * ```ts
 * import { logSoftmax, tensor } from "./mod.ts";
 * console.log(logSoftmax(tensor([1000, -1000])).data); // Float32Array [0, -2000]
 * ```
 */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const y = forward("logSoftmax", x, axis);
  return recordOp("logSoftmax", [x], y, () => (g) => [logSoftmaxBackward(g, y, axis)]);
}

/**
 * VJP of {@link logSoftmax} given its output `y`: `dX = g - exp(y) * sum(g)` along `axis`.
 *
 * @example
 * ```ts
 * import { logSoftmaxBackward, tensor } from "./mod.ts";
 * const y = tensor([Math.log(0.25), Math.log(0.75)]);
 * console.log(logSoftmaxBackward(tensor([1, 0]), y).data); // [0.75, -0.75]
 * ```
 */
export function logSoftmaxBackward(g: Tensor, y: Tensor, axis = -1): Tensor {
  return backward("logSoftmaxBackward", g, y, axis, true);
}
