/**
 * The single-channel 2-D operators of the derivations: `rot180`, `correlate2d` (what a CNN layer
 * computes) and `convolve2d` (true convolution, `convolve2d(a, k) = correlate2d(a, rot180(k))`),
 * each with its backward rule beside it. They run on the conv2d kernels with one image, one input
 * and one output channel.
 *
 * Modes, for `a` `[H, W]` and `k` `[kh, kw]`: `"valid"` (no padding, `[H-kh+1, W-kw+1]`),
 * `"full"` (`k-1` zeros on every side, `[H+kh-1, W+kw-1]`), `"same"` (`[H, W]`, padding
 * `floor((k-1)/2)` before and the rest after, as conv2d's `"same"`).
 *
 * @module
 */

import { fmtShape, TensorError } from "./errors.ts";
import { checkSameDType } from "./conv_options.ts";
import {
  conv2dForwardKernel,
  type Conv2dGeometry,
  conv2dInputGradKernel,
  conv2dWeightGradKernel,
} from "./kernels/conv.ts";
import { allocData, Tensor, type TensorData } from "./tensor.ts";
import { recordOp } from "./trace.ts";
import { checkDelta } from "./validate.ts";

/**
 * Padding mode of {@link correlate2d} and {@link convolve2d}: `"valid"` (no padding), `"full"`
 * (`k-1` zeros on every side), `"same"` (output the size of the input).
 *
 * @example
 * ```ts
 * import { type Correlate2dMode, correlate2d, ones } from "./mod.ts";
 * const mode: Correlate2dMode = "full";
 * console.log(correlate2d(ones([3, 3]), ones([2, 2]), mode).shape); // [4, 4]
 * ```
 */
export type Correlate2dMode = "valid" | "full" | "same";

/** Reverses the last two axes of `src` (every `h x w` map) into a fresh array. */
function rotateMaps(src: TensorData, h: number, w: number): TensorData {
  const out = src instanceof Float64Array
    ? new Float64Array(src.length)
    : new Float32Array(src.length);
  const hw = h * w;
  for (let base = 0; base < src.length; base += hw) {
    const last = base + hw - 1;
    for (let t = 0; t < hw; t++) out[base + t] = src[last - t];
  }
  return out;
}

/**
 * Rotates the last two axes by 180 degrees (flips both), for any tensor of rank >= 2:
 * `rot180(k)[..., p, q] = k[..., kh-1-p, kw-1-q]`. The kernel flip between correlation and
 * convolution. Backward: {@link rot180Backward} (rot180 again).
 *
 * @example
 * ```ts
 * import { rot180, tensor } from "./mod.ts";
 * console.log(rot180(tensor([[1, 2], [3, 4]])).data); // Float32Array [4, 3, 2, 1]
 * ```
 */
export function rot180(x: Tensor): Tensor {
  if (x.rank < 2) {
    throw new TensorError(
      "rot180",
      `input ${fmtShape(x.shape)} has rank ${x.rank}; rot180 flips the last two axes, so pass a ` +
        `tensor of rank >= 2 (reshape a vector [n] to [1, n])`,
    );
  }
  const h = x.shape[x.rank - 2], w = x.shape[x.rank - 1];
  const y = new Tensor(h * w === 0 ? allocData(x.dtype, 0) : rotateMaps(x.data, h, w), x.shape);
  return recordOp("rot180", [x], y, () => (g) => [rot180Backward(g)]);
}

/** VJP of {@link rot180}: a permutation's VJP is its inverse, and rot180 is its own inverse. */
export function rot180Backward(g: Tensor): Tensor {
  return rot180(g);
}

