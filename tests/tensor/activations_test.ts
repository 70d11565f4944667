import assert from "node:assert/strict";
import {
  assertAllClose,
  ones,
  relu,
  reluBackward,
  scaledTanh,
  scaledTanhBackward,
  sigmoid,
  sigmoidBackward,
  tanh,
  tanhBackward,
  tensor,
} from "../../mod.ts";

const vals = (t: { data: ArrayLike<number> }) => Array.from(t.data);
const f64 = { dtype: "float64" } as const;

Deno.test("sigmoid, tanh and relu forward values", () => {
  assert.deepEqual(vals(sigmoid(tensor([0, Math.log(3)], f64))), [0.5, 0.75]);
  // Saturation without NaN: e^-x overflows to Infinity and 1 / Infinity = 0.
  assert.deepEqual(vals(sigmoid(tensor([-1000, 1000], f64))), [0, 1]);
  assertAllClose(tanh(tensor([0, Math.atanh(0.5)], f64)), [0, 0.5], { rtol: 1e-15 });
  assert.deepEqual(vals(relu(tensor([-2, -0, 0, 3]))), [0, 0, 0, 3]);
  assert.ok(Number.isNaN(relu(tensor([NaN])).data[0]));
});

Deno.test("relu'(0) = 0: the gradient passes only where x > 0", () => {
  const y = relu(tensor([-1, 0, 2]));
  assert.deepEqual(vals(reluBackward(tensor([5, 5, 5]), y)), [0, 0, 5]);
});

Deno.test("sigmoid' = s(1 - s) and tanh' = 1 - t^2 from the outputs", () => {
  assert.deepEqual(vals(sigmoidBackward(ones([2], f64), tensor([0.5, 0.75], f64))), [0.25, 0.1875]);
  assert.deepEqual(vals(tanhBackward(tensor([2, 2], f64), tensor([0, 0.5], f64))), [2, 1.5]);
});

Deno.test("scaledTanh = 1.7159 tanh(2x/3), so f(1) ~ 1, with derivative 1.7159 * 2/3 * sech^2", () => {
  const x = tensor([0, 1, -1, 3], f64);
  const y = scaledTanh(x);
  x.data.forEach((v, i) => assert.equal(y.data[i], 1.7159 * Math.tanh((2 / 3) * v)));
  assert.ok(Math.abs(y.data[1] - 1) < 1e-4 && Math.abs(y.data[2] + 1) < 1e-4);
  const d = scaledTanhBackward(ones([4], f64), y);
  x.data.forEach((v, i) => {
    const want = 1.7159 * (2 / 3) * (1 - Math.tanh((2 / 3) * v) ** 2);
    assert.ok(Math.abs(d.data[i] - want) < 1e-15, `${d.data[i]} vs ${want}`);
  });
});

Deno.test("activations keep the dtype; backward checks the gradient's shape", () => {
  for (const dtype of ["float32", "float64"] as const) {
    const x = tensor([-1, 2], { dtype });
    for (const f of [sigmoid, tanh, relu, scaledTanh]) assert.equal(f(x).dtype, dtype);
    assert.equal(reluBackward(ones([2], { dtype }), relu(x)).dtype, dtype);
  }
  assert.throws(
    () => sigmoidBackward(ones([3]), ones([2])),
    /sigmoidBackward: gradient float32 \[3\] does not match the forward output float32 \[2\]/,
  );
});

Deno.test("relu's branch-free loops stay exact at infinities, NaN and -0", () => {
  const y = relu(tensor([-Infinity, Infinity, NaN, -0, -3], f64));
  assert.deepEqual(vals(y).slice(0, 2), [0, Infinity]);
  assert.ok(Number.isNaN(y.data[2]));
  assert.ok(Object.is(y.data[3], 0) && Object.is(y.data[4], 0), "relu(-0) and relu(-3) are +0");
  // A masked-out position gives 0 even when the upstream gradient is not finite.
  const d = reluBackward(tensor([Infinity, NaN, -2, Infinity], f64), tensor([0, 0, 0, 1], f64));
  assert.ok(vals(d).slice(0, 3).every((v) => Object.is(v, 0)));
  assert.equal(d.data[3], Infinity);
});
