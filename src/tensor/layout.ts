/**
 * Layout ops: reshape and flatten (free: they share the input's buffer, which is safe because
 * tensors are immutable).
 *
 * Each op keeps its backward rule beside its forward: the VJP of a pure re-indexing is the
 * inverse re-indexing of the upstream gradient.
 *
 * @module
 */

import { fmtShape, TensorError } from "./errors.ts";
import { checkShape, type Shape, Tensor } from "./tensor.ts";
import { recordOp } from "./trace.ts";

/** Resolves a single `-1` extent and checks that the element count is preserved. */
function resolveShape(op: string, from: Shape, to: Shape): number[] {
  const holes = to.filter((d) => d === -1).length;
  if (holes > 1) {
    throw new TensorError(op, `target shape ${fmtShape(to)} has more than one -1; use at most one`);
  }
  const size = from.reduce((a, b) => a * b, 1);
  const known = to.reduce((a, d) => (d === -1 ? a : a * d), 1);
  const out = to.map((d) => (d === -1 ? (known === 0 ? 0 : size / known) : d));
  checkShape(op, to.map((d) => (d === -1 ? 0 : d)));
  if (out.reduce((a, b) => a * b, 1) !== size || !out.every(Number.isInteger)) {
    throw new TensorError(
      op,
      `cannot reshape ${fmtShape(from)} (${size} elements) to ${fmtShape(to)}; ` +
        `the target must hold the same number of elements`,
    );
  }
  return out;
}

/**
 * The same elements with a new shape (one extent may be -1 and is inferred). No copy.
 *
 * Backward: `dX = reshape(dY, shape(X))`.
 *
 * @example
 * ```ts
 * import { arange, reshape } from "./mod.ts";
 * console.log(reshape(arange(6), [2, -1]).shape); // [2, 3]
 * ```
 */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const y = new Tensor(x.data, resolveShape("reshape", x.shape, shape));
  return recordOp("reshape", [x], y, () => (g) => [reshapeBackward(g, x.shape)]);
}

/** VJP of {@link reshape}: the upstream gradient laid back out in the input's shape. */
export function reshapeBackward(g: Tensor, inputShape: Shape): Tensor {
  return reshape(g, inputShape);
}

/**
 * Collapses axes `startAxis..end` into one: `[N, C, H, W] -> [N, C*H*W]` by default, the usual
 * step between the convolutional and the dense layers. No copy.
 *
 * Backward: `dX = reshape(dY, shape(X))`.
 *
 * @example
 * ```ts
 * import { flatten, zeros } from "./mod.ts";
 * console.log(flatten(zeros([64, 16, 5, 5])).shape); // [64, 400]
 * ```
 */
export function flatten(x: Tensor, startAxis = 1): Tensor {
  if (!Number.isInteger(startAxis) || startAxis < 0 || startAxis > x.rank) {
    throw new TensorError(
      "flatten",
      `startAxis ${startAxis} is out of range for shape ${fmtShape(x.shape)}; use 0..${x.rank}`,
    );
  }
  const rest = x.shape.slice(startAxis).reduce((a, b) => a * b, 1);
  return reshape(x, [...x.shape.slice(0, startAxis), rest]);
}
