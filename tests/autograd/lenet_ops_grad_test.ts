/**
 * The three-way gradient checks of the 1998 / notes ops, property-based: for each op, 100
 * seeded random cases (shapes, options, values), each proving hand rule == reference (<= 1e-10
 * (1 + |g|)) and both == central differences (gradcheck, rtol 1e-6, atol 1e-8), in float64.
 */

import assert from "node:assert/strict";
import fc from "npm:fast-check@4.3.0";
import {
  combinationEntropy,
  combinationPenalty,
  combineConv2d,
  connectedConv2d,
  type Conv2dPadding,
  rbf,
  rbfLoss,
  subsample2d,
  Tensor,
} from "../../mod.ts";
import * as ref from "../../src/autograd/reference_lenet.ts";
import { normal } from "./helpers.ts";
import { threeWay } from "./three_way.ts";

const RUNS = { numRuns: 100 };
const int = (min: number, max: number) => fc.integer({ min, max });
const seedArb = fc.nat({ max: 1 << 30 });
const paddingArb: fc.Arbitrary<Conv2dPadding> = fc.oneof(
  fc.constantFrom<Conv2dPadding>("valid", "same", "full"),
  int(0, 2),
);

/** Grows `n` until a kernel `k` (dilation `d`) fits with total padding `pad` (output >= 1). */
function fit(n: number, k: number, d: number, padding: Conv2dPadding): number {
  const pad = typeof padding === "number" ? 2 * padding : padding === "valid" ? 0 : Infinity;
  while (n + pad < d * (k - 1) + 1) n++;
  return n;
}

/** Runs `property` over 100 cases with a fixed seed, recording the worst errors seen. */
function check<T>(name: string, arb: fc.Arbitrary<T>, run: (p: T) => ReturnType<typeof threeWay>) {
  Deno.test(`three-way gradients, 100 random cases: ${name}`, () => {
    const worst = { handVsRef: 0, handVsFd: 0, refVsFd: 0, cases: 0 };
    fc.assert(
      fc.property(arb, (p) => {
        const r = run(p);
        worst.handVsRef = Math.max(worst.handVsRef, r.handVsRef);
        worst.handVsFd = Math.max(worst.handVsFd, r.handVsFd);
        worst.refVsFd = Math.max(worst.refVsFd, r.refVsFd);
        worst.cases++;
      }),
      { ...RUNS, seed: 6 },
    );
    assert.ok(worst.cases >= 100, `${name}: ran ${worst.cases} cases`);
  });
}

check(
  "subsample2d",
  fc.record({
    n: int(1, 3),
    c: int(1, 4),
    blocks: fc.tuple(int(1, 4), int(1, 4)),
    k: fc.tuple(int(1, 3), int(1, 3)),
    seed: seedArb,
  }),
  ({ n, c, blocks, k, seed }) => {
    const x = normal(seed, [n, c, blocks[0] * k[0], blocks[1] * k[1]]);
    return threeWay(
      "subsample2d",
      [x, normal(seed + 1, [c]), normal(seed + 2, [c])],
      (x, beta, bias) => subsample2d(x, beta, bias, k),
      (x, beta, bias) => ref.subsample2d(x, beta, bias, k),
      { names: ["x", "beta", "bias"], samples: 16, seed },
    );
  },
);

/** A connection table: each of `cout` outputs reads a non-empty subset of `0..cin-1`. */
const tableArb = (cin: number, cout: number) =>
  fc.array(
    fc.shuffledSubarray(Array.from({ length: cin }, (_, i) => i), { minLength: 1 }),
    { minLength: cout, maxLength: cout },
  );

check(
  "connectedConv2d",
  fc.record({ cin: int(1, 4), cout: int(1, 4) }).chain(({ cin, cout }) =>
    fc.record({
      n: int(1, 2),
      table: tableArb(cin, cout),
      hw: fc.tuple(int(1, 7), int(1, 7)),
      k: fc.tuple(int(1, 3), int(1, 3)),
      stride: int(1, 2),
      dilation: int(1, 2),
      padding: paddingArb,
      bias: fc.boolean(),
      seed: seedArb,
    }).map((p) => ({ ...p, cin }))
  ),
  ({ cin, n, table, hw, k, stride, dilation, padding, bias, seed }) => {
    const h = fit(hw[0], k[0], dilation, padding), w = fit(hw[1], k[1], dilation, padding);
    const opts = { stride, dilation, padding };
    const x = normal(seed, [n, cin, h, w]);
    const kernels = normal(seed + 1, [table.flat().length, k[0], k[1]]);
    if (!bias) {
      return threeWay(
        "connectedConv2d",
        [x, kernels],
        (x, kk) => connectedConv2d(x, kk, null, table, opts),
        (x, kk) => ref.connectedConv2d(x, kk, null, table, opts),
        { names: ["x", "kernels"], samples: 16, seed },
      );
    }
    return threeWay(
      "connectedConv2d",
      [x, kernels, normal(seed + 2, [table.length])],
      (x, kk, b) => connectedConv2d(x, kk, b, table, opts),
      (x, kk, b) => ref.connectedConv2d(x, kk, b, table, opts),
      { names: ["x", "kernels", "bias"], samples: 16, seed },
    );
  },
);

