/**
 * The suite's harness is itself proven: deliberately broken hand rules (the derivations'
 * classic mistakes) run through the same `checkOp` as the real table and must fail, with both
 * the hand-vs-reference check and gradcheck (a Left naming the op and the input) catching them.
 * Then the tie conventions the random suites stay away from, pinned for the fast op AND its
 * reference: max-pool and max route to the first maximum, relu'(0) = 0, maximum/minimum ties go
 * to the first argument, clamp passes the gradient at its bounds.
 */

import assert from "node:assert/strict";
import fc from "npm:fast-check@4.3.0";
import { either as E } from "npm:fp-ts@2.16.11";
import {
  avgPool2d,
  avgPool2dBackward,
  clamp,
  conv2d,
  conv2dBackward,
  crossEntropy,
  gradcheck,
  max as maxReduce,
  maximum,
  maxPool2d,
  minimum,
  mul,
  ref,
  relu,
  rot180,
  softmax,
  type Tensor,
  valueAndGrad,
  vjp,
} from "../../mod.ts";
import { checkOp } from "../../src/autograd/suite.ts";
import { normal } from "../../src/autograd/suite_inputs.ts";
import type { SuiteOp } from "../../src/autograd/suite_ops.ts";
import { recordOp, untraced } from "../../src/tensor/trace.ts";
import { f64 } from "./helpers.ts";

const int = (min: number, max: number) => fc.integer({ min, max });
const mode = () => fc.constantFrom("valid" as const, "same" as const, "full" as const);

/** An op with the fast forward and a (broken) hand rule, recorded as `name`. */
function handOp(
  name: string,
  inputs: Tensor[],
  forward: () => Tensor,
  rule: (g: Tensor) => Tensor[],
) {
  return recordOp(name, inputs, untraced(forward), () => rule);
}

interface ConvP {
  n: number;
  c: number;
  o: number;
  k: number;
  extra: [number, number];
  s: number;
  padding: "valid" | "same" | "full";
  seed: number;
}

/** conv2d whose input gradient forgets rot180: dX = full_corr(delta, W) instead of rot180(W). */
const convWithoutRot180: SuiteOp<ConvP> = {
  name: "conv2d",
  params: () =>
    fc.record({
      n: int(1, 2),
      c: int(1, 3),
      o: int(1, 3),
      k: int(2, 4),
      extra: fc.tuple(int(0, 4), int(0, 4)),
      s: int(1, 2),
      padding: mode(),
      seed: fc.nat(1 << 20),
    }),
  build: ({ n, c, o, k, extra, s, padding, seed }) => {
    const opts = { stride: s, padding };
    const x = normal(seed, [n, c, k + extra[0], k + extra[1]]), w = normal(seed + 1, [o, c, k, k]);
    const fast = (x: Tensor, w: Tensor) =>
      handOp("conv2d", [x, w], () => conv2d(x, w, null, opts), (g) => [
        conv2dBackward(g, x, rot180(w), opts).dx, // the mistake: the kernel is not rotated
        conv2dBackward(g, x, w, opts).dw,
      ]);
    return { inputs: [x, w], names: ["x", "w"], fast, ref: (x, w) => ref.conv2d(x, w, null, opts) };
  },
};

interface PoolP {
  shape: [number, number, number, number];
  k: number;
  seed: number;
}

/** avgPool2d whose backward spreads delta without dividing by k^2. */
const avgPoolWithoutScale: SuiteOp<PoolP> = {
  name: "avgPool2d",
  params: () =>
    fc.record({
      shape: fc.tuple(int(1, 2), int(1, 3), int(4, 8), int(4, 8)),
      k: int(2, 4),
      seed: fc.nat(1 << 20),
    }),
  build: ({ shape, k, seed }) => {
    const opts = { kernel: k };
    const fast = (x: Tensor) =>
      handOp("avgPool2d", [x], () => avgPool2d(x, opts), (d) => [
        mul(avgPool2dBackward(d, x.shape, opts), k * k), // the mistake: no 1 / k^2
      ]);
    return { inputs: [normal(seed, shape)], names: ["x"], fast, ref: (x) => ref.avgPool2d(x, k) };
  },
};

