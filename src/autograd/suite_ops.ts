/**
 * The gradient suite's op table: ONE row per differentiable fast op, each with a fast-check
 * arbitrary for its case parameters (shapes, options, axes, seeds: plain data, printed on
 * failure), and a `build` that turns parameters into float64 inputs, the fast op (whose
 * hand-derived rule is its VJP) and its reference definition (`ref.*`, whose gradient is the
 * chain rule over the primitives). `suite.ts` runs the three-way check over every row; adding an
 * op means adding a row.
 *
 * Inputs keep the margins the checks need: max-pool, max, maximum/minimum, ReLU and clamp get
 * values on a shuffled grid (no ties, nothing within 0.05 of a kink, far beyond the
 * finite-difference step); log, sqrt, fractional powers positive inputs; div denominators away
 * from 0.
 *
 * @module
 */

import { broadcastTo, sumToShape } from "../tensor/broadcast.ts";
import { convolve2d, correlate2d, rot180 } from "../tensor/correlate.ts";
import { add, div, maximum, minimum, mul, sub } from "../tensor/elementwise.ts";
import { flatten, reshape } from "../tensor/layout.ts";
import { crossEntropy, mse } from "../tensor/losses.ts";
import { dense, matmul } from "../tensor/matmul.ts";
import { avgPool2d, maxPool2d, maxPool2dWithArgmax } from "../tensor/pool.ts";
import { logSumExp, max, mean, sum } from "../tensor/reduce.ts";
import { logSoftmax, softmax } from "../tensor/softmax.ts";
import { fromData } from "../tensor/tensor.ts";
import { permute, transpose } from "../tensor/transpose.ts";
import { clamp, exp, log, neg, pow, sqrt, square } from "../tensor/unary.ts";
import { relu, scaledTanh, sigmoid, tanh } from "../tensor/activations.ts";
import { upsample } from "../tensor/upsample.ts";
import * as ref from "./ref.ts";
import { buildConvRelu, buildConvReluPool, smallConvPoolArb } from "./suite_fused.ts";
import { lenetSuiteOps } from "./suite_rows_lenet.ts";
import {
  awayFromZero,
  broadcastArb,
  broadcastFrom,
  broadcastShapesOf,
  distinct,
  int,
  normal,
  pair,
  shapeArb,
  uniform,
} from "./suite_inputs.ts";
import {
  apart,
  axisPick,
  binaryArb,
  buildBinary,
  buildConv,
  buildCorr,
  buildMaxPool,
  type ClampParams,
  convArb,
  corrArb,
  lossArb,
  type LossParams,
  matmulArb,
  type MatmulParams,
  normals,
  one,
  permArb,
  permOf,
  type PermParams,
  poolArb,
  poolGeometry,
  type PoolParams,
  type PowParams,
  quotient,
  reduction,
  type ReshapeParams,
  reshapeTarget,
  row,
  seedArb,
  softmaxArb,
  type SoftmaxParams,
  type SuiteOp,
  unary,
} from "./suite_rows.ts";

export type { SuiteCase, SuiteOp } from "./suite_rows.ts";

// ---------------------------------------------------------------- the table

