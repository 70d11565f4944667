/**
 * conv2d on NCHW inputs and OIHW weights, with its hand-derived backward rule beside it.
 *
 * As in the derivations, the network's "convolution" is a cross-correlation:
 * `z[n,o,i,j] = b[o] + sum_{c,p,q} x[n,c, i*sh + p*dh - pt, j*sw + q*dw - pl] * w[o,c,p,q]`
 * (zero outside the input). Its backward rule, with `delta = dL/dz`:
 *
 * - `dX = full_corr(dilate_s(delta), rot180(W))`, summed over output maps, cropped by the padding
 *   (the stride dilates delta with zeros first; the dilation spaces the taps of rot180(W));
 * - `dW = valid_corr(X, delta)` (X padded, delta dilated by the stride, taps every `d` cells);
 * - `db = sum(delta)` over batch and space.
 *
 * @module
 */

import { fmtShape, TensorError } from "./errors.ts";
import {
  checkSameDType,
  type Conv2dOptions,
  fmtConvOptions,
  resolveConv2d,
} from "./conv_options.ts";
import { convForward, convGrads } from "./kernels/dispatch.ts";
import { allocData, type Shape, Tensor } from "./tensor.ts";
import { recordOp } from "./trace.ts";
import { checkDelta } from "./validate.ts";

/**
 * The output shape `[N, O, Ho, Wo]` of `conv2d(x, w, b, opts)` for inputs of these shapes, with
 * `Ho = floor((H + p_top + p_bottom - dh*(kh-1) - 1) / sh) + 1` (and likewise `Wo`). Validates
 * exactly as conv2d does.
 *
 * @example
 * ```ts
 * import { conv2dOutputShape } from "./mod.ts";
 * console.log(conv2dOutputShape([64, 1, 28, 28], [6, 1, 5, 5])); // [64, 6, 24, 24]
 * console.log(conv2dOutputShape([64, 1, 28, 28], [6, 1, 5, 5], { padding: "same" })); // [64, 6, 28, 28]
 * ```
 */
export function conv2dOutputShape(
  xShape: Shape,
  wShape: Shape,
  opts: Conv2dOptions = {},
): number[] {
  const { geometry: g } = resolveConv2d("conv2d", xShape, wShape, opts);
  return [g.batch, g.outC, g.outH, g.outW];
}

/** Validates the bias: `[O]` for `O` output maps, or null/undefined. */
export function checkBias(
  b: Tensor | null | undefined,
  x: Tensor,
  w: Tensor,
  opts: Conv2dOptions,
  op = "conv2d",
): void {
  if (b === null || b === undefined) return;
  if (b.rank !== 1 || b.shape[0] !== w.shape[0]) {
    throw new TensorError(
      op,
      `bias b ${fmtShape(b.shape)} must be [${w.shape[0]}], one value per output map of w ${
        fmtShape(w.shape)
      } (x ${fmtShape(x.shape)}, options ${fmtConvOptions(opts)}); ` +
        `pass a rank-1 bias of length ${w.shape[0]}, or null for none`,
    );
  }
}

/**
 * 2-D convolution (cross-correlation, as in CNNs) of an NCHW batch `x` `[N, C, H, W]` with OIHW
 * weights `w` `[O, C, kh, kw]` plus an optional bias `b` `[O]`, giving `[N, O, Ho, Wo]`:
 * `z[n,o,i,j] = b[o] + sum_{c,p,q} x[n,c, i*sh + p*dh - pt, j*sw + q*dw - pl] * w[o,c,p,q]`.
 *
 * Options: `stride` (default 1), `dilation` (default 1), `padding` `"valid"` (default), `"same"`
 * (output `ceil(n/s)`, extra padding bottom/right), `"full"` (`(k-1)*d` each side), a number, or
 * `[top, bottom, left, right]`. Output size `o = floor((n + p_total - d*(k-1) - 1)/s) + 1`.
 *
 * Backward: {@link conv2dBackward}.
 *
 * @example
 * ```ts
 * import { conv2d, ones, tensor } from "./mod.ts";
 * const x = tensor([[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]]); // [1, 1, 3, 3]
 * const w = ones([1, 1, 2, 2]);
 * console.log(conv2d(x, w).data); // Float32Array [12, 16, 24, 28]
 * console.log(conv2d(x, w, tensor([1]), { padding: "same" }).shape); // [1, 1, 3, 3]
 * ```
 */
