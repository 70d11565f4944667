/**
 * The kernel entry points, dispatched to the active path (`wasm-relaxed`, `wasm-simd` or
 * `js`; see `runtime.ts` for detection and overrides). Ops call these on flat arrays and own
 * the allocation of every output; a kernel writes only its output arrays, never its inputs.
 *
 * Every entry point takes float32 or float64 arrays: float64 (the gradient checks) always runs
 * the plain-TypeScript kernels; float32 runs the active path. Sizes are checked here, before
 * any path runs, so all paths reject the same calls. Outputs must not alias inputs (except the
 * element-wise ReLU kernels).
 *
 * Layouts: NCHW activations, OIHW weights, stride 1, symmetric zero padding (`Conv2dDims`);
 * max-pool 2x2 stride 2 with floor (`Pool2dDims`), arg-max as int32 flat indices into x.
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
import { gemm, type GemmArgs } from "../gemm.ts";
import { maxPool2dBackwardKernel, maxPool2dKernel, type Pool2dGeometry } from "../pool.ts";
import { activationGrad, mapUnary } from "../unary.ts";
import { checkConv, type Conv2dDims, convOutSize, convPads, type Pool2dDims } from "./dims.ts";
import { ResidentIo } from "./resident.ts";
import { type KernelPath, kernelPath, type WasmIo, wasmKernels } from "./runtime.ts";
import type { Flavor } from "./simd.ts";
import * as w from "./wasm_calls.ts";

/** Options of {@link Kernels.conv2dForward}. */
export interface ConvForwardOptions {
  /** Apply ReLU to the output (fused into the kernel's store). */
  relu?: boolean;
}

/** Where {@link Kernels.conv2dBackward} writes each gradient (null: not wanted). */
export interface ConvGradArrays {
  dx: TensorData | null;
  dw: TensorData | null;
  db: TensorData | null;
}

/** The kernels of one path. */
export interface Kernels {
  /** The path these kernels run on. */
  readonly path: KernelPath;
  /** `C = alpha * op(A) op(B) + beta * C`, row-major, as `gemm` in `../gemm.ts`. */
  sgemm(a: TensorData, b: TensorData, c: TensorData, args: GemmArgs): void;
  /** `y[n,o] = relu?(bias[o] + sum_c x[n,c] ⋆ weight[o,c])` (cross-correlation). */
  conv2dForward(
    x: TensorData,
    weight: TensorData,
    bias: TensorData | null,
    y: TensorData,
    d: Conv2dDims,
    options?: ConvForwardOptions,
  ): void;
  /** `dx = full_conv(dy, rot180(weight))` summed over output maps. */
  conv2dBackwardInput(dy: TensorData, weight: TensorData, dx: TensorData, d: Conv2dDims): void;
  /** `dw = valid_corr(x, dy)` summed over the batch. */
  conv2dBackwardFilter(x: TensorData, dy: TensorData, dw: TensorData, d: Conv2dDims): void;
  /** `db[o] = sum(dy[:, o])` over batch and space. */
  conv2dBackwardBias(dy: TensorData, db: TensorData, d: Conv2dDims): void;
  /**
   * The three gradients of one convolution from one delta, each only where its output array
   * is given: the three kernels above, reading `dy` once. Given `reluOut`, the output of a
   * ReLU applied to the convolution, the delta is first masked, `dy [reluOut > 0]` (the
   * ReLU's backward, without materializing the masked delta).
   */
  conv2dBackward(
    dy: TensorData,
    x: TensorData,
    weight: TensorData,
    grads: ConvGradArrays,
    d: Conv2dDims,
    reluOut?: TensorData | null,
  ): void;
  /**
   * 2x2 stride-2 max-pool; `argmax[i]` = flat index into x of output i's first maximum (null:
   * not wanted, e.g. inference).
   */
  maxPool2x2Forward(
    x: TensorData,
    y: TensorData,
    argmax: Int32Array | null,
    d: Pool2dDims,
  ): void;
  /**
   * Routes each delta to its arg-max: `dx = 0; dx[argmax[i]] += dy[i]`. Given `reluOut`, the
   * pooled values of a ReLU output, it also applies that ReLU's backward (routes only where
   * `reluOut[i] > 0`).
   */
  maxPool2x2Backward(
    dy: TensorData,
    argmax: Int32Array,
    dx: TensorData,
    reluOut?: TensorData | null,
  ): void;
  /** `y = x < 0 ? 0 : x`, +0 for -0 (NaN stays NaN). */
  reluForward(x: TensorData, y: TensorData): void;
  /** `dx = x > 0 ? dy : 0` (+0 rather than -0). */
  reluBackward(x: TensorData, dy: TensorData, dx: TensorData): void;
}