/** Every differentiable fast op, one row each. */
export const suiteOps: readonly SuiteOp[] = [
  row({ name: "conv2d", params: convArb, build: buildConv }),
  row({ name: "correlate2d", params: corrArb, build: buildCorr(correlate2d, ref.correlate2d) }),
  row({ name: "convolve2d", params: corrArb, build: buildCorr(convolve2d, ref.convolve2d) }),
  row({
    name: "rot180",
    params: (fc) => fc.record({ shape: shapeArb(fc, 2, 4, 6), seed: seedArb(fc) }),
    build: ({ shape, seed }) => one([normal(seed, shape)], rot180, ref.rot180),
  }),
  row({ name: "maxPool2d", params: poolArb, build: buildMaxPool(maxPool2d) }),
  row({
    name: "maxPool2dWithArgmax",
    params: poolArb,
    build: buildMaxPool((x, o) => maxPool2dWithArgmax(x, o).y),
  }),
  row({
    name: "avgPool2d",
    params: poolArb,
    build: (p: PoolParams) => {
      const { shape, kernel, opts } = poolGeometry(p);
      return one(
        [normal(p.seed, shape)],
        (x) => avgPool2d(x, { kernel, ...opts }),
        (x) => ref.avgPool2d(x, kernel, opts),
      );
    },
  }),
  row({
    name: "upsample",
    params: (fc) =>
      fc.record({
        lead: shapeArb(fc, 0, 2, 3),
        hw: pair(fc, 1, 6),
        f: pair(fc, 1, 3),
        seed: seedArb(fc),
      }),
    build: ({ lead, hw, f, seed }) =>
      one([normal(seed, [...lead, ...hw])], (x) => upsample(x, f), (x) => ref.upsample(x, f)),
  }),
  row({ name: "conv2dRelu", params: convArb, build: buildConvRelu }),
  row({ name: "conv2dReluMaxPool", params: smallConvPoolArb, build: buildConvReluPool }),
  row({ name: "add", params: binaryArb, build: buildBinary(add, ref.add, normals) }),
  row({ name: "sub", params: binaryArb, build: buildBinary(sub, ref.sub, normals) }),
  row({ name: "mul", params: binaryArb, build: buildBinary(mul, ref.mul, normals) }),
  row({ name: "div", params: binaryArb, build: buildBinary(div, ref.div, quotient) }),
  row({ name: "maximum", params: binaryArb, build: buildBinary(maximum, ref.maximum, apart) }),
  row({ name: "minimum", params: binaryArb, build: buildBinary(minimum, ref.minimum, apart) }),
  row({
    name: "broadcastTo",
    params: (fc) => fc.record({ b: broadcastArb(fc), seed: seedArb(fc) }),
    build: ({ b, seed }) => {
      const [from] = broadcastShapesOf(b);
      return one(
        [normal(seed, from)],
        (x) => broadcastTo(x, b.shape),
        (x) => ref.broadcastTo(x, b.shape),
      );
    },
  }),
  row({
    name: "sumToShape",
    params: (fc) => fc.record({ b: broadcastArb(fc), seed: seedArb(fc) }),
    build: ({ b, seed }) => {
      const [to] = broadcastShapesOf(b);
      return one(
        [normal(seed, b.shape)],
        (g) => sumToShape(g, to),
        (g) => ref.sumToShape(g, to),
        ["g"],
      );
    },
  }),
  unary("neg", neg, ref.neg, (p) => normal(p.seed, p.shape)),
  unary("exp", exp, ref.exp, (p) => normal(p.seed, p.shape)),
  unary("log", log, ref.log, (p) => uniform(p.seed, p.shape, 0.5, 3)),
  unary("sqrt", sqrt, ref.sqrt, (p) => uniform(p.seed, p.shape, 0.5, 3)),
  unary("square", square, ref.square, (p) => normal(p.seed, p.shape)),
  row({
    name: "pow",
    params: (fc) =>
      fc.record({
        shape: shapeArb(fc, 0, 4),
        p: fc.constantFrom(-2.5, -2, -1, 0, 0.5, 1, 2, 3, 4.5),
        signed: fc.boolean(),
        seed: seedArb(fc),
      }),
    // Negative bases only for integer powers (fractional ones are NaN there, as Math.pow).
    build: ({ shape, p, signed, seed }: PowParams) =>
      one(
        [Number.isInteger(p) && signed ? awayFromZero(seed, shape) : uniform(seed, shape, 0.5, 2)],
        (x) => pow(x, p),
        (x) => ref.pow(x, p),
      ),
  }),
  row({
    name: "clamp",
    params: (fc) =>
      fc.record({
        shape: shapeArb(fc, 0, 4),
        lo: int(fc, -6, 3),
        width: int(fc, 0, 6),
        seed: seedArb(fc),
      }),
    // Bounds on multiples of 0.1, inputs on the shuffled half-step grid: none on a bound.
    build: ({ shape, lo, width, seed }: ClampParams) =>
      one(
        [distinct(seed, shape)],
        (x) => clamp(x, lo / 10, (lo + width) / 10),
        (x) => ref.clamp(x, lo / 10, (lo + width) / 10),
      ),
  }),
  reduction("sum", sum, ref.sum, (seed, s) => normal(seed, s)),
  reduction("mean", mean, ref.mean, (seed, s) => normal(seed, s)),
  reduction("max", max, ref.max, (seed, s) => distinct(seed, s)),
  reduction("logSumExp", logSumExp, ref.logSumExp, (seed, s) => normal(seed, s, 3)),
  row({
    name: "matmul",
    params: matmulArb,
    build: ({ batch, drop, onesA, onesB, mkn: [m, k, n], seed }: MatmulParams) => {
      const ba = broadcastFrom(batch, drop[0], onesA), bb = broadcastFrom(batch, drop[1], onesB);
      return one(
        [normal(seed, [...ba, m, k]), normal(seed + 1, [...bb, k, n])],
        matmul,
        ref.matmul,
        ["a", "b"],
      );
    },
  }),
  row({
    name: "dense",
    params: (fc) =>
      fc.record({
        n: int(fc, 1, 4),
        i: int(fc, 1, 6),
        o: int(fc, 1, 6),
        seed: seedArb(fc),
      }),
    build: ({ n, i, o, seed }) =>
      one(
        [normal(seed, [n, i]), normal(seed + 1, [i, o]), normal(seed + 2, [o])],
        dense,
        (x, w, b) => ref.dense(x, w, b),
        ["x", "w", "b"],
      ),
  }),
  row({
    name: "transpose",
    params: permArb,
    build: (p: PermParams) => {
      const perm = permOf(p);
      return one(
        [normal(p.seed, p.shape)],
        (x) => transpose(x, perm),
        (x) => ref.transpose(x, perm),
      );
    },
  }),
  row({
    name: "permute",
    params: permArb,
    build: (p: PermParams) => {
      const perm = permOf(p) ?? p.shape.map((_, i) => i);
      return one([normal(p.seed, p.shape)], (x) => permute(x, perm), (x) => ref.permute(x, perm));
    },
  }),
  row({
    name: "reshape",
    params: (fc) =>
      fc.record({
        shape: shapeArb(fc, 0, 4),
        cuts: fc.array(fc.nat(3), { minLength: 1, maxLength: 6 }),
        hole: int(fc, 0, 5),
        seed: seedArb(fc),
      }),
    build: (p: ReshapeParams) => {
      const target = reshapeTarget(p);
      return one(
        [normal(p.seed, p.shape)],
        (x) => reshape(x, target),
        (x) => ref.reshape(x, target),
      );
    },
  }),
  row({
    name: "flatten",
    params: (fc) => fc.record({ shape: shapeArb(fc, 0, 4), start: fc.nat(), seed: seedArb(fc) }),
    build: ({ shape, start, seed }) => {
      const axis = start % (shape.length + 1);
      return one([normal(seed, shape)], (x) => flatten(x, axis), (x) => ref.flatten(x, axis));
    },
  }),
  unary("sigmoid", sigmoid, ref.sigmoid, (p) => normal(p.seed, p.shape, 2)),
  unary("tanh", tanh, ref.tanh, (p) => normal(p.seed, p.shape, 2)),
  unary("relu", relu, ref.relu, (p) => distinct(p.seed, p.shape)),
  unary("scaledTanh", scaledTanh, ref.scaledTanh, (p) => normal(p.seed, p.shape, 2)),
  row({
    name: "softmax",
    params: softmaxArb,
    build: (p: SoftmaxParams) => {
      const axis = axisPick(p);
      return one(
        [normal(p.seed, p.shape, 2)],
        (x) => softmax(x, axis),
        (x) => ref.softmax(x, axis),
      );
    },
  }),
  row({
    name: "logSoftmax",
    params: softmaxArb,
    build: (p: SoftmaxParams) => {
      const axis = axisPick(p);
      return one(
        [normal(p.seed, p.shape, 2)],
        (x) => logSoftmax(x, axis),
        (x) => ref.logSoftmax(x, axis),
      );
    },
  }),
  row({
    name: "mse",
    params: lossArb,
    build: ({ n, c, rest, mean, seed }: LossParams) => {
      const shape = [n, c, ...rest], reduction = mean ? "mean" as const : "sum" as const;
      return one(
        [normal(seed, shape), normal(seed + 1, shape)],
        (y, t) => mse(y, t, { reduction }),
        (y, t) => ref.mse(y, t, { reduction }),
        ["y", "t"],
      );
    },
  }),
  row({
    name: "crossEntropy",
    params: lossArb,
    build: ({ n, c, mean, labels, labelTensor, seed }: LossParams) => {
      const reduction = mean ? "mean" as const : "sum" as const;
      const lab = labels.slice(0, n).map((l) => l % c);
      // Labels as numbers or as a (constant, non-differentiable) float64 tensor.
      const t = labelTensor ? fromData(lab, [n], { dtype: "float64" }) : lab;
      return one(
        [normal(seed, [n, c], 2)],
        (z) => crossEntropy(z, t, { reduction }),
        (z) => ref.crossEntropy(z, t, { reduction }),
        ["z"],
      );
    },
  }),
  // The ops of LeCun 1998 and the notes' learned combinations.
  ...lenetSuiteOps,
];
