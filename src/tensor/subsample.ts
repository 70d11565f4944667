/**
 * Trainable subsampling, the S2/S4 layers of LeCun et al. 1998: each `k x k` block of a map is
 * summed, multiplied by the map's trainable coefficient `beta_c` and shifted by its trainable
 * bias `b_c` (the squashing function is applied separately, as a separate op):
 *
 * `y[n,c,i,j] = beta_c * sum_{a<kh, b<kw} x[n,c, i*kh + a, j*kw + b] + b_c`,
 *
 * i.e. `y = beta_c * sumpool(x) + b_c`. Backward, with `delta = dL/dy`, as the derivations state
 * it:
 *
 * - `dX = upsample(delta * beta_c)` (Kronecker product of each map with a block of ones);
 * - `dbeta_c = sum_{n,i,j} delta[n,c,i,j] * sumpool(x)[n,c,i,j]`;
 * - `db_c = sum_{n,i,j} delta[n,c,i,j]`.
 *
 * The block sum is the upsample's adjoint (`upsampleBackwardKernel`), and `dX` is an upsample
 * (`upsampleKernel`): the same kernels as `upsample.ts`, no copies.
 *
 * @module
 */

import { checkSameDType, resolvePair } from "./conv_options.ts";
import { fmtShape, TensorError } from "./errors.ts";
import { upsampleBackwardKernel, upsampleKernel } from "./kernels/pool.ts";
import { allocData, Tensor, type TensorData } from "./tensor.ts";
import { recordOp } from "./trace.ts";
import { checkDelta } from "./validate.ts";

/** Validated geometry: `[N, C, h, w, kh, kw]` with `h = H / kh`, `w = W / kw`. */
function resolve(
  op: string,
  x: Tensor,
  beta: Tensor,
  bias: Tensor,
  k: number | readonly [number, number],
): [number, number, number, number, number, number] {
  const ctx = `x ${fmtShape(x.shape)}, beta ${fmtShape(beta.shape)}, bias ${
    fmtShape(bias.shape)
  }, k ${JSON.stringify(k)}`;
  if (x.rank !== 4) {
    throw new TensorError(
      op,
      `input must be NCHW [batch, maps, height, width] (${ctx}); reshape one map [H, W] to ` +
        `[1, 1, H, W]`,
    );
  }
  const [N, C, H, W] = x.shape;
  for (const [name, t] of [["beta", beta], ["bias", bias]] as const) {
    if (t.rank !== 1 || t.shape[0] !== C) {
      throw new TensorError(
        op,
        `${name} must be [${C}], one trainable value per input map (${ctx}); pass a rank-1 ` +
          `tensor of length ${C}`,
      );
    }
  }
  checkSameDType(op, [["x", x], ["beta", beta], ["bias", bias]]);
  const [kh, kw] = resolvePair(op, "block size k", k, ctx);
  if (H % kh !== 0 || W % kw !== 0) {
    throw new TensorError(
      op,
      `the ${H}x${W} maps are not a whole number of ${kh}x${kw} blocks (${ctx}); crop or pad ` +
        `the maps to multiples of the block size`,
    );
  }
  return [N, C, H / kh, W / kw, kh, kw];
}

/** `out[m, i, j] = sum of block (i, j) of map m`: the adjoint of Kronecker upsampling. */
function sumPool(
  x: Tensor,
  maps: number,
  h: number,
  w: number,
  kh: number,
  kw: number,
): TensorData {
  const s = allocData(x.dtype, maps * h * w);
  upsampleBackwardKernel(x.data, s, maps, h, w, kh, kw);
  return s;
}

/**
 * Trainable subsampling (LeCun 1998, S2/S4): `y[n,c,i,j] = beta_c * sum_{k x k block} x + b_c`
 * for `x` `[N, C, H, W]` (H and W multiples of the block size `k`, default 2), `beta` and `bias`
 * `[C]`; gives `[N, C, H/k, W/k]`. Apply the squashing function separately (e.g. `scaledTanh`).
 * With `beta_c = 1/k^2` and `b_c = 0` it is average pooling. Backward:
 * {@link subsample2dBackward}.
 *
 * @example
 * ```ts
 * import { subsample2d, tensor } from "./mod.ts";
 * const x = tensor([[[[1, 2], [3, 4]]]]); // [1, 1, 2, 2]
 * console.log(subsample2d(x, tensor([0.5]), tensor([1])).data); // Float32Array [6]  = 0.5 * 10 + 1
 * ```
 */
