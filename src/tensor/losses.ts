/**
 * Losses and labels: `oneHot`, the squared error `mse = 1/2 sum (y - t)^2` and the fused,
 * stable softmax cross-entropy from logits and integer labels.
 *
 * Both losses return a scalar (shape `[]`). With `reduction: "mean"` (the default) they divide
 * by the BATCH size `N = shape[0]`, not by the number of elements, so an MSE over `[N, 10]`
 * outputs is the per-example sum of squares averaged over examples (the classic
 * `E = 1/N sum_n 1/2 ||y_n - t_n||^2`). `"sum"` skips the division.
 *
 * Backward rules: `d mse / dy = y - t`; for cross-entropy `L = logsumexp(z) - z_t`,
 * `dL/dz = softmax(z) - onehot(t)` (the famous `y - t`); both scaled by `g / N` for the mean.
 *
 * @module
 */

import { fmtShape, TensorError } from "./errors.ts";
import { allocData, type DTypeOptions, Tensor, type TensorData } from "./tensor.ts";
import { recordOp } from "./trace.ts";
import { checkGrad, checkSameDType } from "./validate.ts";

/** Options of the losses. */
export interface LossOptions {
  /** `"mean"` (default) divides the summed loss by the batch size `shape[0]`; `"sum"` does not. */
  reduction?: "mean" | "sum";
}

/** Class labels: integers in `0..numClasses-1`, as an array-like or a rank-1 tensor. */
export type Labels = ArrayLike<number> | Tensor;

/** Validates labels (integers in range, right count) and returns them as an Int32Array. */
export function checkLabels(
  op: string,
  labels: Labels,
  numClasses: number,
  n?: number,
): Int32Array {
  if (labels instanceof Tensor && labels.rank !== 1) {
    throw new TensorError(op, `labels must be a rank-1 tensor, got ${fmtShape(labels.shape)}`);
  }
  const src = labels instanceof Tensor ? labels.data : labels;
  if (n !== undefined && src.length !== n) {
    throw new TensorError(
      op,
      `got ${src.length} labels for a batch of ${n} rows; pass one label per row`,
    );
  }
  const out = new Int32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const l = src[i];
    if (!Number.isInteger(l) || l < 0 || l >= numClasses) {
      throw new TensorError(
        op,
        `label at index ${i} is ${l}; labels must be integers in 0..${numClasses - 1} ` +
          `(${numClasses} classes)`,
      );
    }
    out[i] = l;
  }
  return out;
}

/** The divisor of a reduction: `N = shape[0]` for the mean, 1 for the sum. */
function batchDivisor(op: string, shape: readonly number[], opts: LossOptions): number {
  const reduction = opts.reduction ?? "mean";
  if (reduction !== "mean" && reduction !== "sum") {
    throw new TensorError(op, `reduction "${reduction}" is not one of "mean", "sum"`);
  }
  if (reduction === "sum") return 1;
  if (shape.length === 0 || shape[0] === 0) {
    throw new TensorError(
      op,
      `reduction "mean" divides by the batch size shape[0], but the input has shape ` +
        `${fmtShape(shape)}; give it a non-empty batch axis or use reduction "sum"`,
    );
  }
  return shape[0];
}

/** Reads the scalar upstream gradient of a loss. */
function scalarGrad(op: string, g: Tensor, dtype: string): number {
  checkGrad(op, g, [], dtype);
  return g.data[0];
}

/**
 * One-hot rows: `out[i, labels[i]] = 1`, zeros elsewhere, shape `[N, numClasses]`. Labels must
 * be integers in `0..numClasses-1`; the error names the first bad index and its value.
 *
 * @example
 * ```ts
 * import { oneHot } from "./mod.ts";
 * console.log(oneHot([2, 0], 3).data); // Float32Array [0, 0, 1, 1, 0, 0]
 * ```
 */
export function oneHot(labels: Labels, numClasses: number, opts: DTypeOptions = {}): Tensor {
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new TensorError("oneHot", `numClasses ${numClasses} must be an integer >= 1`);
  }
  const t = checkLabels("oneHot", labels, numClasses);
  const out = allocData(opts.dtype ?? "float32", t.length * numClasses);
  for (let i = 0; i < t.length; i++) out[i * numClasses + t[i]] = 1;
  return new Tensor(out, [t.length, numClasses]);
}

/**
 * Squared error `1/2 sum (y - t)^2`, divided by the batch size `N = shape[0]` for the default
 * `reduction: "mean"`. `y` and `t` must have the same shape and dtype. Returns a scalar.
 *
 * Backward: `dY = g (y - t) / N`, `dT = -dY` (without `/ N` for `"sum"`).
 *
 * @example
 * ```ts
 * import { mse, tensor } from "./mod.ts";
 * const y = tensor([[1, 2], [3, 4]]), t = tensor([[1, 0], [3, 3]]);
 * console.log(mse(y, t).data); // Float32Array [1.25]  = (1/2 (4 + 1)) / 2
 * ```
 */
export function mse(y: Tensor, t: Tensor, opts: LossOptions = {}): Tensor {
  const n = checkMse("mse", y, t, opts);
  const yd = y.data, td = t.data;
  let s = 0;
  for (let i = 0; i < yd.length; i++) {
    const d = yd[i] - td[i];
    s += d * d;
  }
  const out = allocData(y.dtype, 1);
  out[0] = (0.5 * s) / n;
  return recordOp("mse", [y, t], new Tensor(out, []), () => (g) => mseBackward(g, y, t, opts));
}

