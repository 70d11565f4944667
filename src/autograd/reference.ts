/**
 * Reference definitions of the network ops, written ONLY as compositions of the autograd's
 * elementary primitives (`primitives.ts`). They never call the fast ops of `src/tensor` or
 * their hand-derived backward rules, so their gradients come from the chain rule over the
 * primitive table alone: an independent second answer to check the hand rules against.
 *
 * They follow the fast ops' conventions exactly: NCHW activations, OIHW weights,
 * cross-correlation; output extent `floor((n + pad - d(k-1) - 1) / s) + 1`; "same" padding as
 * TensorFlow (total `max((ceil(n/s) - 1) s + (k-1) d + 1 - n, 0)`, the odd one on the
 * bottom/right); "full" padding `(k-1) d` per side; max-pool pads with -Infinity and routes
 * the gradient to the first maximum of each window in row-major order; avg-pool divides by
 * `kh * kw` (padding counts); relu'(0) = 0; MSE is `1/2 sum (y - t)^2` over the batch size N.
 *
 * Written for clarity, not speed (the conv builds one strided slice per kernel offset).
 *
 * @module
 */

import { fmtShape, TensorError } from "../tensor/errors.ts";
import { full, type Shape, type Tensor } from "../tensor/tensor.ts";
import * as P from "./primitives.ts";

/** Convolution padding: a mode, one amount for every side, or `[top, bottom, left, right]`. */
export type Conv2dPadding =
  | "valid"
  | "same"
  | "full"
  | number
  | readonly [top: number, bottom: number, left: number, right: number];

/** Options of {@link conv2d}. */
export interface Conv2dOptions {
  /** `[sh, sw]` or one stride for both axes; default 1. */
  stride?: number | readonly [number, number];
  /** Default `"valid"` (no padding). */
  padding?: Conv2dPadding;
  /** Spacing between kernel taps, `[dh, dw]` or one for both; default 1. */
  dilation?: number | readonly [number, number];
}

/** Options of {@link maxPool2d} and {@link avgPool2d}. */
export interface Pool2dOptions {
  /** `[sh, sw]` or one for both; default the kernel size (non-overlapping windows). */
  stride?: number | readonly [number, number];
  /** One amount for every side or `[top, bottom, left, right]`, each < the kernel; default 0. */
  padding?: number | readonly [top: number, bottom: number, left: number, right: number];
}

/** Options of the losses (as the fast ops' `LossOptions`). */
export interface LossOptions {
  /** `"mean"` (default) divides the summed loss by the batch size `N = shape[0]`; `"sum"` not. */
  reduction?: "mean" | "sum";
}

function pair(op: string, name: string, v: number | readonly [number, number]): [number, number] {
  const p: [number, number] = typeof v === "number" ? [v, v] : [v[0], v[1]];
  if (!p.every((k) => Number.isInteger(k) && k >= 1) || (typeof v !== "number" && v.length !== 2)) {
    throw new TensorError(
      op,
      `${name} ${JSON.stringify(v)} must be an integer >= 1 or two of them`,
    );
  }
  return p;
}

function scale(x: Tensor, c: number): Tensor {
  return P.mul(x, full(x.shape, c, { dtype: x.dtype }));
}

/** `b` broadcast to `shape` after being reshaped to `view` (e.g. a bias `[O]` as `[1, O, 1, 1]`). */
function expand(b: Tensor, view: Shape, shape: Shape): Tensor {
  return P.broadcastTo(P.reshape(b, view), shape);
}

function checkRank(op: string, name: string, t: Tensor, rank: number, layout: string): void {
  if (t.rank !== rank) {
    throw new TensorError(op, `${name} must be ${layout}, got shape ${fmtShape(t.shape)}`);
  }
}

function sameDtype(op: string, ...ts: Tensor[]): void {
  if (ts.some((t) => t.dtype !== ts[0].dtype)) {
    throw new TensorError(op, `mixed dtypes (${ts.map((t) => t.dtype).join(", ")}); use one`);
  }
}

