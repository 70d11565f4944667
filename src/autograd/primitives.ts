/**
 * The autograd's elementary primitives: plain forward loops and one-line VJPs, all of them in
 * one typed table ({@link vjps}) so that a primitive without a rule is a type error.
 *
 * These are deliberately independent of the fast ops in `src/tensor`: the reference
 * definitions (`reference.ts`) are composed of these alone, so their gradients come from the
 * chain rule over this table and can check the hand-derived rules.
 *
 * Conventions: binary primitives need equal shapes and dtypes (broadcasting is explicit, via
 * {@link broadcastTo}, whose VJP sums over the broadcast axes); every primitive records itself
 * as `"prim.<name>"`; every VJP is itself written with primitives, so gradients of gradients
 * work. Ties, as in the fast ops: {@link maximum} sends the gradient to its first argument (so
 * `maximum(0, x)` has derivative 0 at 0) and {@link max} to the first maximum in row-major order.
 *
 * @module
 */

import { fmtShape, TensorError } from "../tensor/errors.ts";
import { gemm } from "../tensor/kernels/gemm.ts";
import { allocData, checkShape, full, type Shape, Tensor } from "../tensor/tensor.ts";
import { recordOp } from "../tensor/trace.ts";
import {
  around,
  broadcastAxes,
  checkIndices,
  firstArgmax,
  inversePerm,
  keepShape,
  normalizeAxes,
  reductionOffsets,
  sameShape,
  sizeOfAxes,
  stridedOffsets,
  stridesOf,
} from "./indexing.ts";

/** Padding of one axis: `[lo, hi]` values before/after, or `[lo, hi, interior]` (between). */
export type PadWidth = readonly [number, number] | readonly [number, number, number];

/** What each primitive's VJP needs besides its inputs and output (normalized forward options). */
export interface PrimitiveParams {
  add: null;
  sub: null;
  mul: null;
  div: null;
  neg: null;
  exp: null;
  log: null;
  tanh: null;
  maximum: null;
  sum: { readonly axes: readonly number[] };
  max: { readonly axes: readonly number[] };
  broadcastTo: null;
  reshape: null;
  transpose: { readonly perm: readonly number[] };
  pad: { readonly lo: readonly number[]; readonly interior: readonly number[] };
  slice: { readonly start: readonly number[]; readonly step: readonly number[] };
  gather: { readonly axis: number; readonly indices: Int32Array };
  scatterAdd: { readonly axis: number; readonly indices: Int32Array };
  matmul: null;
}

/** Names of the elementary primitives (recorded as `"prim.<name>"`). */
export type PrimitiveName = keyof PrimitiveParams;

/** A primitive's VJP: upstream gradient `g`, inputs `x`, output `y`, params -> input grads. */
export type Vjp<P extends PrimitiveName> = (
  g: Tensor,
  x: readonly Tensor[],
  y: Tensor,
  p: PrimitiveParams[P],
) => readonly Tensor[];

/** The whole gradient table: one line per primitive, the rule in the comment. */
// deno-fmt-ignore
export const vjps: { readonly [P in PrimitiveName]: Vjp<P> } = {
  add: (g) => [g, g],                                          // d(a + b) = da + db
  sub: (g) => [g, neg(g)],                                     // d(a - b) = da - db
  mul: (g, [a, b]) => [mul(g, b), mul(g, a)],                  // d(ab) = b da + a db
  div: (g, [, b], y) => [div(g, b), neg(mul(g, div(y, b)))],   // d(a/b) = da/b - (a/b) db/b
  neg: (g) => [neg(g)],                                        // d(-a) = -da
  exp: (g, _, y) => [mul(g, y)],                               // d exp a = exp a da
  log: (g, [a]) => [div(g, a)],                                // d log a = da / a
  tanh: (g, _, y) => [mul(g, sub(constLike(y, 1), mul(y, y)))], // d tanh a = (1 - tanh^2 a) da
  maximum: (g, [a, b]) => [mul(g, atLeast(a, b)), mul(g, below(a, b))], // g [a >= b], g [a < b]
  sum: (g, [a], _, p) => [spread(g, a.shape, p.axes)],         // d(sum a) / da_i = 1
  max: (g, [a], _, p) => [mul(spread(g, a.shape, p.axes), firstMaxMask(a, p.axes))], // [first max]
  broadcastTo: (g, [a]) => [reshape(sum(g, broadcastAxes(a.shape, g.shape)), a.shape)], // sum
  reshape: (g, [a]) => [reshape(g, a.shape)],                  // re-indexing: inverse re-index
  transpose: (g, _, __, p) => [transpose(g, inversePerm(p.perm))], // inverse permutation
  pad: (g, [a], _, p) => [unpad(g, a.shape, p)],               // the strided slice it filled
  slice: (g, [a], _, p) => [unslice(g, a.shape, p)],           // zero-pad back (interior=step-1)
  gather: (g, [a], _, p) => [scatterAdd(g, p.axis, p.indices, a.shape[p.axis])], // scatter-add
  scatterAdd: (g, _, __, p) => [gather(g, p.axis, p.indices)], // gather
  matmul: (g, [a, b]) => [matmul(g, transpose(b)), matmul(transpose(a), g)], // g B^T, A^T g
};