function checkMse(op: string, y: Tensor, t: Tensor, opts: LossOptions): number {
  checkSameDType(op, y, t);
  if (y.rank !== t.rank || y.shape.some((d, i) => d !== t.shape[i])) {
    throw new TensorError(
      op,
      `prediction ${fmtShape(y.shape)} and target ${fmtShape(t.shape)} differ in shape; ` +
        `they must match exactly (one-hot encode class targets with oneHot)`,
    );
  }
  return batchDivisor(op, y.shape, opts);
}

/**
 * VJP of {@link mse}: `d(1/2 (y - t)^2) = (y - t)(dy - dt)`, so `dY = g (y - t) / N` and
 * `dT = -dY`.
 *
 * @example
 * ```ts
 * import { mseBackward, tensor } from "./mod.ts";
 * const [dy] = mseBackward(tensor(1), tensor([[1, 2]]), tensor([[0, 0]]));
 * console.log(dy.data); // Float32Array [1, 2]
 * ```
 */
export function mseBackward(
  g: Tensor,
  y: Tensor,
  t: Tensor,
  opts: LossOptions = {},
): [Tensor, Tensor] {
  const scale = scalarGrad("mseBackward", g, y.dtype) / checkMse("mseBackward", y, t, opts);
  const dy = allocData(y.dtype, y.size), dt = allocData(y.dtype, y.size);
  const yd = y.data, td = t.data;
  for (let i = 0; i < yd.length; i++) {
    const v = scale * (yd[i] - td[i]);
    dy[i] = v;
    dt[i] = -v;
  }
  return [new Tensor(dy, y.shape), new Tensor(dt, t.shape)];
}

/**
 * The max-subtraction shift of one row of logits: its maximum (NaN if it holds a NaN), or 0
 * when the maximum is -Infinity (nothing to subtract safely).
 */
function rowShift(z: TensorData, row: number, c: number): number {
  let m = -Infinity;
  for (let j = row; j < row + c; j++) if (z[j] > m || z[j] !== z[j]) m = z[j];
  return m === -Infinity ? 0 : m;
}

function checkLogits(
  op: string,
  z: Tensor,
  labels: Labels,
  opts: LossOptions,
): [number, Int32Array] {
  if (z.rank !== 2 || z.shape[1] === 0) {
    throw new TensorError(
      op,
      `logits must be [N, C] with C >= 1, got ${fmtShape(z.shape)}; flatten to 2-D first`,
    );
  }
  const n = batchDivisor(op, z.shape, opts);
  return [n, checkLabels(op, labels, z.shape[1], z.shape[0])];
}

/**
 * Softmax cross-entropy from logits `z: [N, C]` and integer labels:
 * `L = sum_n (logsumexp(z_n) - z_n[t_n])`, divided by `N` for the default mean. Fused and
 * stable (max-subtracted log-sum-exp): equals `-logSoftmax(z)` picked at the labels, with no
 * `log(0)` even for logits like 1000 and -1000. Labels are not differentiable.
 *
 * Backward: `dZ = g (softmax(z) - onehot(t)) / N`.
 *
 * @example
 * ```ts
 * import { crossEntropy, tensor } from "./mod.ts";
 * const z = tensor([[0, 0], [1000, -1000]], { dtype: "float64" });
 * console.log(crossEntropy(z, [1, 0]).data); // Float64Array [0.34657359027997264] = ln(2) / 2
 * ```
 */
export function crossEntropy(z: Tensor, labels: Labels, opts: LossOptions = {}): Tensor {
  const [n, t] = checkLogits("crossEntropy", z, labels, opts);
  const [N, C] = z.shape, zd = z.data;
  let total = 0;
  for (let i = 0; i < N; i++) {
    const row = i * C;
    const m = rowShift(zd, row, C);
    let s = 0;
    for (let j = 0; j < C; j++) s += Math.exp(zd[row + j] - m);
    total += m + Math.log(s) - zd[row + t[i]];
  }
  const out = allocData(z.dtype, 1);
  out[0] = total / n;
  const inputs = labels instanceof Tensor ? [z, labels] : [z];
  return recordOp("crossEntropy", inputs, new Tensor(out, []), () => (g) => {
    const dz = crossEntropyBackward(g, z, labels, opts);
    return labels instanceof Tensor ? [dz, null] : [dz];
  });
}

/**
 * VJP of {@link crossEntropy}: `dL/dz_j = softmax(z)_j - [j = t]`, scaled by `g / N` for the
 * mean. Labels get no gradient.
 *
 * @example
 * ```ts
 * import { crossEntropyBackward, tensor } from "./mod.ts";
 * const dz = crossEntropyBackward(tensor(1), tensor([[0, 0]]), [1]);
 * console.log(dz.data); // Float32Array [0.5, -0.5]
 * ```
 */
export function crossEntropyBackward(
  g: Tensor,
  z: Tensor,
  labels: Labels,
  opts: LossOptions = {},
): Tensor {
  const [n, t] = checkLogits("crossEntropyBackward", z, labels, opts);
  const scale = scalarGrad("crossEntropyBackward", g, z.dtype) / n;
  const [N, C] = z.shape, zd = z.data;
  const out = allocData(z.dtype, z.size);
  for (let i = 0; i < N; i++) {
    const row = i * C;
    const m = rowShift(zd, row, C);
    let s = 0;
    for (let j = 0; j < C; j++) {
      const e = Math.exp(zd[row + j] - m);
      out[row + j] = e;
      s += e;
    }
    // softmax_j - [j = t], times g / N
    const k = scale / s;
    for (let j = 0; j < C; j++) out[row + j] *= k;
    out[row + t[i]] -= scale;
  }
  return new Tensor(out, z.shape);
}
