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
 * Layouts: NCHW activations, OIHW weights, stride 1, zero padding on each side (`Conv2dDims`);
 * max-pool 2x2 stride 2 with floor (`Pool2dDims`), arg-max as int32 flat indices into x.
 *
 * Two sets per wasm path: {@link kernelsFor}/{@link kernels} copy every operand into a per-call
 * arena and every result out (any caller's arrays); {@link opKernels}, what the ops call through
 * `../dispatch.ts`, reuse the wasm copy of an array a kernel wrote (`resident.ts`).
 *
 * @module
 */

import type { TensorData } from "../../tensor.ts";
import type { GemmArgs } from "../gemm.ts";
import { checkConv, type Conv2dDims, convOutSize, type Pool2dDims } from "./dims.ts";
import { jsKernels } from "./js_path.ts";
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
   * The conv block `y = maxPool2x2(relu(x ⋆ weight + bias))`: the convolution's output stays
   * in scratch memory; `argmax[i]` = flat index into that output (`[n, o, oh, ow]`) of output
   * i's first maximum (null: not wanted). `y` is `[n, o, floor(oh/2), floor(ow/2)]`.
   */
  conv2dReluPoolForward(
    x: TensorData,
    weight: TensorData,
    bias: TensorData | null,
    y: TensorData,
    argmax: Int32Array | null,
    d: Conv2dDims,
  ): void;
  /**
   * The conv block's gradients: `dz = 0; dz[argmax[i]] += dy[i]` where `y[i] > 0` (max-pool
   * and ReLU backward, fused; `dz` stays in scratch memory), then the gradients of the
   * convolution at `dz`, each where its array is given.
   */
  conv2dReluPoolBackward(
    dy: TensorData,
    y: TensorData,
    argmax: Int32Array,
    x: TensorData,
    weight: TensorData,
    grads: ConvGradArrays,
    d: Conv2dDims,
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

/** Checks that the conv block's pooled arrays have `n * o * floor(oh/2) * floor(ow/2)` elements. */
function checkBlock(op: string, d: Conv2dDims, ...lengths: number[]): void {
  const { oh, ow } = convOutSize(d);
  const want = d.n * d.o * (oh >> 1) * (ow >> 1);
  if (lengths.some((l) => l !== want)) {
    throw new RangeError(`${op}: pooled arrays have ${lengths} elements, expected ${want}`);
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
    conv2dReluPoolForward: (x, weight, bias, y, argmax, d) => {
      const v = asF32(x, weight, bias, y);
      if (v) w.conv2dReluPoolForwardWasm(K(), ...v, argmax, d);
      else plain.conv2dReluPoolForward(x, weight, bias, y, argmax, d);
    },
    conv2dReluPoolBackward: (dy, y, argmax, x, weight, grads, d) => {
      const v = asF32(dy, y, x, weight, grads.dx, grads.dw, grads.db);
      if (v) {
        const [fdy, fy, fx, fw, dx, dw, db] = v;
        w.conv2dReluPoolBackwardWasm(K(), fdy, fy, argmax, fx, fw, { dx, dw, db }, d);
      } else plain.conv2dReluPoolBackward(dy, y, argmax, x, weight, grads, d);
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
    conv2dReluPoolForward: (x, weight, bias, y, argmax, d) => {
      checkConv("conv2dReluPoolForward", d, {
        x: x.length,
        weight: weight.length,
        bias: bias?.length,
      });
      checkBlock("conv2dReluPoolForward", d, y.length, argmax?.length ?? y.length);
      k.conv2dReluPoolForward(x, weight, bias, y, argmax, d);
    },
    conv2dReluPoolBackward: (dy, y, argmax, x, weight, grads, d) => {
      checkConv("conv2dReluPoolBackward", d, {
        x: x.length,
        weight: weight.length,
        ...(grads.dx ? { dxOut: grads.dx.length } : {}),
        ...(grads.dw ? { dwOut: grads.dw.length } : {}),
        ...(grads.db ? { bias: grads.db.length } : {}),
      });
      checkBlock("conv2dReluPoolBackward", d, dy.length, y.length, argmax.length);
      k.conv2dReluPoolBackward(dy, y, argmax, x, weight, grads, d);
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
