import assert from "node:assert/strict";
import {
  clamp,
  clampBackward,
  exp,
  log,
  neg,
  ones,
  pow,
  powBackward,
  sqrt,
  square,
  tensor,
} from "../../mod.ts";

const vals = (t: { data: ArrayLike<number> }) => Array.from(t.data);
const f64 = { dtype: "float64" } as const;

Deno.test("unary ops compute the textbook values", () => {
  const x = tensor([0, 1, 4], f64);
  assert.deepEqual(vals(neg(x)), [-0, -1, -4]);
  assert.deepEqual(vals(exp(x)), [1, Math.E, Math.exp(4)]);
  assert.deepEqual(vals(log(tensor([1, Math.E, 0], f64))), [0, 1, -Infinity]);
  assert.deepEqual(vals(sqrt(x)), [0, 1, 2]);
  assert.deepEqual(vals(square(tensor([-3, 0.5], f64))), [9, 0.25]);
  assert.ok(Number.isNaN(log(tensor([-1])).data[0]));
  assert.ok(Number.isNaN(sqrt(tensor([-1])).data[0]));
});

Deno.test("pow with a scalar exponent, and its derivative p x^(p-1)", () => {
  const x = tensor([1, 2, 4], f64);
  assert.deepEqual(vals(pow(x, 2)), [1, 4, 16]);
  assert.deepEqual(vals(pow(x, 0.5)), [1, Math.SQRT2, 2]);
  assert.deepEqual(vals(pow(x, -1)), [1, 0.5, 0.25]);
  assert.deepEqual(vals(pow(x, 3)), [1, 8, 64]);
  assert.deepEqual(vals(pow(x, 0)), [1, 1, 1]);
  assert.deepEqual(vals(powBackward(ones([3], f64), x, 3)), [3, 12, 48]);
  // At x = 0: p = 1 passes the gradient (0^0 = 1), p = 2 gives 0.
  assert.deepEqual(vals(powBackward(ones([1], f64), tensor([0], f64), 1)), [1]);
  assert.deepEqual(vals(powBackward(ones([1], f64), tensor([0], f64), 2)), [0]);
  assert.throws(() => pow(x, NaN), /pow: exponent NaN must be a number/);
});

Deno.test("clamp clips, and its gradient passes on the closed range [lo, hi]", () => {
  const x = tensor([-2, -1, 0, 1, 3]);
  assert.deepEqual(vals(clamp(x, -1, 1)), [-1, -1, 0, 1, 1]);
  // Boundaries included (PyTorch's convention): x = -1 and x = 1 pass the gradient.
  assert.deepEqual(vals(clampBackward(ones([5]), x, -1, 1)), [0, 1, 1, 1, 0]);
  assert.deepEqual(vals(clamp(x, 0, Infinity)), [0, 0, 0, 1, 3]);
  assert.throws(() => clamp(x, 1, 0), /clamp: bounds lo = 1, hi = 0 are invalid for shape \[5\]/);
  assert.throws(() => clamp(x, NaN, 0), /need lo <= hi/);
  assert.throws(
    () => clampBackward(ones([4]), x, 0, 1),
    /clampBackward: gradient float32 \[4\] does not match the forward output float32 \[5\]/,
  );
});

Deno.test("unary ops keep the dtype", () => {
  for (const dtype of ["float32", "float64"] as const) {
    const x = tensor([0.5, 2], { dtype });
    for (const y of [neg(x), exp(x), log(x), sqrt(x), square(x), pow(x, 1.5), clamp(x, 0, 1)]) {
      assert.equal(y.dtype, dtype);
    }
  }
  // float32 results are float32-rounded values of the exact function.
  assert.equal(exp(tensor([1])).data[0], Math.fround(Math.E));
});

Deno.test("clampBackward gives 0 where clipped even for a non-finite upstream gradient", () => {
  const d = clampBackward(tensor([Infinity, NaN, 3]), tensor([-5, 5, 0.5]), 0, 1);
  assert.deepEqual(vals(d), [0, 0, 3]);
});
