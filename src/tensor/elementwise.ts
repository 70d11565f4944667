/**
 * Binary elementwise arithmetic with NumPy broadcasting and scalar operands: add, sub, mul,
 * div, maximum, minimum.
 *
 * Either operand may be a plain number (at least one must be a tensor); a number adopts the
 * tensor's dtype (a float32 op rounds it to float32 first). Two tensors must share a dtype.
 *
 * Backward rules: each op's local derivative times the upstream gradient, then
 * {@link sumToShape} reduces it back to each operand's shape (the broadcasting rule). A number
 * operand is a constant and gets no gradient (`null`).
 *
 * @module
 */

import { broadcastShapes, broadcastStrides, sameShape, sumToShape } from "./broadcast.ts";
import { TensorError } from "./errors.ts";
import { type BinaryKernel, ROW_KERNELS, runBinary } from "./kernels/binary.ts";
import { contiguousStrides, planStrided } from "./kernels/strided.ts";
import { allocData, type DType, Tensor } from "./tensor.ts";
import { recordOp } from "./trace.ts";
import { checkSameDType } from "./validate.ts";

/** A tensor or a plain number standing for a scalar of the other operand's dtype. */
export type Operand = Tensor | number;

/** Gradients of a binary op: one per operand, `null` for a number operand. */
export type BinaryGrads = [Tensor | null, Tensor | null];

/** A rank-0 tensor holding `v` in `dtype`. */
export function scalarTensor(v: number, dtype: DType): Tensor {
  const data = allocData(dtype, 1);
  data[0] = v;
  return new Tensor(data, []);
}

/** Validates the operands and turns a number operand into a rank-0 tensor. */
function operands(op: string, a: Operand, b: Operand): [Tensor, Tensor] {
  for (const [side, v] of [["first", a], ["second", b]] as const) {
    if (!(v instanceof Tensor) && typeof v !== "number") {
      throw new TensorError(
        op,
        `the ${side} operand is ${Array.isArray(v) ? "an array" : typeof v}; operands must be ` +
          `Tensors or numbers (wrap nested arrays with tensor(...))`,
      );
    }
  }
  if (!(a instanceof Tensor)) {
    if (!(b instanceof Tensor)) {
      throw new TensorError(
        op,
        `both operands are numbers (${a}, ${b}); at least one must be a Tensor ` +
          `(wrap one with tensor(...))`,
      );
    }
    return [scalarTensor(a, b.dtype), b];
  }
  if (!(b instanceof Tensor)) return [a, scalarTensor(b, a.dtype)];
  checkSameDType(op, a, b);
  return [a, b];
}

/**
 * Runs a binary kernel with broadcasting, unrecorded (the building block of the ops below and
 * of masks in backward rules). Equal shapes and scalar operands take a single flat loop.
 */
export function binaryKernel(op: string, kernel: BinaryKernel, a: Tensor, b: Tensor): Tensor {
  const k = ROW_KERNELS[kernel];
  if (sameShape(a.shape, b.shape)) {
    const out = allocData(a.dtype, a.size);
    k(a.data, 0, 1, b.data, 0, 1, out, 0, a.size);
    return new Tensor(out, a.shape);
  }
  if (b.rank === 0) {
    const out = allocData(a.dtype, a.size);
    k(a.data, 0, 1, b.data, 0, 0, out, 0, a.size);
    return new Tensor(out, a.shape);
  }
  if (a.rank === 0) {
    const out = allocData(b.dtype, b.size);
    k(a.data, 0, 0, b.data, 0, 1, out, 0, b.size);
    return new Tensor(out, b.shape);
  }
  const shape = broadcastShapes(op, a.shape, b.shape);
  const out = allocData(a.dtype, shape.reduce((x, y) => x * y, 1));
  const plan = planStrided(shape, [
    contiguousStrides(shape),
    broadcastStrides(a.shape, shape),
    broadcastStrides(b.shape, shape),
  ]);
  runBinary(k, a.data, b.data, out, plan);
  return new Tensor(out, shape);
}

