/**
 * Unary elementwise ops: neg, exp, log, sqrt, square, pow (scalar exponent), clamp.
 *
 * Each forward is one plain loop over the flat data; each backward multiplies the upstream
 * gradient by the op's derivative, written beside it.
 *
 * @module
 */

import { div, mul } from "./elementwise.ts";
import { fmtShape, TensorError } from "./errors.ts";
import { clampGradLoop, clampLoop, mapUnary, powLoop, type UnaryKernel } from "./kernels/unary.ts";
import { allocData, Tensor } from "./tensor.ts";
import { recordOp } from "./trace.ts";
import { checkGrad } from "./validate.ts";

/** Applies a unary loop into a fresh tensor of `x`'s shape and dtype (unrecorded). */
export function unaryKernel(kind: UnaryKernel, x: Tensor): Tensor {
  const out = allocData(x.dtype, x.size);
  mapUnary(kind, x.data, out);
  return new Tensor(out, x.shape);
}

/**
 * Elementwise `-x`.
 *
 * Backward: `dX = -g`.
 *
 * @example
 * ```ts
 * import { neg, tensor } from "./mod.ts";
 * console.log(neg(tensor([1, -2])).data); // Float32Array [-1, 2]
 * ```
 */
export function neg(x: Tensor): Tensor {
  return recordOp("neg", [x], unaryKernel("neg", x), () => (g) => [negBackward(g)]);
}

/**
 * VJP of {@link neg}: `d(-x) = -dx`.
 *
 * @example
 * ```ts
 * import { negBackward, tensor } from "./mod.ts";
 * console.log(negBackward(tensor([1, 2])).data); // Float32Array [-1, -2]
 * ```
 */
export function negBackward(g: Tensor): Tensor {
  return neg(g);
}

/**
 * Elementwise `e^x`.
 *
 * Backward: `dX = g * e^x = g * y`.
 *
 * @example
 * ```ts
 * import { exp, tensor } from "./mod.ts";
 * console.log(exp(tensor([0, 1], { dtype: "float64" })).data); // Float64Array [1, 2.718281828459045]
 * ```
 */
export function exp(x: Tensor): Tensor {
  const y = unaryKernel("exp", x);
  return recordOp("exp", [x], y, () => (g) => [expBackward(g, y)]);
}

/**
 * VJP of {@link exp} in terms of its output `y = e^x`: `d(e^x) = e^x dx`, so `dX = g * y`.
 *
 * @example
 * ```ts
 * import { exp, expBackward, ones, tensor } from "./mod.ts";
 * const y = exp(tensor([0, 1]));
 * console.log(expBackward(ones([2]), y).data); // equals y.data
 * ```
 */
export function expBackward(g: Tensor, y: Tensor): Tensor {
  return mul(g, y);
}

/**
 * Elementwise natural logarithm (`log(0) = -Infinity`, negative input gives NaN).
 *
 * Backward: `dX = g / x`.
 *
 * @example
 * ```ts
 * import { log, tensor } from "./mod.ts";
 * console.log(log(tensor([1, Math.E], { dtype: "float64" })).data); // Float64Array [0, 1]
 * ```
 */
export function log(x: Tensor): Tensor {
  return recordOp("log", [x], unaryKernel("log", x), () => (g) => [logBackward(g, x)]);
}

/**
 * VJP of {@link log}: `d(log x) = dx / x`.
 *
 * @example
 * ```ts
 * import { logBackward, ones, tensor } from "./mod.ts";
 * console.log(logBackward(ones([2]), tensor([2, 4])).data); // Float32Array [0.5, 0.25]
 * ```
 */
export function logBackward(g: Tensor, x: Tensor): Tensor {
  return div(g, x);
}

/**
 * Elementwise square root (negative input gives NaN).
 *
 * Backward: `dX = g / (2 sqrt(x)) = g / (2 y)` (infinite at 0).
 *
 * @example
 * ```ts
 * import { sqrt, tensor } from "./mod.ts";
 * console.log(sqrt(tensor([4, 9])).data); // Float32Array [2, 3]
 * ```
 */
export function sqrt(x: Tensor): Tensor {
  const y = unaryKernel("sqrt", x);
  return recordOp("sqrt", [x], y, () => (g) => [sqrtBackward(g, y)]);
}

/**
 * VJP of {@link sqrt} in terms of its output `y = sqrt(x)`: `d sqrt(x) = dx / (2 y)`.
 *
 * @example
 * ```ts
 * import { ones, sqrtBackward, tensor } from "./mod.ts";
 * console.log(sqrtBackward(ones([1]), tensor([2])).data); // Float32Array [0.25]
 * ```
 */
