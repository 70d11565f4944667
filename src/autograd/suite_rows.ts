/**
 * The parameter types, fast-check arbitraries and case builders behind the gradient suite's op
 * table (`suite_ops.ts`): convolution and pooling geometry (every stride, padding and dilation
 * option; maps grown until the window fits), broadcasting operand pairs and number operands,
 * axis choices, permutations, reshape targets, batched matmul shapes, softmax axes and losses.
 *
 * @module
 */

import { correlate2d, type Correlate2dMode } from "../tensor/correlate.ts";
import { conv2d } from "../tensor/conv.ts";
import type { Operand } from "../tensor/elementwise.ts";
import type { maxPool2d } from "../tensor/pool.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { prngKey, randomPermutation } from "../tensor/random.ts";
import * as ref from "./ref.ts";
import {
  type Arb,
  awayFromZero,
  axisArb,
  type AxisChoice,
  axisOf,
  broadcastArb,
  type BroadcastParams,
  broadcastShapesOf,
  distinct,
  distinctSplit,
  explicitTotals,
  type FastCheck,
  int,
  normal,
  outSize,
  paddingArb,
  type PaddingChoice,
  pair,
  shapeArb,
} from "./suite_inputs.ts";

/** One case of a row: float64 inputs and the two functions of them to compare. */
export interface SuiteCase {
  /** The inputs; every one is differentiated and checked. */
  readonly inputs: readonly Tensor[];
  /** Names of the inputs in reports (`x`, `w`, ...). */
  readonly names: readonly string[];
  /** The fast op on these inputs: the engine differentiates it by its hand-derived rule. */
  readonly fast: (...xs: Tensor[]) => Tensor;
  /** The reference definition: the engine differentiates it by the primitives' chain rule. */
  readonly ref: (...xs: Tensor[]) => Tensor;
}

/** A row of the table: an op, an arbitrary of case parameters, and how to build a case. */
export interface SuiteOp<P = unknown> {
  /** The fast op's name as `mod.ts` exports it. */
  readonly name: string;
  /** Case parameters (plain data: fast-check prints them for a failing case). */
  readonly params: (fc: FastCheck) => Arb<P>;
  /** The case for parameters `p` (deterministic: seeds are part of `p`). */
  readonly build: (p: P) => SuiteCase;
}

/** Erases a row's parameter type so rows of different types share one table. */
export function row<P>(op: SuiteOp<P>): SuiteOp {
  return op as unknown as SuiteOp;
}

export type Fn = (...xs: Tensor[]) => Tensor;
export const one = (inputs: Tensor[], fast: Fn, reference: Fn, names = ["x"]): SuiteCase => ({
  inputs,
  names,
  fast,
  ref: reference,
});
export const seedArb = (fc: FastCheck): Arb<number> => fc.nat({ max: 1 << 30 });

// ---------------------------------------------------------------- convolution and pooling

export interface ConvParams {
  n: number;
  c: number;
  o: number;
  hw: [number, number];
  k: [number, number];
  s: [number, number];
  d: [number, number];
  padding: PaddingChoice;
  bias: boolean;
  seed: number;
}

export const convArb = (fc: FastCheck): Arb<ConvParams> =>
  fc.record({
    n: int(fc, 1, 3),
    c: int(fc, 1, 4),
    o: int(fc, 1, 4),
    hw: pair(fc, 1, 10),
    k: pair(fc, 1, 5),
    s: pair(fc, 1, 3),
    d: pair(fc, 1, 2),
    padding: paddingArb(fc),
    bias: fc.boolean(),
    seed: seedArb(fc),
  });

export function buildConv({ n, c, o, hw, k, s, d, padding, bias, seed }: ConvParams): SuiteCase {
  // Grow the map until the dilated kernel fits the padded input ("same"/"full" always fit).
  const pads = explicitTotals(padding);
  const [h, w] = hw.map((v, i) => {
    while (pads && outSize(v, k[i], s[i], d[i], pads[i]) < 1) v++;
    return v;
  });
  const opts = { stride: s, padding, dilation: d };
  const x = normal(seed, [n, c, h, w]), wt = normal(seed + 1, [o, c, ...k]);
  if (!bias) {
    return one(
      [x, wt],
      (x, w) => conv2d(x, w, null, opts),
      (x, w) => ref.conv2d(x, w, null, opts),
      [
        "x",
        "w",
      ],
    );
  }
  return one(
    [x, wt, normal(seed + 2, [o])],
    (x, w, b) => conv2d(x, w, b, opts),
    (x, w, b) => ref.conv2d(x, w, b, opts),
    ["x", "w", "b"],
  );
}

export interface CorrParams {
  hw: [number, number];
  k: [number, number];
  mode: Correlate2dMode;
  seed: number;
}

