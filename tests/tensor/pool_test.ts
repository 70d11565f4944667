import assert from "node:assert/strict";
import fc from "npm:fast-check@4.3.0";
import {
  avgPool2d,
  avgPool2dBackward,
  grad,
  maxPool2d,
  maxPool2dBackward,
  maxPool2dWithArgmax,
  type Pool2dOptions,
  sum,
  type Tensor,
  tensor,
  TensorError,
  zeros,
} from "../../mod.ts";
import { type Pullback, withRecorder } from "../../src/tensor/trace.ts";
import { assertBackwardMatchesFd, distinct, snapshot } from "../autograd/helpers.ts";

const rows = (t: Tensor): number[][] => {
  const h = t.shape[t.rank - 2], w = t.shape[t.rank - 1];
  return Array.from({ length: h }, (_, i) => Array.from(t.data.subarray(i * w, i * w + w)));
};

// Maxima of the four 2x2 windows sit top-left, bottom-right, top-right and bottom-left.
const x4 = tensor([[[[9, 1, 2, 3], [4, 5, 6, 10], [1, 20, 5, 6], [3, 4, 30, 7]]]]);
const delta = tensor([[[[2, 8], [4, 6]]]]);

Deno.test("worked example: max-pool 2x2 routes delta to each window's maximum", () => {
  const y = maxPool2d(x4, { kernel: 2 });
  assert.deepEqual(rows(y), [[9, 10], [20, 30]]);
  const { argmax } = maxPool2dWithArgmax(x4, { kernel: 2 });
  assert.deepEqual(Array.from(argmax), [0, 7, 9, 14]);
  assert.deepEqual(rows(maxPool2dBackward(delta, argmax, x4.shape)), [
    [2, 0, 0, 0],
    [0, 0, 0, 8],
    [0, 4, 0, 0],
    [0, 0, 6, 0],
  ]);
});

Deno.test("worked example: avg-pool 2x2 backward spreads delta / 4 over each window", () => {
  assert.deepEqual(rows(avgPool2d(x4, { kernel: 2 })), [[19 / 4, 21 / 4], [7, 12]]);
  assert.deepEqual(rows(avgPool2dBackward(delta, x4.shape, { kernel: 2 })), [
    [0.5, 0.5, 2, 2],
    [0.5, 0.5, 2, 2],
    [1, 1, 1.5, 1.5],
    [1, 1, 1.5, 1.5],
  ]);
});

Deno.test("max-pool ties go to the first maximum in row-major window order", () => {
  const x = tensor([[3, 3, 1, 5], [3, 3, 5, 2], [1, 2, 0, -1], [7, 7, -1, 0]]);
  const { y, argmax } = maxPool2dWithArgmax(x, { kernel: 2 });
  assert.deepEqual(rows(y), [[3, 5], [7, 0]]);
  // [[3,3],[3,3]] -> (0,0); [[1,5],[5,2]] -> (0,3) not (1,2); [[1,2],[7,7]] -> (3,0); [[0,-1],[-1,0]] -> (2,2).
  assert.deepEqual(Array.from(argmax), [0, 3, 12, 10]);
  const dx = maxPool2dBackward(tensor([[1, 2], [3, 4]]), argmax, x.shape);
  assert.deepEqual(rows(dx), [[1, 0, 0, 2], [0, 0, 0, 0], [0, 0, 4, 0], [3, 0, 0, 0]]);
});

Deno.test("overlapping windows accumulate in both backward rules", () => {
  // 3x3 windows, stride 1, over a 4x4 map whose maximum (9) sits in all four windows.
  const x = tensor([[0, 1, 2, 0], [1, 9, 3, 1], [2, 3, 4, 2], [0, 1, 2, 0]]);
  const d = tensor([[1, 2], [3, 4]]);
  const { y, argmax } = maxPool2dWithArgmax(x, { kernel: 3, stride: 1 });
  assert.deepEqual(rows(y), [[9, 9], [9, 9]]);
  const dx = maxPool2dBackward(d, argmax, x.shape);
  assert.equal(dx.data[5], 10);
  assert.equal(Array.from(dx.data).reduce((s, v) => s + v, 0), 10);
  const da = avgPool2dBackward(tensor([[9, 9], [9, 9]]), [4, 4], { kernel: 3, stride: 1 });
  // Each cell receives 1 per window containing it: corners 1, edges 2, centre 4.
  assert.deepEqual(rows(da), [[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]]);
});

