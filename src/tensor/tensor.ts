/**
 * The immutable `Tensor`: a dtype, a shape and a flat typed array in row-major (C) order.
 *
 * A tensor is never mutated after the op that made it returns. Ops allocate a fresh output and
 * never write into their inputs, so tensors can share a buffer safely (`reshape` is free) and
 * there is nothing to dispose: the garbage collector owns everything.
 *
 * @module
 */

import { fmtShape, TensorError } from "./errors.ts";
import { formatTensor } from "./format.ts";

/** Element types: float32 trains, float64 checks gradients. */
export type DType = "float32" | "float64";

/** The flat storage of a tensor. */
export type TensorData = Float32Array | Float64Array;

/** A shape: one non-negative integer per axis; `[]` is a scalar. */
export type Shape = readonly number[];

/** Nested arrays of numbers, as accepted by {@link tensor}. */
export type NestedArray = number | readonly NestedArray[];

/**
 * An immutable n-dimensional array of float32 or float64 numbers.
 *
 * `data` is row-major and must not be written to: every op returns a new tensor. Construct
 * tensors with {@link tensor}, {@link zeros}, {@link fromData} and friends.
 *
 * @example
 * ```ts
 * import { tensor } from "./mod.ts";
 * const x = tensor([[1, 2, 3], [4, 5, 6]]);
 * console.log(x.shape, x.dtype, x.size); // [2, 3] "float32" 6
 * console.log(x.toString());
 * ```
 */
export class Tensor {
  /** Element type, `"float32"` or `"float64"`. */
  readonly dtype: DType;
  /** Extent of each axis (frozen). */
  readonly shape: Shape;
  /** Flat row-major storage; treat as read-only. */
  readonly data: TensorData;
  /** Number of elements: the product of `shape`. */
  readonly size: number;

  /**
   * Wraps `data` as a tensor of `shape` without copying; the tensor takes ownership of `data`,
   * so the caller must not write to it afterwards. Prefer {@link fromData} in user code.
   */
  constructor(data: TensorData, shape: Shape) {
    const size = checkShape("Tensor", shape);
    if (data.length !== size) {
      throw new TensorError(
        "Tensor",
        `data has ${data.length} elements but shape ${fmtShape(shape)} needs ${size}; ` +
          `pass a shape whose product is ${data.length}`,
      );
    }
    this.dtype = data instanceof Float64Array ? "float64" : "float32";
    this.shape = Object.freeze(shape.slice());
    this.data = data;
    this.size = size;
  }

  /** Number of axes. */
  get rank(): number {
    return this.shape.length;
  }

  /** NumPy-style rendering: rounded values, middle elided for big tensors, shape and dtype. */
  toString(): string {
    return formatTensor(this);
  }
}

/**
 * Validates a shape (non-negative integers) and returns its element count.
 * @param op the op to name in the error
 */
export function checkShape(op: string, shape: Shape): number {
  let size = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new TensorError(
        op,
        `shape ${fmtShape(shape)} has an invalid extent ${d}; extents must be integers >= 0`,
      );
    }
    size *= d;
  }
  if (size > 2 ** 31 - 1) {
    throw new TensorError(op, `shape ${fmtShape(shape)} has ${size} elements, more than 2^31 - 1`);
  }
  return size;
}

/** Allocates zeroed storage of `dtype` with `n` elements. */
export function allocData(dtype: DType, n: number): TensorData {
  return dtype === "float64" ? new Float64Array(n) : new Float32Array(n);
}

/** Options shared by the constructors. */
export interface DTypeOptions {
  /** Element type; defaults to `"float32"`. */
  dtype?: DType;
}

/**
 * A tensor from a number or nested arrays of numbers. Ragged input is rejected with the path of
 * the first row whose length differs.
 *
 * @example
 * ```ts
 * import { tensor } from "./mod.ts";
 * const w = tensor([[1, 0], [0, -1]], { dtype: "float64" });
 * console.log(w.shape); // [2, 2]
 * ```
 */
