/**
 * The gradient suite's rows for the ops of LeCun et al. 1998 and of the notes' learned
 * combinations (trainable subsampling, the connection-table convolution, RBF units and the
 * paper's loss, the learned-combination convolution and its two penalties): each with a
 * fast-check arbitrary over shapes and every convolution option, appended to `suite_ops.ts`.
 *
 * @module
 */

import { combinationEntropy, combinationPenalty, combineConv2d } from "../tensor/combine_conv.ts";
import { connectedConv2d } from "../tensor/connected_conv.ts";
import { rbf, rbfLoss } from "../tensor/rbf.ts";
import { subsample2d } from "../tensor/subsample.ts";
import { Tensor } from "../tensor/tensor.ts";
import * as ref from "./ref.ts";
import {
  type Arb,
  explicitTotals,
  type FastCheck,
  int,
  normal,
  outSize,
  paddingArb,
  type PaddingChoice,
  pair,
} from "./suite_inputs.ts";
import { one, row, seedArb, type SuiteCase, type SuiteOp } from "./suite_rows.ts";

/** A convolution's geometry: maps grown until the dilated kernel fits the padded input. */
interface WindowParams {
  hw: [number, number];
  k: [number, number];
  s: [number, number];
  d: [number, number];
  padding: PaddingChoice;
}

const windowArb = (fc: FastCheck): Arb<WindowParams> =>
  fc.record({
    hw: pair(fc, 1, 7),
    k: pair(fc, 1, 3),
    s: pair(fc, 1, 2),
    d: pair(fc, 1, 2),
    padding: paddingArb(fc),
  });

function fit({ hw, k, s, d, padding }: WindowParams): [number, number] {
  const pads = explicitTotals(padding);
  const [h, w] = hw.map((v, i) => {
    while (pads && outSize(v, k[i], s[i], d[i], pads[i]) < 1) v++;
    return v;
  });
  return [h, w];
}

// ---------------------------------------------------------------- subsampling

interface SubsampleParams {
  n: number;
  c: number;
  blocks: [number, number];
  k: [number, number];
  seed: number;
}

const subsampleArb = (fc: FastCheck): Arb<SubsampleParams> =>
  fc.record({
    n: int(fc, 1, 3),
    c: int(fc, 1, 4),
    blocks: pair(fc, 1, 4),
    k: pair(fc, 1, 3),
    seed: seedArb(fc),
  });

function buildSubsample({ n, c, blocks, k, seed }: SubsampleParams): SuiteCase {
  return one(
    [
      normal(seed, [n, c, blocks[0] * k[0], blocks[1] * k[1]]),
      normal(seed + 1, [c]),
      normal(seed + 2, [c]),
    ],
    (x, beta, b) => subsample2d(x, beta, b, k),
    (x, beta, b) => ref.subsample2d(x, beta, b, k),
    ["x", "beta", "bias"],
  );
}

// ---------------------------------------------------------------- connection-table convolution

interface ConnectedParams extends WindowParams {
  n: number;
  cin: number;
  table: number[][];
  bias: boolean;
  seed: number;
}

const connectedArb = (fc: FastCheck): Arb<ConnectedParams> =>
  fc.record({ cin: int(fc, 1, 4), cout: int(fc, 1, 4) }).chain(({ cin, cout }) =>
    fc.record({
      n: int(fc, 1, 2),
      cin: fc.constant(cin),
      // each output map reads a non-empty subset of the inputs, in any order
      table: fc.array(
        fc.shuffledSubarray(Array.from({ length: cin }, (_, i) => i), { minLength: 1 }),
        { minLength: cout, maxLength: cout },
      ),
      bias: fc.boolean(),
      seed: seedArb(fc),
    }).chain((p) => windowArb(fc).map((w) => ({ ...p, ...w })))
  );

function buildConnected(p: ConnectedParams): SuiteCase {
  const { n, cin, table, bias, seed } = p;
  const [h, w] = fit(p);
  const opts = { stride: p.s, padding: p.padding, dilation: p.d };
  const x = normal(seed, [n, cin, h, w]);
  const kernels = normal(seed + 1, [table.flat().length, ...p.k]);
  if (!bias) {
    return one(
      [x, kernels],
      (x, k) => connectedConv2d(x, k, null, table, opts),
      (x, k) => ref.connectedConv2d(x, k, null, table, opts),
      ["x", "kernels"],
    );
  }
  return one(
    [x, kernels, normal(seed + 2, [table.length])],
    (x, k, b) => connectedConv2d(x, k, b, table, opts),
    (x, k, b) => ref.connectedConv2d(x, k, b, table, opts),
    ["x", "kernels", "bias"],
  );
}

// ---------------------------------------------------------------- RBF units and eq. 9

interface RbfParams {
  n: number;
  k: number;
  d: number;
  seed: number;
}

