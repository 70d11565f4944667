/**
 * Reference definitions of the elementwise ops (binary arithmetic with NumPy broadcasting and
 * number operands, and the unary functions), composed ONLY of the autograd's primitives, so that
 * their gradients come from the primitive table's chain rule and can check the fast ops' hand
 * rules.
 *
 * Broadcasting is explicit, as the primitives want it: both operands are `broadcastTo` the
 * result shape (whose VJP sums over the broadcast axes: the `sumToShape` of the hand rules). A
 * number operand is a constant tensor of the other operand's dtype and gets no gradient. Ties
 * follow the fast ops: `maximum`/`minimum` send the gradient to the FIRST argument, `clamp`
 * passes it on the closed range `[lo, hi]`.
 *
 * @module
 */

import { TensorError } from "../tensor/errors.ts";
import { full, type Shape, Tensor } from "../tensor/tensor.ts";
import { broadcastShapes, sameShape } from "./indexing.ts";
import * as P from "./primitives.ts";

/** A tensor or a plain number standing for a constant of the other operand's dtype. */
export type RefOperand = Tensor | number;

/** `t` broadcast to `shape` (a recorded primitive unless it already has that shape). */
function expand(t: Tensor, shape: Shape): Tensor {
  return sameShape(t.shape, shape) ? t : P.broadcastTo(t, shape);
}

/** Both operands as tensors of the broadcast shape; a number becomes a constant. */
function operands(op: string, a: RefOperand, b: RefOperand): [Tensor, Tensor] {
  if (!(a instanceof Tensor) && !(b instanceof Tensor)) {
    throw new TensorError(op, `both operands are numbers (${a}, ${b}); pass at least one Tensor`);
  }
  const ta = a instanceof Tensor ? a : full([], a, { dtype: (b as Tensor).dtype });
  const tb = b instanceof Tensor ? b : full([], b, { dtype: ta.dtype });
  const shape = broadcastShapes(op, ta.shape, tb.shape);
  return [expand(ta, shape), expand(tb, shape)];
}

/** `x * c` for a number `c` (a constant factor). */
function scale(x: Tensor, c: number): Tensor {
  return P.mul(x, full(x.shape, c, { dtype: x.dtype }));
}

/**
 * `a + b` with broadcasting.
 *
 * @example
 * ```ts
 * import { ref, tensor } from "./mod.ts";
 * console.log(ref.add(tensor([[1, 2], [3, 4]]), tensor([10, 20])).data); // [11, 22, 13, 24]
 * ```
 */
export function add(a: RefOperand, b: RefOperand): Tensor {
  return P.add(...operands("ref.add", a, b));
}

/**
 * `a - b` with broadcasting.
 *
 * @example
 * ```ts
 * import { ref, tensor } from "./mod.ts";
 * console.log(ref.sub(1, tensor([1, 2])).data); // [0, -1]
 * ```
 */
export function sub(a: RefOperand, b: RefOperand): Tensor {
  return P.sub(...operands("ref.sub", a, b));
}

/**
 * `a * b` with broadcasting.
 *
 * @example
 * ```ts
 * import { ref, tensor } from "./mod.ts";
 * console.log(ref.mul(tensor([1, 2]), 3).data); // [3, 6]
 * ```
 */
export function mul(a: RefOperand, b: RefOperand): Tensor {
  return P.mul(...operands("ref.mul", a, b));
}

/**
 * `a / b` with broadcasting.
 *
 * @example
 * ```ts
 * import { ref, tensor } from "./mod.ts";
 * console.log(ref.div(2, tensor([1, 4])).data); // [2, 0.5]
 * ```
 */
export function div(a: RefOperand, b: RefOperand): Tensor {
  return P.div(...operands("ref.div", a, b));
}

/**
 * `max(a, b)` with broadcasting; on ties the gradient goes to `a` (as the fast op's).
 *
 * @example
 * ```ts
 * import { ref, tensor } from "./mod.ts";
 * console.log(ref.maximum(tensor([-1, 2, 5]), 2).data); // [2, 2, 5]
 * ```
 */
export function maximum(a: RefOperand, b: RefOperand): Tensor {
  return P.maximum(...operands("ref.maximum", a, b));
}