interface CeP {
  n: number;
  c: number;
  labels: number[];
  seed: number;
}

/** Softmax + cross-entropy whose backward forgets the onehot: dZ = softmax(z) / N. */
const crossEntropyWithoutOnehot: SuiteOp<CeP> = {
  name: "crossEntropy",
  params: () =>
    fc.record({
      n: int(1, 4),
      c: int(2, 6),
      labels: fc.array(fc.nat(9), { minLength: 4, maxLength: 4 }),
      seed: fc.nat(1 << 20),
    }),
  build: ({ n, c, labels, seed }) => {
    const t = labels.slice(0, n).map((l) => l % c);
    const fast = (z: Tensor) =>
      handOp("crossEntropy", [z], () => crossEntropy(z, t), (g) => [
        mul(softmax(z), g.data[0] / n), // the mistake: - onehot(t) is missing
      ]);
    return {
      inputs: [normal(seed, [n, c], 2)],
      names: ["z"],
      fast,
      ref: (z) => ref.crossEntropy(z, t),
    };
  },
};

const controls: [SuiteOp, string][] = [
  [convWithoutRot180 as unknown as SuiteOp, "x"],
  [avgPoolWithoutScale as unknown as SuiteOp, "x"],
  [crossEntropyWithoutOnehot as unknown as SuiteOp, "z"],
];

for (const [op, input] of controls) {
  Deno.test(`negative control: the harness catches a broken ${op.name} rule (input ${input})`, () => {
    const row = checkOp(fc, op, { seed: 1, cases: 20, samples: 16 });
    assert.equal(row.passed, false, `${op.name}: the broken rule passed`);
    const msg = row.failure ?? "";
    assert.match(msg, new RegExp(`^${op.name}: failed after \\d+ case`));
    assert.match(msg, /counterexample \[\{.*\}\]; reproduce with --seed 1 --op /);
    // Check 1: the hand rule disagrees with the reference on this input's gradient only.
    assert.match(msg, new RegExp(`hand rule vs reference: gradient of ${input} \\[`));
    assert.doesNotMatch(msg, /gradient of w /);
    // Checks 2 and 3: gradcheck is Left for the hand rule, naming the op and input; the
    // reference passes it.
    assert.match(msg, new RegExp(`gradcheck failed for ${op.name} .*\\(hand rule\\)\\n`));
    assert.match(msg, new RegExp(`\\(hand rule\\): ${input} \\[[\\d, ]+\\]: \\d+ of \\d+ coord`));
    assert.doesNotMatch(msg, /\(reference\)/);
    assert.ok(row.maxHandVsRef > 1e-3 && row.maxVsFd > 1e-3, `${row.maxHandVsRef} ${row.maxVsFd}`);
  });
}

Deno.test("negative controls: gradcheck alone returns Left naming the op and the input", () => {
  for (const [op, input] of controls) {
    const [p] = fc.sample(op.params(fc), { seed: 5, numRuns: 1 });
    const c = op.build(p);
    const r = gradcheck(c.fast, c.inputs.slice(), { label: op.name, names: c.names });
    assert.ok(E.isLeft(r), `${op.name}: broken rule passed gradcheck`);
    assert.deepEqual(r.left.failed.map((i) => i.name), [input]);
    assert.match(
      r.left.message,
      new RegExp(`^gradcheck failed for ${op.name}\\n  ${op.name}: ${input} `),
    );
    assert.ok(E.isRight(gradcheck(c.ref, c.inputs.slice(), { names: c.names })));
  }
});