/** Every primitive's name, in the order of {@link vjps} (tests iterate over it). */
export const primitiveNames: readonly PrimitiveName[] = Object.keys(vjps) as PrimitiveName[];

/** Records primitive `name`'s output with its VJP from the table. */
function record<P extends PrimitiveName>(
  name: P,
  inputs: readonly Tensor[],
  y: Tensor,
  p: PrimitiveParams[P],
): Tensor {
  const vjp: Vjp<P> = vjps[name];
  return recordOp("prim." + name, inputs, y, () => (g) => vjp(g, inputs, y, p));
}

/** A constant (untraced) tensor of `t`'s shape and dtype filled with `v`. */
function constLike(t: Tensor, v: number): Tensor {
  return full(t.shape, v, { dtype: t.dtype });
}

/** Constant mask `[a >= b]` (ties give 1: `maximum`'s gradient goes to `a` on ties). */
function atLeast(a: Tensor, b: Tensor): Tensor {
  const out = allocData(a.dtype, a.size);
  for (let i = 0; i < out.length; i++) out[i] = a.data[i] >= b.data[i] ? 1 : 0;
  return new Tensor(out, a.shape);
}

/** Constant mask `[a < b]`, the complement of {@link atLeast}. */
function below(a: Tensor, b: Tensor): Tensor {
  const out = allocData(a.dtype, a.size);
  for (let i = 0; i < out.length; i++) out[i] = a.data[i] >= b.data[i] ? 0 : 1;
  return new Tensor(out, a.shape);
}

/** `g` (the gradient of a reduction over `axes`) repeated over the reduced axes of `shape`. */
function spread(g: Tensor, shape: Shape, axes: readonly number[]): Tensor {
  return broadcastTo(reshape(g, keepShape(shape, axes)), shape);
}

/** Constant mask with 1 at the first maximum of each group of `a` over `axes`. */
function firstMaxMask(a: Tensor, axes: readonly number[]): Tensor {
  const out = allocData(a.dtype, a.size);
  for (const i of firstArgmax(a, axes)) out[i] = 1;
  return new Tensor(out, a.shape);
}

/** VJP of pad: the strided slice of `g` where the input's elements were placed. */
function unpad(g: Tensor, shape: Shape, p: PrimitiveParams["pad"]): Tensor {
  const step = p.interior.map((k) => k + 1);
  const stop = shape.map((n, i) => (n === 0 ? p.lo[i] : p.lo[i] + (n - 1) * step[i] + 1));
  return slice(g, p.lo, stop, step);
}

/** VJP of slice: `g` put back at the sliced positions, zeros elsewhere (a padding of `g`). */
function unslice(g: Tensor, shape: Shape, p: PrimitiveParams["slice"]): Tensor {
  const widths = shape.map((n, i): PadWidth => {
    const m = g.shape[i];
    const covered = m === 0 ? 0 : (m - 1) * p.step[i] + 1;
    return [p.start[i], n - p.start[i] - covered, p.step[i] - 1];
  });
  return pad(g, widths);
}

function checkBinary(op: string, a: Tensor, b: Tensor): void {
  if (a.dtype !== b.dtype) {
    throw new TensorError(
      `prim.${op}`,
      `dtypes differ (${a.dtype} and ${b.dtype}); make both the same`,
    );
  }
  if (!sameShape(a.shape, b.shape)) {
    throw new TensorError(
      `prim.${op}`,
      `shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)} differ; primitives do not ` +
        `broadcast implicitly: bring both to one shape with broadcastTo`,
    );
  }
}

type Binary = "add" | "sub" | "mul" | "div" | "maximum";

