/**
 * The output layer of LeCun et al. 1998: Euclidean radial basis function units and the paper's
 * loss (eq. 9), each with its hand-derived backward rule beside the forward.
 *
 * RBF units: `y_nk = sum_j (x_nj - w_kj)^2`, the squared distance from the input `x_n` to the
 * unit's center `w_k` (the smaller, the better the match). Backward, with `g = dL/dy`:
 * `dx_n = 2 sum_k g_nk (x_n - w_k)`, `dw_k = -2 sum_n g_nk (x_n - w_k)`.
 *
 * Loss (eq. 9): `E = mean_n ( y_n,l_n + log(e^-j + sum_i e^-y_n,i) )`: pull the correct unit's
 * penalty down, push the others' up, with a constant `j > 0` bounding the push (the term
 * `e^-j` acts as a "rubbish" class whose penalty is always `j`). It is the cross-entropy of the
 * logits `[-y_n, -j]` at the label, so it is computed the same stable way (shifted by the
 * smallest penalty). Backward: `dy_ni = [i = l_n] - e^-y_ni / (e^-j + sum_k e^-y_nk)`, times
 * `g / N` for the mean.
 *
 * @module
 */

import { fmtShape, TensorError } from "./errors.ts";
import { checkLabels, type Labels, type LossOptions } from "./losses.ts";
import { allocData, Tensor } from "./tensor.ts";
import { recordOp } from "./trace.ts";
import { checkGrad, checkSameDType } from "./validate.ts";

function checkRbf(op: string, x: Tensor, w: Tensor): [number, number, number] {
  if (x.rank !== 2 || w.rank !== 2 || x.shape[1] !== w.shape[1]) {
    throw new TensorError(
      op,
      `x ${fmtShape(x.shape)} must be [N, D] and centers ${fmtShape(w.shape)} [K, D] with the ` +
        `same D; flatten the features to [N, D] and give one center per row`,
    );
  }
  checkSameDType(op, x, w);
  return [x.shape[0], w.shape[0], x.shape[1]];
}

/**
 * Euclidean RBF units: `y[n,k] = sum_j (x[n,j] - w[k,j])^2` for `x` `[N, D]` and centers `w`
 * `[K, D]`; gives `[N, K]` penalties (the predicted class is the argmin). Computed from the
 * differences directly (not as `|x|^2 + |w|^2 - 2 x.w`, which cancels). Backward:
 * {@link rbfBackward}.
 *
 * @example
 * ```ts
 * import { rbf, tensor } from "./mod.ts";
 * console.log(rbf(tensor([[1, 1]]), tensor([[1, 1], [-1, 1]])).data); // Float32Array [0, 4]
 * ```
 */
export function rbf(x: Tensor, centers: Tensor): Tensor {
  const [N, K, D] = checkRbf("rbf", x, centers);
  const y = allocData(x.dtype, N * K);
  const xd = x.data, wd = centers.data;
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      let s = 0;
      for (let j = 0; j < D; j++) {
        const d = xd[n * D + j] - wd[k * D + j];
        s += d * d;
      }
      y[n * K + k] = s;
    }
  }
  return recordOp("rbf", [x, centers], new Tensor(y, [N, K]), () => (g) => {
    const { dx, dcenters } = rbfBackward(g, x, centers);
    return [dx, dcenters];
  });
}

/**
 * The gradients of {@link rbf}.
 *
 * @example
 * ```ts
 * import { ones, type RbfGrads, rbfBackward } from "./mod.ts";
 * const g: RbfGrads = rbfBackward(ones([2, 3]), ones([2, 4]), ones([3, 4]));
 * console.log(g.dx.shape, g.dcenters.shape); // [2, 4] [3, 4]
 * ```
 */
export interface RbfGrads {
  /** `dL/dx`, shape `[N, D]`. */
  dx: Tensor;
  /** `dL/dcenters`, shape `[K, D]`. */
  dcenters: Tensor;
}

/**
 * VJP of {@link rbf}, given `g = dL/dy` `[N, K]`: `dy_nk = 2 (x_n - w_k) . (dx_n - dw_k)`, so
 * `dx_n = 2 sum_k g_nk (x_n - w_k)` and `dw_k = -2 sum_n g_nk (x_n - w_k)`.
 *
 * @example
 * ```ts
 * import { rbfBackward, tensor } from "./mod.ts";
 * const { dx, dcenters } = rbfBackward(tensor([[1]]), tensor([[3, 1]]), tensor([[1, 1]]));
 * console.log(dx.data, dcenters.data); // Float32Array [4, 0] Float32Array [-4, 0]
 * ```
 */
export function rbfBackward(g: Tensor, x: Tensor, centers: Tensor): RbfGrads {
  const [N, K, D] = checkRbf("rbfBackward", x, centers);
  checkGrad("rbfBackward", g, [N, K], x.dtype);
  const dx = allocData(x.dtype, N * D), dw = allocData(x.dtype, K * D);
  const xd = x.data, wd = centers.data, gd = g.data;
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const c = 2 * gd[n * K + k];
      for (let j = 0; j < D; j++) {
        const t = c * (xd[n * D + j] - wd[k * D + j]);
        dx[n * D + j] += t;
        dw[k * D + j] -= t;
      }
    }
  }
  return { dx: new Tensor(dx, x.shape), dcenters: new Tensor(dw, centers.shape) };
}