/** Validates `a`, `k`, `mode` and returns the one-channel conv2d geometry of the mode. */
function geometry(op: string, a: Tensor, k: Tensor, mode: Correlate2dMode): Conv2dGeometry {
  const ctx = `a ${fmtShape(a.shape)}, k ${fmtShape(k.shape)}, mode ${JSON.stringify(mode)}`;
  if (a.rank !== 2 || k.rank !== 2) {
    throw new TensorError(
      op,
      `a and k must both be rank-2 [height, width] (${ctx}); for batches and channels use conv2d`,
    );
  }
  const [H, W] = a.shape;
  const [kh, kw] = k.shape;
  if (kh < 1 || kw < 1 || H < 1 || W < 1) {
    throw new TensorError(op, `a and k must be non-empty (${ctx}); pass at least a 1x1 of each`);
  }
  let pt = 0, pb = 0, pl = 0, pr = 0;
  if (mode === "full") [pt, pb, pl, pr] = [kh - 1, kh - 1, kw - 1, kw - 1];
  else if (mode === "same") {
    [pt, pl] = [Math.floor((kh - 1) / 2), Math.floor((kw - 1) / 2)];
    [pb, pr] = [kh - 1 - pt, kw - 1 - pl];
  } else if (mode !== "valid") {
    throw new TensorError(op, `unknown mode (${ctx}); use "valid", "full" or "same"`);
  }
  if (mode === "valid" && (kh > H || kw > W)) {
    throw new TensorError(
      op,
      `kernel larger than input in "valid" mode (${ctx}); use mode "full" or "same", or swap a and k`,
    );
  }
  return {
    batch: 1,
    inC: 1,
    inH: H,
    inW: W,
    outC: 1,
    kh,
    kw,
    outH: H + pt + pb - kh + 1,
    outW: W + pl + pr - kw + 1,
    strideH: 1,
    strideW: 1,
    dilationH: 1,
    dilationW: 1,
    padTop: pt,
    padLeft: pl,
  };
}

/**
 * Cross-correlation of one map `a` `[H, W]` with a kernel `k` `[kh, kw]`:
 * `y[i,j] = sum_{p,q} a[i + p - pt, j + q - pl] * k[p,q]` (zero outside `a`), what a CNN layer
 * calls convolution. Backward: {@link correlate2dBackward}.
 *
 * @example
 * ```ts
 * import { correlate2d, tensor } from "./mod.ts";
 * const a = tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
 * const k = tensor([[1, 0], [0, -1]]);
 * console.log(correlate2d(a, k).data); // Float32Array [-4, -4, -4, -4]
 * console.log(correlate2d(a, k, "full").shape); // [4, 4]
 * ```
 */
export function correlate2d(a: Tensor, k: Tensor, mode: Correlate2dMode = "valid"): Tensor {
  const g = geometry("correlate2d", a, k, mode);
  checkSameDType("correlate2d", [["a", a], ["k", k]]);
  const y = new Tensor(allocData(a.dtype, g.outH * g.outW), [g.outH, g.outW]);
  conv2dForwardKernel(a.data, k.data, null, y.data, g);
  return recordOp("correlate2d", [a, k], y, () => (delta) => {
    const { da, dk } = correlate2dBackward(delta, a, k, mode);
    return [da, dk];
  });
}

/**
 * Gradients of {@link correlate2d} or {@link convolve2d} with respect to `a` and `k`.
 *
 * @example
 * ```ts
 * import { type Correlate2dGrads, correlate2dBackward, ones } from "./mod.ts";
 * const g: Correlate2dGrads = correlate2dBackward(ones([2, 2]), ones([3, 3]), ones([2, 2]));
 * console.log(g.da.shape, g.dk.shape); // [3, 3] [2, 2]
 * ```
 */
export interface Correlate2dGrads {
  /** `dL/da`, shape of `a`. */
  da: Tensor;
  /** `dL/dk`, shape of `k`. */
  dk: Tensor;
}

/** Runs the two gradient kernels of a one-channel geometry. */
function corrGrads(
  op: string,
  delta: Tensor,
  a: Tensor,
  kData: TensorData,
  g: Conv2dGeometry,
): { da: TensorData; dk: TensorData } {
  checkDelta(
    op,
    delta,
    [g.outH, g.outW],
    `a ${fmtShape(a.shape)}, k [${g.kh}, ${g.kw}]`,
    "pass the gradient of the forward's output",
  );
  const da = allocData(a.dtype, a.size);
  const dk = allocData(a.dtype, g.kh * g.kw);
  conv2dInputGradKernel(delta.data, kData, da, g);
  conv2dWeightGradKernel(a.data, delta.data, dk, g);
  return { da, dk };
}