check(
  "rbf",
  fc.record({ n: int(1, 4), k: int(1, 5), d: int(1, 6), seed: seedArb }),
  ({ n, k, d, seed }) =>
    threeWay("rbf", [normal(seed, [n, d]), normal(seed + 1, [k, d])], rbf, ref.rbf, {
      names: ["x", "centers"],
      samples: 16,
      seed,
    }),
);

check(
  "rbfLoss",
  fc.record({ n: int(1, 4), k: int(1, 6), seed: seedArb }).chain(({ n, k, seed }) =>
    fc.record({
      n: fc.constant(n),
      k: fc.constant(k),
      seed: fc.constant(seed),
      labels: fc.array(int(0, k - 1), { minLength: n, maxLength: n }),
      j: fc.double({ min: 0.1, max: 50, noNaN: true }),
      spread: fc.constantFrom(1, 3, 30),
      reduction: fc.constantFrom<"mean" | "sum">("mean", "sum"),
    })
  ),
  ({ n, k, seed, labels, j, spread, reduction }) => {
    // Penalties are squared distances: positive, from near 0 to hundreds (the stable shift).
    const y = normal(seed, [n, k], spread);
    const penalties = new Tensor(Float64Array.from(y.data, Math.abs), y.shape);
    return threeWay(
      "rbfLoss",
      [penalties],
      (y) => rbfLoss(y, labels, { j, reduction }),
      (y) => ref.rbfLoss(y, labels, { j, reduction }),
      { names: ["y"], seed },
    );
  },
);

check(
  "combineConv2d",
  fc.record({
    n: int(1, 2),
    cin: int(1, 4),
    cout: int(1, 3),
    hw: fc.tuple(int(1, 6), int(1, 6)),
    k: fc.tuple(int(1, 3), int(1, 3)),
    stride: int(1, 2),
    dilation: int(1, 2),
    padding: paddingArb,
    bias: fc.boolean(),
    seed: seedArb,
  }),
  ({ n, cin, cout, hw, k, stride, dilation, padding, bias, seed }) => {
    const h = fit(hw[0], k[0], dilation, padding), w = fit(hw[1], k[1], dilation, padding);
    const opts = { stride, dilation, padding };
    const inputs = [
      normal(seed, [n, cin, h, w]),
      normal(seed + 1, [cout, cin, k[0], k[1]]),
      normal(seed + 2, [cin, cout], 2),
    ];
    const names = ["x", "k", "c"];
    if (bias) {
      return threeWay(
        "combineConv2d",
        [...inputs, normal(seed + 3, [cout])],
        (x, kk, c, b) => combineConv2d(x, kk, c, b, opts),
        (x, kk, c, b) => ref.combineConv2d(x, kk, c, b, opts),
        { names: [...names, "b"], samples: 16, seed },
      );
    }
    return threeWay(
      "combineConv2d",
      inputs,
      (x, kk, c) => combineConv2d(x, kk, c, null, opts),
      (x, kk, c) => ref.combineConv2d(x, kk, c, null, opts),
      { names, samples: 16, seed },
    );
  },
);

const penaltyArb = fc.record({
  cin: int(1, 6),
  cout: int(1, 5),
  lambda: fc.double({ min: -3, max: 3, noNaN: true }),
  spread: fc.constantFrom(0.5, 2, 6),
  seed: seedArb,
});

check("combinationPenalty", penaltyArb, ({ cin, cout, lambda, spread, seed }) =>
  threeWay(
    "combinationPenalty",
    [normal(seed, [cin, cout], spread)],
    (c: Tensor) => combinationPenalty(c, lambda),
    (c: Tensor) => ref.combinationPenalty(c, lambda),
    { names: ["c"], seed },
  ));

check("combinationEntropy", penaltyArb, ({ cin, cout, lambda, spread, seed }) =>
  threeWay(
    "combinationEntropy",
    [normal(seed, [cin, cout], spread)],
    (c: Tensor) => combinationEntropy(c, lambda),
    (c: Tensor) => ref.combinationEntropy(c, lambda),
    { names: ["c"], seed },
  ));
