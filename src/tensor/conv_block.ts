/**
 * The convolutional block of a CNN as one op: `maxPool2d(relu(conv2d(x, w, b)))`, with its
 * hand-derived backward rule beside it. Fused, the convolution's output (the largest tensor of
 * the block, 4x the pooled one for 2x2 windows) is never materialized: on the wasm kernel paths
 * it stays in scratch memory, forward and backward.
 *
 * Backward, with `z = conv2d(x, w, b)`, `r = relu(z)`, `y = maxPool(r)` and `delta = dL/dy`:
 * max-pool routes `delta[t]` to the arg-max `a[t]` of its window, the ReLU keeps it where
 * `r[a[t]] > 0`, and `r[a[t]] = y[t]`, so one pass gives
 * `dz = 0; dz[a[t]] += delta[t] where y[t] > 0`; then conv2d's rule at `dz`:
 * `dX = full_corr(dilate_s(dz), rot180(W))` cropped, `dW = valid_corr(X, dz)`, `db = sum(dz)`.
 *
 * @module
 */

import { checkBias, type Conv2dGrads } from "./conv.ts";
import {
  checkSameDType,
  type Conv2dOptions,
  fmtConvOptions,
  resolveConv2d,
} from "./conv_options.ts";
import { fmtShape, TensorError } from "./errors.ts";
import { convReluPoolForward, convReluPoolGrads } from "./kernels/dispatch.ts";
import type { Conv2dGeometry } from "./kernels/conv.ts";
import type { Pool2dGeometry } from "./kernels/pool.ts";
import { outShape, type Pool2dOptions, resolvePool } from "./pool.ts";
import { allocData, checkShape, Tensor } from "./tensor.ts";
import { recordOp, willRecord } from "./trace.ts";

const OP = "conv2dReluMaxPool";

/** The validated geometries of a block and its output shape. */
interface Block {
  g: Conv2dGeometry;
  pg: Pool2dGeometry;
  shape: number[];
  hasBias: boolean;
}

function resolveBlock(
  op: string,
  x: Tensor,
  w: Tensor,
  b: Tensor | null | undefined,
  convOpts: Conv2dOptions,
  poolOpts: Pool2dOptions,
): Block {
  const { geometry: g } = resolveConv2d(op, x.shape, w.shape, convOpts);
  checkBias(b, x, w, convOpts, op);
  const hasBias = b !== null && b !== undefined;
  checkSameDType(op, hasBias ? [["x", x], ["w", w], ["b", b]] : [["x", x], ["w", w]]);
  const zShape = [g.batch, g.outC, g.outH, g.outW];
  const pg = resolvePool(op, zShape, poolOpts);
  const shape = outShape(zShape, pg);
  checkShape(op, shape);
  return { g, pg, shape, hasBias };
}

/** The block's forward: the pooled output and (when `withArgmax`) the arg-max into z. */
function forward(
  x: Tensor,
  w: Tensor,
  b: Tensor | null | undefined,
  { g, pg, shape, hasBias }: Block,
  withArgmax: boolean,
): { y: Tensor; argmax: Int32Array } {
  const y = new Tensor(allocData(x.dtype, shape.reduce((p, q) => p * q, 1)), shape);
  const argmax = new Int32Array(withArgmax ? y.size : 0);
  convReluPoolForward(
    x.data,
    w.data,
    hasBias ? b!.data : null,
    y.data,
    withArgmax ? argmax : null,
    g,
    pg,
  );
  return { y, argmax };
}

/** The wanted gradients of the block at `delta`. */
function grads(
  delta: Tensor,
  y: Tensor,
  argmax: Int32Array,
  x: Tensor,
  w: Tensor,
  { g, pg, shape }: Block,
  [needX, needW, needB]: [boolean, boolean, boolean],
  opts: string,
): { dx: Tensor | null; dw: Tensor | null; db: Tensor | null } {
  if (delta.rank !== shape.length || delta.shape.some((d, i) => d !== shape[i])) {
    throw new TensorError(
      `${OP}Backward`,
      `delta ${fmtShape(delta.shape)} must have the block's output shape ${fmtShape(shape)} ` +
        `(x ${fmtShape(x.shape)}, w ${fmtShape(w.shape)}, ${opts}); pass the gradient of ` +
        `${OP}'s output with the same x, w and options`,
    );
  }
  checkSameDType(`${OP}Backward`, [["delta", delta], ["x", x]]);
  const dx = needX ? new Tensor(allocData(x.dtype, x.size), x.shape) : null;
  const dw = needW ? new Tensor(allocData(x.dtype, w.size), w.shape) : null;
  const db = needB ? new Tensor(allocData(x.dtype, g.outC), [g.outC]) : null;
  if (dx || dw || db) {
    convReluPoolGrads(
      delta.data,
      y.data,
      argmax,
      x.data,
      w.data,
      {
        dx: dx?.data ?? null,
        dw: dw?.data ?? null,
        db: db?.data ?? null,
      },
      g,
      pg,
    );
  }
  return { dx, dw, db };
}

