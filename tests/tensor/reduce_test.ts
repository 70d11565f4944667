import assert from "node:assert/strict";
import {
  arange,
  argmax,
  logSumExp,
  max,
  maxBackward,
  mean,
  ones,
  reshape,
  sum,
  tensor,
  TensorError,
} from "../../mod.ts";

const vals = (t: { data: ArrayLike<number> }) => Array.from(t.data);
const f64 = { dtype: "float64" } as const;
// x[i, j, k] = 100 i + 10 j + k, shape [2, 3, 4]
const x = reshape(
  tensor(
    Array.from(
      { length: 24 },
      (_, n) => 100 * Math.floor(n / 12) + 10 * (Math.floor(n / 4) % 3) + (n % 4),
    ),
    f64,
  ),
  [2, 3, 4],
);

Deno.test("sum over one axis, several axes, all axes; keepdims", () => {
  const m = tensor([[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(vals(sum(m)), [21]);
  assert.deepEqual(sum(m).shape, []);
  assert.deepEqual(vals(sum(m, { axis: 0 })), [5, 7, 9]);
  assert.deepEqual(vals(sum(m, { axis: 1 })), [6, 15]);
  assert.deepEqual(sum(m, { axis: -1, keepdims: true }).shape, [2, 1]);
  assert.deepEqual(sum(m, { keepdims: true }).shape, [1, 1]);
  // Axes [0, 2] of x: sum over i < 2, k < 4 of 100 i + 10 j + k = 400 + 80 j + 12.
  assert.deepEqual(vals(sum(x, { axis: [0, 2] })), [412, 492, 572]);
  assert.deepEqual(vals(sum(x, { axis: [-1, 0], keepdims: true })), [412, 492, 572]);
  assert.deepEqual(sum(x, { axis: [0, 2], keepdims: true }).shape, [1, 3, 1]);
  assert.deepEqual(vals(sum(x, { axis: [] })), vals(x));
  assert.deepEqual(vals(sum(tensor([[]]), { axis: 1 })), [0]);
});

Deno.test("mean divides by the number of reduced elements", () => {
  assert.deepEqual(vals(mean(tensor([[1, 2], [3, 6]]), { axis: 1 })), [1.5, 4.5]);
  assert.deepEqual(vals(mean(x, { axis: [0, 2] })), [51.5, 61.5, 71.5]);
  assert.equal(mean(x).data[0], (412 + 492 + 572) / 24);
});

Deno.test("max and argmax along axes", () => {
  const m = tensor([[1, 5, 2], [7, 0, 7]]);
  assert.deepEqual(vals(max(m, { axis: 1 })), [5, 7]);
  assert.deepEqual(vals(max(m, { axis: 0 })), [7, 5, 7]);
  assert.deepEqual(vals(max(m)), [7]);
  assert.deepEqual(vals(max(x, { axis: [0, 2] })), [103, 113, 123]);
  // argmax: first maximum; the input's dtype; integer indices along the axis.
  const a = argmax(m, { axis: 1 });
  assert.equal(a.dtype, "float32");
  assert.deepEqual(vals(a), [1, 0]);
  assert.deepEqual(vals(argmax(m, { axis: 0 })), [1, 0, 1]);
  assert.deepEqual(vals(argmax(m)), [3]); // flat index of the first 7
  assert.deepEqual(argmax(m, { axis: -1, keepdims: true }).shape, [2, 1]);
  assert.deepEqual(vals(argmax(x, { axis: 1 })), [2, 2, 2, 2, 2, 2, 2, 2]);
  assert.equal(argmax(x, { axis: 1 }).dtype, "float64");
  assert.throws(() => argmax(m, { axis: [0, 1] as never }), /argmax: axis must be a single number/);
});

Deno.test("max's gradient goes to the FIRST maximum in flat order on ties", () => {
  const t = tensor([[3, 1, 3], [2, 2, 0]]);
  assert.deepEqual(vals(maxBackward(tensor([10, 20]), t, { axis: 1 })), [10, 0, 0, 20, 0, 0]);
  // Over all axes: the first 3 (flat index 0) wins.
  assert.deepEqual(vals(maxBackward(tensor(1), t)), [1, 0, 0, 0, 0, 0]);
  // Over axis 0 of [[5, 1], [5, 1]]: row 0 wins both columns.
  assert.deepEqual(
    vals(maxBackward(ones([2]), tensor([[5, 1], [5, 1]]), { axis: 0 })),
    [1, 1, 0, 0],
  );
});

Deno.test("max propagates NaN; max of an empty axis is an error", () => {
  assert.ok(Number.isNaN(max(tensor([1, NaN, 3])).data[0]));
  assert.ok(Number.isNaN(max(tensor([NaN, 1])).data[0]));
  assert.deepEqual(vals(max(tensor([-Infinity, -Infinity]))), [-Infinity]);
  assert.throws(
    () => max(tensor([[]]), { axis: 1 }),
    /max: cannot reduce an empty axis of shape \[1, 0\]/,
  );
});

Deno.test("logSumExp is max-shifted: huge inputs do not overflow", () => {
  const y = logSumExp(tensor([[1000, 1000], [-1000, -1000], [0, Math.log(3)]], f64), { axis: 1 });
  assert.deepEqual(vals(y), [1000 + Math.LN2, -1000 + Math.LN2, Math.log(4)]);
  assert.deepEqual(vals(logSumExp(tensor([-Infinity, -Infinity], f64))), [-Infinity]);
  assert.deepEqual(vals(logSumExp(tensor([Infinity, 0], f64))), [Infinity]);
  assert.equal(logSumExp(tensor([1, 2])).dtype, "float32");
  assert.ok(Math.abs(logSumExp(tensor([1, 2])).data[0] - Math.log(Math.E + Math.E ** 2)) < 1e-6);
});

Deno.test("axis validation: out of range, repeated, non-integer; negative axes resolve", () => {
  const m = arange(6);
  assert.throws(() => sum(reshape(m, [2, 3]), { axis: 2 }), (e: unknown) => {
    assert.ok(e instanceof TensorError);
    assert.equal(
      e.message,
      "sum: axis 2 is out of range for shape [2, 3] (rank 2); use an integer in -2..1",
    );
    return true;
  });
  assert.throws(() => mean(m, { axis: -2 }), /mean: axis -2 is out of range for shape \[6\]/);
  assert.throws(
    () => sum(reshape(m, [2, 3]), { axis: [1, -1] }),
    /axis -1 is repeated in \[1, -1\]/,
  );
  assert.throws(() => max(m, { axis: 0.5 }), /axis 0.5 is out of range/);
  assert.throws(() => sum(tensor(1), { axis: 0 }), /a scalar has no axes/);
  assert.deepEqual(vals(sum(tensor(4))), [4]);
});