function checkGemm(a: TensorData, b: TensorData, c: TensorData, g: GemmArgs): void {
  const { m, n, k } = g;
  if (![m, n, k].every((v) => Number.isInteger(v) && v >= 0)) {
    throw new RangeError(`sgemm: m, n, k must be non-negative integers, got ${m}, ${n}, ${k}`);
  }
  for (
    const [name, arr, off, len] of [
      ["A", a, g.offA ?? 0, m * k],
      ["B", b, g.offB ?? 0, k * n],
      ["C", c, g.offC ?? 0, m * n],
    ] as const
  ) {
    if (off < 0 || off + len > arr.length) {
      throw new RangeError(
        `sgemm: ${name} needs ${len} elements from offset ${off}, has ${arr.length}`,
      );
    }
  }
}

function checkPool(op: string, d: Pool2dDims, x: number, y: number, arg: number): void {
  const want = d.n * d.c * (d.h >> 1) * (d.w >> 1);
  if (x !== d.n * d.c * d.h * d.w || y !== want || arg !== want) {
    throw new RangeError(
      `${op}: sizes x=${x}, y=${y}, argmax=${arg} do not fit ${JSON.stringify(d)}`,
    );
  }
}

function checkSame(op: string, ...arrays: { length: number }[]): void {
  if (arrays.some((a) => a.length !== arrays[0].length)) {
    throw new RangeError(`${op}: arrays differ in length (${arrays.map((a) => a.length)})`);
  }
}

/** The arrays' types with float64 removed (what `asF32` proves). */
type Float32Only<T> = { [K in keyof T]: Exclude<T[K], Float64Array> };