/** The gradient of `sum(f(x) * c)` for fast and reference `f`: `c` tells where each went. */
function both(
  fast: (x: Tensor) => Tensor,
  reference: (x: Tensor) => Tensor,
  x: Tensor,
): [number[], number[]] {
  const run = (f: (x: Tensor) => Tensor) => {
    const [y, pull] = vjp(f, x);
    const c = f64(Array.from({ length: y.size }, (_, i) => i + 1));
    return Array.from(pull(ref.reshape(c, y.shape))[0].data);
  };
  return [run(fast), run(reference)];
}

Deno.test("ties: max-pool routes each window's delta to its FIRST maximum (fast and ref)", () => {
  // All equal: window (p, q) of a 2x2 kernel at stride 1 starts at (p, q), its first element.
  const flat = f64([[[[5, 5, 5], [5, 5, 5], [5, 5, 5]]]]);
  const expected = [1, 2, 0, 3, 4, 0, 0, 0, 0]; // window k's delta (k + 1) at its top-left cell
  const [f, r] = both(
    (x) => maxPool2d(x, { kernel: 2, stride: 1 }),
    (x) => ref.maxPool2d(x, 2, { stride: 1 }),
    flat,
  );
  assert.deepEqual(f, expected);
  assert.deepEqual(r, expected);
  // A tie later in a window loses to an earlier one; padding (-Infinity) never wins.
  const x = f64([[[[1, 7, 7], [7, 2, 3], [0, 7, 7]]]]);
  const opts = { stride: 2, padding: 1 } as const;
  const [fp, rp] = both(
    (x) => maxPool2d(x, { kernel: 2, ...opts }),
    (x) => ref.maxPool2d(x, 2, opts),
    x,
  );
  // Windows over the padded 5x5: [pad, pad; pad, 1] -> (0,0); [pad, pad; 7, 7] -> (0,1);
  // [pad, 7; pad, 0] -> (1,0); [2, 3; 7, 7] -> (2,1).
  assert.deepEqual(fp, [1, 2, 0, 3, 0, 0, 0, 4, 0]);
  assert.deepEqual(rp, fp);
});

Deno.test("ties: max over an axis routes to the first maximum (fast and ref)", () => {
  const x = f64([[2, 5, 5], [1, 1, 0]]);
  const [f, r] = both((x) => maxReduce(x, { axis: 1 }), (x) => ref.max(x, { axis: 1 }), x);
  assert.deepEqual(f, [0, 1, 0, 2, 0, 0]);
  assert.deepEqual(r, f);
});

Deno.test("kinks: relu'(0) = 0, for the fast op and the reference", () => {
  const x = f64([-1, 0, -0, 1e-300, 2]);
  for (const f of [relu, ref.relu]) {
    const [, g] = valueAndGrad((x: Tensor) => ref.sum(f(x)))(x);
    assert.deepEqual(Array.from(g.data), [0, 0, 0, 1, 1]);
  }
});

Deno.test("ties: maximum/minimum send the gradient to the first argument; clamp passes at its bounds", () => {
  const a = f64([1, 2, 3]), b = f64([1, 0, 3]);
  for (const [fast, reference] of [[maximum, ref.maximum], [minimum, ref.minimum]] as const) {
    for (const f of [fast, reference]) {
      const [ga, gb] = valueAndGrad((a: Tensor, b: Tensor) => ref.sum(f(a, b)), [0, 1])(a, b)[1];
      const toA = fast === maximum ? [1, 1, 1] : [1, 0, 1];
      assert.deepEqual(Array.from(ga.data), toA, `${f.name} a`);
      assert.deepEqual(Array.from(gb.data), toA.map((v) => 1 - v), `${f.name} b`);
    }
  }
  const x = f64([-1, -0.5, 0, 0.5, 1]);
  for (const f of [clamp, ref.clamp]) {
    const [, g] = valueAndGrad((x: Tensor) => ref.sum(f(x, -0.5, 0.5)))(x);
    assert.deepEqual(Array.from(g.data), [0, 1, 1, 1, 0]);
  }
});
