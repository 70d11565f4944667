/**
 * Walking an n-d index space as a list of rows, for every op whose operands are laid out with
 * different strides (broadcasting, reductions, transposes).
 *
 * A plan collapses the index space to as few axes as possible (axes of extent 1 vanish; adjacent
 * axes merge wherever every operand's strides allow it), then describes it as `rows` rows of `n`
 * elements: for each operand the flat offset where each row starts and the stride inside a row.
 * Kernels then run two plain loops with index arithmetic: no per-element closures and no
 * per-element multi-index bookkeeping. `[64, 6, 28, 28] + [1, 6, 1, 1]`, for example, becomes
 * 384 rows of 784 elements with strides 1 and 0.
 *
 * @module
 */

import type { TensorData } from "../tensor.ts";

/** Row decomposition of an index space shared by several operands. */
export interface StridedPlan {
  /** Elements per row (the innermost collapsed axis); 0 when the space is empty. */
  readonly n: number;
  /** Number of rows (product of the outer collapsed axes); 0 when the space is empty. */
  readonly rows: number;
  /** Per operand: the flat offset at which each row starts. */
  readonly starts: readonly Int32Array[];
  /** Per operand: the stride between consecutive elements of a row. */
  readonly inner: readonly number[];
}

/** Row-major (C-order) strides of a contiguous array of `shape`. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/**
 * Plans a walk over `shape` in row-major order for operands addressed with `strides` (one
 * stride array per operand, each of `shape.length` entries; 0 means "broadcast along this
 * axis").
 */
export function planStrided(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
): StridedPlan {
  const ops = strides.length;
  if (shape.some((d) => d === 0)) {
    return {
      n: 0,
      rows: 0,
      starts: strides.map(() => new Int32Array(0)),
      inner: strides.map(() => 0),
    };
  }
  // Collapse from the innermost axis outwards: axis i merges into the group to its right when
  // every operand steps over the whole group exactly (stride[i] = stride[group] * extent[group]).
  const dims: number[] = [];
  const st: number[][] = strides.map(() => []);
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = shape[i];
    if (d === 1) continue;
    const last = dims.length - 1;
    let merge = last >= 0;
    for (let o = 0; merge && o < ops; o++) {
      if (strides[o][i] !== st[o][last] * dims[last]) merge = false;
    }
    if (merge) {
      dims[last] *= d;
    } else {
      dims.push(d);
      for (let o = 0; o < ops; o++) st[o].push(strides[o][i]);
    }
  }
  // dims/st are innermost-first now.
  const n = dims.length > 0 ? dims[0] : 1;
  const inner = st.map((s) => (s.length > 0 ? s[0] : 0));
  let rows = 1;
  for (let a = 1; a < dims.length; a++) rows *= dims[a];
  const starts = strides.map(() => new Int32Array(rows));
  // Odometer over the outer axes (innermost-first order: axis 1 changes fastest).
  const outer = dims.length - 1;
  const idx = new Array<number>(Math.max(outer, 0)).fill(0);
  const off = new Array<number>(ops).fill(0);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < ops; o++) starts[o][r] = off[o];
    for (let a = 1; a <= outer; a++) {
      if (++idx[a - 1] < dims[a]) {
        for (let o = 0; o < ops; o++) off[o] += st[o][a];
        break;
      }
      idx[a - 1] = 0;
      for (let o = 0; o < ops; o++) off[o] -= st[o][a] * (dims[a] - 1);
    }
  }
  return { n, rows, starts, inner };
}

/**
 * `out[i] = x[o(i)]` over a plan whose operand 0 is the contiguous output and operand 1 the
 * source: broadcasts (stride 0) or permutes (any strides) `x` into `out`.
 */
export function copyStrided(x: TensorData, plan: StridedPlan, out: TensorData): void {
  const { n, rows } = plan;
  const [os, xs] = plan.starts;
  const sx = plan.inner[1];
  for (let r = 0; r < rows; r++) {
    const io = os[r];
    let ix = xs[r];
    if (sx === 0) out.fill(x[ix], io, io + n);
    else if (sx === 1) out.set(x.subarray(ix, ix + n), io);
    else for (let i = 0; i < n; i++, ix += sx) out[io + i] = x[ix];
  }
}