export function conv2d(
  x: Tensor,
  w: Tensor,
  b?: Tensor | null,
  opts: Conv2dOptions = {},
): Tensor {
  return convolve("conv2d", x, w, b, opts);
}

/**
 * The gradients of {@link conv2d} with respect to its input, weights and bias.
 *
 * @example
 * ```ts
 * import { type Conv2dGrads, conv2dBackward, ones } from "./mod.ts";
 * const g: Conv2dGrads = conv2dBackward(ones([2, 4, 6, 6]), ones([2, 3, 8, 8]), ones([4, 3, 3, 3]));
 * console.log(g.dx.shape, g.dw.shape, g.db.shape); // [2, 3, 8, 8] [4, 3, 3, 3] [4]
 * ```
 */
export interface Conv2dGrads {
  /** `dL/dx`, shape `[N, C, H, W]`. */
  dx: Tensor;
  /** `dL/dw`, shape `[O, C, kh, kw]`. */
  dw: Tensor;
  /** `dL/db`, shape `[O]` (whether or not the forward had a bias). */
  db: Tensor;
}

/**
 * VJP of {@link conv2d}: given `delta = dL/dz` `[N, O, Ho, Wo]` and the forward's `x`, `w` and
 * options, returns, as the derivation states them,
 *
 * - `dX = full_corr(dilate_s(delta), rot180(W))` summed over output maps, cropped by the padding:
 *   `dx[n,c,a,b] = sum_{o,p',q'} D[n,o, a + p'*dh - ((kh-1)*dh - pt), b + q'*dw - ((kw-1)*dw - pl)]
 *   * rot180(W)[o,c,p',q']`, `D` being delta with `s-1` zeros inserted between cells;
 * - `dW = valid_corr(X, delta)`:
 *   `dw[o,c,p,q] = sum_{n,i,j} x[n,c, i*sh + p*dh - pt, j*sw + q*dw - pl] * delta[n,o,i,j]`;
 * - `db[o] = sum_{n,i,j} delta[n,o,i,j]`.
 *
 * @example
 * ```ts
 * import { conv2dBackward, ones, tensor } from "./mod.ts";
 * const x = tensor([[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]]);
 * const w = tensor([[[[1, 2], [3, 4]]]]);
 * const { dx, dw, db } = conv2dBackward(ones([1, 1, 2, 2]), x, w);
 * console.log(dx.data); // Float32Array [1, 3, 2, 4, 10, 6, 3, 7, 4]
 * console.log(dw.data, db.data); // Float32Array [12, 16, 24, 28] Float32Array [4]
 * ```
 */
export function conv2dBackward(
  delta: Tensor,
  x: Tensor,
  w: Tensor,
  opts: Conv2dOptions = {},
): Conv2dGrads {
  const { dx, dw, db } = conv2dGrads(delta, x, w, opts, [true, true, true]);
  return { dx: dx!, dw: dw!, db: db! };
}

/**
 * `relu(conv2d(x, w, b, opts))` in one op: the ReLU is applied as the convolution's results are
 * stored (no second pass, no pre-activation tensor), the usual hot pair of a CNN layer.
 *
 * Backward ({@link conv2dReluBackward}): the ReLU's rule, then conv2d's:
 * `delta' = delta [y > 0]` (`relu'(0) = 0`, and `y > 0` exactly where the pre-activation is),
 * then `dX`, `dW`, `db` of {@link conv2dBackward} at `delta'`.
 *
 * @example
 * ```ts
 * import { conv2dRelu, tensor } from "./mod.ts";
 * const x = tensor([[[[1, -2], [3, -4]]]]);
 * console.log(conv2dRelu(x, tensor([[[[1]]], [[[-1]]]])).data); // Float32Array [1, 0, 3, 0, 0, 2, 0, 4]
 * ```
 */
export function conv2dRelu(
  x: Tensor,
  w: Tensor,
  b?: Tensor | null,
  opts: Conv2dOptions = {},
): Tensor {
  return convolve("conv2dRelu", x, w, b, opts);
}

/**
 * VJP of {@link conv2dRelu} given its output `y`: `delta' = delta [y > 0]`, then
 * {@link conv2dBackward}`(delta', x, w, opts)`.
 *
 * @example
 * ```ts
 * import { conv2dRelu, conv2dReluBackward, ones, tensor } from "./mod.ts";
 * const x = tensor([[[[1, -2], [3, -4]]]]), w = tensor([[[[2]]]]);
 * const y = conv2dRelu(x, w);
 * const { dx, dw } = conv2dReluBackward(ones(y.shape), y, x, w);
 * console.log(dx.data, dw.data); // Float32Array [2, 0, 2, 0] Float32Array [4]
 * ```
 */