/**
 * VJP of {@link correlate2d}, with `delta = dL/dy`:
 * `da = full_corr(delta, rot180(k))` cropped by the mode's padding
 * (`da[a,b] = sum_{p,q} delta[a - p + pt, b - q + pl] * k[p,q]`), and
 * `dk = valid_corr(a_padded, delta)` (`dk[p,q] = sum_{i,j} a[i + p - pt, j + q - pl] delta[i,j]`).
 *
 * @example
 * ```ts
 * import { correlate2dBackward, ones, tensor } from "./mod.ts";
 * const a = tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
 * const { da, dk } = correlate2dBackward(ones([2, 2]), a, tensor([[1, 2], [3, 4]]));
 * console.log(da.data); // Float32Array [1, 3, 2, 4, 10, 6, 3, 7, 4]
 * console.log(dk.data); // Float32Array [12, 16, 24, 28]
 * ```
 */
export function correlate2dBackward(
  delta: Tensor,
  a: Tensor,
  k: Tensor,
  mode: Correlate2dMode = "valid",
): Correlate2dGrads {
  const g = geometry("correlate2dBackward", a, k, mode);
  checkSameDType("correlate2dBackward", [["delta", delta], ["a", a], ["k", k]]);
  const { da, dk } = corrGrads("correlate2dBackward", delta, a, k.data, g);
  return { da: new Tensor(da, a.shape), dk: new Tensor(dk, k.shape) };
}

/**
 * True 2-D convolution of `a` `[H, W]` with `k` `[kh, kw]`: `convolve2d(a, k, mode) =
 * correlate2d(a, rot180(k), mode)`, i.e. `y[i,j] = sum_{p,q} a[i - p + (kh-1) - pt, ...] k[p,q]`.
 * Backward: {@link convolve2dBackward}.
 *
 * @example
 * ```ts
 * import { convolve2d, tensor } from "./mod.ts";
 * const a = tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
 * console.log(convolve2d(a, tensor([[1, 0], [0, -1]])).data); // Float32Array [4, 4, 4, 4]
 * ```
 */
export function convolve2d(a: Tensor, k: Tensor, mode: Correlate2dMode = "valid"): Tensor {
  const g = geometry("convolve2d", a, k, mode);
  checkSameDType("convolve2d", [["a", a], ["k", k]]);
  const y = new Tensor(allocData(a.dtype, g.outH * g.outW), [g.outH, g.outW]);
  conv2dForwardKernel(a.data, rotateMaps(k.data, g.kh, g.kw), null, y.data, g);
  return recordOp("convolve2d", [a, k], y, () => (delta) => {
    const { da, dk } = convolve2dBackward(delta, a, k, mode);
    return [da, dk];
  });
}

/**
 * VJP of {@link convolve2d}: since `convolve2d(a, k) = correlate2d(a, rot180(k))`, the chain rule
 * through rot180 gives `da = full_corr(delta, k)` cropped (that is, `full_corr(delta,
 * rot180(rot180(k)))`), and `dk = rot180(valid_corr(a_padded, delta))`.
 *
 * @example
 * ```ts
 * import { convolve2dBackward, ones, tensor } from "./mod.ts";
 * const a = tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
 * const { dk } = convolve2dBackward(ones([2, 2]), a, tensor([[1, 2], [3, 4]]));
 * console.log(dk.data); // Float32Array [28, 24, 16, 12]
 * ```
 */
export function convolve2dBackward(
  delta: Tensor,
  a: Tensor,
  k: Tensor,
  mode: Correlate2dMode = "valid",
): Correlate2dGrads {
  const g = geometry("convolve2dBackward", a, k, mode);
  checkSameDType("convolve2dBackward", [["delta", delta], ["a", a], ["k", k]]);
  const { da, dk } = corrGrads("convolve2dBackward", delta, a, rotateMaps(k.data, g.kh, g.kw), g);
  return { da: new Tensor(da, a.shape), dk: new Tensor(rotateMaps(dk, g.kh, g.kw), k.shape) };
}