export function tensor(values: NestedArray, opts: DTypeOptions = {}): Tensor {
  const shape: number[] = [];
  let probe: NestedArray = values;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    if (probe.length === 0) break;
    probe = probe[0];
  }
  const data = allocData(opts.dtype ?? "float32", checkShape("tensor", shape));
  let k = 0;
  const fill = (v: NestedArray, depth: number, path: string): void => {
    if (depth === shape.length) {
      if (typeof v !== "number") {
        throw new TensorError(
          "tensor",
          `ragged input: element ${path} is an array, but its siblings are numbers ` +
            `(expected shape ${fmtShape(shape)}); make every row the same depth`,
        );
      }
      data[k++] = v;
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) {
      const got = Array.isArray(v) ? `length ${v.length}` : "a number";
      throw new TensorError(
        "tensor",
        `ragged input: element ${path || "(root)"} has ${got} where ${
          shape[depth]
        } was expected (shape ${
          fmtShape(shape)
        } from the first elements); make every row the same length`,
      );
    }
    for (let i = 0; i < v.length; i++) fill(v[i], depth + 1, `${path}[${i}]`);
  };
  fill(values, 0, "");
  return new Tensor(data, shape);
}

/**
 * A tensor over a copy of `values` (any array-like of numbers) with the given shape.
 *
 * @example
 * ```ts
 * import { fromData } from "./mod.ts";
 * const x = fromData([1, 2, 3, 4, 5, 6], [2, 3]);
 * console.log(x.shape); // [2, 3]
 * ```
 */
export function fromData(values: ArrayLike<number>, shape: Shape, opts: DTypeOptions = {}): Tensor {
  const data = allocData(opts.dtype ?? "float32", values.length);
  for (let i = 0; i < values.length; i++) data[i] = values[i];
  return new Tensor(data, shape);
}

/**
 * A tensor of `shape` filled with `value`.
 *
 * @example
 * ```ts
 * import { full } from "./mod.ts";
 * console.log(full([2, 2], 7).data); // Float32Array [7, 7, 7, 7]
 * ```
 */
export function full(shape: Shape, value: number, opts: DTypeOptions = {}): Tensor {
  const data = allocData(opts.dtype ?? "float32", checkShape("full", shape));
  if (value !== 0) data.fill(value);
  return new Tensor(data, shape);
}

/**
 * A tensor of zeros.
 *
 * @example
 * ```ts
 * import { zeros } from "./mod.ts";
 * console.log(zeros([2, 3], { dtype: "float64" }).size); // 6
 * ```
 */
export function zeros(shape: Shape, opts: DTypeOptions = {}): Tensor {
  return full(shape, 0, opts);
}

/**
 * A tensor of ones.
 *
 * @example
 * ```ts
 * import { ones } from "./mod.ts";
 * console.log(ones([3]).data); // Float32Array [1, 1, 1]
 * ```
 */
export function ones(shape: Shape, opts: DTypeOptions = {}): Tensor {
  return full(shape, 1, opts);
}

/**
 * Evenly spaced values in `[start, stop)`, like `numpy.arange`. With one argument it counts
 * from 0: `arange(5)` is `[0, 1, 2, 3, 4]`.
 *
 * @example
 * ```ts
 * import { arange } from "./mod.ts";
 * console.log(arange(0, 1, 0.25).data); // Float32Array [0, 0.25, 0.5, 0.75]
 * ```
 */
export function arange(start: number, stop?: number, step = 1, opts: DTypeOptions = {}): Tensor {
  if (stop === undefined) [start, stop] = [0, start];
  if (!Number.isFinite(start) || !Number.isFinite(stop) || !Number.isFinite(step) || step === 0) {
    throw new TensorError(
      "arange",
      `start ${start}, stop ${stop}, step ${step}: all must be finite and step non-zero`,
    );
  }
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const data = allocData(opts.dtype ?? "float32", checkShape("arange", [n]));
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return new Tensor(data, [n]);
}
