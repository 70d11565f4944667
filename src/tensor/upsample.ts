/**
 * Kronecker upsampling, the operator of the pooling derivations: `upsample(x, k) = x ⊗ 1_{k x k}`
 * on each map, with its backward rule (the sum over each block) beside it.
 *
 * @module
 */

import { resolvePair } from "./conv_options.ts";
import { fmtShape, TensorError } from "./errors.ts";
import { upsampleBackwardKernel, upsampleKernel } from "./kernels/pool.ts";
import { allocData, checkShape, Tensor } from "./tensor.ts";
import { recordOp } from "./trace.ts";

/** Validates rank >= 2 and the factors, returning `[maps, kh, kw]`. */
function resolve(op: string, x: Tensor, k: number | readonly [number, number]): number[] {
  const ctx = `x ${fmtShape(x.shape)}, k ${JSON.stringify(k)}`;
  if (x.rank < 2) {
    throw new TensorError(
      op,
      `input must have rank >= 2 (the last two axes are upsampled) (${ctx}); ` +
        `reshape a vector [n] to [1, n]`,
    );
  }
  const [kh, kw] = resolvePair(op, "factor k", k, ctx);
  return [x.shape.slice(0, -2).reduce((a, b) => a * b, 1), kh, kw];
}

/**
 * Kronecker product of each map (last two axes) with a `kh x kw` block of ones:
 * `[..., H, W] -> [..., H*kh, W*kw]`, `y[..., i*kh + a, j*kw + b] = x[..., i, j]`. Works on
 * `[N, C, H, W]` and on a single `[H, W]` map. Backward: {@link upsampleBackward}.
 *
 * @example
 * ```ts
 * import { tensor, upsample } from "./mod.ts";
 * console.log(upsample(tensor([[1, 2]]), 2).data); // Float32Array [1, 1, 2, 2, 1, 1, 2, 2]
 * ```
 */
export function upsample(x: Tensor, k: number | readonly [number, number]): Tensor {
  const [maps, kh, kw] = resolve("upsample", x, k);
  const h = x.shape[x.rank - 2], w = x.shape[x.rank - 1];
  const shape = [...x.shape.slice(0, -2), h * kh, w * kw];
  const y = new Tensor(allocData(x.dtype, checkShape("upsample", shape)), shape);
  upsampleKernel(x.data, y.data, maps, h, w, kh, kw);
  return recordOp("upsample", [x], y, () => (g) => [upsampleBackward(g, k)]);
}

/**
 * VJP of {@link upsample}: each input cell fed a whole block, so its gradient is the block's sum,
 * `dx[..., i, j] = sum_{a<kh, b<kw} delta[..., i*kh + a, j*kw + b]`.
 *
 * @example
 * ```ts
 * import { tensor, upsampleBackward } from "./mod.ts";
 * console.log(upsampleBackward(tensor([[1, 1, 2, 2], [1, 1, 2, 2]]), 2).data); // Float32Array [4, 8]
 * ```
 */
export function upsampleBackward(delta: Tensor, k: number | readonly [number, number]): Tensor {
  const [maps, kh, kw] = resolve("upsampleBackward", delta, k);
  const H = delta.shape[delta.rank - 2], W = delta.shape[delta.rank - 1];
  if (H % kh !== 0 || W % kw !== 0) {
    throw new TensorError(
      "upsampleBackward",
      `delta ${fmtShape(delta.shape)} is not a whole number of ${kh}x${kw} blocks; ` +
        `pass the gradient of upsample's output with the same factor`,
    );
  }
  const h = H / kh, w = W / kw;
  const shape = [...delta.shape.slice(0, -2), h, w];
  const dx = allocData(delta.dtype, checkShape("upsampleBackward", shape));
  upsampleBackwardKernel(delta.data, dx, maps, h, w, kh, kw);
  return new Tensor(dx, shape);
}
