/**
 * The table of every differentiable op of the tensor core with its hand-derived backward,
 * shared by the finite-difference test (float64) and the purity/dtype test (float32 and float64).
 */

import {
  add,
  addBackward,
  broadcastTo,
  broadcastToBackward,
  clamp,
  clampBackward,
  crossEntropy,
  crossEntropyBackward,
  dense,
  denseBackward,
  div,
  divBackward,
  type DType,
  exp,
  expBackward,
  fromData,
  log,
  logBackward,
  logSoftmax,
  logSoftmaxBackward,
  logSumExp,
  logSumExpBackward,
  matmul,
  matmulBackward,
  max,
  maxBackward,
  maximum,
  maximumBackward,
  mean,
  meanBackward,
  minimum,
  minimumBackward,
  mse,
  mseBackward,
  mul,
  mulBackward,
  neg,
  negBackward,
  pow,
  powBackward,
  prngKey,
  randomNormal,
  randomUniform,
  relu,
  reluBackward,
  scaledTanh,
  scaledTanhBackward,
  sigmoid,
  sigmoidBackward,
  softmax,
  softmaxBackward,
  sqrt,
  sqrtBackward,
  square,
  squareBackward,
  sub,
  subBackward,
  sum,
  sumBackward,
  sumToShape,
  sumToShapeBackward,
  tanh,
  tanhBackward,
  type Tensor,
  transpose,
  transposeBackward,
} from "../../mod.ts";

/** One op of the table: how to build inputs, run it, and run its hand-derived backward. */
export interface Case {
  /** Test label. */
  name: string;
  /** The name the op records itself under. */
  recorded: string;
  inputs: () => Tensor[];
  f: (xs: Tensor[]) => Tensor;
  back: (g: Tensor, xs: Tensor[], y: Tensor) => readonly (Tensor | null)[];
}

const LABELS = [2, 0, 3, 3, 1];

/**
 * Every differentiable op of the tensor core, with inputs of `dtype` drawn from fixed seeds
 * (the same call gives the same numbers). Inputs stay away from kinks (relu at 0, clamp bounds,
 * ties of max/maximum) so that finite differences are meaningful.
 */