/** Output extent of a window op: `floor((n + padTotal - d(k-1) - 1) / s) + 1`. */
function outputSize(n: number, k: number, s: number, d: number, padTotal: number): number {
  return Math.floor((n + padTotal - d * (k - 1) - 1) / s) + 1;
}

/**
 * `[lo, hi]` padding of one spatial axis: "valid" none; "full" `(k-1)d` each side; "same" the
 * TensorFlow total `max((ceil(n/s) - 1) s + (k-1) d + 1 - n, 0)`, the extra one on the hi side.
 */
function samePadding(n: number, k: number, s: number, d: number): [number, number] {
  const total = Math.max((Math.ceil(n / s) - 1) * s + (k - 1) * d + 1 - n, 0);
  const lo = Math.floor(total / 2);
  return [lo, total - lo];
}

function resolvePadding(
  op: string,
  padding: Conv2dPadding,
  [h, w]: [number, number],
  [kh, kw]: [number, number],
  [sh, sw]: [number, number],
  [dh, dw]: [number, number],
): [number, number, number, number] {
  if (padding === "valid") return [0, 0, 0, 0];
  if (padding === "full") return [(kh - 1) * dh, (kh - 1) * dh, (kw - 1) * dw, (kw - 1) * dw];
  if (padding === "same") return [...samePadding(h, kh, sh, dh), ...samePadding(w, kw, sw, dw)];
  const p = typeof padding === "number" ? [padding, padding, padding, padding] : padding;
  if (p.length !== 4 || !p.every((v) => Number.isInteger(v) && v >= 0)) {
    throw new TensorError(
      op,
      `padding ${JSON.stringify(padding)} must be "valid", "same", "full", an integer >= 0 ` +
        `or [top, bottom, left, right]`,
    );
  }
  return [p[0], p[1], p[2], p[3]];
}

/**
 * 2-D cross-correlation of `x` `[N, C, H, W]` with weights `w` `[O, C, KH, KW]` plus bias `b`
 * `[O]`: `y[n,o,p,q] = b[o] + sum_{c,i,j} xpad[n, c, p sh + i dh, q sw + j dw] w[o,c,i,j]`,
 * computed as one strided slice of the padded input per kernel offset `(i, j)`, multiplied by
 * `w[:, :, i, j]` and summed.
 *
 * @example
 * ```ts
 * import { ref, tensor } from "./mod.ts";
 * const x = tensor([[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]], { dtype: "float64" });
 * const w = tensor([[[[1, 0], [0, -1]]]], { dtype: "float64" });
 * console.log(ref.conv2d(x, w).data); // [-4, -4, -4, -4]
 * ```
 */
export function conv2d(
  x: Tensor,
  w: Tensor,
  b?: Tensor | null,
  opts: Conv2dOptions = {},
): Tensor {
  const op = "ref.conv2d";
  checkRank(op, "input", x, 4, "NCHW [N, C, H, W]");
  checkRank(op, "weights", w, 4, "OIHW [O, C, KH, KW]");
  const [n, c, h, wd] = x.shape;
  const [o, ci, kh, kw] = w.shape;
  if (ci !== c) {
    throw new TensorError(
      op,
      `input ${fmtShape(x.shape)} has ${c} channels but weights ${fmtShape(w.shape)} expect ${ci}`,
    );
  }
  if (b) {
    if (b.rank !== 1 || b.shape[0] !== o) {
      throw new TensorError(op, `bias ${fmtShape(b.shape)} must be [${o}], one per output map`);
    }
    sameDtype(op, x, w, b);
  } else sameDtype(op, x, w);
  const stride = pair(op, "stride", opts.stride ?? 1);
  const dil = pair(op, "dilation", opts.dilation ?? 1);
  const [pt, pb, pl, pr] = resolvePadding(
    op,
    opts.padding ?? "valid",
    [h, wd],
    [kh, kw],
    stride,
    dil,
  );
  const oh = outputSize(h, kh, stride[0], dil[0], pt + pb);
  const ow = outputSize(wd, kw, stride[1], dil[1], pl + pr);
  if (oh < 1 || ow < 1 || kh < 1 || kw < 1) {
    throw new TensorError(
      op,
      `a ${kh}x${kw} kernel (dilation ${dil}) does not fit the ${h}x${wd} input padded by ` +
        `[${pt}, ${pb}, ${pl}, ${pr}]; pad more or use a smaller kernel`,
    );
  }
  // Channels last, so that each slice is a [N*OH*OW, C] matrix against w[:, :, i, j]^T.
  const xp = P.transpose(P.pad(x, [[0, 0], [0, 0], [pt, pb], [pl, pr]]), [0, 2, 3, 1]);
  let acc: Tensor | undefined;
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const r0 = i * dil[0], c0 = j * dil[1];
      const patch = P.slice(
        xp,
        [0, r0, c0, 0],
        [n, r0 + (oh - 1) * stride[0] + 1, c0 + (ow - 1) * stride[1] + 1, c],
        [1, stride[0], stride[1], 1],
      );
      const wij = P.reshape(P.slice(w, [0, 0, i, j], [o, c, i + 1, j + 1]), [o, c]);
      const term = P.matmul(P.reshape(patch, [n * oh * ow, c]), P.transpose(wij));
      acc = acc ? P.add(acc, term) : term;
    }
  }
  const y = P.transpose(P.reshape(acc!, [n, oh, ow, o]), [0, 3, 1, 2]);
  return b ? P.add(y, expand(b, [1, o, 1, 1], y.shape)) : y;
}