/** The arrays, typed as float32, if every one is float32 (or absent); else null. */
function asF32<T extends (TensorData | null | undefined)[]>(...arrays: T): Float32Only<T> | null {
  return arrays.every((a) => a == null || a instanceof Float32Array)
    ? arrays as Float32Only<T>
    : null;
}

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
function poolGeometry(d: Pool2dDims): Pool2dGeometry {
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
const jsKernels: Kernels = {
  path: "js",
  sgemm: gemm,
  conv2dForward: (x, weight, bias, y, d, o) => {
    conv2dForwardKernel(x, weight, bias, y, geometryOf(d));
    if (o?.relu) mapUnary("relu", y, y);
  },
  conv2dBackwardInput: (dy, weight, dx, d) => conv2dInputGradKernel(dy, weight, dx, geometryOf(d)),
  conv2dBackwardFilter: (x, dy, dw, d) => conv2dWeightGradKernel(x, dy, dw, geometryOf(d)),
  conv2dBackwardBias: (dy, db, d) => conv2dBiasGradKernel(dy, db, geometryOf(d)),
  conv2dBackward: (dy, x, weight, { dx, dw, db }, d, reluOut) => {
    const g = geometryOf(d);
    let delta = dy;
    if (reluOut) {
      delta = dy instanceof Float64Array
        ? new Float64Array(dy.length)
        : new Float32Array(dy.length);
      activationGrad("relu", dy, reluOut, delta);
    }
    if (dx) conv2dInputGradKernel(delta, weight, dx, g);
    if (dw) conv2dWeightGradKernel(x, delta, dw, g);
    if (db) conv2dBiasGradKernel(delta, db, g);
  },
  maxPool2x2Forward: (x, y, argmax, d) =>
    maxPool2dKernel(x, y, argmax ?? new Int32Array(y.length), poolGeometry(d)),
  maxPool2x2Backward: (dy, argmax, dx, reluOut) => {
    maxPool2dBackwardKernel(dy, argmax, dx, dx.length, reluOut ?? null);
    let bad = 0;
    for (let i = 0; i < argmax.length; i++) if (!(argmax[i] >= 0 && argmax[i] < dx.length)) bad++;
    if (bad > 0) {
      throw new RangeError(`maxPool2x2Backward: ${bad} argmax indices outside dx of ${dx.length}`);
    }
  },
  reluForward: (x, y) => mapUnary("relu", x, y),
  reluBackward: (x, dy, dx) => activationGrad("relu", dy, x, dx),
};

/**
 * The wasm kernels of a flavour, moving data through `io`; anything with a float64 operand
 * goes to the plain kernels.
 */
function wasmPath(path: KernelPath, io: () => WasmIo): Kernels {
  const K = io;
  const plain = jsKernels;
  return {
    path,
    sgemm: (a, b, c, g) => {
      const v = asF32(a, b, c);
      if (v) w.sgemmWasm(K(), ...v, g);
      else plain.sgemm(a, b, c, g);
    },
    conv2dForward: (x, weight, bias, y, d, o) => {
      const v = asF32(x, weight, bias, y);
      if (v) w.conv2dForwardWasm(K(), ...v, d, o?.relu);
      else plain.conv2dForward(x, weight, bias, y, d, o);
    },
    conv2dBackwardInput: (dy, weight, dx, d) => {
      const v = asF32(dy, weight, dx);
      if (v) w.conv2dBackwardInputWasm(K(), ...v, d);
      else plain.conv2dBackwardInput(dy, weight, dx, d);
    },
    conv2dBackwardFilter: (x, dy, dw, d) => {
      const v = asF32(x, dy, dw);
      if (v) w.conv2dBackwardFilterWasm(K(), ...v, d);
      else plain.conv2dBackwardFilter(x, dy, dw, d);
    },
    conv2dBackwardBias: (dy, db, d) => {
      const v = asF32(dy, db);
      const { oh, ow } = convOutSize(d);
      if (v) w.conv2dBackwardBiasWasm(K(), ...v, d.n, d.o, oh * ow);
      else plain.conv2dBackwardBias(dy, db, d);
    },
    conv2dBackward: (dy, x, weight, grads, d, reluOut = null) => {
      const v = asF32(dy, x, weight, reluOut, grads.dx, grads.dw, grads.db);
      if (v) {
        const [fdy, fx, fw, fr, dx, dw, db] = v;
        w.conv2dBackwardWasm(K(), fdy, fx, fw, { dx, dw, db }, d, fr);
      } else plain.conv2dBackward(dy, x, weight, grads, d, reluOut);
    },
    maxPool2x2Forward: (x, y, argmax, d) => {
      const v = asF32(x, y);
      if (v) w.maxPool2x2ForwardWasm(K(), ...v, argmax, d);
      else plain.maxPool2x2Forward(x, y, argmax, d);
    },
    maxPool2x2Backward: (dy, argmax, dx, reluOut = null) => {
      const v = asF32(dy, dx, reluOut);
      if (v) w.maxPool2x2BackwardWasm(K(), v[0], argmax, v[1], v[2]);
      else plain.maxPool2x2Backward(dy, argmax, dx, reluOut);
    },
    reluForward: (x, y) => {
      const v = asF32(x, y);
      if (v) w.reluForwardWasm(K(), ...v);
      else plain.reluForward(x, y);
    },
    reluBackward: (x, dy, dx) => {
      const v = asF32(x, dy, dx);
      if (v) w.reluBackwardWasm(K(), ...v);
      else plain.reluBackward(x, dy, dx);
    },
  };
}

/** Wraps a path's kernels with the size checks every path shares. */
function checked(k: Kernels): Kernels {
  return {
    path: k.path,
    sgemm: (a, b, c, g) => (checkGemm(a, b, c, g), k.sgemm(a, b, c, g)),
    conv2dForward: (x, weight, bias, y, d, o) => {
      checkConv("conv2dForward", d, {
        x: x.length,
        weight: weight.length,
        y: y.length,
        bias: bias?.length,
      });
      k.conv2dForward(x, weight, bias, y, d, o);
    },
    conv2dBackwardInput: (dy, weight, dx, d) => {
      checkConv("conv2dBackwardInput", d, { y: dy.length, weight: weight.length, x: dx.length });
      k.conv2dBackwardInput(dy, weight, dx, d);
    },
    conv2dBackwardFilter: (x, dy, dw, d) => {
      checkConv("conv2dBackwardFilter", d, { x: x.length, y: dy.length, weight: dw.length });
      k.conv2dBackwardFilter(x, dy, dw, d);
    },
    conv2dBackwardBias: (dy, db, d) => {
      checkConv("conv2dBackwardBias", d, { y: dy.length, bias: db.length });
      k.conv2dBackwardBias(dy, db, d);
    },
    conv2dBackward: (dy, x, weight, grads, d, reluOut) => {
      checkConv("conv2dBackward", d, {
        y: dy.length,
        x: x.length,
        weight: weight.length,
        ...(grads.dx ? { dxOut: grads.dx.length } : {}),
        ...(grads.dw ? { dwOut: grads.dw.length } : {}),
        ...(grads.db ? { bias: grads.db.length } : {}),
      });
      if (reluOut) checkSame("conv2dBackward", dy, reluOut);
      k.conv2dBackward(dy, x, weight, grads, d, reluOut);
    },
    maxPool2x2Forward: (x, y, argmax, d) => {
      checkPool("maxPool2x2Forward", d, x.length, y.length, argmax?.length ?? y.length);
      k.maxPool2x2Forward(x, y, argmax, d);
    },
    maxPool2x2Backward: (dy, argmax, dx, reluOut) => {
      checkSame("maxPool2x2Backward", dy, argmax, ...(reluOut ? [reluOut] : []));
      k.maxPool2x2Backward(dy, argmax, dx, reluOut);
    },
    reluForward: (x, y) => (checkSame("reluForward", x, y), k.reluForward(x, y)),
    reluBackward: (x, dy, dx) => (checkSame("reluBackward", x, dy, dx), k.reluBackward(x, dy, dx)),
  };
}

/** Per flavour, the resident io over the flavour's (shared, lazily compiled) module. */
const residentIos = new Map<Flavor, ResidentIo>();

/** The {@link ResidentIo} of a flavour's kernel module (the ops' io). */
export function residentIo(flavor: Flavor): ResidentIo {
  let io = residentIos.get(flavor);
  if (!io) residentIos.set(flavor, io = new ResidentIo(wasmKernels(flavor)));
  return io;
}

const byPath: Record<KernelPath, Kernels> = {
  "wasm-relaxed": checked(wasmPath("wasm-relaxed", () => wasmKernels("relaxed"))),
  "wasm-simd": checked(wasmPath("wasm-simd", () => wasmKernels("simd"))),
  js: checked(jsKernels),
};

const forOps: Record<KernelPath, Kernels> = {
  "wasm-relaxed": checked(wasmPath("wasm-relaxed", () => residentIo("relaxed"))),
  "wasm-simd": checked(wasmPath("wasm-simd", () => residentIo("simd"))),
  js: byPath.js,
};

/**
 * The kernels of a given path (tests and benchmarks compare paths side by side). Each call
 * copies its operands into wasm memory and its results out; the arrays are the caller's.
 */
export function kernelsFor(path: KernelPath): Kernels {
  return byPath[path];
}

/** The kernels of the active path ({@link kernelPath}), as {@link kernelsFor}. */
export function kernels(): Kernels {
  return byPath[kernelPath()];
}

/**
 * The kernels of the active path for the ops, whose inputs are tensor data and whose outputs
 * become tensor data: on the wasm paths they reuse the wasm copies of arrays a kernel wrote
 * (see `resident.ts`). Never hand them arrays that are written to after the call.
 */
export function opKernels(): Kernels {
  return forOps[kernelPath()];
}