export function subsample2d(
  x: Tensor,
  beta: Tensor,
  bias: Tensor,
  k: number | readonly [number, number] = 2,
): Tensor {
  const [N, C, h, w, kh, kw] = resolve("subsample2d", x, beta, bias, k);
  const s = sumPool(x, N * C, h, w, kh, kw);
  const y = allocData(x.dtype, s.length);
  const hw = h * w;
  for (let m = 0, t = 0; m < N * C; m++) {
    const c = m % C, bc = beta.data[c], b0 = bias.data[c];
    for (let e = 0; e < hw; e++, t++) y[t] = bc * s[t] + b0;
  }
  return recordOp("subsample2d", [x, beta, bias], new Tensor(y, [N, C, h, w]), () => (delta) => {
    const g = subsample2dGrads("subsample2dBackward", delta, x, beta, bias, k, s);
    return [g.dx, g.dbeta, g.dbias];
  });
}

/**
 * The gradients of {@link subsample2d} with respect to `x`, `beta` and `bias`.
 *
 * @example
 * ```ts
 * import { ones, type Subsample2dGrads, subsample2dBackward } from "./mod.ts";
 * const g: Subsample2dGrads = subsample2dBackward(ones([1, 2, 2, 2]), ones([1, 2, 4, 4]), ones([2]), ones([2]));
 * console.log(g.dx.shape, g.dbeta.data, g.dbias.data); // [1, 2, 4, 4] Float32Array [16, 16] Float32Array [4, 4]
 * ```
 */
export interface Subsample2dGrads {
  /** `dL/dx = upsample(delta * beta_c)`, shape `[N, C, H, W]`. */
  dx: Tensor;
  /** `dL/dbeta_c = sum delta * sumpool(x)`, shape `[C]`. */
  dbeta: Tensor;
  /** `dL/db_c = sum delta`, shape `[C]`. */
  dbias: Tensor;
}

/**
 * VJP of {@link subsample2d}, given `delta = dL/dy` `[N, C, H/k, W/k]` and the forward's
 * inputs, as the derivations state it:
 *
 * - `dX = upsample(delta * beta_c, k)`: `dx[n,c,u,v] = beta_c delta[n,c, floor(u/kh), floor(v/kw)]`;
 * - `dbeta_c = sum_{n,i,j} delta[n,c,i,j] * sumpool(x)[n,c,i,j]`;
 * - `db_c = sum_{n,i,j} delta[n,c,i,j]`.
 *
 * @example
 * ```ts
 * import { subsample2dBackward, tensor } from "./mod.ts";
 * const x = tensor([[[[1, 2], [3, 4]]]]);
 * const { dx, dbeta, dbias } = subsample2dBackward(tensor([[[[2]]]]), x, tensor([0.5]), tensor([1]));
 * console.log(dx.data, dbeta.data, dbias.data); // Float32Array [1, 1, 1, 1] Float32Array [20] Float32Array [2]
 * ```
 */
export function subsample2dBackward(
  delta: Tensor,
  x: Tensor,
  beta: Tensor,
  bias: Tensor,
  k: number | readonly [number, number] = 2,
): Subsample2dGrads {
  return subsample2dGrads("subsample2dBackward", delta, x, beta, bias, k, null);
}

/** The three gradients; `s` is the forward's block sums when the caller kept them. */
function subsample2dGrads(
  op: string,
  delta: Tensor,
  x: Tensor,
  beta: Tensor,
  bias: Tensor,
  k: number | readonly [number, number],
  s: TensorData | null,
): Subsample2dGrads {
  const [N, C, h, w, kh, kw] = resolve(op, x, beta, bias, k);
  checkDelta(
    op,
    delta,
    [N, C, h, w],
    `x ${fmtShape(x.shape)}, k ${JSON.stringify(k)}`,
    "pass the gradient of subsample2d's output",
  );
  checkSameDType(op, [["delta", delta], ["x", x]]);
  const sums = s ?? sumPool(x, N * C, h, w, kh, kw);
  const scaled = allocData(x.dtype, delta.size); // delta * beta_c
  const dbeta = allocData(x.dtype, C), dbias = allocData(x.dtype, C);
  const hw = h * w, d = delta.data;
  for (let m = 0, t = 0; m < N * C; m++) {
    const c = m % C, bc = beta.data[c];
    let sb = 0, sd = 0;
    for (let e = 0; e < hw; e++, t++) {
      scaled[t] = d[t] * bc;
      sb += d[t] * sums[t];
      sd += d[t];
    }
    dbeta[c] += sb;
    dbias[c] += sd;
  }
  const dx = allocData(x.dtype, x.size);
  upsampleKernel(scaled, dx, N * C, h, w, kh, kw);
  return {
    dx: new Tensor(dx, x.shape),
    dbeta: new Tensor(dbeta, [C]),
    dbias: new Tensor(dbias, [C]),
  };
}
