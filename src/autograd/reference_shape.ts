/**
 * Reference definitions of the reductions, layout ops and the (batched) matrix product, composed
 * ONLY of the autograd's primitives (see `reference.ts` for why).
 *
 * The options and conventions are the fast ops': reductions take `{ axis, keepdims }` (negative
 * axes count from the end; default every axis); `max` routes the gradient to the first maximum
 * of each group in row-major order; `logSumExp` subtracts the (constant) maximum for stability;
 * `matmul` multiplies the last two axes and broadcasts the leading (batch) axes.
 *
 * @module
 */

import { fmtShape, TensorError } from "../tensor/errors.ts";
import type { ReduceOptions } from "../tensor/reduce.ts";
import { full, type Shape, Tensor } from "../tensor/tensor.ts";
import { broadcastAxes, broadcastShapes, normalizeAxes } from "./indexing.ts";
import * as P from "./primitives.ts";

/**
 * Sum over `axis` (default every axis), keeping the reduced axes with extent 1 if `keepdims`.
 *
 * @example
 * ```ts
 * import { ref, tensor } from "./mod.ts";
 * console.log(ref.sum(tensor([[1, 2, 3], [4, 5, 6]]), { axis: 0 }).data); // [5, 7, 9]
 * ```
 */
export function sum(x: Tensor, opts: ReduceOptions = {}): Tensor {
  return P.sum(x, opts.axis, opts.keepdims ?? false);
}

/**
 * Mean over `axis`: the sum times `1 / count` (a constant).
 *
 * @example
 * ```ts
 * import { ref, tensor } from "./mod.ts";
 * console.log(ref.mean(tensor([[1, 2], [3, 4]]), { axis: 1 }).data); // [1.5, 3.5]
 * ```
 */
export function mean(x: Tensor, opts: ReduceOptions = {}): Tensor {
  const axes = normalizeAxes("ref.mean", x.shape, opts.axis);
  const count = axes.reduce((n, a) => n * x.shape[a], 1);
  const s = P.sum(x, axes, opts.keepdims ?? false);
  return P.mul(s, full(s.shape, 1 / count, { dtype: x.dtype }));
}

/**
 * Maximum over `axis`; the gradient goes to the first maximum of each group (row-major).
 *
 * @example
 * ```ts
 * import { ref, tensor } from "./mod.ts";
 * console.log(ref.max(tensor([[1, 5], [7, 2]]), { axis: 1 }).data); // [5, 7]
 * ```
 */
export function max(x: Tensor, opts: ReduceOptions = {}): Tensor {
  return P.max(x, opts.axis, opts.keepdims ?? false);
}

/**
 * `log(sum(exp(x)))` over `axis`, as `m + log(sum(exp(x - m)))` with the maximum `m` held
 * constant (the value does not depend on it, so neither does the gradient: `softmax(x)`). A
 * non-finite maximum shifts by 0, as the fast op does.
 *
 * @example
 * ```ts
 * import { ref, tensor } from "./mod.ts";
 * console.log(ref.logSumExp(tensor([1000, 1000], { dtype: "float64" })).data); // [1000.693...]
 * ```
 */
export function logSumExp(x: Tensor, opts: ReduceOptions = {}): Tensor {
  const axes = normalizeAxes("ref.logSumExp", x.shape, opts.axis);
  const m = P.stopGradient(P.max(x, axes, true));
  const shift = new Tensor(m.data.map((v) => (Number.isFinite(v) ? v : 0)), m.shape);
  const s = P.sum(P.exp(P.sub(x, P.broadcastTo(shift, x.shape))), axes, true);
  const y = P.add(P.log(s), shift);
  if (opts.keepdims) return y;
  return P.reshape(y, x.shape.filter((_, i) => !axes.includes(i)));
}

/**
 * The same elements in a new shape (one extent may be -1 and is inferred).
 *
 * @example
 * ```ts
 * import { ref, tensor } from "./mod.ts";
 * console.log(ref.reshape(tensor([1, 2, 3, 4, 5, 6]), [2, -1]).shape); // [2, 3]
 * ```
 */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const known = shape.reduce((n, d) => (d === -1 ? n : n * d), 1);
  const holes = shape.filter((d) => d === -1).length;
  if (holes > 1 || (holes === 1 && (known === 0 || x.size % known !== 0))) {
    throw new TensorError(
      "ref.reshape",
      `cannot reshape ${fmtShape(x.shape)} (${x.size} elements) to ${fmtShape(shape)}`,
    );
  }
  return P.reshape(x, shape.map((d) => (d === -1 ? x.size / known : d)));
}