export function opCases(dtype: DType): Case[] {
  let seed = 1000;
  /** Standard normal values (a fresh key per call). */
  const normal = (shape: number[], std = 1): Tensor =>
    randomNormal(prngKey(seed++), shape, { std, dtype });
  /** Uniform values in [low, high). */
  const uniform = (shape: number[], low: number, high: number): Tensor =>
    randomUniform(prngKey(seed++), shape, { low, high, dtype });
  /** Values in ±[0.5, 2): away from 0 (denominators, kinks at 0). */
  const awayFromZero = (shape: number[]): Tensor => {
    const u = uniform(shape, 0.5, 2), sign = uniform(shape, -1, 1);
    return fromData(Array.from(u.data, (v, i) => (sign.data[i] < 0 ? -v : v)), shape, { dtype });
  };
  return [
    // Broadcasting and its adjoint.
    {
      name: "broadcastTo [3, 1] -> [2, 3, 4]",
      recorded: "broadcastTo",
      inputs: () => [normal([3, 1])],
      f: ([x]) => broadcastTo(x, [2, 3, 4]),
      back: (g, [x]) => [broadcastToBackward(g, x.shape)],
    },
    {
      name: "sumToShape [2, 3, 4] -> [3, 1]",
      recorded: "sumToShape",
      inputs: () => [normal([2, 3, 4])],
      f: ([x]) => sumToShape(x, [3, 1]),
      back: (g, [x]) => [sumToShapeBackward(g, x.shape)],
    },
    // Binary elementwise, with broadcasting on both sides.
    ...([
      ["add", add, addBackward],
      ["sub", sub, subBackward],
      ["mul", mul, mulBackward],
      ["maximum", maximum, maximumBackward],
      ["minimum", minimum, minimumBackward],
    ] as const).map(([name, op, bw]): Case => ({
      name: `${name} [2, 1, 4] with [3, 1]`,
      recorded: name,
      inputs: () => [normal([2, 1, 4]), normal([3, 1])],
      f: ([a, b]) => op(a, b),
      back: (g, [a, b]) => bw(g, a, b),
    })),
    {
      name: "div [2, 3] by [3] (denominators away from 0)",
      recorded: "div",
      inputs: () => [normal([2, 3]), awayFromZero([3])],
      f: ([a, b]) => div(a, b),
      back: (g, [a, b]) => divBackward(g, a, b),
    },
    {
      name: "div scalar numerator 2 / x",
      recorded: "div",
      inputs: () => [awayFromZero([4])],
      f: ([b]) => div(2, b),
      back: (g, [b]) => [divBackward(g, 2, b)[1]],
    },
    {
      name: "mul by scalar 3 (number operand gets no gradient)",
      recorded: "mul",
      inputs: () => [normal([2, 2])],
      f: ([a]) => mul(a, 3),
      back: (g, [a]) => [mulBackward(g, a, 3)[0]],
    },
    {
      name: "sub scalar minus tensor 1 - x",
      recorded: "sub",
      inputs: () => [normal([3])],
      f: ([b]) => sub(1, b),
      back: (g, [b]) => [subBackward(g, 1, b)[1]],
    },
    // Unary elementwise.
    {
      name: "neg",
      recorded: "neg",
      inputs: () => [normal([5])],
      f: ([x]) => neg(x),
      back: (g) => [negBackward(g)],
    },
    {
      name: "exp",
      recorded: "exp",
      inputs: () => [normal([2, 3])],
      f: ([x]) => exp(x),
      back: (g, _, y) => [expBackward(g, y)],
    },
    {
      name: "log (positive inputs)",
      recorded: "log",
      inputs: () => [uniform([2, 3], 0.5, 3)],
      f: ([x]) => log(x),
      back: (g, [x]) => [logBackward(g, x)],
    },
    {
      name: "sqrt (positive inputs)",
      recorded: "sqrt",
      inputs: () => [uniform([2, 3], 0.5, 3)],
      f: ([x]) => sqrt(x),
      back: (g, _, y) => [sqrtBackward(g, y)],
    },
    {
      name: "square",
      recorded: "square",
      inputs: () => [normal([2, 3])],
      f: ([x]) => square(x),
      back: (g, [x]) => [squareBackward(g, x)],
    },
    ...[3, 2.5, -1.5].map((p): Case => ({
      name: `pow ${p} (positive inputs)`,
      recorded: "pow",
      inputs: () => [uniform([2, 3], 0.5, 2)],
      f: ([x]) => pow(x, p),
      back: (g, [x]) => [powBackward(g, x, p)],
    })),
    {
      name: "clamp to [-0.5, 0.5]",
      recorded: "clamp",
      inputs: () => [normal([3, 4])],
      f: ([x]) => clamp(x, -0.5, 0.5),
      back: (g, [x]) => [clampBackward(g, x, -0.5, 0.5)],
    },
    // Reductions.
    {
      name: "sum over axes [0, 2]",
      recorded: "sum",
      inputs: () => [normal([2, 3, 4])],
      f: ([x]) => sum(x, { axis: [0, 2] }),
      back: (g, [x]) => [sumBackward(g, x.shape, { axis: [0, 2] })],
    },
    {
      name: "sum over everything",
      recorded: "sum",
      inputs: () => [normal([2, 3])],
      f: ([x]) => sum(x),
      back: (g, [x]) => [sumBackward(g, x.shape)],
    },
    {
      name: "mean over axis -1, keepdims",
      recorded: "mean",
      inputs: () => [normal([2, 3, 4])],
      f: ([x]) => mean(x, { axis: -1, keepdims: true }),
      back: (g, [x]) => [meanBackward(g, x.shape, { axis: -1, keepdims: true })],
    },
    {
      name: "max over axis 1",
      recorded: "max",
      inputs: () => [normal([3, 5, 2])],
      f: ([x]) => max(x, { axis: 1 }),
      back: (g, [x]) => [maxBackward(g, x, { axis: 1 })],
    },
    {
      name: "max over axes [0, 2] keepdims",
      recorded: "max",
      inputs: () => [normal([3, 2, 4])],
      f: ([x]) => max(x, { axis: [0, 2], keepdims: true }),
      back: (g, [x]) => [maxBackward(g, x, { axis: [0, 2], keepdims: true })],
    },
    {
      name: "logSumExp over axis 1",
      recorded: "logSumExp",
      inputs: () => [normal([3, 4], 3)],
      f: ([x]) => logSumExp(x, { axis: 1 }),
      back: (g, [x], y) => [logSumExpBackward(g, x, y, { axis: 1 })],
    },
    // Matrix products and layout.
    {
      name: "matmul 2-D [3, 4] @ [4, 2]",
      recorded: "matmul",
      inputs: () => [normal([3, 4]), normal([4, 2])],
      f: ([a, b]) => matmul(a, b),
      back: (g, [a, b]) => matmulBackward(g, a, b),
    },
    {
      name: "matmul batched [2, 3, 4] @ [2, 4, 2]",
      recorded: "matmul",
      inputs: () => [normal([2, 3, 4]), normal([2, 4, 2])],
      f: ([a, b]) => matmul(a, b),
      back: (g, [a, b]) => matmulBackward(g, a, b),
    },
    {
      name: "matmul batched with shared B [2, 3, 4] @ [4, 2]",
      recorded: "matmul",
      inputs: () => [normal([2, 3, 4]), normal([4, 2])],
      f: ([a, b]) => matmul(a, b),
      back: (g, [a, b]) => matmulBackward(g, a, b),
    },
    {
      name: "matmul broadcast batches [2, 1, 3, 4] @ [3, 4, 2]",
      recorded: "matmul",
      inputs: () => [normal([2, 1, 3, 4]), normal([3, 4, 2])],
      f: ([a, b]) => matmul(a, b),
      back: (g, [a, b]) => matmulBackward(g, a, b),
    },
    {
      name: "dense [4, 3] W [3, 5] b [5]",
      recorded: "dense",
      inputs: () => [normal([4, 3]), normal([3, 5]), normal([5])],
      f: ([x, w, b]) => dense(x, w, b),
      back: (g, [x, w, b]) => denseBackward(g, x, w, b),
    },
    {
      name: "transpose [2, 3, 4] by [2, 0, 1]",
      recorded: "transpose",
      inputs: () => [normal([2, 3, 4])],
      f: ([x]) => transpose(x, [2, 0, 1]),
      back: (g) => [transposeBackward(g, [2, 0, 1])],
    },
    // Activations (relu away from its kink).
    ...([
      ["sigmoid", sigmoid, sigmoidBackward],
      ["tanh", tanh, tanhBackward],
      ["scaledTanh", scaledTanh, scaledTanhBackward],
    ] as const).map(([name, op, bw]): Case => ({
      name,
      recorded: name,
      inputs: () => [normal([3, 4], 2)],
      f: ([x]) => op(x),
      back: (g, _, y) => [bw(g, y)],
    })),
    {
      name: "relu (inputs away from 0)",
      recorded: "relu",
      inputs: () => [awayFromZero([3, 4])],
      f: ([x]) => relu(x),
      back: (g, _, y) => [reluBackward(g, y)],
    },
    // Softmax family and losses.
    {
      name: "softmax over the last axis",
      recorded: "softmax",
      inputs: () => [normal([3, 5], 2)],
      f: ([x]) => softmax(x),
      back: (g, _, y) => [softmaxBackward(g, y)],
    },
    {
      name: "softmax over axis 0 (strided slices)",
      recorded: "softmax",
      inputs: () => [normal([4, 3, 2], 2)],
      f: ([x]) => softmax(x, 0),
      back: (g, _, y) => [softmaxBackward(g, y, 0)],
    },
    {
      name: "logSoftmax over axis 1 of [2, 4, 3]",
      recorded: "logSoftmax",
      inputs: () => [normal([2, 4, 3], 2)],
      f: ([x]) => logSoftmax(x, 1),
      back: (g, _, y) => [logSoftmaxBackward(g, y, 1)],
    },
    {
      name: "mse mean over the batch",
      recorded: "mse",
      inputs: () => [normal([4, 3]), normal([4, 3])],
      f: ([y, t]) => mse(y, t),
      back: (g, [y, t]) => mseBackward(g, y, t),
    },
    {
      name: "mse sum",
      recorded: "mse",
      inputs: () => [normal([4, 3]), normal([4, 3])],
      f: ([y, t]) => mse(y, t, { reduction: "sum" }),
      back: (g, [y, t]) => mseBackward(g, y, t, { reduction: "sum" }),
    },
    ...(["mean", "sum"] as const).map((reduction): Case => ({
      name: `crossEntropy ${reduction}`,
      recorded: "crossEntropy",
      inputs: () => [normal([5, 4], 2)],
      f: ([z]) => crossEntropy(z, LABELS, { reduction }),
      back: (g, [z]) => [crossEntropyBackward(g, z, LABELS, { reduction })],
    })),
  ];
}
