/**
 * Index arithmetic shared by the autograd's primitives: row-major strides, axis normalization
 * and the one loop every re-indexing primitive is built on, {@link stridedOffsets}.
 *
 * The primitives are a checking tool, so their loops favour obviousness over speed: each
 * re-indexing (broadcast, transpose, slice, pad, reductions) first lists, for every element of
 * a row-major walk over some shape, the flat offset it maps to in another buffer, then copies
 * or accumulates along that list.
 *
 * @module
 */

import { fmtShape, TensorError } from "../tensor/errors.ts";
import type { Shape, Tensor } from "../tensor/tensor.ts";

/** Row-major strides of `shape` (the last axis has stride 1). */
export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Whether two shapes are equal axis by axis. */
export function sameShape(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Product of the extents. */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * For each position of a row-major walk over `shape`, the offset `base + sum_k i_k * strides[k]`.
 * With `strides` = the row-major strides of another shape (possibly scaled or zeroed per axis),
 * this is the index map of every broadcast, transpose, slice, pad and reduction below.
 */
export function stridedOffsets(shape: Shape, strides: readonly number[], base = 0): Int32Array {
  const n = sizeOf(shape);
  const out = new Int32Array(n);
  if (n === 0) return out;
  const rank = shape.length;
  if (rank === 0) {
    out[0] = base;
    return out;
  }
  const idx = new Int32Array(rank);
  const last = rank - 1;
  const lastN = shape[last];
  const lastS = strides[last];
  let o = 0;
  let row = base;
  for (;;) {
    for (let j = 0, p = row; j < lastN; j++, p += lastS) out[o++] = p;
    // Odometer over the outer axes: carry into the next axis when one wraps around.
    let ax = last - 1;
    for (; ax >= 0; ax--) {
      idx[ax]++;
      row += strides[ax];
      if (idx[ax] < shape[ax]) break;
      row -= strides[ax] * shape[ax];
      idx[ax] = 0;
    }
    if (ax < 0) return out;
  }
}

/**
 * Normalizes `axes` (one axis, a list, or undefined = all) for a tensor of `rank`: negative axes
 * count from the end; duplicates and out-of-range axes are rejected. Returns sorted axes.
 */
export function normalizeAxes(
  op: string,
  shape: Shape,
  axes: number | readonly number[] | undefined,
): number[] {
  const rank = shape.length;
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axes === "number" ? [axes] : axes;
  const seen = new Array<boolean>(rank).fill(false);
  for (const a of list) {
    const k = a < 0 ? a + rank : a;
    if (!Number.isInteger(a) || k < 0 || k >= rank) {
      throw new TensorError(
        op,
        `axis ${a} is out of range for shape ${fmtShape(shape)}; use -${rank}..${rank - 1}`,
      );
    }
    if (seen[k]) throw new TensorError(op, `axis ${a} is repeated in [${list.join(", ")}]`);
    seen[k] = true;
  }
  return seen.flatMap((s, i) => (s ? [i] : []));
}

/** `shape` with extent 1 on each of `axes` (the keepdims shape of a reduction). */
export function keepShape(shape: Shape, axes: readonly number[]): number[] {
  const out = shape.slice();
  for (const a of axes) out[a] = 1;
  return out;
}

/** Offsets mapping each element of `shape` to its group in the keepdims output of a reduction. */
export function reductionOffsets(shape: Shape, axes: readonly number[]): Int32Array {
  const strides = stridesOf(keepShape(shape, axes));
  for (const a of axes) strides[a] = 0;
  return stridedOffsets(shape, strides);
}

/**
 * Axes of `to` that a broadcast from `from` expanded: the leading axes `from` lacks and those
 * where `from` has extent 1 and `to` does not (NumPy rules, aligned on the right).
 */
export function broadcastAxes(from: Shape, to: Shape): number[] {
  const lead = to.length - from.length;
  const axes: number[] = [];
  for (let i = 0; i < to.length; i++) {
    if (i < lead || (from[i - lead] === 1 && to[i] !== 1)) axes.push(i);
  }
  return axes;
}

/** The inverse of permutation `perm`. */
export function inversePerm(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

/** Flat index of the first maximum of each reduction group (row-major order inside a group). */
export function firstArgmax(a: Tensor, axes: readonly number[]): Int32Array {
  const offs = reductionOffsets(a.shape, axes);
  const groups = a.size === 0 ? 0 : a.size / sizeOfAxes(a.shape, axes);
  const best = new Float64Array(groups);
  const arg = new Int32Array(groups).fill(-1);
  for (let i = 0; i < offs.length; i++) {
    const o = offs[i];
    const v = a.data[i];
    // Strict `>` over increasing flat index keeps the first maximum on ties.
    if (arg[o] === -1 || v > best[o]) {
      best[o] = v;
      arg[o] = i;
    }
  }
  return arg;
}

export function sizeOfAxes(shape: Shape, axes: readonly number[]): number {
  let n = 1;
  for (const ax of axes) n *= shape[ax];
  return n;
}

/** Validates integer `indices` into an axis of extent `n` and returns them as an Int32Array. */
export function checkIndices(
  op: string,
  shape: Shape,
  axis: number,
  indices: ArrayLike<number>,
  n: number,
): Int32Array {
  const out = new Int32Array(indices.length);
  for (let j = 0; j < indices.length; j++) {
    const v = indices[j];
    if (!Number.isInteger(v) || v < 0 || v >= n) {
      throw new TensorError(
        op,
        `index ${v} at position ${j} is not an integer in [0, ${n}) (axis ${axis} of ` +
          `${fmtShape(shape)})`,
      );
    }
    out[j] = v;
  }
  return out;
}

/** Views `shape` around `axis` as `[outer, extent, inner]`. */
export function around(shape: Shape, axis: number): [number, number] {
  let outer = 1, inner = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i];
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i];
  return [outer, inner];
}

/** NumPy broadcasting of two shapes (aligned on the right; extents equal or 1), or throws. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1, db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new TensorError(
        op,
        `shapes ${fmtShape(a)} and ${fmtShape(b)} do not broadcast (axis ${i} of the result: ` +
          `${da} vs ${db}); extents must be equal or 1, aligned on the right`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}
