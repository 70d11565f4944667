/**
 * NumPy broadcasting and its backward rule.
 *
 * Shapes are aligned on their trailing axes; two extents are compatible when they are equal or
 * one of them is 1, and the result takes the larger. A missing leading axis counts as 1.
 *
 * The derivation of the backward rule: broadcasting copies each input element to every output
 * position along the broadcast axes, `y[..., j, ...] = x[..., 0, ...]` for all `j`. By the chain
 * rule an input element receives the sum of the gradients of all its copies, so the VJP of a
 * broadcast is a sum over the broadcast axes: {@link sumToShape}. Conversely the VJP of
 * `sumToShape` is the broadcast ({@link broadcastTo}). The two ops are each other's adjoint.
 *
 * @module
 */

import { fmtShape, TensorError } from "./errors.ts";
import { contiguousStrides, copyStrided, planStrided } from "./kernels/strided.ts";
import { sumInto } from "./kernels/reduce.ts";
import { allocData, checkShape, type Shape, Tensor } from "./tensor.ts";
import { recordOp } from "./trace.ts";

/**
 * The broadcast shape of `a` and `b` under NumPy rules, or a {@link TensorError} from `op` that
 * names both shapes and the first incompatible axis.
 *
 * @example
 * ```ts
 * import { broadcastShapes } from "./mod.ts";
 * console.log(broadcastShapes("add", [64, 1, 28], [6, 1])); // [64, 6, 28]
 * ```
 */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 1; i <= rank; i++) {
    const da = i <= a.length ? a[a.length - i] : 1;
    const db = i <= b.length ? b[b.length - i] : 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new TensorError(
        op,
        `shapes ${fmtShape(a)} and ${fmtShape(b)} cannot be broadcast together: axis -${i} ` +
          `has extents ${da} and ${db}; aligned from the right, each pair of extents must be ` +
          `equal or one of them 1 (reshape an operand, e.g. to add an axis of extent 1)`,
      );
    }
    out[rank - i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * Strides that read an array of shape `src` (row-major, contiguous) at every position of the
 * larger shape `out` it broadcasts to: 0 along broadcast and missing leading axes.
 */
export function broadcastStrides(src: Shape, out: Shape): number[] {
  const s = contiguousStrides(src);
  const lead = out.length - src.length;
  return out.map((d, i) => (i < lead || (src[i - lead] === 1 && d !== 1) ? 0 : s[i - lead]));
}

/** Whether two shapes are the same. */
export function sameShape(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Checks that `from` broadcasts to exactly `to` (as the input of an op with output `to`). */
function checkBroadcastsTo(op: string, from: Shape, to: Shape): void {
  const ok = from.length <= to.length &&
    from.every((d, i) => d === 1 || d === to[to.length - from.length + i]);
  if (!ok) {
    throw new TensorError(
      op,
      `shape ${fmtShape(from)} does not broadcast to ${fmtShape(to)}; aligned from the right, ` +
        `each extent must equal the target's or be 1, and the target must have at least as ` +
        `many axes`,
    );
  }
}

/**
 * Copies `x` along its broadcast axes to `shape` (NumPy `broadcast_to`, materialized). Returns
 * `x` itself when the shapes already agree.
 *
 * Backward: `dX = sumToShape(dY, shape(X))`.
 *
 * @example
 * ```ts
 * import { broadcastTo, tensor } from "./mod.ts";
 * console.log(broadcastTo(tensor([1, 2]), [2, 2]).data); // Float32Array [1, 2, 1, 2]
 * ```
 */
export function broadcastTo(x: Tensor, shape: Shape): Tensor {
  checkShape("broadcastTo", shape);
  checkBroadcastsTo("broadcastTo", x.shape, shape);
  if (sameShape(x.shape, shape)) return x;
  const out = allocData(x.dtype, shape.reduce((a, b) => a * b, 1));
  copyStrided(
    x.data,
    planStrided(shape, [contiguousStrides(shape), broadcastStrides(x.shape, shape)]),
    out,
  );
  const y = new Tensor(out, shape);
  return recordOp("broadcastTo", [x], y, () => (g) => [broadcastToBackward(g, x.shape)]);
}

/** VJP of {@link broadcastTo}: every copy's gradient summed back, `dX = sumToShape(dY, shape(X))`. */
export function broadcastToBackward(g: Tensor, inputShape: Shape): Tensor {
  return sumToShape(g, inputShape);
}

/**
 * The backward rule of broadcasting: sums `g` over the axes along which an input of `shape` was
 * broadcast to produce `g`'s shape (missing leading axes and axes where `shape` has extent 1),
 * giving a tensor of exactly `shape`. Returns `g` itself when the shapes already agree.
 *
 * `dX[i] = sum over j broadcast from i of dY[j]`.
 *
 * @example
 * ```ts
 * import { sumToShape, tensor } from "./mod.ts";
 * // y = x + b with x: [2, 3], b: [3]; the gradient of b sums dY over the batch axis.
 * const dY = tensor([[1, 2, 3], [10, 20, 30]]);
 * console.log(sumToShape(dY, [3]).data); // Float32Array [11, 22, 33]
 * console.log(sumToShape(dY, [2, 1]).data); // Float32Array [6, 60]
 * ```
 */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  checkShape("sumToShape", shape);
  checkBroadcastsTo("sumToShape", shape, g.shape);
  if (sameShape(g.shape, shape)) return g;
  const out = allocData(g.dtype, shape.reduce((a, b) => a * b, 1));
  sumInto(
    g.data,
    planStrided(g.shape, [contiguousStrides(g.shape), broadcastStrides(shape, g.shape)]),
    out,
  );
  const y = new Tensor(out, shape);
  return recordOp("sumToShape", [g], y, () => (h) => [sumToShapeBackward(h, g.shape)]);
}

/** VJP of {@link sumToShape}: each summed element receives the sum's gradient, `dG = broadcastTo(dY, shape(G))`. */
export function sumToShapeBackward(h: Tensor, inputShape: Shape): Tensor {
  return broadcastTo(h, inputShape);
}

/**
 * For a batch shape `out` that `src` broadcasts to, the flat index into `src` of each flat index
 * of `out` (used by batched matmul to address the operands' matrices).
 */
export function broadcastIndex(src: Shape, out: Shape): Int32Array {
  const n = out.reduce((a, b) => a * b, 1);
  const idx = new Int32Array(n);
  if (n === 0) return idx;
  const plan = planStrided(out, [contiguousStrides(out), broadcastStrides(src, out)]);
  const [os, ss] = plan.starts;
  const si = plan.inner[1];
  for (let r = 0; r < plan.rows; r++) {
    for (let i = 0, o = os[r], s = ss[r]; i < plan.n; i++, s += si) idx[o + i] = s;
  }
  return idx;
}