/**
 * The pooling windows of `x` `[N, C, H, W]` padded with `fill`, as `[N, C, OH, OW, KH*KW]`
 * (window elements in row-major order), gathered from the flattened padded maps.
 */
function windows(
  op: string,
  x: Tensor,
  kernel: number | readonly [number, number],
  opts: Pool2dOptions,
  fill: number,
): Tensor {
  checkRank(op, "input", x, 4, "NCHW [N, C, H, W]");
  const [n, c, h, w] = x.shape;
  const [kh, kw] = pair(op, "kernel", kernel);
  const [sh, sw] = pair(op, "stride", opts.stride ?? kernel);
  const [pt, pb, pl, pr] = resolvePadding(op, opts.padding ?? 0, [h, w], [kh, kw], [1, 1], [1, 1]);
  const oh = outputSize(h, kh, sh, 1, pt + pb), ow = outputSize(w, kw, sw, 1, pl + pr);
  if (pt >= kh || pb >= kh || pl >= kw || pr >= kw || oh < 1 || ow < 1) {
    throw new TensorError(
      op,
      `a ${kh}x${kw} window with padding [${pt}, ${pb}, ${pl}, ${pr}] does not fit ` +
        `${fmtShape(x.shape)}; padding must be smaller than the window and the window no ` +
        `larger than the padded map`,
    );
  }
  const hp = h + pt + pb, wp = w + pl + pr;
  const xp = P.reshape(P.pad(x, [[0, 0], [0, 0], [pt, pb], [pl, pr]], fill), [n, c, hp * wp]);
  const k = kh * kw;
  const idx = new Int32Array(oh * ow * k);
  for (let p = 0; p < oh; p++) {
    for (let q = 0; q < ow; q++) {
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) {
          idx[(p * ow + q) * k + i * kw + j] = (p * sh + i) * wp + q * sw + j;
        }
      }
    }
  }
  return P.reshape(P.gather(xp, 2, idx), [n, c, oh, ow, k]);
}

/**
 * Max-pooling over `kernel` windows (stride defaults to the kernel; padding with -Infinity):
 * the max over each window's axis, so the gradient goes to the window's first maximum in
 * row-major order, as the fast op's recorded arg-max.
 *
 * @example
 * ```ts
 * import { ref, tensor } from "./mod.ts";
 * const x = tensor([[[[1, 5], [3, 2]]]], { dtype: "float64" });
 * console.log(ref.maxPool2d(x, 2).data); // [5]
 * ```
 */
export function maxPool2d(
  x: Tensor,
  kernel: number | readonly [number, number],
  opts: Pool2dOptions = {},
): Tensor {
  return P.max(windows("ref.maxPool2d", x, kernel, opts, -Infinity), 4);
}

