/**
 * Axis permutations: `transpose` (default: reverse the axes) and its alias `permute`.
 *
 * `y[i_0, ..., i_{r-1}] = x[j]` with `j[perm[a]] = i_a`: output axis `a` is input axis
 * `perm[a]`. The VJP of a re-indexing is the inverse re-indexing, so the backward rule is the
 * transpose by the inverse permutation.
 *
 * @module
 */

import { fmtShape, TensorError } from "./errors.ts";
import { contiguousStrides, copyStrided, planStrided } from "./kernels/strided.ts";
import { allocData, Tensor } from "./tensor.ts";
import { recordOp } from "./trace.ts";

/** Validates `perm` (default: reversed axes) as a permutation of `0..rank-1`. */
function permutation(op: string, x: Tensor, perm?: readonly number[]): number[] {
  const rank = x.rank;
  if (perm === undefined) return Array.from({ length: rank }, (_, i) => rank - 1 - i);
  const seen = new Array<boolean>(rank).fill(false);
  const ok = perm.length === rank &&
    perm.every((p) => Number.isInteger(p) && p >= 0 && p < rank && !seen[p] && (seen[p] = true));
  if (!ok) {
    throw new TensorError(
      op,
      `perm [${perm.join(", ")}] is not a permutation of the ${rank} axes of ` +
        `${fmtShape(x.shape)}; list every axis 0..${rank - 1} exactly once`,
    );
  }
  return perm.slice();
}

/** The inverse permutation: `inv[perm[a]] = a`. */
function invert(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, a) => (inv[p] = a));
  return inv;
}

/**
 * Permutes the axes of `x`: output axis `a` is input axis `perm[a]`; without `perm` the axes
 * are reversed (the matrix transpose for rank 2). Returns `x` itself for the identity.
 *
 * Backward: `dX = transpose(dY, inverse(perm))`.
 *
 * @example
 * ```ts
 * import { transpose, tensor } from "./mod.ts";
 * const x = tensor([[1, 2, 3], [4, 5, 6]]);
 * console.log(transpose(x).shape, transpose(x).data); // [3, 2] [1, 4, 2, 5, 3, 6]
 * ```
 */
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  const p = permutation("transpose", x, perm);
  if (p.every((a, i) => a === i)) return x;
  const shape = p.map((a) => x.shape[a]);
  const xs = contiguousStrides(x.shape);
  const out = allocData(x.dtype, x.size);
  copyStrided(x.data, planStrided(shape, [contiguousStrides(shape), p.map((a) => xs[a])]), out);
  const y = new Tensor(out, shape);
  return recordOp("transpose", [x], y, () => (g) => [transposeBackward(g, p)]);
}

/**
 * VJP of {@link transpose}: the inverse permutation undoes the re-indexing.
 *
 * @example
 * ```ts
 * import { transposeBackward, zeros } from "./mod.ts";
 * console.log(transposeBackward(zeros([4, 2, 3]), [1, 2, 0]).shape); // [3, 4, 2]
 * ```
 */
export function transposeBackward(g: Tensor, perm: readonly number[]): Tensor {
  return transpose(g, invert(permutation("transposeBackward", g, perm)));
}

/**
 * Alias of {@link transpose} with an explicit permutation (PyTorch's name).
 *
 * @example
 * ```ts
 * import { permute, zeros } from "./mod.ts";
 * console.log(permute(zeros([64, 28, 28, 1]), [0, 3, 1, 2]).shape); // [64, 1, 28, 28]
 * ```
 */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  return transpose(x, perm);
}