function binary(op: Binary, a: Tensor, b: Tensor): Tensor {
  checkBinary(op, a, b);
  const x = a.data, z = b.data, out = allocData(a.dtype, a.size), n = out.length;
  switch (op) {
    case "add":
      for (let i = 0; i < n; i++) out[i] = x[i] + z[i];
      break;
    case "sub":
      for (let i = 0; i < n; i++) out[i] = x[i] - z[i];
      break;
    case "mul":
      for (let i = 0; i < n; i++) out[i] = x[i] * z[i];
      break;
    case "div":
      for (let i = 0; i < n; i++) out[i] = x[i] / z[i];
      break;
    case "maximum":
      for (let i = 0; i < n; i++) out[i] = x[i] >= z[i] ? x[i] : z[i];
      break;
  }
  return record(op, [a, b], new Tensor(out, a.shape), null);
}

type Unary = "neg" | "exp" | "log" | "tanh";

function unary(op: Unary, a: Tensor): Tensor {
  const x = a.data, out = allocData(a.dtype, a.size), n = out.length;
  switch (op) {
    case "neg":
      for (let i = 0; i < n; i++) out[i] = -x[i];
      break;
    case "exp":
      for (let i = 0; i < n; i++) out[i] = Math.exp(x[i]);
      break;
    case "log":
      for (let i = 0; i < n; i++) out[i] = Math.log(x[i]);
      break;
    case "tanh":
      for (let i = 0; i < n; i++) out[i] = Math.tanh(x[i]);
      break;
  }
  return record(op, [a], new Tensor(out, a.shape), null);
}

/** `a + b` elementwise (equal shapes). */
export function add(a: Tensor, b: Tensor): Tensor {
  return binary("add", a, b);
}
/** `a - b` elementwise (equal shapes). */
export function sub(a: Tensor, b: Tensor): Tensor {
  return binary("sub", a, b);
}
/** `a * b` elementwise (equal shapes). */
export function mul(a: Tensor, b: Tensor): Tensor {
  return binary("mul", a, b);
}
/** `a / b` elementwise (equal shapes). */
export function div(a: Tensor, b: Tensor): Tensor {
  return binary("div", a, b);
}
/**
 * `max(a, b)` elementwise (equal shapes); on ties the gradient goes to `a` (as the fast op's),
 * so `maximum(zeros, x)` is a ReLU with derivative 0 at 0.
 */
export function maximum(a: Tensor, b: Tensor): Tensor {
  return binary("maximum", a, b);
}
/** `-a` elementwise. */
export function neg(a: Tensor): Tensor {
  return unary("neg", a);
}
/** `e^a` elementwise. */
export function exp(a: Tensor): Tensor {
  return unary("exp", a);
}
/** Natural logarithm elementwise. */
export function log(a: Tensor): Tensor {
  return unary("log", a);
}
/** Hyperbolic tangent elementwise. */
export function tanh(a: Tensor): Tensor {
  return unary("tanh", a);
}

function reduce(op: "sum" | "max", a: Tensor, axes: number[], keepdims: boolean): Tensor {
  const kept = keepShape(a.shape, axes);
  const outShape = keepdims ? kept : a.shape.filter((_, i) => !axes.includes(i));
  const out = allocData(a.dtype, checkShape(`prim.${op}`, outShape));
  if (op === "sum") {
    const offs = reductionOffsets(a.shape, axes);
    for (let i = 0; i < offs.length; i++) out[offs[i]] += a.data[i];
  } else {
    if (sizeOfAxes(a.shape, axes) === 0 && out.length > 0) {
      throw new TensorError(
        "prim.max",
        `cannot take the max over empty axes of ${fmtShape(a.shape)}`,
      );
    }
    const arg = firstArgmax(a, axes);
    for (let o = 0; o < arg.length; o++) out[o] = a.data[arg[o]];
  }
  return record(op, [a], new Tensor(out, outShape), { axes });
}

/**
 * Sum over `axes` (default all; negative axes count from the end), dropping them unless
 * `keepdims`.
 */
export function sum(a: Tensor, axes?: number | readonly number[], keepdims = false): Tensor {
  return reduce("sum", a, normalizeAxes("prim.sum", a.shape, axes), keepdims);
}

/**
 * Max over `axes` (default all); the gradient goes to the first maximum of each group in
 * row-major order.
 */
