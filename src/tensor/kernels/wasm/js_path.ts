/**
 * The `js` kernel path: the plain-TypeScript kernels behind the {@link Kernels} entry points.
 * They are the very loops the ops run on float64 data (`../conv.ts`, `../pool.ts`,
 * `../unary.ts`, `../gemm.ts`), so there is one plain implementation of each kernel; this file
 * only adapts the stride-1 `Conv2dDims` / 2x2 `Pool2dDims` of the entry points to their
 * geometries and composes the fused entries from them.
 *
 * @module
 */

import type { TensorData } from "../../tensor.ts";
import {
  conv2dBiasGradKernel,
  conv2dForwardKernel,
  type Conv2dGeometry,
  conv2dInputGradKernel,
  conv2dWeightGradKernel,
} from "../conv.ts";
import { gemm } from "../gemm.ts";
import { maxPool2dBackwardKernel, maxPool2dKernel, type Pool2dGeometry } from "../pool.ts";
import { activationGrad, mapUnary } from "../unary.ts";
import { type Conv2dDims, convOutSize, convPads, type Pool2dDims } from "./dims.ts";
import type { ConvGradArrays, Kernels } from "./kernels.ts";

/** The geometry of the plain convolution kernels for stride-1 dims. */
export function geometryOf(d: Conv2dDims): Conv2dGeometry {
  const { oh, ow } = convOutSize(d);
  const [padTop, , padLeft] = convPads(d);
  return {
    batch: d.n,
    inC: d.c,
    inH: d.h,
    inW: d.w,
    outC: d.o,
    kh: d.kh,
    kw: d.kw,
    outH: oh,
    outW: ow,
    strideH: 1,
    strideW: 1,
    dilationH: 1,
    dilationW: 1,
    padTop,
    padLeft,
  };
}

/** The plain pooling geometry of a 2x2 stride-2 max-pool. */
export function poolGeometry(d: Pool2dDims): Pool2dGeometry {
  return {
    maps: d.n * d.c,
    inH: d.h,
    inW: d.w,
    kh: 2,
    kw: 2,
    strideH: 2,
    strideW: 2,
    padTop: 0,
    padLeft: 0,
    outH: d.h >> 1,
    outW: d.w >> 1,
  };
}

/**
 * The plain-TypeScript kernels: the same loops the ops run on float64 data (`../conv.ts`,
 * `../pool.ts`, `../unary.ts`, `../gemm.ts`), so there is one plain implementation of each.
 */
export const jsKernels: Kernels = {
  path: "js",
  sgemm: gemm,
  conv2dForward: (x, weight, bias, y, d, o) => {
    conv2dForwardKernel(x, weight, bias, y, geometryOf(d));
    if (o?.relu) mapUnary("relu", y, y);
  },
  conv2dBackwardInput: (dy, weight, dx, d) => conv2dInputGradKernel(dy, weight, dx, geometryOf(d)),
  conv2dBackwardFilter: (x, dy, dw, d) => conv2dWeightGradKernel(x, dy, dw, geometryOf(d)),
  conv2dBackwardBias: (dy, db, d) => conv2dBiasGradKernel(dy, db, geometryOf(d)),
  conv2dBackward: (dy, x, weight, grads, d, reluOut) => {
    let delta = dy;
    if (reluOut) {
      delta = like(dy, dy.length);
      activationGrad("relu", dy, reluOut, delta);
    }
    convGradsPlain(delta, x, weight, grads, geometryOf(d));
  },
  conv2dReluPoolForward: (x, weight, bias, y, argmax, d) => {
    const g = geometryOf(d);
    const z = like(x, g.batch * g.outC * g.outH * g.outW);
    conv2dForwardKernel(x, weight, bias, z, g);
    mapUnary("relu", z, z);
    const pool = poolGeometry({ n: d.n, c: d.o, h: g.outH, w: g.outW });
    maxPool2dKernel(z, y, argmax ?? new Int32Array(y.length), pool);
  },
  conv2dReluPoolBackward: (dy, y, argmax, x, weight, grads, d) => {
    const g = geometryOf(d);
    const dz = like(dy, g.batch * g.outC * g.outH * g.outW);
    routePlain(dy, argmax, dz, y);
    convGradsPlain(dz, x, weight, grads, g);
  },
  maxPool2x2Forward: (x, y, argmax, d) =>
    maxPool2dKernel(x, y, argmax ?? new Int32Array(y.length), poolGeometry(d)),
  maxPool2x2Backward: (dy, argmax, dx, reluOut) => routePlain(dy, argmax, dx, reluOut ?? null),
  reluForward: (x, y) => mapUnary("relu", x, y),
  reluBackward: (x, dy, dx) => activationGrad("relu", dy, x, dx),
};

/** Fresh storage of `like`'s element type. */
function like(a: TensorData, n: number): TensorData {
  return a instanceof Float64Array ? new Float64Array(n) : new Float32Array(n);
}

/**
 * `dx = 0; dx[argmax[i]] += dy[i]` (where `gate[i] > 0` if given); throws, after routing the
 * others, if an arg-max index is outside dx.
 */
function routePlain(
  dy: TensorData,
  argmax: Int32Array,
  dx: TensorData,
  gate: TensorData | null,
): void {
  maxPool2dBackwardKernel(dy, argmax, dx, dx.length, gate);
  let bad = 0;
  for (let i = 0; i < argmax.length; i++) if (!(argmax[i] >= 0 && argmax[i] < dx.length)) bad++;
  if (bad > 0) {
    throw new RangeError(`maxPool2x2Backward: ${bad} argmax indices outside dx of ${dx.length}`);
  }
}

/** The convolution's gradients at `delta`, each where its array is given. */
export function convGradsPlain(
  delta: TensorData,
  x: TensorData,
  weight: TensorData,
  { dx, dw, db }: ConvGradArrays,
  g: Conv2dGeometry,
): void {
  if (dx) conv2dInputGradKernel(delta, weight, dx, g);
  if (dw) conv2dWeightGradKernel(x, delta, dw, g);
  if (db) conv2dBiasGradKernel(delta, db, g);
}