Deno.test("padding: max-pool pads with -Infinity, avg-pool with zeros and divisor kh*kw", () => {
  const neg = tensor([[-1, -2, -3], [-4, -5, -6], [-7, -8, -9]]);
  const opts: Pool2dOptions = { kernel: 2, stride: 2, padding: 1 };
  const { y, argmax } = maxPool2dWithArgmax(neg, opts);
  assert.deepEqual(rows(y), [[-1, -2], [-4, -5]]); // a padded 0 never wins over a real -1
  assert.deepEqual(Array.from(argmax), [0, 1, 3, 4]);
  assert.deepEqual(rows(avgPool2d(tensor([[4, 4], [4, 4]]), opts)), [[1, 1], [1, 1]]);
  assert.deepEqual(
    rows(avgPool2d(neg, { kernel: [2, 3], stride: [1, 3], padding: [0, 0, 1, 1] })),
    [
      [-(1 + 2 + 4 + 5) / 6],
      [-(4 + 5 + 7 + 8) / 6],
    ],
  );
  assert.deepEqual(
    maxPool2d(zeros([2, 3, 7, 5]), { kernel: 3, stride: 2, padding: [1, 1, 0, 2] }).shape,
    [2, 3, 4, 3],
  );
});

const poolCase = fc.record({
  lead: fc.constantFrom<number[]>([], [2], [2, 3], [1, 2]),
  h: fc.integer({ min: 1, max: 7 }),
  w: fc.integer({ min: 1, max: 7 }),
  kh: fc.integer({ min: 1, max: 3 }),
  kw: fc.integer({ min: 1, max: 3 }),
  sh: fc.integer({ min: 1, max: 3 }),
  sw: fc.integer({ min: 1, max: 3 }),
  pad: fc.tuple(fc.nat(2), fc.nat(2), fc.nat(2), fc.nat(2)),
  seed: fc.nat(),
});

Deno.test("max-pool and avg-pool backward match finite differences (float64, no ties)", () => {
  fc.assert(
    fc.property(poolCase, ({ lead, h, w, kh, kw, sh, sw, pad, seed }) => {
      const [pt, pb, pl, pr] = pad;
      fc.pre(pt < kh && pb < kh && pl < kw && pr < kw && kh <= h + pt + pb && kw <= w + pl + pr);
      const opts: Pool2dOptions = { kernel: [kh, kw], stride: [sh, sw], padding: pad };
      const x = distinct(seed, [...lead, h, w]);
      const { y, argmax } = maxPool2dWithArgmax(x, opts);
      assert.deepEqual(y.shape, [
        ...lead,
        Math.floor((h + pt + pb - kh) / sh) + 1,
        Math.floor((w + pl + pr - kw) / sw) + 1,
      ]);
      const label = JSON.stringify({ lead, h, w, opts });
      // The arg-max of the unperturbed x; distinct values 0.1 apart keep it under the FD step.
      assertBackwardMatchesFd(
        `maxPool2dBackward ${label}`,
        (t) => maxPool2d(t, opts),
        (d) => [
          maxPool2dBackward(d, argmax, x.shape),
        ],
        [x],
        { seed },
      );
      assertBackwardMatchesFd(
        `avgPool2dBackward ${label}`,
        (t) => avgPool2d(t, opts),
        (d) => [
          avgPool2dBackward(d, x.shape, opts),
        ],
        [x],
        { seed },
      );
    }),
    { seed: 5, numRuns: 200 },
  );
});