/**
 * Collapses axes `startAxis..end` into one (default 1: `[N, C, H, W] -> [N, C*H*W]`).
 *
 * @example
 * ```ts
 * import { ref, zeros } from "./mod.ts";
 * console.log(ref.flatten(zeros([2, 16, 5, 5])).shape); // [2, 400]
 * ```
 */
export function flatten(x: Tensor, startAxis = 1): Tensor {
  if (!Number.isInteger(startAxis) || startAxis < 0 || startAxis > x.rank) {
    throw new TensorError(
      "ref.flatten",
      `startAxis ${startAxis} is out of range for shape ${fmtShape(x.shape)}; use 0..${x.rank}`,
    );
  }
  const rest = x.shape.slice(startAxis).reduce((a, b) => a * b, 1);
  return P.reshape(x, [...x.shape.slice(0, startAxis), rest]);
}

/**
 * Permutes the axes: output axis `i` is input axis `perm[i]` (default: reversed).
 *
 * @example
 * ```ts
 * import { ref, zeros } from "./mod.ts";
 * console.log(ref.transpose(zeros([2, 3, 4]), [2, 0, 1]).shape); // [4, 2, 3]
 * ```
 */
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  return P.transpose(x, perm);
}

/**
 * {@link transpose} under its other name.
 *
 * @example
 * ```ts
 * import { ref, zeros } from "./mod.ts";
 * console.log(ref.permute(zeros([2, 3]), [1, 0]).shape); // [3, 2]
 * ```
 */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  return P.transpose(x, perm);
}

/**
 * Broadcasts `x` to `shape` (NumPy rules); the gradient sums over the broadcast axes.
 *
 * @example
 * ```ts
 * import { ref, tensor } from "./mod.ts";
 * console.log(ref.broadcastTo(tensor([1, 2]), [2, 2]).data); // [1, 2, 1, 2]
 * ```
 */
export function broadcastTo(x: Tensor, shape: Shape): Tensor {
  return P.broadcastTo(x, shape);
}

/**
 * Sums `g` over the axes along which `shape` would be broadcast to `g`'s shape (the adjoint of
 * {@link broadcastTo}), giving a tensor of `shape`.
 *
 * @example
 * ```ts
 * import { ref, tensor } from "./mod.ts";
 * console.log(ref.sumToShape(tensor([[1, 2], [3, 4]]), [2]).data); // [4, 6]
 * ```
 */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  const lead = g.rank - shape.length;
  if (lead < 0 || shape.some((d, i) => d !== 1 && d !== g.shape[lead + i])) {
    throw new TensorError(
      "ref.sumToShape",
      `${fmtShape(shape)} does not broadcast to ${fmtShape(g.shape)}; each axis must be 1 or ` +
        `equal to g's (aligned on the right)`,
    );
  }
  return P.reshape(P.sum(g, broadcastAxes(shape, g.shape), true), shape);
}

/**
 * Matrix product over the last two axes, `[..., m, k] @ [..., k, n]`, the leading (batch) axes
 * broadcast. Two matrices use the GEMM primitive; batches are `sum_k a[..., m, k, 1] *
 * b[..., 1, k, n]` (broadcast, multiply, sum over `k`).
 *
 * @example
 * ```ts
 * import { ref, tensor } from "./mod.ts";
 * console.log(ref.matmul(tensor([[1, 2]]), tensor([[3], [4]])).data); // [11]
 * ```
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.rank < 2 || b.rank < 2 || a.shape[a.rank - 1] !== b.shape[b.rank - 2]) {
    throw new TensorError(
      "ref.matmul",
      `cannot multiply ${fmtShape(a.shape)} by ${fmtShape(b.shape)}; need [..., m, k] and ` +
        `[..., k, n]`,
    );
  }
  if (a.rank === 2 && b.rank === 2) return P.matmul(a, b);
  const [m, k] = a.shape.slice(-2), n = b.shape[b.rank - 1];
  const batch = broadcastShapes("ref.matmul", a.shape.slice(0, -2), b.shape.slice(0, -2));
  const full4 = [...batch, m, k, n];
  const ea = P.broadcastTo(P.reshape(a, [...a.shape, 1]), full4);
  const eb = P.broadcastTo(P.reshape(b, [...b.shape.slice(0, -2), 1, k, n]), full4);
  return P.sum(P.mul(ea, eb), batch.length + 1);
}