const rbfArb = (fc: FastCheck): Arb<RbfParams> =>
  fc.record({ n: int(fc, 1, 4), k: int(fc, 1, 5), d: int(fc, 1, 6), seed: seedArb(fc) });

interface RbfLossParams {
  n: number;
  k: number;
  labels: number[];
  j: number;
  spread: number;
  mean: boolean;
  seed: number;
}

const rbfLossArb = (fc: FastCheck): Arb<RbfLossParams> =>
  fc.record({
    n: int(fc, 1, 4),
    k: int(fc, 1, 6),
    labels: fc.array(int(fc, 0, 5), { minLength: 4, maxLength: 4 }),
    j: fc.double({ min: 0.1, max: 50, noNaN: true }),
    // penalties (squared distances) from near 0 up to hundreds: exercises the stable shift
    spread: fc.constantFrom(1, 3, 30),
    mean: fc.boolean(),
    seed: seedArb(fc),
  });

function buildRbfLoss({ n, k, labels, j, spread, mean, seed }: RbfLossParams): SuiteCase {
  const lab = labels.slice(0, n).map((l) => l % k);
  const y = new Tensor(Float64Array.from(normal(seed, [n, k], spread).data, Math.abs), [n, k]);
  const opts = { j, reduction: mean ? "mean" as const : "sum" as const };
  return one([y], (y) => rbfLoss(y, lab, opts), (y) => ref.rbfLoss(y, lab, opts), ["y"]);
}

// ---------------------------------------------------------------- learned combinations

interface CombineParams extends WindowParams {
  n: number;
  cin: number;
  cout: number;
  bias: boolean;
  seed: number;
}

const combineArb = (fc: FastCheck): Arb<CombineParams> =>
  fc.record({
    n: int(fc, 1, 2),
    cin: int(fc, 1, 4),
    cout: int(fc, 1, 3),
    bias: fc.boolean(),
    seed: seedArb(fc),
  }).chain((p) => windowArb(fc).map((w) => ({ ...p, ...w })));

function buildCombine(p: CombineParams): SuiteCase {
  const { n, cin, cout, bias, seed } = p;
  const [h, w] = fit(p);
  const opts = { stride: p.s, padding: p.padding, dilation: p.d };
  const inputs = [
    normal(seed, [n, cin, h, w]),
    normal(seed + 1, [cout, cin, ...p.k]),
    normal(seed + 2, [cin, cout], 2),
  ];
  if (!bias) {
    return one(
      inputs,
      (x, k, c) => combineConv2d(x, k, c, null, opts),
      (x, k, c) => ref.combineConv2d(x, k, c, null, opts),
      ["x", "k", "c"],
    );
  }
  return one(
    [...inputs, normal(seed + 3, [cout])],
    (x, k, c, b) => combineConv2d(x, k, c, b, opts),
    (x, k, c, b) => ref.combineConv2d(x, k, c, b, opts),
    ["x", "k", "c", "b"],
  );
}

interface PenaltyParams {
  cin: number;
  cout: number;
  lambda: number;
  spread: number;
  seed: number;
}

const penaltyArb = (fc: FastCheck): Arb<PenaltyParams> =>
  fc.record({
    cin: int(fc, 1, 6),
    cout: int(fc, 1, 5),
    lambda: fc.double({ min: -3, max: 3, noNaN: true }),
    spread: fc.constantFrom(0.5, 2, 6),
    seed: seedArb(fc),
  });

function buildPenalty(fast: typeof combinationPenalty, reference: typeof combinationPenalty) {
  return ({ cin, cout, lambda, spread, seed }: PenaltyParams): SuiteCase =>
    one(
      [normal(seed, [cin, cout], spread)],
      (c) => fast(c, lambda),
      (c) => reference(c, lambda),
      ["c"],
    );
}

/** The rows, in the order `mod.ts` exports the ops. */
export const lenetSuiteOps: readonly SuiteOp[] = [
  row({ name: "subsample2d", params: subsampleArb, build: buildSubsample }),
  row({ name: "connectedConv2d", params: connectedArb, build: buildConnected }),
  row({
    name: "rbf",
    params: rbfArb,
    build: ({ n, k, d, seed }: RbfParams) =>
      one([normal(seed, [n, d]), normal(seed + 1, [k, d])], rbf, ref.rbf, ["x", "centers"]),
  }),
  row({ name: "rbfLoss", params: rbfLossArb, build: buildRbfLoss }),
  row({ name: "combineConv2d", params: combineArb, build: buildCombine }),
  row({
    name: "combinationPenalty",
    params: penaltyArb,
    build: buildPenalty(combinationPenalty, ref.combinationPenalty),
  }),
  row({
    name: "combinationEntropy",
    params: penaltyArb,
    build: buildPenalty(combinationEntropy, ref.combinationEntropy),
  }),
];
