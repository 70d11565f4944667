import assert from "node:assert/strict";
import {
  logSoftmax,
  logSoftmaxBackward,
  softmax,
  softmaxBackward,
  sum,
  tensor,
} from "../../mod.ts";

const vals = (t: { data: ArrayLike<number> }) => Array.from(t.data);
const f64 = { dtype: "float64" } as const;
const close = (a: ArrayLike<number>, b: number[], tol = 1e-15) =>
  b.forEach((v, i) => assert.ok(Math.abs(a[i] - v) <= tol, `at ${i}: ${a[i]} vs ${v}`));

Deno.test("softmax values: e^x / sum e^x along the last axis", () => {
  const s = softmax(tensor([[0, Math.log(3)], [1, 1]], f64));
  close(s.data, [0.25, 0.75, 0.5, 0.5]);
  close(sum(softmax(tensor([[3, -2, 7, 0.5]], f64)), { axis: -1 }).data, [1]);
});

Deno.test("softmax and logSoftmax are stable for huge logits (1000, -1000)", () => {
  for (const dtype of ["float32", "float64"] as const) {
    const x = tensor([[1000, -1000], [-1000, -1000], [1000, 1000]], { dtype });
    const s = softmax(x);
    assert.equal(s.dtype, dtype);
    assert.deepEqual(vals(s), [1, 0, 0.5, 0.5, 0.5, 0.5]);
    const l = logSoftmax(x);
    assert.equal(l.dtype, dtype);
    assert.deepEqual(vals(l).slice(0, 2), [0, -2000]);
    close(l.data.slice(2), [-Math.LN2, -Math.LN2, -Math.LN2, -Math.LN2], 1e-7);
    assert.ok(vals(s).every(Number.isFinite) && vals(l).every(Number.isFinite));
  }
});

Deno.test("softmax over a non-last axis normalizes each strided slice", () => {
  // x[i, j]: softmax over axis 0 normalizes columns.
  const s = softmax(tensor([[0, 1], [Math.log(3), 1]], f64), 0);
  close(s.data, [0.25, 0.5, 0.75, 0.5]);
  const l = logSoftmax(tensor([[0, 1], [Math.log(3), 1]], f64), -2);
  close(l.data, [Math.log(0.25), Math.log(0.5), Math.log(0.75), Math.log(0.5)]);
  assert.throws(
    () => softmax(tensor([1, 2]), 1),
    /softmax: axis 1 is out of range for shape \[2\]/,
  );
});

Deno.test("softmax VJP s * (g - sum(g s)) and logSoftmax VJP g - softmax * sum(g)", () => {
  const s = tensor([0.25, 0.75], f64);
  // g = [1, 0]: sum(g s) = 0.25 -> [0.25 * 0.75, 0.75 * -0.25]
  close(softmaxBackward(tensor([1, 0], f64), s).data, [0.1875, -0.1875]);
  close(softmaxBackward(tensor([3, 3], f64), s).data, [0, 0]);
  const y = tensor([Math.log(0.25), Math.log(0.75)], f64);
  close(logSoftmaxBackward(tensor([1, 0], f64), y).data, [0.75, -0.75]);
  close(logSoftmaxBackward(tensor([1, 1], f64), y).data, [0.5, -0.5]);
  assert.throws(
    () => softmaxBackward(tensor([1]), tensor([1, 2])),
    /does not match the forward output/,
  );
});

Deno.test("an all -Infinity slice gives NaN (0 / 0), as in NumPy and PyTorch", () => {
  const s = softmax(tensor([[-Infinity, -Infinity], [0, -Infinity]]));
  assert.ok(Number.isNaN(s.data[0]) && Number.isNaN(s.data[1]));
  assert.deepEqual(vals(s).slice(2), [1, 0]);
});