/**
 * Options of {@link rbfLoss}: the constant `j` of eq. 9 and the reduction.
 *
 * @example
 * ```ts
 * import type { RbfLossOptions } from "./mod.ts";
 * const opts: RbfLossOptions = { j: 1, reduction: "sum" };
 * ```
 */
export interface RbfLossOptions extends LossOptions {
  /** The positive constant `j`: the penalty of the implicit "rubbish" class. */
  j: number;
}

function checkLoss(
  op: string,
  y: Tensor,
  labels: Labels,
  opts: RbfLossOptions,
): [number, Int32Array] {
  if (y.rank !== 2 || y.shape[0] < 1 || y.shape[1] < 1) {
    throw new TensorError(op, `penalties must be [N, K] with N, K >= 1, got ${fmtShape(y.shape)}`);
  }
  if (opts === undefined || !(Number.isFinite(opts.j) && opts.j > 0)) {
    throw new TensorError(
      op,
      `option j = ${opts?.j} must be a positive number (the "rubbish class" penalty of ` +
        `LeCun 1998 eq. 9); pass e.g. { j: 1 }`,
    );
  }
  const reduction = opts.reduction ?? "mean";
  if (reduction !== "mean" && reduction !== "sum") {
    throw new TensorError(op, `reduction "${reduction}" is not one of "mean", "sum"`);
  }
  const t = checkLabels(op, labels, y.shape[1], y.shape[0]);
  return [reduction === "mean" ? y.shape[0] : 1, t];
}

/**
 * Per example `n` the shift `m_n = min(j, min_k y_nk)` (NaN if a penalty is NaN) and
 * `s_n = e^(m_n - j) + sum_k e^(m_n - y_nk)`, so `log(e^-j + sum_k e^-y_nk) = -m_n + log s_n`
 * without overflow; shared by the loss and its VJP.
 */
function shiftedSums(
  yd: ArrayLike<number>,
  N: number,
  K: number,
  j: number,
): { m: Float64Array; s: Float64Array } {
  const m = new Float64Array(N), s = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    const row = n * K;
    let mn = j;
    for (let k = 0; k < K; k++) {
      if (yd[row + k] < mn || yd[row + k] !== yd[row + k]) mn = yd[row + k];
    }
    let sn = Math.exp(mn - j);
    for (let k = 0; k < K; k++) sn += Math.exp(mn - yd[row + k]);
    m[n] = mn;
    s[n] = sn;
  }
  return { m, s };
}

/**
 * The loss of LeCun et al. 1998 (eq. 9) on RBF penalties `y` `[N, K]`:
 * `E = 1/N sum_n ( y[n, l_n] + log(e^-j + sum_i e^-y[n,i]) )` (no `1/N` for `"sum"`).
 * Stable: shifted by `m = min(j, min_i y[n,i])`, so penalties of thousands give no `log(0)`.
 * Labels are not differentiable. Backward: {@link rbfLossBackward}.
 *
 * @example
 * ```ts
 * import { rbfLoss, tensor } from "./mod.ts";
 * const y = tensor([[0, 1000]], { dtype: "float64" });
 * console.log(rbfLoss(y, [0], { j: 1000 }).data); // Float64Array [0]  (log(e^0 + ~0) = 0)
 * ```
 */
export function rbfLoss(y: Tensor, labels: Labels, opts: RbfLossOptions): Tensor {
  const [div, t] = checkLoss("rbfLoss", y, labels, opts);
  const [N, K] = y.shape, yd = y.data;
  const { m, s } = shiftedSums(yd, N, K, opts.j);
  let total = 0;
  // log(e^-j + sum e^-y) = -m + log(e^(m-j) + sum e^(m-y))
  for (let n = 0; n < N; n++) total += yd[n * K + t[n]] - m[n] + Math.log(s[n]);
  const out = allocData(y.dtype, 1);
  out[0] = total / div;
  const inputs = labels instanceof Tensor ? [y, labels] : [y];
  return recordOp("rbfLoss", inputs, new Tensor(out, []), () => (g) => {
    const dy = rbfLossBackward(g, y, labels, opts);
    return labels instanceof Tensor ? [dy, null] : [dy];
  });
}

/**
 * VJP of {@link rbfLoss}: `dE/dy_ni = [i = l_n] - e^-y_ni / (e^-j + sum_k e^-y_nk)`, times
 * `g / N` for the mean (the same shift as the forward keeps the ratio finite).
 *
 * @example
 * ```ts
 * import { rbfLossBackward, tensor } from "./mod.ts";
 * const dy = rbfLossBackward(tensor(1, { dtype: "float64" }), tensor([[0, 0]], { dtype: "float64" }), [1], { j: 1000 });
 * console.log(dy.data); // Float64Array [-0.5, 0.5]
 * ```
 */
export function rbfLossBackward(
  g: Tensor,
  y: Tensor,
  labels: Labels,
  opts: RbfLossOptions,
): Tensor {
  const [div, t] = checkLoss("rbfLossBackward", y, labels, opts);
  checkGrad("rbfLossBackward", g, [], y.dtype);
  const scale = g.data[0] / div;
  const [N, K] = y.shape, yd = y.data;
  const { m, s } = shiftedSums(yd, N, K, opts.j);
  const dy = allocData(y.dtype, y.size);
  for (let n = 0; n < N; n++) {
    const row = n * K;
    for (let k = 0; k < K; k++) dy[row + k] = -scale * Math.exp(m[n] - yd[row + k]) / s[n];
    dy[row + t[n]] += scale;
  }
  return new Tensor(dy, y.shape);
}
