/**
 * Every reference definition's gradient (the chain rule over the primitive table) against
 * central differences in float64 on random shapes and options (fast-check, seeded). A point
 * fails when both its relative error exceeds 1e-6 and its absolute error exceeds 1e-8 (the
 * finite-difference noise floor for near-zero gradients; see gradcheck.ts).
 */

import fc from "npm:fast-check@4.3.0";
import { gradcheck, type GradcheckOptions, ref, type Tensor } from "../../mod.ts";
import { assertPasses, distinct, normal } from "./helpers.ts";

const TOL = { rtol: 1e-6, atol: 1e-8 } as const;

/** Runs `numRuns` seeded cases; each builds its inputs and checks them. */
function property<T>(arb: fc.Arbitrary<T>, check: (c: T) => void, numRuns: number, seed = 7) {
  fc.assert(fc.property(arb, check), { seed, numRuns });
}

function check(
  label: string,
  f: (...xs: Tensor[]) => Tensor,
  inputs: Tensor[],
  opts: GradcheckOptions = {},
): void {
  assertPasses(gradcheck(f, inputs, { ...TOL, label, ...opts }));
}

const int = (min: number, max: number) => fc.integer({ min, max });
const pair = (min: number, max: number) => fc.tuple(int(min, max), int(min, max));
const outSize = (n: number, k: number, s: number, d: number, p: number) =>
  Math.floor((n + p - d * (k - 1) - 1) / s) + 1;

Deno.test("ref.conv2d gradients (input, weights, bias) match central differences", () => {
  const arb = fc.record({
    n: int(1, 3),
    c: int(1, 4),
    o: int(1, 4),
    hw: pair(1, 10),
    k: pair(1, 5),
    s: pair(1, 3),
    d: pair(1, 2),
    padding: fc.oneof(
      fc.constantFrom("valid" as const, "same" as const, "full" as const),
      int(0, 2),
      fc.tuple(int(0, 2), int(0, 2), int(0, 2), int(0, 2)),
    ),
    seed: fc.nat(),
  });
  property(arb, ({ n, c, o, hw, k, s, d, padding, seed }) => {
    // Grow the input until the (dilated) kernel fits the padded map ("same"/"full" always do).
    const p = padding === "valid"
      ? [0, 0]
      : typeof padding === "number"
      ? [2 * padding, 2 * padding]
      : Array.isArray(padding)
      ? [padding[0] + padding[1], padding[2] + padding[3]]
      : null;
    const [h, w] = hw.map((v, i) => {
      while (p && outSize(v, k[i], s[i], d[i], p[i]) < 1) v++;
      return v;
    });
    const opts = { stride: s, padding, dilation: d };
    check(
      `ref.conv2d ${JSON.stringify({ n, c, o, h, w, ...opts })}`,
      (x, wt, b) => ref.conv2d(x, wt, b, opts),
      [normal(seed, [n, c, h, w]), normal(seed + 1, [o, c, ...k]), normal(seed + 2, [o])],
      { seed },
    );
  }, 100);
});

const poolArb = fc.record({
  n: int(1, 3),
  c: int(1, 4),
  hw: pair(1, 10),
  k: pair(1, 5),
  s: pair(1, 3),
  p: fc.tuple(int(0, 4), int(0, 4), int(0, 4), int(0, 4)),
  seed: fc.nat(),
});

for (const kind of ["maxPool2d", "avgPool2d"] as const) {
  Deno.test(`ref.${kind} gradients match central differences (inputs away from ties)`, () => {
    property(poolArb, ({ n, c, hw, k, s, p, seed }) => {
      const pads = [p[0] % k[0], p[1] % k[0], p[2] % k[1], p[3] % k[1]] as const;
      const [h, w] = hw.map((v, i) => Math.max(v, k[i] - pads[2 * i] - pads[2 * i + 1]));
      const opts = { stride: s, padding: pads };
      // Distinct values 0.1 apart: each window has one maximum, far beyond the step eps.
      const x = kind === "maxPool2d" ? distinct(seed, [n, c, h, w]) : normal(seed, [n, c, h, w]);
      check(
        `ref.${kind} ${JSON.stringify({ n, c, h, w, k, ...opts })}`,
        (x) => ref[kind](x, k, opts),
        [
          x,
        ],
        { seed },
      );
    }, 100);
  });
}

