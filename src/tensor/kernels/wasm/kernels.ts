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
import { gemm, type GemmArgs } from "../gemm.ts";
import { checkConv, type Conv2dDims, convOutSize, type Pool2dDims } from "./dims.ts";
import * as js from "./js_kernels.ts";
import { type KernelPath, kernelPath, wasmKernels } from "./runtime.ts";
import type { Flavor } from "./simd.ts";
import * as w from "./wasm_calls.ts";

/** Options of {@link Kernels.conv2dForward}. */
export interface ConvForwardOptions {
  /** Apply ReLU to the output (fused into the kernel's store). */
  relu?: boolean;
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
  /** 2x2 stride-2 max-pool; `argmax[i]` = flat index into x of output i's first maximum. */
  maxPool2x2Forward(x: TensorData, y: TensorData, argmax: Int32Array, d: Pool2dDims): void;
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
  /** `y = x < 0 ? 0 : x` (NaN stays NaN). */
  reluForward(x: TensorData, y: TensorData): void;
  /** `dx = x > 0 ? dy : 0`. */
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

/** The plain-TypeScript kernels. */
const jsKernels: Kernels = {
  path: "js",
  sgemm: gemm,
  conv2dForward: (x, weight, bias, y, d, o) => js.conv2dForwardJs(x, weight, bias, y, d, o?.relu),
  conv2dBackwardInput: js.conv2dBackwardInputJs,
  conv2dBackwardFilter: js.conv2dBackwardFilterJs,
  conv2dBackwardBias: (dy, db, d) => {
    const { oh, ow } = convOutSize(d);
    js.conv2dBackwardBiasJs(dy, db, d.n, d.o, oh * ow);
  },
  maxPool2x2Forward: js.maxPool2x2ForwardJs,
  maxPool2x2Backward: (dy, argmax, dx, reluOut) => js.maxPool2x2BackwardJs(dy, argmax, dx, reluOut),
  reluForward: js.reluForwardJs,
  reluBackward: js.reluBackwardJs,
};

/** The wasm kernels of a flavour; anything with a float64 operand goes to the plain kernels. */
function wasmPath(path: KernelPath, flavor: Flavor): Kernels {
  const K = () => wasmKernels(flavor);
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
    maxPool2x2Forward: (x, y, argmax, d) => {
      checkPool("maxPool2x2Forward", d, x.length, y.length, argmax.length);
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

const byPath: Record<KernelPath, Kernels> = {
  "wasm-relaxed": checked(wasmPath("wasm-relaxed", "relaxed")),
  "wasm-simd": checked(wasmPath("wasm-simd", "simd")),
  js: checked(jsKernels),
};

/** The kernels of a given path (tests and benchmarks compare paths side by side). */
export function kernelsFor(path: KernelPath): Kernels {
  return byPath[path];
}

/** The kernels of the active path ({@link kernelPath}). */
export function kernels(): Kernels {
  return byPath[kernelPath()];
}