/**
 * Average-pooling over `kernel` windows: each window's sum divided by `kh * kw` (zero padding
 * counts in the divisor).
 *
 * @example
 * ```ts
 * import { ref, tensor } from "./mod.ts";
 * const x = tensor([[[[1, 5], [3, 2]]]], { dtype: "float64" });
 * console.log(ref.avgPool2d(x, 2).data); // [2.75]
 * ```
 */
export function avgPool2d(
  x: Tensor,
  kernel: number | readonly [number, number],
  opts: Pool2dOptions = {},
): Tensor {
  const [kh, kw] = pair("ref.avgPool2d", "kernel", kernel);
  return scale(P.sum(windows("ref.avgPool2d", x, kernel, opts, 0), 4), 1 / (kh * kw));
}

/**
 * Nearest upsampling of the last two axes by `factor`: the Kronecker product of each map with
 * a `fh x fw` block of ones (a reshape, a broadcast and a reshape).
 *
 * @example
 * ```ts
 * import { ref, tensor } from "./mod.ts";
 * console.log(ref.upsample(tensor([[1, 2]]), 2).data); // [1, 1, 2, 2, 1, 1, 2, 2]
 * ```
 */
export function upsample(x: Tensor, factor: number | readonly [number, number]): Tensor {
  const op = "ref.upsample";
  if (x.rank < 2) throw new TensorError(op, `input ${fmtShape(x.shape)} needs at least 2 axes`);
  const [fh, fw] = pair(op, "factor", factor);
  const lead = x.shape.slice(0, -2), [h, w] = x.shape.slice(-2);
  const blocks = P.broadcastTo(P.reshape(x, [...lead, h, 1, w, 1]), [...lead, h, fh, w, fw]);
  return P.reshape(blocks, [...lead, h * fh, w * fw]);
}

/**
 * Logistic sigmoid `1 / (1 + e^-x)`, written `(1 + tanh(x/2)) / 2` (the same function, and it
 * never overflows).
 *
 * @example
 * ```ts
 * import { ref, tensor } from "./mod.ts";
 * console.log(ref.sigmoid(tensor([0])).data); // [0.5]
 * ```
 */
export function sigmoid(x: Tensor): Tensor {
  return scale(P.add(full(x.shape, 1, { dtype: x.dtype }), P.tanh(scale(x, 0.5))), 0.5);
}

/**
 * `max(0, x)` via `maximum(0, x)`, whose tie rule gives the gradient to the 0: relu'(0) = 0.
 *
 * @example
 * ```ts
 * import { ref, tensor } from "./mod.ts";
 * console.log(ref.relu(tensor([-1, 0, 2])).data); // [0, 0, 2]
 * ```
 */
export function relu(x: Tensor): Tensor {
  return P.maximum(full(x.shape, 0, { dtype: x.dtype }), x);
}

/**
 * LeCun's squashing function `1.7159 tanh(2x/3)`.
 *
 * @example
 * ```ts
 * import { ref, tensor } from "./mod.ts";
 * console.log(ref.scaledTanh(tensor([1.5])).data); // ~[1.3]
 * ```
 */
export function scaledTanh(x: Tensor): Tensor {
  return scale(P.tanh(scale(x, 2 / 3)), 1.7159);
}

/** `x - max(x, axis)` with the max held constant (softmax does not depend on the shift). */
function shifted(op: string, x: Tensor, axis: number): [Tensor, number] {
  if (!Number.isInteger(axis) || axis < -x.rank || axis >= x.rank) {
    throw new TensorError(op, `axis ${axis} is out of range for shape ${fmtShape(x.shape)}`);
  }
  const ax = axis < 0 ? axis + x.rank : axis;
  return [P.sub(x, P.broadcastTo(P.stopGradient(P.max(x, ax, true)), x.shape)), ax];
}

/**
 * `exp(x) / sum(exp(x))` along `axis` (default last), max-subtracted for stability.
 *
 * @example
 * ```ts
 * import { ref, tensor } from "./mod.ts";
 * console.log(ref.softmax(tensor([[0, 0]])).data); // [0.5, 0.5]
 * ```
 */
export function softmax(x: Tensor, axis = -1): Tensor {
  const [z, ax] = shifted("ref.softmax", x, axis);
  const e = P.exp(z);
  return P.div(e, P.broadcastTo(P.sum(e, ax, true), x.shape));
}