Deno.test("ref.upsample gradients match central differences", () => {
  const arb = fc.record({
    lead: fc.array(int(1, 3), { maxLength: 2 }),
    hw: pair(1, 5),
    f: pair(1, 3),
    seed: fc.nat(),
  });
  property(arb, ({ lead, hw, f, seed }) => {
    check(`ref.upsample ${JSON.stringify({ lead, hw, f })}`, (x) => ref.upsample(x, f), [
      normal(seed, [...lead, ...hw]),
    ], { seed });
  }, 100);
});

const shapeArb = fc.array(int(1, 5), { minLength: 1, maxLength: 3 });

for (const act of ["sigmoid", "relu", "scaledTanh"] as const) {
  Deno.test(`ref.${act} gradients match central differences (ReLU inputs away from 0)`, () => {
    property(fc.record({ shape: shapeArb, seed: fc.nat() }), ({ shape, seed }) => {
      const x = act === "relu" ? distinct(seed, shape) : normal(seed, shape, 2);
      check(`ref.${act} ${JSON.stringify(shape)}`, ref[act], [x], { seed });
    }, 100);
  });
}

for (const sm of ["softmax", "logSoftmax"] as const) {
  Deno.test(`ref.${sm} gradients match central differences over every axis`, () => {
    const arb = fc.record({
      shape: shapeArb,
      axisPick: fc.nat(),
      neg: fc.boolean(),
      seed: fc.nat(),
    });
    property(arb, ({ shape, axisPick, neg, seed }) => {
      const axis = (axisPick % shape.length) - (neg ? shape.length : 0);
      check(`ref.${sm} ${JSON.stringify({ shape, axis })}`, (x) => ref[sm](x, axis), [
        normal(seed, shape, 2),
      ], { seed });
    }, 100);
  });
}

Deno.test("ref.mse and ref.crossEntropy gradients match central differences (mean and sum)", () => {
  const arb = fc.record({
    n: int(1, 4),
    c: int(1, 6),
    mean: fc.boolean(),
    labels: fc.array(fc.nat(), { minLength: 4, maxLength: 4 }),
    seed: fc.nat(),
  });
  property(arb, ({ n, c, mean, labels, seed }) => {
    const reduction = mean ? "mean" : "sum";
    check(
      `ref.mse ${JSON.stringify({ n, c, reduction })}`,
      (y, t) => ref.mse(y, t, { reduction }),
      [
        normal(seed, [n, c]),
        normal(seed + 1, [n, c]),
      ],
      { seed },
    );
    const lab = labels.slice(0, n).map((l) => l % c);
    check(
      `ref.crossEntropy ${JSON.stringify({ n, c, lab, reduction })}`,
      (z) => ref.crossEntropy(z, lab, { reduction }),
      [normal(seed + 2, [n, c], 2)],
      { seed },
    );
  }, 100);
});

Deno.test("ref.dense gradients match central differences (with and without bias)", () => {
  const arb = fc.record({
    n: int(1, 4),
    i: int(1, 6),
    o: int(1, 6),
    bias: fc.boolean(),
    seed: fc.nat(),
  });
  property(arb, ({ n, i, o, bias, seed }) => {
    const x = normal(seed, [n, i]), w = normal(seed + 1, [i, o]), b = normal(seed + 2, [o]);
    if (bias) check(`ref.dense ${JSON.stringify({ n, i, o })}`, ref.dense, [x, w, b], { seed });
    else {check(`ref.dense ${JSON.stringify({ n, i, o })} no bias`, (x, w) => ref.dense(x, w), [
        x,
        w,
      ], { seed });}
  }, 100);
});