/**
 * `min(a, b) = -max(-a, -b)` with broadcasting; on ties the gradient goes to `a` (the primitive
 * maximum's first argument), as the fast op's.
 *
 * @example
 * ```ts
 * import { ref, tensor } from "./mod.ts";
 * console.log(ref.minimum(tensor([-1, 2, 5]), 2).data); // [-1, 2, 2]
 * ```
 */
export function minimum(a: RefOperand, b: RefOperand): Tensor {
  const [ta, tb] = operands("ref.minimum", a, b);
  return P.neg(P.maximum(P.neg(ta), P.neg(tb)));
}

/**
 * `-x`.
 *
 * @example
 * ```ts
 * import { ref, tensor } from "./mod.ts";
 * console.log(ref.neg(tensor([1, -2])).data); // [-1, 2]
 * ```
 */
export function neg(x: Tensor): Tensor {
  return P.neg(x);
}

/**
 * `e^x`.
 *
 * @example
 * ```ts
 * import { ref, tensor } from "./mod.ts";
 * console.log(ref.exp(tensor([0])).data); // [1]
 * ```
 */
export function exp(x: Tensor): Tensor {
  return P.exp(x);
}

/**
 * Natural logarithm.
 *
 * @example
 * ```ts
 * import { ref, tensor } from "./mod.ts";
 * console.log(ref.log(tensor([1])).data); // [0]
 * ```
 */
export function log(x: Tensor): Tensor {
  return P.log(x);
}

/**
 * Hyperbolic tangent.
 *
 * @example
 * ```ts
 * import { ref, tensor } from "./mod.ts";
 * console.log(ref.tanh(tensor([0])).data); // [0]
 * ```
 */
export function tanh(x: Tensor): Tensor {
  return P.tanh(x);
}

/**
 * `sqrt(x) = exp(log(x) / 2)`, for `x > 0` (the chain rule gives `1 / (2 sqrt x)`).
 *
 * @example
 * ```ts
 * import { ref, tensor } from "./mod.ts";
 * console.log(ref.sqrt(tensor([4], { dtype: "float64" })).data); // ~[2]
 * ```
 */
export function sqrt(x: Tensor): Tensor {
  return P.exp(scale(P.log(x), 0.5));
}

/**
 * `x * x`.
 *
 * @example
 * ```ts
 * import { ref, tensor } from "./mod.ts";
 * console.log(ref.square(tensor([3])).data); // [9]
 * ```
 */
export function square(x: Tensor): Tensor {
  return P.mul(x, x);
}

/**
 * `x^p`: for an integer `p`, a product of powers `x^(2^i)` (inverted for `p < 0`; any sign of `x`);
 * otherwise `exp(p log x)` (defined for `x > 0`, as `Math.pow` is for a fractional `p`).
 *
 * @example
 * ```ts
 * import { ref, tensor } from "./mod.ts";
 * console.log(ref.pow(tensor([2, 3]), 3).data); // [8, 27]
 * ```
 */
export function pow(x: Tensor, p: number): Tensor {
  if (typeof p !== "number" || Number.isNaN(p)) {
    throw new TensorError("ref.pow", `exponent ${p} must be a number (not NaN)`);
  }
  const one = full(x.shape, 1, { dtype: x.dtype });
  if (!Number.isInteger(p)) return P.exp(scale(P.log(x), p));
  if (p === 0) return one;
  // Square-and-multiply: x^13 = x^8 x^4 x, about log2 |p| products.
  let y: Tensor | null = null, base = x;
  for (let n = Math.abs(p); n > 0; n = Math.floor(n / 2)) {
    if (n % 2 === 1) y = y === null ? base : P.mul(y, base);
    if (n > 1) base = P.mul(base, base);
  }
  return p > 0 ? y! : P.div(one, y!);
}

/**
 * `min(max(x, lo), hi)`; the gradient passes on the closed range `[lo, hi]` (the primitive
 * maximum's tie rule sends it to `x` at both bounds), as the fast op's.
 *
 * @example
 * ```ts
 * import { ref, tensor } from "./mod.ts";
 * console.log(ref.clamp(tensor([-2, 0.5, 3]), 0, 1).data); // [0, 0.5, 1]
 * ```
 */
export function clamp(x: Tensor, lo: number, hi: number): Tensor {
  if (Number.isNaN(lo) || Number.isNaN(hi) || !(lo <= hi)) {
    throw new TensorError("ref.clamp", `bounds lo = ${lo}, hi = ${hi} need lo <= hi`);
  }
  return minimum(maximum(x, lo), hi);
}