/** Computes a binary op and records it with the tensor operands only. */
function binaryOp(
  name: BinaryKernel,
  a: Operand,
  b: Operand,
  backward: (g: Tensor, a: Operand, b: Operand) => BinaryGrads,
): Tensor {
  const [ta, tb] = operands(name, a, b);
  const y = binaryKernel(name, name, ta, tb);
  const inputs = [a, b].filter((t): t is Tensor => t instanceof Tensor);
  return recordOp(name, inputs, y, () => (g) => {
    const [da, db] = backward(g, a, b);
    return a instanceof Tensor ? (b instanceof Tensor ? [da, db] : [da]) : [db];
  });
}

/** `sumToShape(g, shape(x))` for a tensor operand, `null` for a number. */
function reduceTo(g: Tensor, x: Operand): Tensor | null {
  return x instanceof Tensor ? sumToShape(g, x.shape) : null;
}

/**
 * Elementwise `a + b` with broadcasting.
 *
 * Backward: `dA = sumToShape(g, shape(A))`, `dB = sumToShape(g, shape(B))`.
 *
 * @example
 * ```ts
 * import { add, tensor } from "./mod.ts";
 * console.log(add(tensor([[1, 2], [3, 4]]), tensor([10, 20])).data); // [11, 22, 13, 24]
 * console.log(add(1, tensor([1, 2])).data); // [2, 3]
 * ```
 */
export function add(a: Operand, b: Operand): Tensor {
  return binaryOp("add", a, b, addBackward);
}

/**
 * VJP of {@link add}: `d(a + b) = da + db`, so both operands receive `g`, each summed back to
 * its own shape.
 *
 * @example
 * ```ts
 * import { addBackward, ones, tensor } from "./mod.ts";
 * const [da, db] = addBackward(ones([2, 2]), tensor([[1, 2], [3, 4]]), tensor([10, 20]));
 * console.log(da?.shape, db?.data); // [2, 2] Float32Array [2, 2]
 * ```
 */
export function addBackward(g: Tensor, a: Operand, b: Operand): BinaryGrads {
  return [reduceTo(g, a), reduceTo(g, b)];
}

/**
 * Elementwise `a - b` with broadcasting.
 *
 * Backward: `dA = sumToShape(g, shape(A))`, `dB = -sumToShape(g, shape(B))`.
 *
 * @example
 * ```ts
 * import { sub, tensor } from "./mod.ts";
 * console.log(sub(tensor([5, 7]), 1).data); // [4, 6]
 * ```
 */
export function sub(a: Operand, b: Operand): Tensor {
  return binaryOp("sub", a, b, subBackward);
}

/**
 * VJP of {@link sub}: `d(a - b) = da - db`.
 *
 * @example
 * ```ts
 * import { ones, subBackward, tensor } from "./mod.ts";
 * const [, db] = subBackward(ones([2]), tensor([5, 7]), tensor([1, 1]));
 * console.log(db?.data); // Float32Array [-1, -1]
 * ```
 */
export function subBackward(g: Tensor, a: Operand, b: Operand): BinaryGrads {
  const db = reduceTo(g, b);
  return [reduceTo(g, a), db && mul(db, -1)];
}

/**
 * Elementwise `a * b` with broadcasting.
 *
 * Backward: `dA = sumToShape(g * b, shape(A))`, `dB = sumToShape(g * a, shape(B))`.
 *
 * @example
 * ```ts
 * import { mul, tensor } from "./mod.ts";
 * console.log(mul(tensor([[1, 2], [3, 4]]), tensor([[10], [100]])).data); // [10, 20, 300, 400]
 * ```
 */
export function mul(a: Operand, b: Operand): Tensor {
  return binaryOp("mul", a, b, mulBackward);
}

/**
 * VJP of {@link mul}: `d(a b) = b da + a db`.
 *
 * @example
 * ```ts
 * import { mulBackward, ones, tensor } from "./mod.ts";
 * const [da, db] = mulBackward(ones([2]), tensor([2, 3]), tensor([5, 7]));
 * console.log(da?.data, db?.data); // Float32Array [5, 7] Float32Array [2, 3]
 * ```
 */
export function mulBackward(g: Tensor, a: Operand, b: Operand): BinaryGrads {
  return [
    a instanceof Tensor ? sumToShape(mul(g, b), a.shape) : null,
    b instanceof Tensor ? sumToShape(mul(g, a), b.shape) : null,
  ];
}

/**
 * Elementwise `a / b` with broadcasting (IEEE semantics: `x / 0` is `±Infinity` or `NaN`).
 *
 * Backward: `dA = sumToShape(g / b, shape(A))`, `dB = sumToShape(-g a / b^2, shape(B))`.
 *
 * @example
 * ```ts
 * import { div, tensor } from "./mod.ts";
 * console.log(div(tensor([1, 3]), 2).data); // [0.5, 1.5]
 * ```
 */