export function max(a: Tensor, axes?: number | readonly number[], keepdims = false): Tensor {
  return reduce("max", a, normalizeAxes("prim.max", a.shape, axes), keepdims);
}

/**
 * Broadcasts `a` to `shape` by NumPy rules (axes aligned on the right; extent 1 or missing axes
 * repeat).
 */
export function broadcastTo(a: Tensor, shape: Shape): Tensor {
  checkShape("prim.broadcastTo", shape);
  const lead = shape.length - a.rank;
  const ok = lead >= 0 && a.shape.every((d, i) => d === 1 || d === shape[lead + i]);
  if (!ok) {
    throw new TensorError(
      "prim.broadcastTo",
      `cannot broadcast ${fmtShape(a.shape)} to ${fmtShape(shape)}; each axis must be 1 or ` +
        `equal to the target's (aligned on the right)`,
    );
  }
  const src = stridesOf(a.shape);
  const strides = shape.map((_, i) => (i < lead || a.shape[i - lead] === 1 ? 0 : src[i - lead]));
  const offs = stridedOffsets(shape, strides);
  const out = allocData(a.dtype, offs.length);
  for (let i = 0; i < offs.length; i++) out[i] = a.data[offs[i]];
  return record("broadcastTo", [a], new Tensor(out, shape), null);
}

/** The same elements in a new shape of equal size (no copy). */
export function reshape(a: Tensor, shape: Shape): Tensor {
  if (checkShape("prim.reshape", shape) !== a.size) {
    throw new TensorError(
      "prim.reshape",
      `cannot reshape ${fmtShape(a.shape)} (${a.size} elements) to ${fmtShape(shape)}`,
    );
  }
  return record("reshape", [a], new Tensor(a.data, shape), null);
}

/** Permutes the axes (`out.shape[i] = a.shape[perm[i]]`; default reverses them). */
export function transpose(a: Tensor, perm?: readonly number[]): Tensor {
  const p = perm ?? a.shape.map((_, i) => a.rank - 1 - i);
  if (p.length !== a.rank || normalizeAxes("prim.transpose", a.shape, p).length !== a.rank) {
    throw new TensorError(
      "prim.transpose",
      `[${p.join(", ")}] is not a permutation of the ${a.rank} axes of ${fmtShape(a.shape)}`,
    );
  }
  const norm = p.map((ax) => (ax < 0 ? ax + a.rank : ax));
  const src = stridesOf(a.shape);
  const shape = norm.map((ax) => a.shape[ax]);
  const offs = stridedOffsets(shape, norm.map((ax) => src[ax]));
  const out = allocData(a.dtype, offs.length);
  for (let i = 0; i < offs.length; i++) out[i] = a.data[offs[i]];
  return record("transpose", [a], new Tensor(out, shape), { perm: norm });
}

/**
 * Pads every axis with `lo` values before, `hi` after and `interior` between elements (as
 * `lax.pad`; all >= 0), filled with `value` (default 0).
 */
export function pad(a: Tensor, widths: readonly PadWidth[], value = 0): Tensor {
  const bad = widths.length !== a.rank ||
    widths.some((w) => w.some((v) => !Number.isInteger(v) || v < 0));
  if (bad) {
    throw new TensorError(
      "prim.pad",
      `widths ${JSON.stringify(widths)} do not fit ${fmtShape(a.shape)}; give one ` +
        `[lo, hi] or [lo, hi, interior] of integers >= 0 per axis`,
    );
  }
  const lo = widths.map((w) => w[0]);
  const interior = widths.map((w) => w[2] ?? 0);
  const shape = a.shape.map((n, i) => lo[i] + widths[i][1] + n + Math.max(n - 1, 0) * interior[i]);
  const outStrides = stridesOf(shape);
  const base = lo.reduce((acc, l, i) => acc + l * outStrides[i], 0);
  const offs = stridedOffsets(a.shape, outStrides.map((s, i) => s * (interior[i] + 1)), base);
  const out = allocData(a.dtype, checkShape("prim.pad", shape));
  if (value !== 0) out.fill(value);
  for (let i = 0; i < offs.length; i++) out[offs[i]] = a.data[i];
  return record("pad", [a], new Tensor(out, shape), { lo, interior });
}

/**
 * Strided slice: on each axis the elements `start, start + step, ...` below `stop`
 * (`0 <= start <= stop <= extent`, `step >= 1`).
 */