/**
 * `x - log(sum(exp(x)))` along `axis` (default last), max-subtracted for stability.
 *
 * @example
 * ```ts
 * import { ref, tensor } from "./mod.ts";
 * console.log(ref.logSoftmax(tensor([[0, 0]])).data); // [-0.6931, -0.6931]
 * ```
 */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const [z, ax] = shifted("ref.logSoftmax", x, axis);
  return P.sub(z, P.broadcastTo(P.log(P.sum(P.exp(z), ax, true)), x.shape));
}

/**
 * Mean squared error as in the derivations: `1/2 sum (y - t)^2`, divided by the batch size
 * `N = shape[0]` for `"mean"` (default).
 *
 * @example
 * ```ts
 * import { ref, tensor } from "./mod.ts";
 * console.log(ref.mse(tensor([[1, 2], [3, 4]]), tensor([[1, 0], [3, 2]])).data); // [2]
 * ```
 */
export function mse(y: Tensor, t: Tensor, opts: LossOptions = {}): Tensor {
  if (y.rank < 1 || !y.shape.every((d, i) => d === t.shape[i]) || y.rank !== t.rank) {
    throw new TensorError(
      "ref.mse",
      `prediction ${fmtShape(y.shape)} and target ${fmtShape(t.shape)} must have one shape ` +
        `with a batch axis first`,
    );
  }
  const d = P.sub(y, t);
  const s = scale(P.sum(P.mul(d, d)), 0.5);
  return opts.reduction === "sum" ? s : scale(s, 1 / y.shape[0]);
}

/**
 * Cross-entropy of `logits` `[N, C]` against integer class `labels` (N of them):
 * `-sum_n logSoftmax(z)[n, labels[n]]`, divided by N for `"mean"` (default). The picked
 * log-probabilities are a gather from the flattened `[N*C]` matrix.
 *
 * @example
 * ```ts
 * import { ref, tensor } from "./mod.ts";
 * console.log(ref.crossEntropy(tensor([[0, 0]]), [1]).data); // [0.6931]
 * ```
 */
export function crossEntropy(
  logits: Tensor,
  labels: ArrayLike<number> | Tensor,
  opts: LossOptions = {},
): Tensor {
  const op = "ref.crossEntropy";
  checkRank(op, "logits", logits, 2, "[N, C]");
  const [n, c] = logits.shape;
  const lab = "data" in labels ? labels.data : labels;
  if (lab.length !== n) {
    throw new TensorError(
      op,
      `${lab.length} labels for ${n} rows of logits ${fmtShape(logits.shape)}`,
    );
  }
  const picks = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const l = lab[i];
    if (!Number.isInteger(l) || l < 0 || l >= c) {
      throw new TensorError(op, `label ${l} at ${i} is not a class index in 0..${c - 1}`);
    }
    picks[i] = i * c + l;
  }
  const logp = P.gather(P.reshape(logSoftmax(logits, 1), [n * c]), 0, picks);
  const s = P.neg(P.sum(logp));
  return opts.reduction === "sum" ? s : scale(s, 1 / n);
}

/**
 * Fully connected layer `x W + b` for `x` `[N, in]`, `W` `[in, out]`, `b` `[out]`.
 *
 * @example
 * ```ts
 * import { ref, tensor } from "./mod.ts";
 * const y = ref.dense(tensor([[1, 2]]), tensor([[1], [1]]), tensor([0.5]));
 * console.log(y.data); // [3.5]
 * ```
 */
export function dense(x: Tensor, w: Tensor, b?: Tensor | null): Tensor {
  const op = "ref.dense";
  checkRank(op, "input", x, 2, "[N, in]");
  checkRank(op, "weights", w, 2, "[in, out]");
  const y = P.matmul(x, w);
  if (!b) return y;
  if (b.rank !== 1 || b.shape[0] !== w.shape[1]) {
    throw new TensorError(op, `bias ${fmtShape(b.shape)} must be [${w.shape[1]}]`);
  }
  return P.add(y, expand(b, [1, w.shape[1]], y.shape));
}