export const corrArb = (fc: FastCheck): Arb<CorrParams> =>
  fc.record({
    hw: pair(fc, 1, 10),
    k: pair(fc, 1, 5),
    mode: fc.constantFrom<Correlate2dMode>("valid", "full", "same"),
    seed: seedArb(fc),
  });

export function buildCorr(fast: typeof correlate2d, reference: typeof correlate2d) {
  return ({ hw, k, mode, seed }: CorrParams): SuiteCase => {
    // "valid" needs the kernel to fit: grow the map.
    const [h, w] = mode === "valid" ? [Math.max(hw[0], k[0]), Math.max(hw[1], k[1])] : hw;
    return one(
      [normal(seed, [h, w]), normal(seed + 1, k)],
      (a, kk) => fast(a, kk, mode),
      (a, kk) => reference(a, kk, mode),
      ["a", "k"],
    );
  };
}

export interface PoolParams {
  n: number;
  c: number;
  hw: [number, number];
  k: [number, number];
  s: [number, number];
  p: [number, number, number, number];
  seed: number;
}

export const poolArb = (fc: FastCheck): Arb<PoolParams> =>
  fc.record({
    n: int(fc, 1, 3),
    c: int(fc, 1, 4),
    hw: pair(fc, 1, 10),
    k: pair(fc, 1, 5),
    s: pair(fc, 1, 3),
    p: fc.tuple(int(fc, 0, 4), int(fc, 0, 4), int(fc, 0, 4), int(fc, 0, 4)),
    seed: seedArb(fc),
  });

/** Pool geometry of the parameters: padding below the kernel, the map grown to fit a window. */
export function poolGeometry({ n, c, hw, k, s, p }: PoolParams) {
  const padding = [p[0] % k[0], p[1] % k[0], p[2] % k[1], p[3] % k[1]] as [
    number,
    number,
    number,
    number,
  ];
  const h = Math.max(hw[0], k[0] - padding[0] - padding[1]);
  const w = Math.max(hw[1], k[1] - padding[2] - padding[3]);
  return { shape: [n, c, h, w], kernel: k, opts: { stride: s, padding } };
}

export function buildMaxPool(fast: (x: Tensor, o: Parameters<typeof maxPool2d>[1]) => Tensor) {
  return (p: PoolParams): SuiteCase => {
    const { shape, kernel, opts } = poolGeometry(p);
    return one(
      [distinct(p.seed, shape)],
      (x) => fast(x, { kernel, ...opts }),
      (x) => ref.maxPool2d(x, kernel, opts),
    );
  };
}

// ---------------------------------------------------------------- elementwise

/** Binary ops: broadcasting tensors, or a number on either side (a constant, no gradient). */
export interface BinaryParams {
  /** The operands' shapes (ignored for the number side). */
  b: BroadcastParams;
  /** Two tensors, or a number on the left or right. */
  scalar: "none" | "left" | "right";
  value: number;
  seed: number;
}

export const binaryArb = (fc: FastCheck): Arb<BinaryParams> =>
  fc.record({
    b: broadcastArb(fc),
    // Two tensors half of the time.
    scalar: fc.constantFrom("none" as const, "none" as const, "left" as const, "right" as const),
    // Multiples of 0.1: never on the half-step grid of maximum/minimum inputs (no ties).
    value: fc.constantFrom(-1.5, 0.7, 2.2),
    seed: seedArb(fc),
  });

type Binary = (a: Operand, b: Operand) => Tensor;
type RefBinary = (a: ref.RefOperand, b: ref.RefOperand) => Tensor;

/** `make(seed, shapeA, shapeB)` gives the operands (margins are the op's business). */
export function buildBinary(
  fast: Binary,
  reference: RefBinary,
  make: (seed: number, a: number[], b: number[]) => [Tensor, Tensor],
) {
  return (p: BinaryParams): SuiteCase => {
    const [sa, sb] = broadcastShapesOf(p.b);
    const [a, b] = make(p.seed, sa, sb);
    if (p.scalar === "left") {
      return one([b], (b) => fast(p.value, b), (b) => reference(p.value, b), ["b"]);
    }
    if (p.scalar === "right") {
      return one([a], (a) => fast(a, p.value), (a) => reference(a, p.value), ["a"]);
    }
    return one([a, b], (a, b) => fast(a, b), (a, b) => reference(a, b), ["a", "b"]);
  };
}

export const normals = (seed: number, a: number[], b: number[]): [Tensor, Tensor] => [
  normal(seed, a),
  normal(seed + 1, b),
];
/** Denominators away from 0 (the numerator of `value / b` too). */
export const quotient = (seed: number, a: number[], b: number[]): [Tensor, Tensor] => [
  normal(seed, a),
  awayFromZero(seed + 1, b),
];
/** No value of `a` within 0.1 of one of `b`: no ties, whichever elements broadcast together. */
export const apart = (seed: number, a: number[], b: number[]): [Tensor, Tensor] => {
  const [ta, tb] = distinctSplit(seed, [a, b]);
  return [ta, tb];
};

