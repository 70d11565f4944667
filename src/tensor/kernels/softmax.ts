/**
 * Softmax loops along one axis of a contiguous array viewed as `[outer, n, inner]`: element `t`
 * of the slice `(o, j)` sits at `o * n * inner + t * inner + j`. For the usual last axis,
 * `inner = 1` and each slice is a contiguous row.
 *
 * Max-subtraction keeps `exp` in range: `softmax(x) = softmax(x - max x)`, so logits of 1000
 * and -1000 give 1 and 0 rather than NaN.
 *
 * @module
 */

import type { TensorData } from "../tensor.ts";

/**
 * `out = softmax(x)` (or `log softmax(x)` when `log`) along the middle axis.
 * A slice of all `-Infinity` gives NaN (0 / 0), as in NumPy and PyTorch.
 */
export function softmaxLoop(
  x: TensorData,
  outer: number,
  n: number,
  inner: number,
  log: boolean,
  out: TensorData,
): void {
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * n * inner + j, end = base + n * inner;
      let m = -Infinity;
      for (let i = base; i < end; i += inner) if (x[i] > m || x[i] !== x[i]) m = x[i];
      if (m === -Infinity) m = 0;
      let s = 0;
      if (log) {
        for (let i = base; i < end; i += inner) s += Math.exp(x[i] - m);
        const lse = m + Math.log(s);
        for (let i = base; i < end; i += inner) out[i] = x[i] - lse;
      } else {
        for (let i = base; i < end; i += inner) {
          const e = Math.exp(x[i] - m);
          out[i] = e;
          s += e;
        }
        const inv = 1 / s;
        for (let i = base; i < end; i += inner) out[i] *= inv;
      }
    }
  }
}

/**
 * Softmax VJP along the middle axis from the output `s`: `dx = s * (g - sum(g * s))`, or for
 * log-softmax from its output `y`: `dx = g - exp(y) * sum(g)`.
 */
export function softmaxGradLoop(
  g: TensorData,
  y: TensorData,
  outer: number,
  n: number,
  inner: number,
  log: boolean,
  out: TensorData,
): void {
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * n * inner + j, end = base + n * inner;
      let dot = 0;
      if (log) {
        for (let i = base; i < end; i += inner) dot += g[i];
        for (let i = base; i < end; i += inner) out[i] = g[i] - Math.exp(y[i]) * dot;
      } else {
        for (let i = base; i < end; i += inner) dot += g[i] * y[i];
        for (let i = base; i < end; i += inner) out[i] = y[i] * (g[i] - dot);
      }
    }
  }
}