export function sqrtBackward(g: Tensor, y: Tensor): Tensor {
  return div(g, mul(y, 2));
}

/**
 * Elementwise `x^2`.
 *
 * Backward: `dX = 2 x g`.
 *
 * @example
 * ```ts
 * import { square, tensor } from "./mod.ts";
 * console.log(square(tensor([-3, 2])).data); // Float32Array [9, 4]
 * ```
 */
export function square(x: Tensor): Tensor {
  return recordOp("square", [x], unaryKernel("square", x), () => (g) => [squareBackward(g, x)]);
}

/**
 * VJP of {@link square}: `d(x^2) = 2 x dx`.
 *
 * @example
 * ```ts
 * import { ones, squareBackward, tensor } from "./mod.ts";
 * console.log(squareBackward(ones([2]), tensor([-3, 2])).data); // Float32Array [-6, 4]
 * ```
 */
export function squareBackward(g: Tensor, x: Tensor): Tensor {
  return mul(g, mul(x, 2));
}

/**
 * Elementwise `x^p` for a scalar exponent `p` (`Math.pow` semantics: a negative base with a
 * non-integer exponent gives NaN).
 *
 * Backward: `dX = g * p * x^(p - 1)` (so at `x = 0` the gradient is 0 for `p > 1`, `g` for
 * `p = 1`, and infinite for `p < 1`).
 *
 * @example
 * ```ts
 * import { pow, tensor } from "./mod.ts";
 * console.log(pow(tensor([2, 3]), 3).data); // Float32Array [8, 27]
 * ```
 */
export function pow(x: Tensor, p: number): Tensor {
  if (typeof p !== "number" || Number.isNaN(p)) {
    throw new TensorError("pow", `exponent ${p} must be a number (a scalar exponent, not NaN)`);
  }
  const out = allocData(x.dtype, x.size);
  powLoop(x.data, p, out);
  return recordOp("pow", [x], new Tensor(out, x.shape), () => (g) => [powBackward(g, x, p)]);
}

/**
 * VJP of {@link pow}: `d(x^p) = p x^(p-1) dx`.
 *
 * @example
 * ```ts
 * import { ones, powBackward, tensor } from "./mod.ts";
 * console.log(powBackward(ones([2]), tensor([2, 3]), 3).data); // Float32Array [12, 27]
 * ```
 */
export function powBackward(g: Tensor, x: Tensor, p: number): Tensor {
  // p = 1: x^0 is 1 even at x = 0 (Math.pow(0, 0) = 1), so the gradient passes unchanged.
  return mul(g, mul(pow(x, p - 1), p));
}

/**
 * Elementwise `min(max(x, lo), hi)`; `lo` may be `-Infinity` and `hi` `Infinity`.
 *
 * Backward: `dX = g * [lo <= x <= hi]`: the gradient passes inside the CLOSED range, boundaries
 * included (as PyTorch does), and is 0 where the input was clipped.
 *
 * @example
 * ```ts
 * import { clamp, tensor } from "./mod.ts";
 * console.log(clamp(tensor([-2, 0.5, 3]), 0, 1).data); // Float32Array [0, 0.5, 1]
 * ```
 */
export function clamp(x: Tensor, lo: number, hi: number): Tensor {
  if (Number.isNaN(lo) || Number.isNaN(hi) || !(lo <= hi)) {
    throw new TensorError(
      "clamp",
      `bounds lo = ${lo}, hi = ${hi} are invalid for shape ${fmtShape(x.shape)}; ` +
        `need lo <= hi (use -Infinity or Infinity for a one-sided clamp)`,
    );
  }
  const out = allocData(x.dtype, x.size);
  clampLoop(x.data, lo, hi, out);
  return recordOp("clamp", [x], new Tensor(out, x.shape), () => (g) => [
    clampBackward(g, x, lo, hi),
  ]);
}

/**
 * VJP of {@link clamp}: `dX = g * [lo <= x <= hi]` (boundaries pass the gradient).
 *
 * @example
 * ```ts
 * import { clampBackward, ones, tensor } from "./mod.ts";
 * console.log(clampBackward(ones([4]), tensor([-2, 0, 1, 3]), 0, 1).data); // [0, 1, 1, 0]
 * ```
 */
export function clampBackward(g: Tensor, x: Tensor, lo: number, hi: number): Tensor {
  checkGrad("clampBackward", g, x.shape, x.dtype);
  const out = allocData(g.dtype, g.size);
  clampGradLoop(g.data, x.data, lo, hi, out);
  return new Tensor(out, g.shape);
}