Deno.test("pools record their backward, never mutate inputs and keep the dtype", () => {
  const seen: [string, Pullback][] = [];
  const rec = {
    tracks: () => true, // every input is traced (a later trace.ts asks first)
    record: (name: string, _i: readonly Tensor[], _o: Tensor, pb: Pullback) =>
      void seen.push([name, pb]),
  };
  const x = tensor([[[[9, 1, 2, 3], [4, 5, 6, 10], [1, 20, 5, 6], [3, 4, 30, 7]]]], {
    dtype: "float64",
  });
  const before = snapshot(x);
  withRecorder(rec, () => [maxPool2d(x, { kernel: 2 }), avgPool2d(x, { kernel: 2 })]);
  assert.deepEqual(seen.map(([n]) => n), ["maxPool2d", "avgPool2d"]);
  const d = tensor([[[[2, 8], [4, 6]]]], { dtype: "float64" });
  assert.deepEqual(rows(seen[0][1](d)[0]!), [[2, 0, 0, 0], [0, 0, 0, 8], [0, 4, 0, 0], [
    0,
    0,
    6,
    0,
  ]]);
  assert.deepEqual(rows(seen[1][1](d)[0]!)[0], [0.5, 0.5, 2, 2]);
  assert.deepEqual(snapshot(x), before);
  assert.equal(maxPool2d(x, { kernel: 2 }).dtype, "float64");
  assert.equal(avgPool2dBackward(delta, [1, 1, 4, 4], { kernel: 2 }).dtype, "float32");
});

Deno.test("pools validate their input, options and backward arguments", () => {
  const fails = (f: () => unknown, re: RegExp) =>
    assert.throws(f, (e: unknown) => e instanceof TensorError && re.test(e.message));
  fails(() => maxPool2d(tensor([1, 2]), { kernel: 2 }), /maxPool2d: input must have rank >= 2/);
  fails(() => maxPool2d(x4, {} as Pool2dOptions), /options.kernel is required/);
  fails(() => maxPool2d(x4, { kernel: 0 }), /kernel 0 is invalid/);
  fails(() => avgPool2d(x4, { kernel: 2, stride: [1, 0] }), /avgPool2d: stride \[1,0\] is invalid/);
  fails(
    () => maxPool2d(x4, { kernel: 2, padding: 2 }),
    /padding must be smaller than the 2x2 window/,
  );
  fails(
    () => maxPool2d(x4, { kernel: 2, padding: [0, 0, 1] as never }),
    /padding \[0,0,1\] is invalid/,
  );
  fails(
    () => avgPool2d(x4, { kernel: 5 }),
    /window larger than padded input: 5x5 does not fit 4x4 .*x \[1, 1, 4, 4\]/,
  );
  const { argmax } = maxPool2dWithArgmax(x4, { kernel: 2 });
  fails(
    () => maxPool2dBackward(tensor([1, 2, 3]), argmax, x4.shape),
    /delta \[3\] has 3 elements but argmax has 4/,
  );
  fails(
    () => maxPool2dBackward(delta, argmax, [1, 1, 2, 2]),
    /argmax\[1\] = 7 is outside the input \[1, 1, 2, 2\]/,
  );
  fails(
    () => avgPool2dBackward(tensor([[1]]), [4, 4], { kernel: 2 }),
    /delta \[1, 1\] must have the forward output's shape \[2, 2\]/,
  );
});

Deno.test("maxPool2dWithArgmax's output is differentiable (regression: it was a constant)", () => {
  // y came back unrecorded, so grad through it was silently all zeros.
  const x = tensor([[[[1, 5, 0, 2], [3, 2, 7, 1]]]], { dtype: "float64" });
  const g = grad((x: Tensor) => sum(maxPool2dWithArgmax(x, { kernel: 2 }).y))(x);
  assert.deepEqual(Array.from(g.data), [0, 1, 0, 0, 0, 0, 1, 0]);
  const viaPool = grad((x: Tensor) => sum(maxPool2d(x, { kernel: 2 })))(x);
  assert.deepEqual(Array.from(viaPool.data), Array.from(g.data));
});
