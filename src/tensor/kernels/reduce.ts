/**
 * Reduction loops over a {@link StridedPlan} with two operands: 0 = the input (contiguous, so
 * the walk visits it in flat order), 1 = the output (stride 0 along reduced axes). The output is
 * accumulated in place, so the caller initializes it (zeros for sums, `-Infinity` for maxima).
 *
 * @module
 */

import type { TensorData } from "../tensor.ts";
import type { StridedPlan } from "./strided.ts";

/** `out[o(i)] += x[i]` for every input element. */
export function sumInto(x: TensorData, plan: StridedPlan, out: TensorData): void {
  const { n, rows } = plan;
  const [xs, os] = plan.starts;
  const [sx, so] = plan.inner;
  for (let r = 0; r < rows; r++) {
    let ix = xs[r], io = os[r];
    if (so === 0) {
      // The whole row lands in one output: accumulate in a register.
      let s = 0;
      for (let i = 0; i < n; i++, ix += sx) s += x[ix];
      out[io] += s;
    } else {
      for (let i = 0; i < n; i++, ix += sx, io += so) out[io] += x[ix];
    }
  }
}

/**
 * Running maximum with its position: `out[o] = max x[i]`, `pos[o]` = flat index of the FIRST
 * maximum in flat order (strict `>` keeps the earliest). A NaN wins over numbers and the first
 * NaN sticks, so NaN propagates as in NumPy. `pos` must start at -1.
 */
export function maxInto(x: TensorData, plan: StridedPlan, out: TensorData, pos: Int32Array): void {
  const { n, rows } = plan;
  const [xs, os] = plan.starts;
  const [sx, so] = plan.inner;
  for (let r = 0; r < rows; r++) {
    let ix = xs[r], io = os[r];
    for (let i = 0; i < n; i++, ix += sx, io += so) {
      const v = x[ix], cur = out[io];
      if (pos[io] < 0 || v > cur || (v !== v && cur === cur)) {
        out[io] = v;
        pos[io] = ix;
      }
    }
  }
}

/** `out[o(i)] += exp(x[i] - shift[o(i)])`: the inner sum of a max-shifted log-sum-exp. */
export function sumExpInto(
  x: TensorData,
  plan: StridedPlan,
  shift: TensorData,
  out: TensorData,
): void {
  const { n, rows } = plan;
  const [xs, os] = plan.starts;
  const [sx, so] = plan.inner;
  for (let r = 0; r < rows; r++) {
    let ix = xs[r], io = os[r];
    if (so === 0) {
      const m = shift[io];
      let s = 0;
      for (let i = 0; i < n; i++, ix += sx) s += Math.exp(x[ix] - m);
      out[io] += s;
    } else {
      for (let i = 0; i < n; i++, ix += sx, io += so) out[io] += Math.exp(x[ix] - shift[io]);
    }
  }
}