export function slice(
  a: Tensor,
  start: readonly number[],
  stop: readonly number[],
  step?: readonly number[],
): Tensor {
  const st = step ?? a.shape.map(() => 1);
  const ok = start.length === a.rank && stop.length === a.rank && st.length === a.rank &&
    a.shape.every((n, i) =>
      Number.isInteger(start[i]) && Number.isInteger(stop[i]) && Number.isInteger(st[i]) &&
      start[i] >= 0 && start[i] <= stop[i] && stop[i] <= n && st[i] >= 1
    );
  if (!ok) {
    throw new TensorError(
      "prim.slice",
      `start [${start}], stop [${stop}], step [${st}] do not fit ${fmtShape(a.shape)}; ` +
        `need one entry per axis with 0 <= start <= stop <= extent and step >= 1`,
    );
  }
  const shape = a.shape.map((_, i) => Math.ceil((stop[i] - start[i]) / st[i]));
  const src = stridesOf(a.shape);
  const base = start.reduce((acc, s, i) => acc + s * src[i], 0);
  const offs = stridedOffsets(shape, src.map((s, i) => s * st[i]), base);
  const out = allocData(a.dtype, offs.length);
  for (let i = 0; i < offs.length; i++) out[i] = a.data[offs[i]];
  return record("slice", [a], new Tensor(out, shape), { start: start.slice(), step: st.slice() });
}

/**
 * Gathers along `axis` by integer `indices`: `out[..., j, ...] = a[..., indices[j], ...]`
 * (indices may repeat; the VJP scatter-adds).
 */
export function gather(a: Tensor, axis: number, indices: ArrayLike<number>): Tensor {
  const [ax] = normalizeAxes("prim.gather", a.shape, axis);
  const n = a.shape[ax];
  const idx = checkIndices("prim.gather", a.shape, ax, indices, n);
  const [outer, inner] = around(a.shape, ax);
  const m = idx.length;
  const shape = a.shape.map((d, i) => (i === ax ? m : d));
  const out = allocData(a.dtype, checkShape("prim.gather", shape));
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++) {
      const src = (o * n + idx[j]) * inner, dst = (o * m + j) * inner;
      for (let k = 0; k < inner; k++) out[dst + k] = a.data[src + k];
    }
  }
  return record("gather", [a], new Tensor(out, shape), { axis: ax, indices: idx });
}

/**
 * The transpose of {@link gather}: a zero tensor with extent `size` on `axis`, into which slice
 * `j` of `a` is added at position `indices[j]`.
 */
export function scatterAdd(
  a: Tensor,
  axis: number,
  indices: ArrayLike<number>,
  size: number,
): Tensor {
  const [ax] = normalizeAxes("prim.scatterAdd", a.shape, axis);
  const m = a.shape[ax];
  if (indices.length !== m) {
    throw new TensorError(
      "prim.scatterAdd",
      `${indices.length} indices for axis ${ax} of ${fmtShape(a.shape)}; give one per slice`,
    );
  }
  const idx = checkIndices("prim.scatterAdd", a.shape, ax, indices, size);
  const [outer, inner] = around(a.shape, ax);
  const shape = a.shape.map((d, i) => (i === ax ? size : d));
  const out = allocData(a.dtype, checkShape("prim.scatterAdd", shape));
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++) {
      const dst = (o * size + idx[j]) * inner, src = (o * m + j) * inner;
      for (let k = 0; k < inner; k++) out[dst + k] += a.data[src + k];
    }
  }
  return record("scatterAdd", [a], new Tensor(out, shape), { axis: ax, indices: idx });
}

/** Matrix product of `[m, k]` and `[k, n]` (the shared GEMM kernel). */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.rank !== 2 || b.rank !== 2 || a.shape[1] !== b.shape[0] || a.dtype !== b.dtype) {
    throw new TensorError(
      "prim.matmul",
      `cannot multiply ${fmtShape(a.shape)} ${a.dtype} by ${fmtShape(b.shape)} ${b.dtype}; ` +
        `need [m, k] x [k, n] of one dtype`,
    );
  }
  const [m, k] = a.shape, n = b.shape[1];
  const out = allocData(a.dtype, m * n);
  gemm(a.data, b.data, out, { m, n, k });
  return record("matmul", [a, b], new Tensor(out, [m, n]), null);
}

/**
 * The same values, cut off from differentiation: a constant for every gradient being taken
 * (JAX's `stop_gradient`). Not recorded.
 */
export function stopGradient(a: Tensor): Tensor {
  return new Tensor(a.data, a.shape);
}