const fmtOpts = (c: Conv2dOptions, p: Pool2dOptions) =>
  `conv options ${fmtConvOptions(c)}, pool options ${JSON.stringify(p)}`;

/**
 * The block `maxPool2d(relu(conv2d(x, w, b, convOpts)), poolOpts)` in one op: NCHW `x`
 * `[N, C, H, W]`, OIHW `w` `[O, C, kh, kw]`, optional bias `b` `[O]`; the result is the pooled
 * `[N, O, Po, Qo]`. The convolution's output is never materialized (on the wasm paths it stays
 * in scratch memory), which saves the largest tensor of the block, forward and backward.
 *
 * Backward ({@link conv2dReluMaxPoolBackward}): `dz = 0; dz[argmax[t]] += delta[t]` where
 * `y[t] > 0` (max-pool and ReLU backward in one pass), then conv2d's rule at `dz`.
 *
 * @example
 * ```ts
 * import { conv2dReluMaxPool, tensor } from "./mod.ts";
 * const x = tensor([[[[1, -2, 3, 0], [4, -5, -6, 2]]]]); // [1, 1, 2, 4]
 * const y = conv2dReluMaxPool(x, tensor([[[[1]]], [[[-1]]]]), null, {}, { kernel: 2 });
 * console.log(y.shape, y.data); // [1, 2, 1, 2] Float32Array [4, 3, 5, 6]
 * ```
 */
export function conv2dReluMaxPool(
  x: Tensor,
  w: Tensor,
  b: Tensor | null | undefined,
  convOpts: Conv2dOptions,
  poolOpts: Pool2dOptions,
): Tensor {
  const block = resolveBlock(OP, x, w, b, convOpts, poolOpts);
  const inputs = block.hasBias ? [x, w, b!] : [x, w];
  // Untraced (inference), no pullback can be asked for: skip copying out the arg-max.
  const traced = willRecord(inputs);
  const { y, argmax } = forward(x, w, b, block, traced);
  if (!traced) return y;
  return recordOp(OP, inputs, y, () => (delta: Tensor, needed?: readonly boolean[]) => {
    const g = grads(delta, y, argmax, x, w, block, [
      needed?.[0] ?? true,
      needed?.[1] ?? true,
      block.hasBias && (needed?.[2] ?? true),
    ], fmtOpts(convOpts, poolOpts));
    return block.hasBias ? [g.dx, g.dw, g.db] : [g.dx, g.dw];
  });
}

/**
 * VJP of {@link conv2dReluMaxPool}: re-runs the block's forward for its output `y` and the
 * arg-max, then `dz = 0; dz[argmax[t]] += delta[t]` where `y[t] > 0`, and conv2d's rule at
 * `dz`: `dX = full_corr(dilate_s(dz), rot180(W))` cropped, `dW = valid_corr(X, dz)`,
 * `db = sum(dz)` over batch and space (`db` is returned with or without a bias).
 *
 * @example
 * ```ts
 * import { conv2dReluMaxPoolBackward, ones, tensor } from "./mod.ts";
 * const x = tensor([[[[1, -2, 3, 0], [4, -5, -6, 2]]]]), w = tensor([[[[2]]]]);
 * const { dx, dw, db } = conv2dReluMaxPoolBackward(ones([1, 1, 1, 2]), x, w, null, {}, {
 *   kernel: 2,
 * });
 * console.log(dx.data, dw.data, db.data); // [0, 0, 2, 0, 2, 0, 0, 0] [7] [2]
 * ```
 */
export function conv2dReluMaxPoolBackward(
  delta: Tensor,
  x: Tensor,
  w: Tensor,
  b: Tensor | null | undefined,
  convOpts: Conv2dOptions,
  poolOpts: Pool2dOptions,
): Conv2dGrads {
  const block = resolveBlock(`${OP}Backward`, x, w, b, convOpts, poolOpts);
  const { y, argmax } = forward(x, w, b, block, true);
  const { dx, dw, db } = grads(
    delta,
    y,
    argmax,
    x,
    w,
    block,
    [true, true, true],
    fmtOpts(
      convOpts,
      poolOpts,
    ),
  );
  return { dx: dx!, dw: dw!, db: db! };
}