export function conv2dReluBackward(
  delta: Tensor,
  y: Tensor,
  x: Tensor,
  w: Tensor,
  opts: Conv2dOptions = {},
): Conv2dGrads {
  const { dx, dw, db } = conv2dGrads(delta, x, w, opts, [true, true, true], y);
  return { dx: dx!, dw: dw!, db: db! };
}

/**
 * The recorded forward of {@link conv2d} and {@link conv2dRelu} (the ReLU applied as the kernel
 * stores its results). `needed[i] === false` in the pullback (an engine that knows input i is a
 * constant, e.g. the images fed to the first layer) lets it skip that gradient; without it all
 * are computed.
 */
function convolve(
  op: "conv2d" | "conv2dRelu",
  x: Tensor,
  w: Tensor,
  b: Tensor | null | undefined,
  opts: Conv2dOptions,
): Tensor {
  const relu = op === "conv2dRelu";
  const { geometry: g } = resolveConv2d(op, x.shape, w.shape, opts);
  checkBias(b, x, w, opts, op);
  const hasBias = b !== null && b !== undefined;
  checkSameDType(op, hasBias ? [["x", x], ["w", w], ["b", b]] : [["x", x], ["w", w]]);
  const y = new Tensor(
    allocData(x.dtype, g.batch * g.outC * g.outH * g.outW),
    [g.batch, g.outC, g.outH, g.outW],
  );
  convForward(x.data, w.data, hasBias ? b.data : null, y.data, g, relu);
  return recordOp(
    op,
    hasBias ? [x, w, b] : [x, w],
    y,
    () => (delta: Tensor, needed?: readonly boolean[]) => {
      const grads = conv2dGrads(delta, x, w, opts, [
        needed?.[0] ?? true,
        needed?.[1] ?? true,
        hasBias && (needed?.[2] ?? true),
      ], relu ? y : null);
      return hasBias ? [grads.dx, grads.dw, grads.db] : [grads.dx, grads.dw];
    },
  );
}

/**
 * The three gradients of conv2d, each computed only when `need` asks for it (else null). With
 * `reluOut` (conv2dRelu's output, checked to match delta) the delta is masked by
 * `reluOut > 0` first, inside the kernels.
 */
function conv2dGrads(
  delta: Tensor,
  x: Tensor,
  w: Tensor,
  opts: Conv2dOptions,
  [needX, needW, needB]: [boolean, boolean, boolean],
  reluOut: Tensor | null = null,
): { dx: Tensor | null; dw: Tensor | null; db: Tensor | null } {
  const op = reluOut ? "conv2dReluBackward" : "conv2dBackward";
  const { geometry: g } = resolveConv2d(op, x.shape, w.shape, opts);
  const expected = [g.batch, g.outC, g.outH, g.outW];
  checkDelta(
    op,
    delta,
    expected,
    `x ${fmtShape(x.shape)}, w ${fmtShape(w.shape)}, options ${fmtConvOptions(opts)}`,
    `pass the gradient of ${reluOut ? "conv2dRelu" : "conv2d"}'s output with the same x, w and ` +
      `options`,
  );
  if (reluOut && (reluOut.rank !== 4 || reluOut.shape.some((d, i) => d !== expected[i]))) {
    throw new TensorError(
      op,
      `y ${fmtShape(reluOut.shape)} must be the forward output ${fmtShape(expected)} ` +
        `(x ${fmtShape(x.shape)}, w ${fmtShape(w.shape)}); pass conv2dRelu's output`,
    );
  }
  checkSameDType(
    op,
    reluOut
      ? [["delta", delta], ["y", reluOut], ["x", x], ["w", w]]
      : [["delta", delta], ["x", x], ["w", w]],
  );
  const dx = needX ? new Tensor(allocData(x.dtype, x.size), x.shape) : null;
  const dw = needW ? new Tensor(allocData(x.dtype, w.size), w.shape) : null;
  const db = needB ? new Tensor(allocData(x.dtype, g.outC), [g.outC]) : null;
  if (dx || dw || db) {
    convGrads(delta.data, x.data, w.data, reluOut?.data ?? null, {
      dx: dx?.data ?? null,
      dw: dw?.data ?? null,
      db: db?.data ?? null,
    }, g);
  }
  return { dx, dw, db };
}