export function div(a: Operand, b: Operand): Tensor {
  return binaryOp("div", a, b, divBackward);
}

/**
 * VJP of {@link div}: `d(a / b) = da / b - a db / b^2`.
 *
 * @example
 * ```ts
 * import { divBackward, ones, tensor } from "./mod.ts";
 * const [da, db] = divBackward(ones([1]), tensor([3]), tensor([2]));
 * console.log(da?.data, db?.data); // Float32Array [0.5] Float32Array [-0.75]
 * ```
 */
export function divBackward(g: Tensor, a: Operand, b: Operand): BinaryGrads {
  return [
    a instanceof Tensor ? sumToShape(div(g, b), a.shape) : null,
    b instanceof Tensor ? sumToShape(mul(div(div(mul(g, a), b), b), -1), b.shape) : null,
  ];
}

/**
 * Gradients of maximum/minimum: `mask` (1 where the first operand was selected) routes `g` to
 * `a`, the rest goes to `b`: `dA = g * mask`, `dB = g - g * mask = g * (1 - mask)`.
 */
function routeBackward(
  name: "maximum" | "minimum",
  g: Tensor,
  a: Operand,
  b: Operand,
): BinaryGrads {
  const [ta, tb] = operands(name, a, b);
  const mask = binaryKernel(name, name === "maximum" ? "ge" : "le", ta, tb);
  const ga = mul(g, mask);
  return [reduceTo(ga, a), b instanceof Tensor ? sumToShape(sub(g, ga), b.shape) : null];
}

/**
 * Elementwise larger of `a` and `b` with broadcasting; NaN if either is NaN.
 *
 * Backward (the kink at `a = b` goes to the FIRST argument): `dA = g * [a >= b]`,
 * `dB = g * [a < b]`, each summed back to its operand's shape. `maximum(x, 0)` is therefore a
 * ReLU whose derivative at 0 is 1; use {@link relu} for `relu'(0) = 0`.
 *
 * @example
 * ```ts
 * import { maximum, tensor } from "./mod.ts";
 * console.log(maximum(tensor([-1, 2, 5]), 2).data); // [2, 2, 5]
 * ```
 */
export function maximum(a: Operand, b: Operand): Tensor {
  return binaryOp("maximum", a, b, maximumBackward);
}

/**
 * VJP of {@link maximum}: `dA = g [a >= b]`, `dB = g [a < b]` (ties go to `a`).
 *
 * @example
 * ```ts
 * import { maximumBackward, ones, tensor } from "./mod.ts";
 * const [da, db] = maximumBackward(ones([3]), tensor([1, 2, 3]), tensor([3, 2, 1]));
 * console.log(da?.data, db?.data); // Float32Array [0, 1, 1] Float32Array [1, 0, 0]
 * ```
 */
export function maximumBackward(g: Tensor, a: Operand, b: Operand): BinaryGrads {
  return routeBackward("maximum", g, a, b);
}

/**
 * Elementwise smaller of `a` and `b` with broadcasting; NaN if either is NaN.
 *
 * Backward (ties go to the FIRST argument): `dA = g * [a <= b]`, `dB = g * [a > b]`.
 *
 * @example
 * ```ts
 * import { minimum, tensor } from "./mod.ts";
 * console.log(minimum(tensor([-1, 2, 5]), 2).data); // [-1, 2, 2]
 * ```
 */
export function minimum(a: Operand, b: Operand): Tensor {
  return binaryOp("minimum", a, b, minimumBackward);
}

/**
 * VJP of {@link minimum}: `dA = g [a <= b]`, `dB = g [a > b]` (ties go to `a`).
 *
 * @example
 * ```ts
 * import { minimumBackward, ones, tensor } from "./mod.ts";
 * const [da, db] = minimumBackward(ones([3]), tensor([1, 2, 3]), tensor([3, 2, 1]));
 * console.log(da?.data, db?.data); // Float32Array [1, 1, 0] Float32Array [0, 0, 1]
 * ```
 */
export function minimumBackward(g: Tensor, a: Operand, b: Operand): BinaryGrads {
  return routeBackward("minimum", g, a, b);
}