export interface UnaryParams {
  shape: number[];
  seed: number;
}

export const unaryArb = (fc: FastCheck): Arb<UnaryParams> =>
  fc.record({ shape: shapeArb(fc, 0, 4), seed: seedArb(fc) });

export function unary(
  name: string,
  fast: Fn,
  reference: Fn,
  make: (p: UnaryParams) => Tensor,
): SuiteOp {
  return row({
    name,
    params: unaryArb,
    build: (p) => one([make(p)], fast, reference),
  });
}

export interface PowParams extends UnaryParams {
  p: number;
  signed: boolean;
}

export interface ClampParams extends UnaryParams {
  lo: number;
  width: number;
}

// ---------------------------------------------------------------- reductions and layout

export interface ReduceParams {
  shape: number[];
  axis: AxisChoice;
  keepdims: boolean;
  seed: number;
}

export const reduceArb = (fc: FastCheck): Arb<ReduceParams> =>
  fc.record({
    shape: shapeArb(fc, 1, 4),
    axis: axisArb(fc),
    keepdims: fc.boolean(),
    seed: seedArb(fc),
  });

export function reduction(
  name: string,
  fast: (x: Tensor, o: { axis?: number | number[]; keepdims: boolean }) => Tensor,
  reference: (x: Tensor, o: { axis?: number | number[]; keepdims: boolean }) => Tensor,
  make: (seed: number, shape: number[]) => Tensor,
): SuiteOp {
  return row({
    name,
    params: reduceArb,
    build: ({ shape, axis, keepdims, seed }: ReduceParams) => {
      const opts = { axis: axisOf(axis, shape.length), keepdims };
      return one([make(seed, shape)], (x) => fast(x, opts), (x) => reference(x, opts));
    },
  });
}

export interface PermParams {
  shape: number[];
  identity: boolean;
  permSeed: number;
  seed: number;
}

export const permArb = (fc: FastCheck): Arb<PermParams> =>
  fc.record({
    shape: shapeArb(fc, 1, 4),
    identity: fc.boolean(),
    permSeed: seedArb(fc),
    seed: seedArb(fc),
  });

export const permOf = (p: PermParams): number[] | undefined =>
  p.identity ? undefined : Array.from(randomPermutation(prngKey(p.permSeed), p.shape.length));

export interface ReshapeParams {
  shape: number[];
  cuts: number[];
  hole: number;
  seed: number;
}

/** A target shape of the same size: the prime factors of the size, cut into groups. */
export function reshapeTarget({ shape, cuts, hole }: ReshapeParams): number[] {
  let size = shape.reduce((a, b) => a * b, 1);
  const primes: number[] = [];
  for (let f = 2; size > 1; f++) while (size % f === 0) primes.push(f), size /= f;
  const target = [1];
  primes.forEach((f, i) => {
    if (cuts[i % cuts.length] % 2 === 1) target.push(1);
    target[target.length - 1] *= f;
  });
  if (hole < target.length) target[hole] = -1;
  return target;
}

export interface MatmulParams {
  batch: number[];
  drop: [number, number];
  onesA: boolean[];
  onesB: boolean[];
  mkn: [number, number, number];
  seed: number;
}

export const matmulArb = (fc: FastCheck): Arb<MatmulParams> =>
  fc.record({
    batch: shapeArb(fc, 0, 2, 3),
    drop: pair(fc, 0, 2),
    onesA: fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }),
    onesB: fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }),
    mkn: fc.tuple(int(fc, 1, 5), int(fc, 1, 5), int(fc, 1, 5)),
    seed: seedArb(fc),
  });

export interface SoftmaxParams {
  shape: number[];
  pick: number;
  negative: boolean;
  seed: number;
}

export const softmaxArb = (fc: FastCheck): Arb<SoftmaxParams> =>
  fc.record({
    shape: shapeArb(fc, 1, 3, 5),
    pick: fc.nat(),
    negative: fc.boolean(),
    seed: seedArb(fc),
  });

export const axisPick = (p: SoftmaxParams): number =>
  (p.pick % p.shape.length) - (p.negative ? p.shape.length : 0);

export interface LossParams {
  n: number;
  c: number;
  rest: number[];
  mean: boolean;
  labels: number[];
  labelTensor: boolean;
  seed: number;
}

export const lossArb = (fc: FastCheck): Arb<LossParams> =>
  fc.record({
    n: int(fc, 1, 4),
    c: int(fc, 1, 6),
    rest: shapeArb(fc, 0, 2, 3),
    mean: fc.boolean(),
    labels: fc.array(fc.nat(), { minLength: 4, maxLength: 4 }),
    labelTensor: fc.boolean(),
    seed: seedArb(fc),
  });
